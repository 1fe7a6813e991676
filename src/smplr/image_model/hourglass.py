"""The volumetric stacked hourglass (Newell et al. 2016, extended to 3D as in paper 4.1).

::

    image (B, 3, S, S) ─► stem: 7×7 conv /2, residual, max-pool /2, residual ×2
                         ─► [hourglass ─► residual ─► 1×1 conv ─► head] × stacks
                              head: 1×1 conv to M·D channels = M volumetric heatmaps
                              (B, M, D, S/4, S/4); between stacks the heatmaps and
                              features are mapped back and added (Newell's remap)

Every stack's heatmaps are supervised (intermediate supervision); the last stack's
give the points by soft-argmax (:func:`smplr.image_model.volume.soft_argmax`).  The
residual module is Newell's pre-activation bottleneck (BN-ReLU-conv 1×1, 3×3, 1×1 at
half width); one hourglass halves the resolution ``hourglass_depth`` times with max
pooling and restores it with nearest-neighbour up-sampling and skip branches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from smplr.image_model.config import ImageModelConfig
from smplr.image_model.input import normalise_images
from smplr.image_model.volume import volume_logits


class Residual(nn.Module):
    """Pre-activation bottleneck residual: ``(B, cin, H, W)`` -> ``(B, cout, H, W)``."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = cout // 2
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
            nn.Conv2d(cin, mid, 1),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, padding=1),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, cout, 1),
        )
        self.skip: nn.Module = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class Hourglass(nn.Module):
    """One hourglass of ``depth`` down-samplings at ``features`` channels
    (spatial size divisible by ``2**depth``; output shape = input shape)."""

    def __init__(self, depth: int, features: int) -> None:
        super().__init__()
        self.up = Residual(features, features)
        self.down = Residual(features, features)
        self.inner: nn.Module = (
            Hourglass(depth - 1, features) if depth > 1 else Residual(features, features)
        )
        self.out = Residual(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.out(self.inner(self.down(F.max_pool2d(x, 2))))
        return self.up(x) + F.interpolate(low, scale_factor=2.0, mode="nearest")


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class VolumetricHourglass(nn.Module):
    """The stacked hourglass with volumetric heads: ``images (B, 3, S, S)`` in [0, 1] ->
    one ``(B, M, D, S/4, S/4)`` logit volume per stack (``M = config.num_maps``: the
    points, then the limbs)."""

    def __init__(self, config: ImageModelConfig) -> None:
        super().__init__()
        f = config.features
        self.config = config
        self.bins = config.depth_bins
        out = config.head_channels
        self.stem = nn.Sequential(
            nn.Conv2d(3, max(f // 4, 8), 7, stride=2, padding=3),
            nn.BatchNorm2d(max(f // 4, 8)),
            nn.ReLU(inplace=True),
            Residual(max(f // 4, 8), f // 2),
            nn.MaxPool2d(2),
            Residual(f // 2, f // 2),
            Residual(f // 2, f),
        )
        self.hourglasses = nn.ModuleList(
            Hourglass(config.hourglass_depth, f) for _ in range(config.stacks)
        )
        self.features = nn.ModuleList(
            nn.Sequential(Residual(f, f), _conv_bn_relu(f, f)) for _ in range(config.stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(f, out, 1) for _ in range(config.stacks))
        self.remap_features = nn.ModuleList(nn.Conv2d(f, f, 1) for _ in range(config.stacks - 1))
        self.remap_heatmaps = nn.ModuleList(nn.Conv2d(out, f, 1) for _ in range(config.stacks - 1))

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(normalise_images(images, self.config))
        outputs = []
        for k, (hourglass, features, head) in enumerate(
            zip(self.hourglasses, self.features, self.heads, strict=True)
        ):
            y = features(hourglass(x))
            raw = head(y)
            outputs.append(volume_logits(raw, self.bins, self.config.factorised))
            if k < len(self.remap_features):
                x = x + self.remap_features[k](y) + self.remap_heatmaps[k](raw)
        return outputs
