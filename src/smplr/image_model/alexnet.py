"""The paper's weak baseline (4.4.1, Table 1 "Alexnet"): a shallow CNN regressing the
root-relative points directly, trained with an L2 loss.

AlexNet's five convolutions (11×11 /4, 5×5, 3×3 ×3, with max pooling) at widths
``features × (1/2, 3/2, 3, 2, 2)`` (``features = 128`` gives AlexNet's 64, 192, 384, 256,
256), BatchNorm after each convolution (for training from scratch at the paper's
learning rate), adaptive pooling to 6×6 and two hidden fully connected layers of
``4 × features`` with dropout, then ``3 P`` outputs in metres (the last layer starts at
zero: the first prediction is every point at the root).
"""

from __future__ import annotations

import torch
from torch import nn

from smplr.image_model.config import ImageModelConfig
from smplr.image_model.input import normalise_images


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


class DirectRegressor(nn.Module):
    """``images (B, 3, S, S)`` in [0, 1] -> ``[points (B, P, 3)]`` metres (one output, a
    list like the hourglass's per-stack outputs)."""

    def __init__(self, config: ImageModelConfig) -> None:
        super().__init__()
        f = config.features
        w = (f // 2, 3 * f // 2, 3 * f, 2 * f, 2 * f)
        self.config = config
        self.points = config.num_points
        self.features = nn.Sequential(
            *_conv(3, w[0], 11, stride=4),
            nn.MaxPool2d(3, 2),
            *_conv(w[0], w[1], 5),
            nn.MaxPool2d(3, 2),
            *_conv(w[1], w[2], 3),
            *_conv(w[2], w[3], 3),
            *_conv(w[3], w[4], 3),
            nn.MaxPool2d(3, 2),
            nn.AdaptiveAvgPool2d(6),
        )
        hidden = 4 * f
        self.regressor = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(w[4] * 36, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 3 * self.points),
        )

    def reset_output(self) -> None:
        """Zero the last layer (called after the Xavier initialisation)."""
        last = self.regressor[-1]
        assert isinstance(last, nn.Linear)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        out = self.regressor(self.features(normalise_images(images, self.config)))
        return [out.reshape(-1, self.points, 3)]
