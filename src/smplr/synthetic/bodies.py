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
        moved = {
            f.name: (None if getattr(self, f.name) is None else getattr(self, f.name).to(device))
            for f in fields(self)
        }
        return SyntheticBatch(**moved)


class SyntheticBodies:
    """Endless batches of synthetic bodies from a gendered body model.

    Args:
        body: the female/male body model pair (moved to ``device``; must define landmarks).
        seed: seed of the sampler's own random generator (reproducible streams).
        device: where poses, shapes and bodies are built.
        pose_prior: the pose prior (default: ``PosePrior(device)``).
    """

    def __init__(
        self,
        body: GenderedBodyModel,
        seed: int = 0,
        device="cpu",
        pose_prior: PosePrior | None = None,
    ) -> None:
        if not body.female.has_landmarks:
            raise ValueError("the body model defines no landmarks, so it cannot give JL")
        self.device = torch.device(device)
        self.body = body.to(self.device)
        self.pose_prior = pose_prior or PosePrior(self.device, dtype=self.body.female.dtype)
        if self.pose_prior.device.type != self.device.type:
            raise ValueError(
                f"the pose prior builds on {self.pose_prior.device} but the sampler on {self.device}"
            )
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    @torch.no_grad()
    def sample(self, batch: int, with_vertices: bool = False) -> SyntheticBatch:
        """Draw ``batch`` bodies (see :class:`SyntheticBatch`)."""
        global_orient, body_pose = self.pose_prior.sample(batch, self.generator)
        betas, gender = sample_shapes(
            batch,
            self.generator,
            self.device,
            num_betas=self.body.num_betas,
            dtype=self.body.female.dtype,
        )
        return pose_bodies(self.body, betas, gender, global_orient, body_pose, with_vertices)


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

    Poses and shapes are drawn on the CPU with the default pose prior (so the set does
    not depend on the device or on batch sizes used elsewhere), the body model is
    evaluated where it lives, in chunks of ``chunk``, and the result moved to
    ``device``.  The set changes only if the prior or the body model changes.
    """
    if num < 1:
        raise ValueError(f"num must be a positive integer, got {num}")
    dtype = body.female.dtype
    generator = torch.Generator().manual_seed(seed)
    global_orient, body_pose = PosePrior("cpu", dtype=dtype).sample(num, generator)
    betas, gender = sample_shapes(num, generator, "cpu", num_betas=body.num_betas, dtype=dtype)
    params = [t.to(body.female.device) for t in (betas, gender, global_orient, body_pose)]
    with torch.no_grad():
        parts = [
            pose_bodies(body, *(t[start : start + chunk] for t in params), with_vertices)
            for start in range(0, num, chunk)
        ]
    merged = {
        f.name: None
        if getattr(parts[0], f.name) is None
        else torch.cat([getattr(p, f.name) for p in parts])
        for f in fields(SyntheticBatch)
    }
    return SyntheticBatch(**merged).to(device)
