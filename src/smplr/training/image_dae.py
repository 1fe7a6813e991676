"""DAE_SHN (paper 4.4.2): a DAE trained on an image model's own readings of crops.

The keypoint DAEs of :mod:`smplr.training.stages` learn from ground-truth JL with
synthetic noise (the paper's DAE_noise).  The paper also trains the DAE on the SHN's
estimates (DAE_SHN, Table 1): input the JL the image model reads from a crop, target
the crop's true JL.  It then learns the image model's own error structure, which
synthetic noise does not mimic (an under-trained model draws the body in towards the
root and confuses depth; docs/image_model.md).

The crops must be ones the image model never trained on (another seed of ``smplr data
synth``): on its training crops its errors are smaller than on new ones.

Frames: both JL are root-relative metres in SMPLR's view frame (x right, y up, z towards
the camera: the camera frame turned by :data:`~smplr.geometry.projection.VIEW_TO_OPENCV`),
the frame in which SMPLR fits the image model's reading, so the DAE starts from SMPLR's
``jl42`` DAE.  Half of every minibatch is mirrored (x negated, left and right swapped;
the image model reads each crop and its mirror image, so its errors are symmetric).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import Progress
from torch import nn

from smplr.atomic_io import atomic_write
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JL_MIRROR, NUM_JL
from smplr.dae import DenoisingAutoencoder
from smplr.geometry.projection import VIEW_TO_OPENCV
from smplr.image_model import ImageModel, jl_from_points
from smplr.training.image import WEIGHTS_NAME
from smplr.training.loop import TrainSettings, train_stage
from smplr.training.stages import Stage, encode_jl, jl_error_mm
from smplr.weights import ImageModelWeights, ReadingDAEWeights, save_image_weights

STAGE = "dae_image"


@dataclass(frozen=True)
class Readings:
    """Pairs for DAE_SHN: ``inputs (N, 42, 3)`` the image model's JL and ``targets
    (N, 42, 3)`` the true JL, root-relative metres, view frame (float32)."""

    inputs: torch.Tensor
    targets: torch.Tensor

    def __post_init__(self) -> None:
        shape = (len(self.inputs), NUM_JL, 3)
        if tuple(self.inputs.shape) != shape or tuple(self.targets.shape) != shape:
            raise ValueError(
                f"readings need inputs and targets (N, {NUM_JL}, 3), got "
                f"{tuple(self.inputs.shape)} and {tuple(self.targets.shape)}"
            )
        if len(self.inputs) == 0:
            raise ValueError("readings hold no crop")
        if not (torch.isfinite(self.inputs).all() and torch.isfinite(self.targets).all()):
            raise ValueError("readings hold NaN or infinite coordinates")

    def __len__(self) -> int:
        return len(self.inputs)

    def minibatch(self, batch_size: int, generator: torch.Generator) -> Readings:
        """``batch_size`` pairs drawn at random, half of them mirrored."""
        index = torch.randint(len(self), (batch_size,), generator=generator)
        flip = torch.rand(batch_size, generator=generator) < 0.5
        return mirror_some(Readings(self.inputs[index], self.targets[index]), flip)


def mirror_jl(jl: torch.Tensor) -> torch.Tensor:
    """``jl (B, 42, 3)`` -> the mirror image's JL: x negated, left and right swapped."""
    return jl[:, list(JL_MIRROR)] * jl.new_tensor([-1.0, 1.0, 1.0])


def mirror_some(readings: Readings, flip: torch.Tensor) -> Readings:
    """The pairs with ``flip (B,)`` bool mirrored (input and target alike)."""
    mask = flip[:, None, None]
    return Readings(
        torch.where(mask, mirror_jl(readings.inputs), readings.inputs),
        torch.where(mask, mirror_jl(readings.targets), readings.targets),
    )


def weights_fingerprint(weights: ImageModelWeights) -> str:
    """A short hash of an image model's config and weights (what its readings depend on;
    not its file, which may also hold a DAE)."""
    digest = hashlib.sha256(repr(sorted(weights.config.to_dict().items())).encode())
    for name, tensor in sorted(weights.state.items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@torch.no_grad()
def read_crops(
    model: ImageModel,
    shards: Any,
    num: int | None = None,
    batch_size: int = 64,
    label: str = "reading crops",
) -> Readings:
    """The image model's readings of the first ``num`` crops of ``shards`` (an
    :class:`~smplr.image_data.dataset.ImageShards`; default all), each read as is and
    mirrored (as ``smplr predict`` reads), paired with their true JL."""
    total = len(shards) if num is None else min(num, len(shards))
    if total < 1:
        raise ValueError("no crop to read")
    turn = torch.tensor(VIEW_TO_OPENCV, dtype=torch.float32)
    inputs, targets = [], []
    with Progress(transient=True) as progress:
        task = progress.add_task(label, total=total)
        for start in range(0, total, batch_size):
            records = [shards.record(i) for i in range(start, min(start + batch_size, total))]
            images = torch.from_numpy(np.stack([r["image"] for r in records]))
            cameras = torch.from_numpy(np.stack([r["K"] for r in records])).double()
            points = model.read(images.permute(0, 3, 1, 2).float() / 255.0, cameras)
            inputs.append(jl_from_points(points.float().cpu()) * turn)
            jl3d = torch.from_numpy(np.stack([r["jl3d"] for r in records])).float()
            targets.append((jl3d - jl3d[:, :1]) * turn)
            progress.advance(task, len(records))
    return Readings(torch.cat(inputs), torch.cat(targets))


def cached_readings(path: Path, key: str, make: Callable[[], Readings]) -> Readings:
    """Readings stored at ``path`` under ``key`` (which image model, data and how many
    crops), or made by ``make`` and stored (whole or not at all)."""
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) == key:
                    return Readings(
                        torch.from_numpy(data["inputs"]), torch.from_numpy(data["targets"])
                    )
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path}: unreadable readings file ({exc}); delete it") from exc
    readings = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        np.savez(
            handle,
            key=np.asarray(key),
            inputs=readings.inputs.numpy(),
            targets=readings.targets.numpy(),
        )
    return readings


@dataclass(frozen=True)
class ImageDAEContext:
    """What the stage builds and scores: the DAE's encoder widths and its dropouts in
    training; with ``reverse`` (SMPLR's Ω and Ψ, ``{"pose", "shape"}``, frozen), their
    ``template_lengths (41,)`` and the JL body model ``jl_body``, the validation also
    scores the body SMPLR makes of the DAE's output, and ``body_weight`` > 0 adds the L1
    between that body's JL and the truth to the loss (the DAE trained through the frozen
    SMPLR, as the paper's end-to-end training trains the SHN)."""

    widths: tuple[int, int, int]
    input_dropout: float = 0.0
    code_dropout: float = 0.2
    reverse: dict[str, nn.Module] = field(default_factory=dict)
    template_lengths: torch.Tensor | None = None
    jl_body: GenderedBodyModel | None = None
    body_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.body_weight < 0:
            raise ValueError(f"body_weight must be >= 0, got {self.body_weight}")
        if (self.body_weight > 0 or self.reverse) and (
            set(self.reverse) != {"pose", "shape"}
            or self.template_lengths is None
            or self.jl_body is None
        ):
            raise ValueError("the body term needs Ω and Ψ, their template lengths and a JL body")

    def body_jl(self, jl: torch.Tensor) -> torch.Tensor:
        """``jl (B, 42, 3)`` -> the JL of the body Ω, Ψ and the body model make of it,
        root-relative ``(B, 42, 3)`` (each body of the gender Ψ reads)."""
        assert self.template_lengths is not None and self.jl_body is not None
        rotations, betas, gender = encode_jl(self.reverse, jl, self.template_lengths)
        out = self.jl_body(gender.clamp(-1.0, 1.0), betas, rotations[:, :1], rotations[:, 1:])
        assert out.landmarks is not None
        body = torch.cat([out.joints, out.landmarks], dim=1)
        return body - body[:, :1]


class ImageDAEStage(Stage[ImageDAEContext, Readings]):
    """DAE_SHN: L1 between the DAE's output on the image model's JL and the true JL
    (plus ``body_weight`` × the L1 of the body SMPLR makes of that output)."""

    name = STAGE
    networks = ("dae",)

    def build(self, ctx: ImageDAEContext) -> dict[str, nn.Module]:
        return {"dae": DenoisingAutoencoder(ctx.widths, ctx.input_dropout, ctx.code_dropout)}

    def loss(
        self,
        nets: dict[str, nn.Module],
        batch: Readings,
        ctx: ImageDAEContext,
        rng: torch.Generator,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        device = next(nets["dae"].parameters()).device
        out = nets["dae"](batch.inputs.to(device))
        target = batch.targets.to(device)
        loss = (out - target).abs().mean()
        parts = {"loss_dae": float(loss.detach())}
        if ctx.body_weight > 0:
            l_body = (ctx.body_jl(out) - target).abs().mean()
            loss = loss + ctx.body_weight * l_body
            parts["loss_body"] = float(l_body.detach())
        return loss, parts

    def validate(
        self, nets: dict[str, nn.Module], val: Readings, ctx: ImageDAEContext, rng: torch.Generator
    ) -> dict[str, float]:
        device = next(nets["dae"].parameters()).device
        out = nets["dae"](val.inputs.to(device))
        numbers = {
            "val_input_jl_mm": jl_error_mm(val.inputs, val.targets),
            "val_jl_mm": jl_error_mm(out.cpu(), val.targets),
        }
        if ctx.reverse:
            numbers["val_body_jl_mm"] = jl_error_mm(ctx.body_jl(out).cpu(), val.targets)
        return numbers


def train_reading_dae(
    image: ImageModelWeights,
    train: Readings,
    val: Readings,
    run_dir: str | Path,
    settings: TrainSettings,
    ctx: ImageDAEContext,
    init: dict[str, torch.Tensor] | None = None,
    device: torch.device | str = "cpu",
    fresh: bool = False,
    record: dict | None = None,
) -> Path:
    """Train DAE_SHN on ``train`` (the image model ``image``'s readings, validated on
    ``val``) in ``run_dir/dae_image/``, starting from the DAE state ``init`` (e.g.
    SMPLR's ``jl42`` DAE; default fresh), and write the image model with it there
    (:data:`WEIGHTS_NAME`, float32).  Returns that path."""
    states = train_stage(
        ImageDAEStage(),
        ctx,
        train,
        val,
        run_dir,
        settings,
        device,
        init=None if init is None else {"dae": init},
        fresh=fresh,
        record=dict(record or {}),
    )
    meta = {"steps": settings.steps, "batch_size": settings.batch_size, **(record or {})}
    with_dae = replace(image, dae=ReadingDAEWeights(ctx.widths, states["dae"], meta))
    return save_image_weights(with_dae, Path(run_dir) / STAGE / WEIGHTS_NAME)
