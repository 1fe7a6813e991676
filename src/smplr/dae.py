"""The denoising autoencoder between keypoint detector and SMPL reverse (paper 3.3, Fig. 2).

Input and output are JL ``(B, 42, 3)``, root-relative, metres.  The network predicts a
correction that is added to its input (residual output), so it only learns the noise
structure:

    input ─► dropout ─► enc 1 ─► enc 2 ─► enc 3 ─► dropout ─► dec 1 (+enc 2) ─► dec 2 (+enc 1) ─► linear ─► + input

Every hidden layer is Linear + BatchNorm + ELU.  The paper's dropouts keep 80 % (4.1);
this project trains with the input dropout off (``input_dropout=0``): on freshly drawn
noise there is nothing to overfit, and dropping 20 % of the input coordinates stopped
the DAE from learning within a CPU budget (see ``docs/model_card.md``).
One architecture serves three input formats (one weight set each), built by
:func:`dae_input`:

- ``"jl42"``: 3D joints and landmarks — denoising;
- ``"2d"``: x, y on the root plane with depth set to 0 — lifting 2D to 3D (paper 4.4.2);
- ``"joints24"``: the 24 joints with the 18 landmarks set to 0 — completing the landmarks
  SMPL reverse needs (this project's answer for joint-only data; not in the paper).

Example::

    >>> import torch
    >>> from smplr.dae import DenoisingAutoencoder, dae_input
    >>> dae = DenoisingAutoencoder(widths=(64, 64, 32)).eval()
    >>> joints = torch.randn(2, 24, 3)
    >>> dae(dae_input(joints, "joints24")).shape
    torch.Size([2, 42, 3])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from smplr.body.skeleton import NUM_JL, NUM_JOINTS
from smplr.nn_blocks import dense_block, xavier_init

INPUT_FORMATS: tuple[str, ...] = ("jl42", "joints24", "2d")
PAPER_DAE_WIDTHS: tuple[int, int, int] = (1024, 1024, 512)
DEFAULT_DAE_WIDTHS: tuple[int, int, int] = (512, 512, 256)
PAPER_DROPOUT = 0.2  # keep-prob 0.8, after the input and after the code


def check_input_format(input_format: str) -> str:
    if input_format not in INPUT_FORMATS:
        raise ValueError(
            f"unknown input format '{input_format}': expected one of {', '.join(INPUT_FORMATS)}"
        )
    return input_format


def input_shape(input_format: str) -> tuple[int, int]:
    """Per-sample point array shape of an input format: (42, 3), (24, 3) or (42, 2)."""
    return {"jl42": (NUM_JL, 3), "joints24": (NUM_JOINTS, 3), "2d": (NUM_JL, 2)}[
        check_input_format(input_format)
    ]


def dae_input(points: torch.Tensor, input_format: str) -> torch.Tensor:
    """Root-relative points of ``input_format`` -> the DAE's ``(B, 42, 3)`` input.

    ``points``: ``(B, 42, 3)`` for ``"jl42"``, ``(B, 24, 3)`` for ``"joints24"``
    (landmarks become zeros), ``(B, 42, 2)`` for ``"2d"`` (depth becomes zero).
    """
    expected = input_shape(input_format)
    if points.ndim != 3 or tuple(points.shape[1:]) != expected:
        raise ValueError(
            f"{input_format} input has shape {tuple(points.shape)}; expected (B, {expected[0]}, {expected[1]})"
        )
    if input_format == "joints24":
        return torch.cat([points, points.new_zeros(points.shape[0], NUM_JL - NUM_JOINTS, 3)], 1)
    if input_format == "2d":
        return torch.cat([points, points.new_zeros(points.shape[0], NUM_JL, 1)], dim=2)
    return points


class DenoisingAutoencoder(nn.Module):
    """DAE: noisy JL ``(B, 42, 3)`` -> denoised JL ``(B, 42, 3)`` (input + correction)."""

    def __init__(
        self,
        widths: Sequence[int] = DEFAULT_DAE_WIDTHS,
        input_dropout: float = PAPER_DROPOUT,
        code_dropout: float = PAPER_DROPOUT,
    ) -> None:
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"the DAE needs three encoder widths, got {tuple(widths)}")
        w1, w2, w3 = widths
        size = 3 * NUM_JL
        self.input_dropout = nn.Dropout(input_dropout)
        self.enc1 = dense_block(size, w1)
        self.enc2 = dense_block(w1, w2)
        self.enc3 = dense_block(w2, w3)
        self.code_dropout = nn.Dropout(code_dropout)
        self.dec1 = dense_block(w3, w2)
        self.dec2 = dense_block(w2, w1)
        self.out = nn.Linear(w1, size)
        xavier_init(self)
        # The correction starts at zero, so the untrained DAE is the identity: with
        # Xavier here it would add metre-sized noise to its input at the start.
        nn.init.zeros_(self.out.weight)

    def forward(self, jl: torch.Tensor) -> torch.Tensor:
        flat = jl.reshape(jl.shape[0], -1)
        e1 = self.enc1(self.input_dropout(flat))
        e2 = self.enc2(e1)
        code = self.code_dropout(self.enc3(e2))
        d1 = self.dec1(code) + e2
        d2 = self.dec2(d1) + e1
        return jl + self.out(d2).view_as(jl)
