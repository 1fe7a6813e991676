"""End-to-end training (paper 4.5, Table 1's SHN_e2e): image -> SHN -> DAE -> Ω, Ψ -> body.

The chain is differentiable thanks to soft-argmax::

    image ─► SHN ─► 41 points ─► JL (root at 0) ─► DAE ─► JL ─┬► Ω ─► rotations ─┐
                                                               └► Ψ ─► betas, g ──┴► body model

The loss is the sum of the intermediate losses, each as the keypoint stages define it
(:mod:`smplr.training.stages`), plus the SHN's own loss scaled down (paper: ~1e-5; its
cross-entropy would otherwise dominate and "the weights of the SHN vanish"):

    L = L_DAE + L_R + L_β + w·(L_SMPL + L_V) + shn_weight · L_SHN

``L_DAE``: L1 of the DAE's output against the true root-relative JL; ``L_R``, ``L_β``,
``L_SMPL``: :func:`~smplr.training.stages.reverse_loss` (``pose_smpl``'s loss); ``L_V``:
L1 (metres) of the root-relative vertices of the body posed with Ω's and Ψ's outputs
(true gender, as L_SMPL) against the true body's; ``L_SHN``: the image model's own loss
(:meth:`smplr.image_model.ImageModel.loss`).

Two modes (the stage is ``e2e_frozen`` or ``e2e_naive`` in the run folder):

- ``frozen`` (the paper's proposal): the DAE, Ω and Ψ of the weight bundle are frozen (no
  gradients, BatchNorm in eval mode: they live in the context, not in the trained
  networks); only the image model learns, from the errors of everything after it.
- ``naive`` (the paper's first try, "does not improve"): all four networks train (the
  SMPLR networks' BatchNorm in training mode).

Ground truth comes from each sample of ``smplr data synth`` (:mod:`smplr.image_data`):
``jl3d`` (camera frame), ``betas``, ``gender``, ``global_orient`` (the root's rotation in
the camera frame) and ``body_pose`` — so the target rotations are in the frame of the
points the image model predicts (root-relative camera frame), and the body posed with
them gives ``jl3d`` back up to the root's position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_JOINTS
from smplr.checksum import sha256_file
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.image_model import ImageModelConfig, build_image_model, jl_from_points
from smplr.image_model.model import MM
from smplr.input_formats import INPUT_FORMATS, dae_input
from smplr.metrics import mpjpe, pa_mpjpe, surface_error
from smplr.networks import NetworkConfig, build_networks
from smplr.training.checkpoint import load_checkpoint
from smplr.training.data import PoolBatch
from smplr.training.image import WEIGHTS_NAME, ImageBatch, SampleBatches, SampleSource, collate
from smplr.training.loop import DistributedEnv, TrainSettings, train_stage
from smplr.training.stages import SMPL_WEIGHT, Stage, encode_jl, reverse_loss
from smplr.weights import (
    ImageModelWeights,
    WeightBundle,
    load_image_weights,
    save_bundle,
    save_image_weights,
)

MODES = {
    "frozen": "DAE, Ω, Ψ frozen, only the image model learns (paper 4.5's proposal)",
    "naive": "every network learns (paper 4.5's first try)",
}
SHN_WEIGHT = 1e-5  # paper 4.5: the SHN's own loss against the chain's
DAE = INPUT_FORMATS["jl42"].network  # the DAE the image model's 41 points feed
SMPLR_NETWORKS = (DAE, "pose", "shape")
BUNDLE_NAME = "smplr_bundle.pt"


@dataclass
class EndToEndBatch:
    """Images with their points (:class:`~smplr.training.image.ImageBatch`) and the true
    bodies (:class:`~smplr.training.data.PoolBatch`: root-relative camera-frame JL,
    rotations with the root's in the camera frame, betas, gender)."""

    image: ImageBatch
    truth: PoolBatch

    def __len__(self) -> int:
        return len(self.image)

    def to(self, device: torch.device | str) -> EndToEndBatch:
        return EndToEndBatch(self.image.to(device), self.truth.to(device))


def truth_from_samples(samples: Sequence[dict[str, Any]]) -> PoolBatch:
    """The true bodies of ``smplr data synth`` samples (keys ``jl3d``, ``betas``,
    ``gender``, ``global_orient``, ``body_pose``)."""
    keys = ("jl3d", "betas", "gender", "global_orient", "body_pose")
    for k, sample in enumerate(samples):
        missing = [key for key in keys if key not in sample]
        if missing:
            raise ValueError(f"sample {k} lacks {', '.join(missing)} (needs smplr data synth data)")

    def stack(key: str) -> torch.Tensor:
        return torch.stack([torch.as_tensor(s[key]) for s in samples]).float()

    jl = stack("jl3d")
    pose = torch.cat([stack("global_orient"), stack("body_pose")], 1).reshape(-1, NUM_JOINTS, 3)
    return PoolBatch(jl - jl[:, :1], axis_angle_to_matrix(pose), stack("betas"), stack("gender"))


def end_to_end_batches(
    source: SampleSource, config: ImageModelConfig, device: torch.device | str = "cpu"
) -> SampleBatches[EndToEndBatch]:
    """Minibatches of images, points and true bodies for the end-to-end stage."""
    target = torch.device(device)

    def make(samples: Sequence[dict[str, Any]]) -> EndToEndBatch:
        return EndToEndBatch(collate(samples, config), truth_from_samples(samples)).to(target)

    return SampleBatches(source, make)


@dataclass
class EndToEndContext:
    """What the stage needs besides data: the image model's config, the SMPLR networks'
    sizes and starting weights, the body model (float32 on the device), the mode (frozen:
    ``frozen`` holds the DAE, Ω and Ψ in eval mode without gradients) and the loss
    weights (``coordinate_weight``: of the L1 inside the image model's own loss)."""

    config: ImageModelConfig
    sizes: NetworkConfig
    template_lengths: torch.Tensor
    body: GenderedBodyModel
    mode: str = "frozen"
    frozen: dict[str, nn.Module] = field(default_factory=dict)
    shn_weight: float = SHN_WEIGHT
    smpl_weight: float = SMPL_WEIGHT
    coordinate_weight: float = 0.0
    val_size: int = 256
    val_batch: int = 16

    def __post_init__(self) -> None:
        self.jl_body = self.body.jl_model()


def end_to_end_context(
    config: ImageModelConfig,
    bundle: WeightBundle,
    body: GenderedBodyModel,
    mode: str,
    device: torch.device | str = "cpu",
    **weights: Any,
) -> EndToEndContext:
    """The context of ``mode`` for an image model of ``config`` chained to ``bundle``'s
    DAE, Ω and Ψ (``weights``: the loss weights and validation sizes of
    :class:`EndToEndContext`)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode '{mode}': expected one of {', '.join(MODES)}")
    if not config.landmarks:
        raise ValueError("end-to-end training needs an image model with landmarks (41 points)")
    missing = [n for n in SMPLR_NETWORKS if n not in bundle.networks]
    if missing:
        raise ValueError(f"the weight bundle lacks {', '.join(missing)}")
    frozen: dict[str, nn.Module] = {}
    if mode == "frozen":
        for name, net in build_networks(bundle.network_config, SMPLR_NETWORKS).items():
            net.load_state_dict(bundle.networks[name])
            frozen[name] = net.to(device).eval().requires_grad_(False)
    return EndToEndContext(
        config,
        bundle.network_config,
        bundle.template_lengths.float().to(device),
        body.float().to(device),
        mode,
        frozen,
        **weights,
    )


@dataclass
class ChainOutput:
    """The chain's outputs for B images: the image model's raw ``outputs``, its
    ``points (B, 41, 3)``, the DAE's ``jl (B, 42, 3)``, Ω's ``rotations (B, 24, 3, 3)``,
    Ψ's ``betas (B, 10)`` and ``gender (B,)`` (not clamped)."""

    outputs: list[torch.Tensor]
    points: torch.Tensor
    jl: torch.Tensor
    rotations: torch.Tensor
    betas: torch.Tensor
    gender: torch.Tensor


def _core(net: nn.Module) -> Any:
    return getattr(net, "module", net)  # the model inside a DDP wrapper


def run_chain(nets: dict[str, nn.Module], batch: ImageBatch, ctx: EndToEndContext) -> ChainOutput:
    """The batch's ``images (B, 3, S, S)`` through the image model (``nets["image"]``;
    its points put in metres with the crops' ``intrinsics``), the DAE, Ω and Ψ (from
    ``nets``, or ``ctx.frozen``)."""
    chain = {**ctx.frozen, **nets}
    outputs = chain["image"](batch.images)
    image_model = _core(chain["image"])
    points = image_model.camera_points(image_model.points(outputs), batch.intrinsics)
    jl = chain[DAE](dae_input(jl_from_points(points), "jl42"))
    rotations, betas, gender = encode_jl(chain, jl, ctx.template_lengths)
    return ChainOutput(outputs, points, jl, rotations, betas, gender)


def _root_relative_vertices(
    body: GenderedBodyModel,
    gender: torch.Tensor,
    betas: torch.Tensor,
    rotations: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(vertices (B, V, 3), joints (B, 24, 3))`` of the posed body, root at the origin."""
    out = body(gender.clamp(-1.0, 1.0), betas, rotations[:, :1], rotations[:, 1:])
    root = out.joints[:, :1]
    return out.vertices - root, out.joints - root


class EndToEndStage(Stage[EndToEndContext, EndToEndBatch]):
    """The chain trained end to end (see the module docstring)."""

    def __init__(self, mode: str = "frozen") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}': expected one of {', '.join(MODES)}")
        self.mode = mode
        self.name = f"e2e_{mode}"
        self.networks = ("image",) if mode == "frozen" else ("image", *SMPLR_NETWORKS)

    def build(self, ctx: EndToEndContext) -> dict[str, nn.Module]:
        if ctx.mode != self.mode:
            raise ValueError(f"stage {self.name} given a context of mode '{ctx.mode}'")
        nets: dict[str, nn.Module] = {"image": build_image_model(ctx.config)}
        if self.mode == "naive":
            nets.update(build_networks(ctx.sizes, SMPLR_NETWORKS))
        return nets

    def loss(
        self,
        nets: dict[str, nn.Module],
        batch: EndToEndBatch,
        ctx: EndToEndContext,
        rng: torch.Generator,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        truth = batch.truth
        out = run_chain(nets, batch.image, ctx)
        l_shn, shn_parts = _core(nets["image"]).loss(
            out.outputs, batch.image.targets, batch.image.valid, ctx.coordinate_weight
        )
        l_dae = (out.jl - truth.jl).abs().mean()
        l_reverse, parts = reverse_loss(
            out.rotations, out.betas, out.gender, truth, ctx.jl_body, ctx.smpl_weight
        )
        vertices, _ = _root_relative_vertices(ctx.body, truth.gender, out.betas, out.rotations)
        with torch.no_grad():
            true_vertices, _ = _root_relative_vertices(
                ctx.body, truth.gender, truth.betas, truth.rotations
            )
        l_v = (vertices - true_vertices).abs().mean()
        loss = l_dae + l_reverse + ctx.smpl_weight * l_v + ctx.shn_weight * l_shn
        return loss, {
            "l_dae": float(l_dae.detach()),
            **parts,
            "l_v": float(l_v.detach()),
            "l_shn": float(l_shn.detach()),
            "mpjpe_mm": shn_parts["mpjpe_mm"],
        }

    def validate(
        self,
        nets: dict[str, nn.Module],
        val: Any,
        ctx: EndToEndContext,
        rng: torch.Generator,
    ) -> dict[str, float]:
        return {f"val_{k}": v for k, v in evaluate(nets, val, ctx, ctx.val_size).items()}


@torch.no_grad()
def evaluate(
    nets: dict[str, nn.Module],
    batches: SampleBatches[EndToEndBatch],
    ctx: EndToEndContext,
    limit: int | None = None,
) -> dict[str, float]:
    """Errors (mm) on the first ``limit`` samples, networks as they are (put them in eval
    mode first): ``shn_joints_mm`` the image model's 23 joints (mean per joint,
    root-relative); the body through the DAE, Ω, Ψ (predicted gender) against the true
    body: ``body_mpjpe_p1`` (24 joints, root-relative), ``body_mpjpe_p2`` (after a
    similarity), ``body_vertices_p1`` (mean per vertex, root-relative)."""
    totals = dict.fromkeys(
        ("shn_joints_mm", "body_mpjpe_p1", "body_mpjpe_p2", "body_vertices_p1"), 0.0
    )
    count = 0
    for batch in batches.chunks(ctx.val_batch, limit):
        truth = batch.truth
        out = run_chain(nets, batch.image, ctx)
        shn = (out.points - batch.image.points)[:, :NUM_BODY_JOINTS].norm(dim=-1).mean(1) * MM
        vertices, joints = _root_relative_vertices(ctx.body, out.gender, out.betas, out.rotations)
        true_vertices, true_joints = _root_relative_vertices(
            ctx.body, truth.gender, truth.betas, truth.rotations
        )
        zero = torch.zeros(len(batch), 3, device=vertices.device)
        for key, value in (
            ("shn_joints_mm", shn),
            ("body_mpjpe_p1", mpjpe(joints, true_joints)),
            ("body_mpjpe_p2", pa_mpjpe(joints, true_joints)),
            (
                "body_vertices_p1",
                surface_error(vertices, true_vertices, pred_root=zero, gt_root=zero),
            ),
        ):
            totals[key] += float(torch.as_tensor(value).sum())
        count += len(batch)
    return {k: v / max(count, 1) for k, v in totals.items()}


def start_image_weights(path: str | Path) -> ImageModelWeights:
    """The image model to start from: an image-weights file (``smplr train image``'s
    ``image_model.pt``, or a bundle holding one) or an image stage's ``checkpoint.pt``."""
    path = Path(path)
    try:
        return load_image_weights(path)
    except ValueError:
        pass
    try:
        state = load_checkpoint(path)
        config = ImageModelConfig.from_dict(state["record"]["image_config"])
        return ImageModelWeights(config, state["networks"]["image"], {"start_step": state["step"]})
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: neither image weights nor an image training checkpoint") from exc


def train_end_to_end(
    ctx: EndToEndContext,
    start: ImageModelWeights,
    bundle: WeightBundle,
    train: SampleSource,
    val: SampleSource,
    run_dir: str | Path,
    settings: TrainSettings,
    device: torch.device | str = "cpu",
    fresh: bool = False,
    env: DistributedEnv | None = None,
    show_progress: bool = True,
    record: dict | None = None,
) -> Path:
    """Fine-tune ``start`` (and, naive, ``bundle``'s DAE, Ω, Ψ) end to end in
    ``run_dir/e2e_<mode>/`` (resuming its checkpoint unless ``fresh``); write the image
    model there as image weights (``image_model.pt``, as ``smplr train image`` does)
    and, naive, ``bundle`` with the fine-tuned networks and the image model
    (:data:`BUNDLE_NAME`).  Returns the image weights' path."""
    if start.config != ctx.config:
        raise ValueError("the starting image weights are for another image model config")
    env = env or DistributedEnv()
    stage = EndToEndStage(ctx.mode)
    record = {
        "image_config": ctx.config.to_dict(),
        "mode": ctx.mode,
        "shn_weight": ctx.shn_weight,
        "smpl_weight": ctx.smpl_weight,
        "coordinate_weight": ctx.coordinate_weight,
        **(record or {}),
    }
    init = {"image": start.state}
    if ctx.mode == "naive":
        init.update({name: bundle.networks[name] for name in SMPLR_NETWORKS})
    states = train_stage(
        stage,
        ctx,
        end_to_end_batches(train, ctx.config, device),
        end_to_end_batches(val, ctx.config, device),
        run_dir,
        settings,
        device,
        init=init,
        fresh=fresh,
        env=env,
        show_progress=show_progress,
        record=record,
    )
    folder = Path(run_dir) / stage.name
    path = folder / WEIGHTS_NAME
    if env.is_main:
        meta = {"stage": stage.name, "steps": settings.steps, "record": record}
        image = ImageModelWeights(ctx.config, states["image"], meta)
        save_image_weights(image, path)
        if ctx.mode == "naive":
            networks = {**bundle.networks, **{n: states[n] for n in SMPLR_NETWORKS}}
            tuned = WeightBundle(
                bundle.network_config,
                bundle.body_model,
                bundle.template_lengths,
                networks,
                {**bundle.meta, "e2e": meta},
                image,
            )
            save_bundle(tuned, folder / BUNDLE_NAME)
    return path


def file_id(path: str | Path) -> str:
    """``name:sha256-prefix`` of a file, for a run's record."""
    path = Path(path)
    return f"{path.name}:{sha256_file(path)[:16]}"
