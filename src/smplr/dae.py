"""The denoising autoencoder between keypoint detector and SMPL reverse (paper 3.3, Fig. 2).

Input and output are JL ``(B, 42, 3)``, root-relative, metres.  The network predicts a
correction that is added to its input (residual output), so it only learns the noise
structure:

    input ─► dropout ─► enc 1 ─► enc 2 ─► enc 3 ─► dropout ─► dec 1 (+enc 2) ─► dec 2 (+enc 1) ─► linear ─► + input

Every hidden layer is Linear + BatchNorm + ELU.  The paper's dropouts keep 80 % (4.1);
this project trains with the input dropout off (``input_dropout=0``): on freshly drawn
noise there is nothing to overfit, and dropping 20 % of the input coordinates stopped
the DAE from learning within a CPU budget (see ``docs/model_card.md``).
One architecture serves every input format of :mod:`smplr.input_formats` (one weight
set each), whose points :func:`~smplr.input_formats.dae_input` pads to JL.

Example::

    >>> import torch
    >>> from smplr.dae import DenoisingAutoencoder
    >>> from smplr.input_formats import dae_input
    >>> dae = DenoisingAutoencoder(widths=(64, 64, 32)).eval()
    >>> joints = torch.randn(2, 24, 3)
    >>> dae(dae_input(joints, "joints24")).shape
    torch.Size([2, 42, 3])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from smplr.body.skeleton import NUM_JL
from smplr.nn_blocks import dense_block, xavier_init

PAPER_DROPOUT = 0.2  # keep-prob 0.8, after the input and after the code


class DenoisingAutoencoder(nn.Module):
    """DAE: noisy JL ``(B, 42, 3)`` -> denoised JL ``(B, 42, 3)`` (input + correction)."""

    def __init__(
        self,
        widths: Sequence[int],
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
