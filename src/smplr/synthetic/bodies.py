"""Synthetic bodies on the fly: pose prior + shapes + body model -> JL (paper 3.2).

``SyntheticBodies`` is the endless source of "mocap-like" training data for the
DAE and SMPLR: every call draws poses from :class:`~smplr.synthetic.poses.PosePrior`,
shapes from :func:`~smplr.synthetic.shapes.sample_shapes`, and evaluates the
gendered body model to get the 24 joints and 18 landmarks, root-relative.

Example::

    bodies = SyntheticBodies(GenderedBodyModel.open(), seed=0)
    batch = bodies.sample(256)
    batch.jl  # (256, 42, 3), metres, pelvis at the origin
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import torch

from smplr.body.model import GenderedBodyModel
from smplr.synthetic.poses import PosePrior
from smplr.synthetic.shapes import sample_shapes


@dataclass
class SyntheticBatch:
    """A batch of ``B`` synthetic bodies, every tensor on the sampler's device.

    Attributes:
        betas: ``(B, 10)`` shape coefficients.
        gender: ``(B,)`` −1 (female) or +1 (male).
        global_orient: ``(B, 3, 3)`` root rotation.
        body_pose: ``(B, 23, 3, 3)`` joint rotations relative to their parents.
        jl: ``(B, 42, 3)`` 24 SMPL joints then 18 landmarks, metres, root-relative.
        vertices: ``(B, V, 3)`` root-relative mesh vertices, or None when not asked for.
    """

    betas: torch.Tensor
    gender: torch.Tensor
    global_orient: torch.Tensor
    body_pose: torch.Tensor
    jl: torch.Tensor
    vertices: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.jl.shape[0]

    def to(self, device) -> SyntheticBatch:
        """A copy with every tensor moved to ``device``."""
        moved: dict[str, Any] = {
            f.name: (None if getattr(self, f.name) is None else getattr(self, f.name).to(device))
            for f in fields(self)
        }
        return SyntheticBatch(**moved)


class SyntheticBodies:
    """Endless batches of synthetic bodies from a gendered body model.

    Poses and shapes are drawn ahead in blocks of ``block_size`` (drawing costs
    mostly per call, not per sample) and served in order, so the stream of bodies
    is fixed by ``seed`` and ``block_size`` whatever the batch sizes asked for.
    JL alone is computed on a reduced model that skins only the 18 landmark
    vertices (:meth:`GenderedBodyModel.jl_model`): the same joints and landmarks at a
    fraction of the cost; vertices, when asked for, come from the full model.

    Args:
        body: the female/male body model pair (must define landmarks); it is moved
            to ``device``.
        seed: seed of the sampler's own random generator.
        device: where poses, shapes and bodies are built.
        pose_prior: the pose prior (default: ``PosePrior(device)``).
        block_size: how many poses and shapes to draw at a time.
    """

    def __init__(
        self,
        body: GenderedBodyModel,
        seed: int = 0,
        device="cpu",
        pose_prior: PosePrior | None = None,
        block_size: int = 4096,
    ) -> None:
        if not body.female.has_landmarks:
            raise ValueError("the body model defines no landmarks, so it cannot give JL")
        if block_size < 1:
            raise ValueError(f"block_size must be a positive integer, got {block_size}")
        self.device = torch.device(device)
        self.body = body.to(self.device)
        self.jl_body = self.body.jl_model()
        dtype = self.body.female.dtype
        self.pose_prior = pose_prior or PosePrior(self.device, dtype=dtype)
        if self.pose_prior.device.type != self.device.type:
            raise ValueError(
                f"the pose prior builds on {self.pose_prior.device} but the sampler on {self.device}"
            )
        self.block_size = block_size
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self._block: list[torch.Tensor] = []
        self._next = 0

    def _draw_block(self) -> list[torch.Tensor]:
        global_orient, body_pose = self.pose_prior.sample(self.block_size, self.generator)
        betas, gender = sample_shapes(
            self.block_size,
            self.generator,
            self.device,
            num_betas=self.body.num_betas,
            dtype=self.body.female.dtype,
        )
        return [betas, gender, global_orient, body_pose]

    def _take(self, batch: int) -> list[torch.Tensor]:
        parts: list[list[torch.Tensor]] = []
        needed = batch
        while needed > 0:
            if not self._block or self._next == self.block_size:
                self._block, self._next = self._draw_block(), 0
            take = min(needed, self.block_size - self._next)
            parts.append([t[self._next : self._next + take] for t in self._block])
            self._next += take
            needed -= take
        if len(parts) == 1:
            return parts[0]
        return [torch.cat(column) for column in zip(*parts, strict=True)]

    @torch.no_grad()
    def sample(self, batch: int, with_vertices: bool = False) -> SyntheticBatch:
        """Draw the next ``batch`` bodies (see :class:`SyntheticBatch`)."""
        if batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch}")
        betas, gender, global_orient, body_pose = self._take(batch)
        model = self.body if with_vertices else self.jl_body
        return pose_bodies(model, betas, gender, global_orient, body_pose, with_vertices)


def pose_bodies(
    body: GenderedBodyModel,
    betas: torch.Tensor,
    gender: torch.Tensor,
    global_orient: torch.Tensor,
    body_pose: torch.Tensor,
    with_vertices: bool = False,
) -> SyntheticBatch:
    """Evaluate the body model and make JL (and vertices) root-relative."""
    out = body(gender, betas=betas, global_orient=global_orient.unsqueeze(1), body_pose=body_pose)
    root = out.joints[:, :1]
    return SyntheticBatch(
        betas=betas,
        gender=gender,
        global_orient=global_orient,
        body_pose=body_pose,
        jl=out.jl - root,
        vertices=out.vertices - root if with_vertices else None,
    )


def held_out_set(
    body: GenderedBodyModel,
    num: int = 2000,
    seed: int = 12345,
    device="cpu",
    with_vertices: bool = False,
    chunk: int = 500,
) -> SyntheticBatch:
    """A deterministic synthetic test set: the same ``num`` bodies for a given ``seed``.

    Poses and shapes are drawn on the CPU in float64 with the default pose prior (so
    the set depends neither on the device nor on the model's dtype), the body model is
    evaluated where it lives, in chunks of ``chunk``, and the result moved to
    ``device``.  The set changes only if the prior or the body model changes.
    """
    if num < 1:
        raise ValueError(f"num must be a positive integer, got {num}")
    generator = torch.Generator().manual_seed(seed)
    global_orient, body_pose = PosePrior("cpu", dtype=torch.float64).sample(num, generator)
    betas, gender = sample_shapes(num, generator, num_betas=body.num_betas, dtype=torch.float64)
    batch = pose_bodies_in_chunks(
        body, betas, gender, global_orient, body_pose, with_vertices, chunk
    )
    return batch.to(device)


def pose_bodies_in_chunks(
    body: GenderedBodyModel,
    betas: torch.Tensor,
    gender: torch.Tensor,
    global_orient: torch.Tensor,
    body_pose: torch.Tensor,
    with_vertices: bool = False,
    chunk: int = 500,
) -> SyntheticBatch:
    """:func:`pose_bodies` on ``chunk`` bodies at a time (memory stays bounded), without
    gradients; the inputs are moved to the body model's device and dtype first."""
    betas, gender, global_orient, body_pose = (
        t.to(body.female.device, body.female.dtype)
        for t in (betas, gender, global_orient, body_pose)
    )
    with torch.no_grad():
        parts = [
            pose_bodies(
                body,
                betas[start : start + chunk],
                gender[start : start + chunk],
                global_orient[start : start + chunk],
                body_pose[start : start + chunk],
                with_vertices,
            )
            for start in range(0, len(betas), chunk)
        ]
    merged: dict[str, Any] = {
        f.name: None
        if getattr(parts[0], f.name) is None
        else torch.cat([getattr(p, f.name) for p in parts])
        for f in fields(SyntheticBatch)
    }
    return SyntheticBatch(**merged)
