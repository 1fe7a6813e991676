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

import numpy as np
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


class KeypointDAE(nn.Module):
    """The DAE of every detector format: visible sites + mask -> JL ``(B, 42, 3)``.

    One network for COCO-17, Human3.6M-17, BlazePose-33, OpenPose BODY-25 and SMPL-24,
    2D and 3D (not one per format): their keypoints are placed in the 57 slots of the
    site vocabulary (:data:`smplr.body.keypoints.SITE_NAMES`; the same body point is the
    same slot in every format), and the input is those slots' coordinates, their
    visibility mask and a 2D flag:

        x = [sites (B, S·3) | mask (B, S) | planar (B, 1)] ─► enc 1 ─► enc 2 ─► enc 3
            ─► dec 1 (+enc 2) ─► dec 2 (+enc 1) ─► linear (+ linear(x)) ─► JL (B, 42, 3)

    So a format, and any subset of its keypoints, is just a mask: one weight set learns
    the anatomy all formats share (a nose is a nose), the bundle grows by one DAE instead
    of ten, and a keypoint dropped by the detector is handled like a format without it.
    The output is not residual (the input is not JL); it is relative to the mean of the
    visible keypoints, as the input (:func:`smplr.input_formats.keypoint_dae_input`).
    """

    def __init__(self, widths: Sequence[int], num_sites: int, input_dropout: float = 0.0) -> None:
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"the DAE needs three encoder widths, got {tuple(widths)}")
        w1, w2, w3 = widths
        self.num_sites = num_sites
        self.input_dropout = nn.Dropout(input_dropout)
        self.enc1 = dense_block(4 * num_sites + 1, w1)
        self.enc2 = dense_block(w1, w2)
        self.enc3 = dense_block(w2, w3)
        self.dec1 = dense_block(w3, w2)
        self.dec2 = dense_block(w2, w1)
        self.out = nn.Linear(w1, 3 * NUM_JL)
        # A linear path from input to output: the sites that are JL points (the 24 joints,
        # the head top) and the means the others are made of are a copy away.
        self.skip = nn.Linear(4 * num_sites + 1, 3 * NUM_JL)
        xavier_init(self)

    def forward(
        self, sites: torch.Tensor, mask: torch.Tensor, planar: torch.Tensor
    ) -> torch.Tensor:
        """``sites (B, S, 3)`` centred, zero where missing; ``mask (B, S)``;
        ``planar (B,)`` 1 for 2D input -> JL ``(B, 42, 3)`` relative to the same centre."""
        batch = sites.shape[0]
        flat = torch.cat(
            [self.input_dropout(sites.reshape(batch, -1)), mask, planar[:, None]], dim=1
        )
        e1 = self.enc1(flat)
        e2 = self.enc2(e1)
        d1 = self.dec1(self.enc3(e2)) + e2
        d2 = self.dec2(d1) + e1
        return (self.out(d2) + self.skip(flat)).view(batch, NUM_JL, 3)


@torch.no_grad()
def denoise_array(dae: nn.Module, jl: np.ndarray) -> np.ndarray:
    """``jl (B, 42, 3)`` metres, anywhere -> ``dae``'s output for it, float64: the DAE
    reads the points relative to their root and its output is put back on that root
    (eval mode, no autograd, on the DAE's device)."""
    device = next(dae.parameters()).device
    points = torch.as_tensor(np.asarray(jl), dtype=torch.float64, device=device)
    root = points[:, :1]
    relative = (points - root).float()
    return (dae.eval()(relative).double() + root).cpu().numpy()
