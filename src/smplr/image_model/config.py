"""The typed configuration of an image model: architecture, sizes, heatmap volume.

One frozen dataclass, :class:`ImageModelConfig`, holds everything needed to build an
image model (:func:`smplr.image_model.build_image_model`) and to read its output; a
training checkpoint and a weight bundle store it (:meth:`ImageModelConfig.to_dict`), so a
model always loads with the sizes it was trained with.

Two named configurations::

    >>> from smplr.image_model import ImageModelConfig
    >>> ImageModelConfig.small().heatmap_size, ImageModelConfig.paper().heatmap_size
    (32, 64)
    >>> ImageModelConfig.paper().num_points, ImageModelConfig(landmarks=False).num_points
    (41, 23)

- :meth:`~ImageModelConfig.small`: trains on a 2-core CPU (2 stacks, 128 features,
  128² input, 32×32×16 per point; DESIGN §5: ~14 images/s at batch 16);
- :meth:`~ImageModelConfig.paper`: the paper's (4.1): 5 stacks, 256 features, 256²
  input, 64×64×16 per point, for GPUs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_LANDMARKS

ARCHITECTURES: dict[str, str] = {
    "shn": "volumetric stacked hourglass, soft-argmax (paper 4.1)",
    "alexnet": "AlexNet-like direct regressor of the points, L2 loss (paper 4.4.1 baseline)",
    "mobilenet": "MobileNetV2 encoder (ImageNet-initialisable) + volumetric decoder, "
    "soft-argmax: the SHN's heatmaps and loss on a CPU-friendly pretrained backbone",
}
VOLUMETRIC = ("shn", "mobilenet")  # architectures with heatmap volumes and soft-argmax
MOBILENET_STRIDE = 32
FRAMES: dict[str, str] = {
    "root": "x, y, z all metres around the root (the network learns where the root is)",
    "crop": "x, y aligned with the crop's pixels, z metres from the root; the root is a "
    "42nd heatmap and the points are put in metres with the crop's camera "
    "(smplr.image_model.crop_frame)",
}
NUM_LIMBS = 4  # SHN^final's limb heatmaps: left arm, right arm, left leg, right leg
DOWNSAMPLE = 4  # input pixels per heatmap cell (the hourglass stem: stride-2 conv + pool)


@dataclass(frozen=True)
class ImageModelConfig:
    """Sizes of an image model and the metric volume its heatmaps span.

    ``architecture``: a key of :data:`ARCHITECTURES`.  ``stacks``: hourglasses (each one
    supervised: intermediate supervision).  ``features``: channels inside the hourglass
    (the AlexNet-like model's first conv width).  ``input_size``: side of the square RGB
    crop, pixels; heatmaps are ``input_size / 4`` cells a side.  ``depth_bins``: cells
    along depth.  ``hourglass_depth``: down-samplings inside one hourglass.
    ``landmarks``: predict the 18 landmarks after the 23 joints (False: the paper's
    SHN_nL, 23 points).  ``limbs``: 4 extra volumetric limb heatmaps (SHN^final).
    ``half_range_m``: the volume spans ``[-half_range_m, half_range_m)`` metres on each
    axis around the root (1.25: the paper's 2.5 m crop).  ``sigma_cells``: the standard
    deviation of the Gaussian training target, in cells.  ``factorised``: the head gives
    each volume as a 2D heatmap times a depth distribution per cell,
    ``p(d, h, w) = p(h, w) · p(d | h, w)`` (:func:`smplr.image_model.volume.volume_logits`;
    ``D + 1`` channels per map instead of ``D``): the same family of distributions as the
    paper's direct ``D × H × W`` logits, but the image-plane position is learnt once per
    point instead of once per depth slice.  ``frame``: a key of :data:`FRAMES` — what the
    volume's x and y are: metres around the root (``root``, the first models'), or the
    crop's image plane (``crop``: each heatmap cell lies under its 4 × 4 pixels, as in
    the volumetric heatmaps the paper builds on; :mod:`smplr.image_model.crop_frame`).
    """

    architecture: str = "shn"
    stacks: int = 2
    features: int = 128
    input_size: int = 128
    depth_bins: int = 16
    hourglass_depth: int = 4
    landmarks: bool = True
    limbs: bool = False
    half_range_m: float = 1.25
    sigma_cells: float = 1.0
    factorised: bool = False
    frame: str = "root"

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"unknown image architecture '{self.architecture}': expected one of "
                f"{', '.join(ARCHITECTURES)}"
            )
        if self.frame not in FRAMES:
            raise ValueError(
                f"unknown image model frame '{self.frame}': expected one of {', '.join(FRAMES)}"
            )
        if self.frame == "crop" and self.architecture not in VOLUMETRIC:
            raise ValueError(f"the crop frame needs a volumetric architecture ({VOLUMETRIC})")
        ints = {
            "stacks": self.stacks,
            "features": self.features,
            "input_size": self.input_size,
            "depth_bins": self.depth_bins,
            "hourglass_depth": self.hourglass_depth,
        }
        for name, value in ints.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"image model {name} must be a positive integer, got {value!r}")
        if self.features % 2:
            raise ValueError(f"image model features must be even, got {self.features}")
        if self.depth_bins < 2:
            raise ValueError(f"image model depth_bins must be at least 2, got {self.depth_bins}")
        step = DOWNSAMPLE * 2**self.hourglass_depth
        if self.architecture == "mobilenet" and self.input_size % MOBILENET_STRIDE:
            raise ValueError(
                f"image model input_size {self.input_size} must be a multiple of "
                f"{MOBILENET_STRIDE} (MobileNetV2's stride)"
            )
        if self.architecture == "shn" and self.input_size % step:
            raise ValueError(
                f"image model input_size {self.input_size} must be a multiple of "
                f"{step} (4 x 2^hourglass_depth)"
            )
        for name in ("landmarks", "limbs", "factorised"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"image model {name} must be true or false")
        if not (self.half_range_m > 0 and self.sigma_cells > 0):
            raise ValueError(
                f"image model half_range_m and sigma_cells must be positive, got "
                f"{self.half_range_m}, {self.sigma_cells}"
            )
        if self.limbs and not self.volumetric:
            raise ValueError(f"limb heatmaps need a volumetric architecture ({VOLUMETRIC})")

    @classmethod
    def small(cls, **changes: Any) -> ImageModelConfig:
        """The CPU configuration: 2 stacks, 128 features, 128² input, 32×32×16."""
        return cls(**changes)

    @classmethod
    def paper(cls, **changes: Any) -> ImageModelConfig:
        """The paper's (4.1): 5 stacks, 256 features, 256² input, 64×64×16 per point."""
        return cls(**{"stacks": 5, "features": 256, "input_size": 256, **changes})

    @property
    def volumetric(self) -> bool:
        """Whether the model outputs heatmap volumes (read by soft-argmax)."""
        return self.architecture in VOLUMETRIC

    @property
    def head_channels(self) -> int:
        """Channels of a volumetric head: ``M × D`` (``M × (D + 1)`` when factorised)."""
        return self.num_maps * (self.depth_bins + int(self.factorised))

    @property
    def heatmap_size(self) -> int:
        """Cells along x and y of every volumetric heatmap."""
        return self.input_size // DOWNSAMPLE

    @property
    def num_points(self) -> int:
        """Predicted points: the 23 joints without the root, then the 18 landmarks."""
        return NUM_BODY_JOINTS + (NUM_LANDMARKS if self.landmarks else 0)

    @property
    def num_volume_points(self) -> int:
        """Points located in the volume: :attr:`num_points`, then the root in the crop
        frame (whose points are placed relative to it)."""
        return self.num_points + int(self.frame == "crop")

    @property
    def num_maps(self) -> int:
        """Volumetric heatmaps per stack: the volume points, then the limbs when enabled."""
        return self.num_volume_points + (NUM_LIMBS if self.limbs else 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as a checkpoint or weight bundle stores them."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageModelConfig:
        """The config stored by :meth:`to_dict`, validated; unknown keys and bad values
        raise a one-line ValueError (missing keys take their defaults)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"image model config must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"image model config has unknown keys {unknown}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise ValueError(f"image model config is malformed ({exc})") from exc
