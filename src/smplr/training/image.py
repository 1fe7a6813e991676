"""Training the image backbone (``smplr train image``) with the shared training loop.

The stage (:class:`ImageStage`) plugs into :func:`smplr.training.loop.train_stage` like
the keypoint stages: Adam, resumable checkpoints, curves, progress, DDP under torchrun.
Its data is any map-style dataset of samples (a ``torch.utils.data.Dataset``, a list),
drawn at random with the loop's checkpointed generator, so a resumed run sees exactly
the images an uninterrupted one would.

Sample contract (one item of the dataset, a dict of tensors or arrays):

=========  ===============  ==================================================================
key        shape            meaning
=========  ===============  ==================================================================
image      (3, H, W)        RGB crop (the paper's 2.5 m square around the body, see
                            :mod:`smplr.image_model.volume`), float in [0, 1] or uint8;
                            resized to the model's input size when ``H = W`` differ from it
points     (41, 3)          the 23 joints without the root, then the 18 landmarks, relative
                            to the root, metres, camera frame with OpenCV axes (x right,
                            y down, z forward)
jl3d       (42, 3)          instead of ``points``: JL in the camera frame (root first), as
                            the synthetic images of :mod:`smplr.image_data` give it
valid      (41,) optional   bool: points that are annotated (default: all); points outside
                            the heatmap volume are left out of the cross-entropy anyway
=========  ===============  ==================================================================

Other keys (visibility, SMPL parameters, intrinsics, masks) are ignored here: 3D labels of
rendered people are exact whether a point is seen or not, so every point is supervised.
:func:`load_samples` opens a folder written by ``smplr data synth``
(:class:`smplr.image_data.dataset.ImageShards`, optionally augmented) or one ``.npz``
file (:class:`TensorImageDataset`: ``images (N, 3, H, W)`` or ``(N, H, W, 3)``,
``points (N, 41, 3)``, optional ``valid (N, 41)``).  With augmentation the shards draw
their own random numbers, so a resumed run is then not bit-identical to an uninterrupted
one (without, it is).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_JL
from smplr.image_model import ImageModelConfig, build_image_model, imagenet_start, points_from_jl
from smplr.image_model.crop_frame import at_input_size, crop_points
from smplr.image_model.model import MM
from smplr.training.loop import DistributedEnv, TrainSettings, train_stage
from smplr.training.stages import Stage
from smplr.weights import (
    ImageModelWeights,
    load_image_weights,
    save_image_weights,
    shipped_image_path,
)

NUM_POINTS = NUM_JL - 1  # 41 target points in every sample
WEIGHTS_NAME = "image_model.pt"


class SampleSource(Protocol):
    """A map-style dataset of samples (see the module's table)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, Any]: ...


@dataclass
class ImageBatch:
    """``images (B, 3, S, S)`` float in [0, 1]; ``targets (B, V, 3)`` the true volume
    points in the model's frame and ``valid (B, V)`` bool (what the loss reads);
    ``points (B, P, 3)`` the true root-relative camera-frame metres (what the errors are
    measured on) and ``intrinsics (B, 3, 3)`` the crops' camera at size ``S`` (``None``
    when the samples have none) — ``P`` the model's points (41, or 23 without
    landmarks), ``V`` its volume points (``P``, or ``P + 1`` in the crop frame)."""

    images: torch.Tensor
    targets: torch.Tensor
    valid: torch.Tensor
    points: torch.Tensor
    intrinsics: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: torch.device | str) -> ImageBatch:
        return ImageBatch(
            self.images.to(device),
            self.targets.to(device),
            self.valid.to(device),
            self.points.to(device),
            None if self.intrinsics is None else self.intrinsics.to(device),
        )


def _tensor(value: Any) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))


def _sample_arrays(k: int, sample: Any) -> dict[str, torch.Tensor]:
    """One sample's checked tensors: ``image (3, H, H)`` float, ``points (41, 3)``,
    ``valid (41,)`` and, when it has them, ``jl3d (42, 3)`` and ``K (3, 3)``."""
    if (
        not isinstance(sample, dict)
        or "image" not in sample
        or not {"points", "jl3d"} & set(sample)
    ):
        raise ValueError(f"sample {k} is not a dict with 'image' and 'points' (or 'jl3d')")
    image = _tensor(sample["image"])
    if image.ndim != 3 or image.shape[0] != 3 or image.shape[1] != image.shape[2]:
        raise ValueError(f"sample {k}: image must be (3, H, H), got {tuple(image.shape)}")
    out = {"image": image.float() / 255.0 if image.dtype == torch.uint8 else image.float()}
    if "jl3d" in sample:
        out["jl3d"] = _tensor(sample["jl3d"]).double()
        if tuple(out["jl3d"].shape) != (NUM_JL, 3):
            raise ValueError(
                f"sample {k}: jl3d must be ({NUM_JL}, 3), got {tuple(out['jl3d'].shape)}"
            )
    point = (
        _tensor(sample["points"]) if "points" in sample else points_from_jl(out["jl3d"][None])[0]
    )
    if tuple(point.shape) != (NUM_POINTS, 3):
        raise ValueError(f"sample {k}: points must be ({NUM_POINTS}, 3), got {tuple(point.shape)}")
    out["points"] = point.float()
    mask = _tensor(sample.get("valid", torch.ones(NUM_POINTS, dtype=torch.bool)))
    if tuple(mask.shape) != (NUM_POINTS,):
        raise ValueError(f"sample {k}: valid must be ({NUM_POINTS},), got {tuple(mask.shape)}")
    out["valid"] = mask.bool()
    if "K" in sample:
        out["K"] = _tensor(sample["K"]).double()
        if tuple(out["K"].shape) != (3, 3):
            raise ValueError(f"sample {k}: K must be (3, 3), got {tuple(out['K'].shape)}")
    return out


def collate(samples: Sequence[dict[str, Any]], config: ImageModelConfig) -> ImageBatch:
    """Samples of the contract -> one batch at the model's input size: images, the
    targets in the model's frame, the true points and the crops' intrinsics."""
    arrays = [_sample_arrays(k, sample) for k, sample in enumerate(samples)]
    sides = {a["image"].shape[-1] for a in arrays}
    if len(sides) != 1:
        raise ValueError(f"the samples of a batch have different image sizes {sorted(sides)}")
    size, keep = config.input_size, config.num_points
    cameras = torch.stack([a["K"] for a in arrays]) if all("K" in a for a in arrays) else None
    images, intrinsics = at_input_size(torch.stack([a["image"] for a in arrays]), cameras, size)
    points = torch.stack([a["points"] for a in arrays])[:, :keep]
    valid = torch.stack([a["valid"] for a in arrays])[:, :keep]
    targets = points
    if config.frame == "crop":
        if intrinsics is None or not all("jl3d" in a for a in arrays):
            raise ValueError("the crop frame needs samples with 'jl3d' and 'K' (the crop's camera)")
        jl = torch.stack([a["jl3d"] for a in arrays])
        targets = crop_points(jl, intrinsics, size, config.half_range_m, keep).float()
        valid = torch.cat([valid, valid.new_ones(len(arrays), 1)], dim=1)
    return ImageBatch(
        images.clamp(0.0, 1.0),
        targets,
        valid,
        points,
        None if intrinsics is None else intrinsics.float(),
    )


BatchT = TypeVar("BatchT")


class SampleBatches(Generic[BatchT]):
    """Minibatches of a sample source for the training loop, made by ``make`` (samples ->
    one batch on the training device): random ones (:meth:`minibatch`) and all in order
    (:meth:`chunks`)."""

    def __init__(
        self, source: SampleSource, make: Callable[[Sequence[dict[str, Any]]], BatchT]
    ) -> None:
        if len(source) < 1:
            raise ValueError("the image data set is empty")
        self.source, self.make = source, make

    def __len__(self) -> int:
        return len(self.source)

    def minibatch(self, batch_size: int, generator: torch.Generator) -> BatchT:
        """``batch_size`` samples drawn uniformly with replacement by ``generator``."""
        rows = torch.randint(
            0, len(self.source), (batch_size,), generator=generator, device=generator.device
        )
        return self.take(rows.tolist())

    def take(self, rows: Sequence[int]) -> BatchT:
        return self.make([self.source[int(i)] for i in rows])

    def chunks(self, size: int, limit: int | None = None) -> Iterator[BatchT]:
        """The first ``limit`` samples (all by default), ``size`` at a time."""
        total = len(self.source) if limit is None else min(limit, len(self.source))
        for start in range(0, total, size):
            yield self.take(range(start, min(start + size, total)))


class ImageBatches(SampleBatches[ImageBatch]):
    """:class:`SampleBatches` of images and points, collated for ``config``, on ``device``."""

    def __init__(
        self, source: SampleSource, config: ImageModelConfig, device: torch.device | str = "cpu"
    ) -> None:
        target = torch.device(device)
        super().__init__(source, lambda samples: collate(samples, config).to(target))
        self.config, self.device = config, target


class TensorImageDataset:
    """Samples held as tensors: ``images (N, 3, H, W)``, ``points (N, 41, 3)``, optional
    ``valid (N, 41)`` and the crops' cameras (``cameras``: ``jl3d (N, 42, 3)`` camera-frame
    metres and ``K (N, 3, 3)``, which the crop frame needs); :meth:`from_npz` reads them
    from one file (no pickles)."""

    def __init__(
        self,
        images: torch.Tensor,
        points: torch.Tensor,
        valid: torch.Tensor | None = None,
        cameras: dict[str, torch.Tensor] | None = None,
    ) -> None:
        if images.ndim == 4 and images.shape[-1] == 3 and images.shape[1] != 3:
            images = images.permute(0, 3, 1, 2)  # (N, H, W, 3) -> (N, 3, H, W)
        n = images.shape[0] if images.ndim == 4 else -1
        if n < 1 or images.shape[1] != 3 or tuple(points.shape) != (n, NUM_POINTS, 3):
            raise ValueError(
                f"image data must hold images (N, 3, H, W) and points (N, {NUM_POINTS}, 3) "
                f"with N >= 1, got {tuple(images.shape)} and {tuple(points.shape)}"
            )
        if valid is not None and tuple(valid.shape) != (n, NUM_POINTS):
            raise ValueError(f"valid must be ({n}, {NUM_POINTS}), got {tuple(valid.shape)}")
        self.cameras = dict(cameras or {})
        shapes = {"jl3d": (n, NUM_JL, 3), "K": (n, 3, 3)}
        if self.cameras and set(self.cameras) != set(shapes):
            raise ValueError("image data gives both 'jl3d' and 'K' (the crops' cameras) or neither")
        for name, tensor in self.cameras.items():
            if tuple(tensor.shape) != shapes[name]:
                raise ValueError(f"{name} must be {shapes[name]}, got {tuple(tensor.shape)}")
        self.images, self.points = images, points
        self.valid = torch.ones(n, NUM_POINTS, dtype=torch.bool) if valid is None else valid.bool()

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {
            "image": self.images[index],
            "points": self.points[index],
            "valid": self.valid[index],
            **{name: tensor[index] for name, tensor in self.cameras.items()},
        }

    @classmethod
    def from_npz(cls, path: str | Path) -> TensorImageDataset:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: image data file not found")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {
                    k: torch.from_numpy(data[k])
                    for k in ("images", "points", "valid", "jl3d", "K")
                    if k in data.files
                }
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: not a readable .npz file ({type(exc).__name__})") from exc
        if "images" not in arrays or "points" not in arrays:
            raise ValueError(f"{path}: image data needs arrays 'images' and 'points'")
        try:
            cameras: dict[str, torch.Tensor] = {
                k: arrays[k].double() for k in ("jl3d", "K") if k in arrays
            }
            return cls(arrays["images"], arrays["points"].float(), arrays.get("valid"), cameras)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc


class HeldOut:
    """The samples ``rows`` of ``source`` (a view: nothing is copied)."""

    def __init__(self, source: SampleSource, rows: range) -> None:
        self.source, self.rows = source, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.source[self.rows[index]]


def split_validation(source: SampleSource, count: int) -> tuple[HeldOut, HeldOut]:
    """``(train, val)``: the last ``count`` samples held out for validation."""
    total = len(source)
    if not 0 < count < total:
        raise ValueError(f"cannot hold out {count} of {total} samples for validation")
    return HeldOut(source, range(total - count)), HeldOut(source, range(total - count, total))


def load_samples(path: str | Path, augment: bool = False) -> SampleSource:
    """The samples at ``path``: a folder of ``smplr data synth`` shards (with the paper's
    augmentations when ``augment``: flips, rotation, scale, colour, backgrounds) or an
    ``.npz`` file (never augmented)."""
    path = Path(path)
    if path.is_dir():
        from smplr.image_data.augment import Augmentation
        from smplr.image_data.dataset import ImageShards

        return ImageShards(path, augment=Augmentation() if augment else None, cached_shards=None)
    return TensorImageDataset.from_npz(path)


@dataclass
class ImageContext:
    """What the image stage needs besides data: the model's config and the weight of the
    L1 on soft-argmax points (metres) beside the cross-entropy (0: the paper's loss)."""

    config: ImageModelConfig
    coordinate_weight: float = 0.0
    val_size: int = 256
    val_batch: int = 16


def stage_name(config: ImageModelConfig) -> str:
    """``image_shn``, ``image_shn_nl`` (no landmarks), ``image_shn_limbs``,
    ``image_alexnet_nl``, ...: one folder per variant in a run folder."""
    return (
        f"image_{config.architecture}"
        + ("" if config.landmarks else "_nl")
        + ("_limbs" if config.limbs else "")
    )


def _core(net: nn.Module) -> Any:
    return getattr(net, "module", net)  # the model inside a DDP wrapper


class ImageStage(Stage[ImageContext, ImageBatch]):
    """The image backbone (network ``image``): the model's own loss
    (:meth:`smplr.image_model.ImageModel.loss`)."""

    networks = ("image",)

    def __init__(self, name: str = "image_shn") -> None:
        self.name = name

    def build(self, ctx: ImageContext) -> dict[str, nn.Module]:
        return {"image": build_image_model(ctx.config)}

    def loss(
        self, nets: dict[str, nn.Module], batch: ImageBatch, ctx: ImageContext, rng: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        outputs = nets["image"](batch.images)
        return _core(nets["image"]).loss(outputs, batch.targets, batch.valid, ctx.coordinate_weight)

    def validate(
        self, nets: dict[str, nn.Module], val: Any, ctx: ImageContext, rng: torch.Generator
    ) -> dict[str, float]:
        """Mean per-point errors (mm, root-relative) of joints and landmarks, and the loss,
        on the first ``ctx.val_size`` validation samples."""
        model = _core(nets["image"])
        sums = {"joints": 0.0, "landmarks": 0.0, "loss": 0.0}
        counts = {"joints": 0.0, "landmarks": 0.0, "loss": 0.0}
        for batch in val.chunks(ctx.val_batch, ctx.val_size):
            outputs = model(batch.images)
            loss, _ = model.loss(outputs, batch.targets, batch.valid, ctx.coordinate_weight)
            found = model.camera_points(model.points(outputs), batch.intrinsics)
            error = (found - batch.points).norm(dim=-1) * MM
            valid = batch.valid[:, : ctx.config.num_points]
            for key, cols in (
                ("joints", slice(0, NUM_BODY_JOINTS)),
                ("landmarks", slice(NUM_BODY_JOINTS, None)),
            ):
                mask = valid[:, cols]
                sums[key] += float((error[:, cols] * mask).sum())
                counts[key] += float(mask.sum())
            sums["loss"] += float(loss) * len(batch)
            counts["loss"] += len(batch)
        numbers = {
            "val_loss": sums["loss"] / counts["loss"],
            "val_joints_mm": sums["joints"] / max(counts["joints"], 1.0),
        }
        if ctx.config.landmarks:
            numbers["val_landmarks_mm"] = sums["landmarks"] / max(counts["landmarks"], 1.0)
        return numbers


def starting_point(
    init: str, config: ImageModelConfig
) -> tuple[ImageModelConfig, dict[str, torch.Tensor]]:
    """The model a fresh run starts from (``smplr train image --init``) and its config.

    ``init``: ``imagenet`` (a ``mobilenet`` encoder from the installed ImageNet file,
    :func:`imagenet_start`), ``shipped`` (the shipped image model: fine-tuning), a path
    to an image model that smplr wrote (its config replaces ``config``: the whole network
    starts there), or a path to torchvision's MobileNetV2 ImageNet file.  A file that is
    neither raises a one-line ValueError naming both readings."""
    if init == "imagenet":
        return config, imagenet_start(config)
    path = shipped_image_path() if init == "shipped" else Path(init)
    try:
        trained = load_image_weights(path)
    except FileNotFoundError as exc:
        raise ValueError(f"--init {init}: {exc}") from exc
    except ValueError as as_smplr:
        if config.architecture != "mobilenet":
            raise ValueError(
                f"--init {init}: {as_smplr}; an ImageNet encoder needs --architecture mobilenet"
            ) from as_smplr
        try:
            return config, imagenet_start(config, path)
        except ValueError as as_imagenet:
            raise ValueError(
                f"--init {init}: neither a smplr image model ({as_smplr}) nor an ImageNet "
                f"MobileNetV2 ({as_imagenet})"
            ) from as_imagenet
    return trained.config, trained.state


def train_image_model(
    ctx: ImageContext,
    train: SampleSource,
    val: SampleSource,
    run_dir: str | Path,
    settings: TrainSettings,
    device: torch.device | str = "cpu",
    fresh: bool = False,
    env: DistributedEnv | None = None,
    show_progress: bool = True,
    record: dict | None = None,
    init: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Train the image model of ``ctx.config`` in ``run_dir/<stage_name>/`` (resuming its
    checkpoint unless ``fresh``; a fresh start from the state dict ``init`` when given,
    e.g. :func:`imagenet_start`) and write its weights there (:data:`WEIGHTS_NAME`,
    float32; :func:`smplr.weights.load_image_weights` reads it).  Returns that path."""
    env = env or DistributedEnv()
    stage = ImageStage(stage_name(ctx.config))
    record = {
        "image_config": ctx.config.to_dict(),
        "coordinate_weight": ctx.coordinate_weight,
        **(record or {}),
    }
    states = train_stage(
        stage,
        ctx,
        ImageBatches(train, ctx.config, device),
        ImageBatches(val, ctx.config, device),
        run_dir,
        settings,
        device,
        fresh=fresh,
        env=env,
        show_progress=show_progress,
        record=record,
        init=None if init is None else {"image": init},
    )
    path = Path(run_dir) / stage.name / WEIGHTS_NAME
    if env.is_main:
        meta = {
            "stage": stage.name,
            "steps": settings.steps,
            "batch_size": settings.batch_size,
            "record": record,
        }
        save_image_weights(ImageModelWeights(ctx.config, states["image"], meta), path)
    return path
