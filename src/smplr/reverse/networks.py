"""Ω (pose) and Ψ (shape): the two MLP encoders of SMPL reverse (paper 3.2, Fig. 2).

Both share one architecture (DESIGN §2, from the authors' release): a trunk of
Linear + BatchNorm + ELU layers, then two heads — a deep one (256 → 256 → out) and a
shallow one (256 → out) — whose outputs a last linear layer merges.

- Ω maps N ``(B, 41, 3)`` to 24 rotations ``(B, 24, 3, 3)`` relative to their parents
  (SMPL's ``global_orient`` + ``body_pose``).  The network emits Zhou et al.'s 6D
  representation per joint and Gram-Schmidt turns it into a valid rotation, so every
  output is in SO(3) (the paper's tanh on 9 free entries is not); the loss stays the
  paper's L1 on rotation matrices.
- Ψ maps B ``(B, 41)`` to 10 betas and the gender value g (regression target −1 female,
  +1 male; its sign picks the body model).

Their widths come from :class:`smplr.networks.NetworkConfig` (the shipped ones are
half the paper's, see ``docs/model_card.md``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from smplr.body.skeleton import NUM_JOINTS
from smplr.geometry.rotations import sixd_to_matrix
from smplr.nn_blocks import dense_block, xavier_init
from smplr.reverse.features import NUM_BONES

NUM_SHAPE_OUTPUTS = 11  # 10 betas + gender


class TwoHeadMLP(nn.Module):
    """The shared Ω/Ψ architecture: ``(B, in_features)`` -> ``(B, out_features)``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        widths: Sequence[int],
        head_width: int,
    ) -> None:
        super().__init__()
        sizes = [in_features, *widths]
        self.trunk = nn.Sequential(*(dense_block(a, b) for a, b in itertools.pairwise(sizes)))
        self.deep_head = nn.Sequential(
            dense_block(sizes[-1], head_width),
            dense_block(head_width, head_width),
            nn.Linear(head_width, out_features),
        )
        self.shallow_head = nn.Sequential(
            dense_block(sizes[-1], head_width), nn.Linear(head_width, out_features)
        )
        self.merge = nn.Linear(2 * out_features, out_features)
        xavier_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.trunk(x)
        heads = torch.cat([self.deep_head(features), self.shallow_head(features)], dim=1)
        return self.merge(heads)


class PoseNet(nn.Module):
    """Ω: N ``(B, 41, 3)`` -> relative joint rotations ``(B, 24, 3, 3)``, each in SO(3).

    Example::

        >>> import torch
        >>> from smplr.reverse.networks import PoseNet
        >>> omega = PoseNet(widths=(32, 32), head_width=16).eval()
        >>> directions = torch.nn.functional.normalize(torch.randn(2, 41, 3), dim=-1)
        >>> omega(directions).shape
        torch.Size([2, 24, 3, 3])
    """

    def __init__(self, widths: Sequence[int], head_width: int) -> None:
        super().__init__()
        self.mlp = TwoHeadMLP(3 * NUM_BONES, 6 * NUM_JOINTS, widths, head_width)
        # Start every joint at the identity: the 6D bias holds the first two identity columns.
        with torch.no_grad():
            self.mlp.merge.bias.copy_(
                torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).repeat(NUM_JOINTS)
            )

    def forward(self, directions: torch.Tensor) -> torch.Tensor:
        sixd = self.mlp(directions.reshape(directions.shape[0], -1))
        return sixd_to_matrix(sixd.view(-1, NUM_JOINTS, 6))


class ShapeNet(nn.Module):
    """Ψ: B ``(B, 41)`` -> ``(betas (B, 10), gender (B,))``; gender regresses −1/+1.

    Example::

        >>> import torch
        >>> from smplr.reverse.networks import ShapeNet
        >>> psi = ShapeNet(widths=(32, 32), head_width=16).eval()
        >>> betas, gender = psi(torch.zeros(3, 41))
        >>> betas.shape, gender.shape
        (torch.Size([3, 10]), torch.Size([3]))
    """

    def __init__(self, widths: Sequence[int], head_width: int) -> None:
        super().__init__()
        self.mlp = TwoHeadMLP(NUM_BONES, NUM_SHAPE_OUTPUTS, widths, head_width)

    def forward(self, distances: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.mlp(distances)
        return out[:, :-1], out[:, -1]
