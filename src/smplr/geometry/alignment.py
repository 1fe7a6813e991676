"""Similarity (Procrustes) alignment of point sets, batched and differentiable.

Used by the metrics (Protocol 2: prediction aligned to ground truth) and by SMPLR's
post-processing (paper 4.5: SMPL output aligned to its own JL input).
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Similarity(NamedTuple):
    """``y ≈ scale * x @ rotation.T + translation``; shapes ``(B,)``, ``(B,3,3)``, ``(B,3)``."""

    scale: torch.Tensor
    rotation: torch.Tensor
    translation: torch.Tensor

    def apply(self, points: torch.Tensor) -> torch.Tensor:
        """Transform ``points (B, N, 3)`` -> ``(B, N, 3)``."""
        return (
            self.scale[:, None, None] * points @ self.rotation.transpose(-1, -2)
            + self.translation[:, None, :]
        )


def similarity_procrustes(
    source: torch.Tensor, target: torch.Tensor, with_scale: bool = True
) -> Similarity:
    """Least-squares similarity transform taking ``source`` onto ``target`` (Umeyama 1991).

    ``source, target: (B, N, 3)`` corresponding points.  Returns the proper rotation
    (det = +1: reflections are never returned), isotropic scale (1 when
    ``with_scale`` is False) and translation minimising ``Σ‖s R x + t − y‖²``.
    """
    if source.shape != target.shape or source.ndim != 3 or source.shape[-1] != 3:
        raise ValueError(
            f"procrustes needs two (B, N, 3) arrays of equal shape, got {tuple(source.shape)} and {tuple(target.shape)}"
        )
    mu_x = source.mean(dim=1, keepdim=True)
    mu_y = target.mean(dim=1, keepdim=True)
    x = source - mu_x
    y = target - mu_y
    cov = y.transpose(-1, -2) @ x  # (B, 3, 3) Σ y xᵀ
    u, sigma, vh = torch.linalg.svd(cov)
    sign = torch.sign(torch.linalg.det(u @ vh))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    d = torch.ones_like(sigma)
    d[:, 2] = sign
    rotation = u @ torch.diag_embed(d) @ vh
    if with_scale:
        var_x = (x**2).sum(dim=(1, 2))
        scale = (sigma * d).sum(dim=1) / var_x.clamp_min(torch.finfo(var_x.dtype).tiny)
    else:
        scale = torch.ones(source.shape[0], dtype=source.dtype, device=source.device)
    translation = mu_y[:, 0] - scale[:, None] * torch.einsum("bij,bj->bi", rotation, mu_x[:, 0])
    return Similarity(scale, rotation, translation)


def procrustes_align(
    source: torch.Tensor, target: torch.Tensor, with_scale: bool = True
) -> torch.Tensor:
    """``source (B, N, 3)`` moved by its best similarity onto ``target (B, N, 3)``."""
    return similarity_procrustes(source, target, with_scale).apply(source)
