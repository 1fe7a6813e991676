"""The training stages of SMPLR (paper 3.2, 3.3, 4.1, 4.4), one network job each.

=============  =============================  ===========================================
stage          trains                         loss (all L1)
=============  =============================  ===========================================
dae_jl42       DAE on noisy 3D JL             L_DAE on JL
dae_joints24   DAE on noisy joints, no        L_DAE on JL (it must complete landmarks)
               landmarks
dae_2d         DAE on noisy JL, depth 0       L_DAE on JL (it must lift to 3D)
               (one DAE stage per JL input format of :mod:`smplr.input_formats`)
dae_keypoints  one DAE for every detector     L1 on JL (formats, 2D/3D, missing
               format (COCO-17, ...)          keypoints drawn per example)
shape          Ψ on B                         L_β (10 betas + gender)
pose           Ω on N                         L_R (rotation matrices)
pose_smpl      Ω and Ψ, from the two above    L_R + L_β + w · L_SMPL (joints, landmarks)
=============  =============================  ===========================================

``shape_nolm`` (Ψ with the landmark bones zeroed) exists only for the paper's ablation
"landmarks improve shape".  Ω and Ψ see ground-truth JL with a small random jitter, so
they tolerate the DAE's residual error; Ω also sees bodies from random cameras, as the
DAE's outputs are (always for 2D input).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import torch
from torch import nn

from smplr.body.keypoints import SiteBody
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.input_formats import INPUT_FORMATS, JL_FORMATS, KEYPOINT_DAE, dae_input
from smplr.networks import DAE_NAMES, NetworkConfig, build_networks
from smplr.reverse.features import relative_directions, relative_distances
from smplr.training.data import (
    Corruption,
    KeypointCorruption,
    PoolBatch,
    jitter,
    rotate,
    view_rotations,
)

MM = 1000.0
SMPL_WEIGHT = 10.0  # default w of L_SMPL (L1 in metres) against L_R + L_β


@dataclass
class StageContext:
    """What every stage may use: data, corruption, the JL-only body model, settings.

    ``jl_body`` is float32 on the training device; ``input_jitter`` is the largest σ
    (metres) of Ω/Ψ's input augmentation; ``smpl_weight`` multiplies L_SMPL (metres).
    """

    corruption: Corruption
    template_lengths: torch.Tensor
    jl_body: GenderedBodyModel
    sizes: NetworkConfig
    input_jitter: float = 0.01
    smpl_weight: float = SMPL_WEIGHT
    site_body: SiteBody | None = None
    keypoint_corruption: KeypointCorruption = field(default_factory=KeypointCorruption)


ContextT = TypeVar("ContextT")
BatchT = TypeVar("BatchT")


class Stage(ABC, Generic[ContextT, BatchT]):
    """One training job of :func:`smplr.training.loop.train_stage`: which networks,
    their loss on a minibatch (``BatchT``), their validation numbers; ``ContextT`` is
    what the job needs besides the data (:class:`StageContext` for the keypoint stages,
    :class:`smplr.training.image.ImageContext` for the image backbone)."""

    name: str
    networks: tuple[str, ...]
    depends_on: tuple[str, ...] = ()

    def build(self, ctx: ContextT) -> dict[str, nn.Module]:
        """Fresh networks, keyed by their name in the weight bundle (by default SMPLR's
        keypoint networks of ``ctx.sizes``; other stages say how)."""
        if not isinstance(ctx, StageContext):
            raise NotImplementedError(f"stage '{self.name}' must say how to build its networks")
        return build_networks(ctx.sizes, self.networks)

    @abstractmethod
    def loss(
        self, nets: dict[str, nn.Module], batch: BatchT, ctx: ContextT, rng: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss of a minibatch and its parts (for the curves)."""

    @abstractmethod
    def validate(
        self, nets: dict[str, nn.Module], val: Any, ctx: ContextT, rng: torch.Generator
    ) -> dict[str, float]:
        """Numbers on the validation data (networks in eval mode, no grad)."""


class KeypointStage(Stage[StageContext, PoolBatch]):
    """A stage of SMPLR's keypoint networks (DAE, Ω, Ψ), trained on a pool of bodies."""


def _num(value: torch.Tensor) -> float:
    return float(value.detach())


def jl_error_mm(pred: torch.Tensor, target: torch.Tensor) -> float:
    return float((pred - target).norm(dim=-1).mean()) * MM


def _random_view(batch: PoolBatch, ctx: StageContext, rng: torch.Generator) -> PoolBatch:
    """Ω's inputs seen from random cameras as often as the DAE's (its outputs feed Ω)."""
    return rotate(batch, view_rotations(batch, rng, ctx.corruption.view_fraction))


def decode_jl(
    jl_body: GenderedBodyModel, gender: torch.Tensor, betas: torch.Tensor, rotations: torch.Tensor
) -> torch.Tensor:
    """Root-relative JL ``(B, 42, 3)`` of ``jl_body`` for ``gender (B,)``, ``betas (B, 10)``
    and ``rotations (B, 24, 3, 3)``."""
    gender = gender.clamp(-1.0, 1.0)  # a predicted g may overshoot; the body model refuses that
    out = jl_body(gender, betas, rotations[:, :1], rotations[:, 1:])
    jl = out.jl
    return jl - jl[:, :1]


def encode_jl(
    nets: dict[str, nn.Module], jl: torch.Tensor, template_lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ω and Ψ (``nets["pose"]``, ``nets["shape"]``) on JL ``(B, 42, 3)``: rotations
    ``(B, 24, 3, 3)``, betas ``(B, 10)``, gender ``(B,)`` (not clamped)."""
    rotations = nets["pose"](relative_directions(jl))
    betas, gender = nets["shape"](relative_distances(jl, template_lengths))
    return rotations, betas, gender


def reverse_loss(
    rotations: torch.Tensor,
    betas: torch.Tensor,
    gender: torch.Tensor,
    truth: PoolBatch,
    jl_body: GenderedBodyModel,
    smpl_weight: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """``pose_smpl``'s L_R + L_β + w·L_SMPL (all L1; L_SMPL on the root-relative JL, in
    metres) of Ω's and Ψ's outputs against ``truth``, and its parts."""
    l_r = (rotations - truth.rotations).abs().mean()
    l_beta = torch.cat([betas - truth.betas, (gender - truth.gender)[:, None]], 1).abs().mean()
    # The true gender picks the model here: the sign of g is not differentiable.
    l_smpl = (decode_jl(jl_body, truth.gender, betas, rotations) - truth.jl).abs().mean()
    loss = l_r + l_beta + smpl_weight * l_smpl
    return loss, {"l_r": _num(l_r), "l_beta": _num(l_beta), "l_smpl": _num(l_smpl)}


class DAEStage(KeypointStage):
    """The DAE for one input format (paper 3.3; ``joints24`` is this project's)."""

    def __init__(self, input_format: str) -> None:
        self.input_format = input_format
        self.name = INPUT_FORMATS[input_format].network
        self.networks = (self.name,)

    def loss(self, nets, batch, ctx, rng):
        raw, target = ctx.corruption.dae_example(batch, self.input_format, rng)
        pred = nets[self.name](dae_input(raw, self.input_format))
        loss = (pred - target).abs().mean()
        return loss, {"l_dae": _num(loss)}

    def validate(self, nets, val, ctx, rng):
        raw, target = ctx.corruption.dae_example(val, self.input_format, rng)
        inputs = dae_input(raw, self.input_format)
        numbers = {"val_jl_mm": jl_error_mm(nets[self.name](inputs), target)}
        if self.input_format == "jl42":
            numbers["val_input_mm"] = jl_error_mm(inputs, target)
        return numbers


class KeypointDAEStage(KeypointStage):
    """The one DAE of the detector formats (COCO-17, ..., 2D and 3D, keypoints missing):
    each example draws a format, a view and the missing keypoints
    (:class:`smplr.training.data.KeypointCorruption`); the sites come from posing the
    pool's bodies with ``ctx.site_body``."""

    name = KEYPOINT_DAE
    networks = (KEYPOINT_DAE,)

    def _example(self, batch: PoolBatch, ctx: StageContext, rng: torch.Generator):
        if ctx.site_body is None:
            raise ValueError("the keypoint DAE stage needs StageContext.site_body")
        with torch.no_grad():
            sites, jl = ctx.site_body(batch.gender, batch.betas, batch.rotations)
        root = jl[:, :1]
        return ctx.keypoint_corruption.example(sites - root, jl - root, rng)

    def loss(self, nets, batch, ctx, rng):
        sites, mask, planar, target = self._example(batch, ctx, rng)
        loss = (nets[self.name](sites, mask, planar) - target).abs().mean()
        return loss, {"l_dae": _num(loss)}

    def validate(self, nets, val, ctx, rng):
        sites, mask, planar, target = self._example(val, ctx, rng)
        pred = nets[self.name](sites, mask, planar)
        flat = planar > 0
        return {
            "val_jl_mm": jl_error_mm(pred, target),
            "val_jl_mm_3d": jl_error_mm(pred[~flat], target[~flat]),
            "val_jl_mm_2d": jl_error_mm(pred[flat], target[flat]),
        }


class ShapeStage(KeypointStage):
    """Ψ with L_β; ``landmarks=False`` zeroes the 18 landmark bones (ablation)."""

    networks = ("shape",)

    def __init__(self, landmarks: bool = True) -> None:
        self.landmarks = landmarks
        self.name = "shape" if landmarks else "shape_nolm"

    def features(self, jl: torch.Tensor, ctx: StageContext) -> torch.Tensor:
        distances = relative_distances(jl, ctx.template_lengths)
        if not self.landmarks:
            distances = distances.clone()
            distances[:, NUM_JOINTS - 1 :] = 0
        return distances

    def loss(self, nets, batch, ctx, rng):
        betas, gender = nets["shape"](self.features(jitter(batch.jl, ctx.input_jitter, rng), ctx))
        loss = torch.cat([betas - batch.betas, (gender - batch.gender)[:, None]], 1).abs().mean()
        return loss, {"l_beta": _num(loss)}

    def validate(self, nets, val, ctx, rng):
        betas, gender = nets["shape"](self.features(val.jl, ctx))
        jl = decode_jl(ctx.jl_body, gender, betas, val.rotations)
        return {
            "val_betas_l1": float((betas - val.betas).abs().mean()),
            "val_gender_acc": float(((gender >= 0) == (val.gender >= 0)).float().mean()),
            "val_jl_mm_gt_pose": jl_error_mm(jl, val.jl),
        }


class PoseStage(KeypointStage):
    """Ω with L_R on rotation matrices."""

    name = "pose"
    networks = ("pose",)

    def loss(self, nets, batch, ctx, rng):
        batch = _random_view(batch, ctx, rng)
        rotations = nets["pose"](relative_directions(jitter(batch.jl, ctx.input_jitter, rng)))
        loss = (rotations - batch.rotations).abs().mean()
        return loss, {"l_r": _num(loss)}

    def validate(self, nets, val, ctx, rng):
        rotations = nets["pose"](relative_directions(val.jl))
        jl = decode_jl(ctx.jl_body, val.gender, val.betas, rotations)
        return {
            "val_rot_l1": float((rotations - val.rotations).abs().mean()),
            "val_jl_mm_gt_shape": jl_error_mm(jl, val.jl),
        }


class PoseSMPLStage(KeypointStage):
    """Ω and Ψ fine-tuned together through the body model: L_R + L_β + w·L_SMPL."""

    name = "pose_smpl"
    networks = ("pose", "shape")
    depends_on = ("pose", "shape")

    def loss(self, nets, batch, ctx, rng):
        batch = _random_view(batch, ctx, rng)
        jl = jitter(batch.jl, ctx.input_jitter, rng)
        rotations, betas, gender = encode_jl(nets, jl, ctx.template_lengths)
        return reverse_loss(rotations, betas, gender, batch, ctx.jl_body, ctx.smpl_weight)

    def validate(self, nets, val, ctx, rng):
        rotations, betas, gender = encode_jl(nets, val.jl, ctx.template_lengths)
        return {
            "val_rot_l1": float((rotations - val.rotations).abs().mean()),
            "val_gender_acc": float(((gender >= 0) == (val.gender >= 0)).float().mean()),
            "val_jl_mm_gt_shape": jl_error_mm(
                decode_jl(ctx.jl_body, val.gender, val.betas, rotations), val.jl
            ),
            "val_jl_mm": jl_error_mm(decode_jl(ctx.jl_body, gender, betas, rotations), val.jl),
        }


STAGES: dict[str, KeypointStage] = {
    stage.name: stage
    for stage in (
        *(DAEStage(fmt) for fmt in JL_FORMATS),
        KeypointDAEStage(),
        ShapeStage(),
        ShapeStage(landmarks=False),
        PoseStage(),
        PoseSMPLStage(),
    )
}
# ``smplr train all`` runs these, in this order: one DAE per input format, then Ψ, Ω, Ω+Ψ.
RECIPE: tuple[str, ...] = (*DAE_NAMES, "shape", "pose", "pose_smpl")
