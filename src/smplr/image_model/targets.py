"""Training targets of the volumetric heatmaps and their softmax cross-entropy (paper 4.1).

The target of a point is a normalised 3D Gaussian centred on its true position
(``sigma_cells`` cells on each axis), sampled at the cell centres of
:mod:`smplr.image_model.volume`; the loss of a heatmap is the cross-entropy between that
distribution and the softmax of the logits over the whole volume,
``-Σ t · log softmax(logits)``.  A limb's target (SHN^final) is the mean of such
Gaussians at evenly spaced points along its segments.

Every target is separable (a product of one Gaussian per axis, or a mean of such
products), so the cross-entropy is computed from the per-axis factors without
materialising the ``(B, M, D, H, W)`` target:
``CE = logsumexp(logits) - mean_s Σ gz_s gy_s gx_s · logits``.
"""

from __future__ import annotations

import torch

from smplr.image_model.config import ImageModelConfig
from smplr.image_model.points import limb_segments
from smplr.image_model.volume import inside_volume, metres_to_cells

LIMB_SAMPLES_PER_SEGMENT = 5


def axis_gaussians(coords: torch.Tensor, cells: int, half_range: float, sigma: float):
    """Normalised 1D Gaussians over ``cells`` cells centred on metric ``coords (...)``:
    ``(..., cells)``, each summing to 1 (a coordinate outside the range gives the
    border-most cells)."""
    centre = metres_to_cells(coords, cells, half_range).clamp(-0.5, cells - 0.5)
    index = torch.arange(cells, dtype=coords.dtype, device=coords.device)
    logits = -0.5 * ((index - centre[..., None]) / sigma) ** 2
    return logits.softmax(dim=-1)


def separable_cross_entropy(
    logits: torch.Tensor, gz: torch.Tensor, gy: torch.Tensor, gx: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the softmax of ``logits (B, M, D, H, W)`` against the targets
    ``mean_s gz[:, :, s] ⊗ gy[:, :, s] ⊗ gx[:, :, s]`` (factors ``(B, M, S, D|H|W)``,
    each summing to 1): ``(B, M)`` nats."""
    b, m = logits.shape[:2]
    lse = logits.reshape(b, m, -1).logsumexp(dim=-1)
    # One axis at a time (batched matrix products): never a (B, M, S, D, H, W) tensor.
    along_w = torch.einsum("bmdhw,bmsw->bmsdh", logits, gx)
    along_h = torch.einsum("bmsdh,bmsh->bmsd", along_w, gy)
    expected = (along_h * gz).sum(dim=(-2, -1)) / gz.shape[2]
    return lse - expected


def point_factors(
    points: torch.Tensor, config: ImageModelConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-axis Gaussian factors of the point targets: ``points (B, P, 3)`` metres ->
    ``gz (B, P, S, D)``, ``gy (B, P, S, H)``, ``gx (B, P, S, W)`` with ``S`` samples per
    map (1 for a point)."""
    r, s, n = config.half_range_m, config.sigma_cells, config.heatmap_size
    gx = axis_gaussians(points[..., 0], n, r, s)
    gy = axis_gaussians(points[..., 1], n, r, s)
    gz = axis_gaussians(points[..., 2], config.depth_bins, r, s)
    return gz[:, :, None], gy[:, :, None], gx[:, :, None]


def limb_samples(points: torch.Tensor) -> torch.Tensor:
    """Evenly spaced points along each limb's segments: ``(B, 4, S, 3)`` metres."""
    t = torch.linspace(0.0, 1.0, LIMB_SAMPLES_PER_SEGMENT, dtype=points.dtype)
    t = t.to(points.device)[:, None]
    limbs = []
    for segments in limb_segments():
        parts = [
            points[:, a, None] + t * (points[:, b, None] - points[:, a, None]) for a, b in segments
        ]
        limbs.append(torch.cat(parts, dim=1))
    return torch.stack(limbs, dim=1)


def limb_weights(valid: torch.Tensor) -> torch.Tensor:
    """A limb counts when all its points do: ``valid (B, P)`` -> ``(B, 4)``."""
    chains = [sorted({i for seg in segs for i in seg}) for segs in limb_segments()]
    return torch.stack([valid[:, chain].all(dim=1) for chain in chains], dim=1)


def heatmap_loss(
    logits: torch.Tensor,
    points: torch.Tensor,
    valid: torch.Tensor,
    config: ImageModelConfig,
) -> torch.Tensor:
    """Mean softmax cross-entropy of one stack's heatmaps against the targets.

    ``logits (B, M, D, H, W)`` (volume points, then limbs when ``config.limbs``),
    ``points (B, V, 3)`` the true volume points (``V = config.num_volume_points``, in the
    config's frame), ``valid (B, V)`` bool (annotated points); points outside the volume
    are left out.  Returns a scalar (nats per map).
    """
    p = config.num_volume_points
    weight = valid & inside_volume(points, config.half_range_m)
    ce = separable_cross_entropy(logits[:, :p], *point_factors(points, config))
    losses, weights = [ce], [weight]
    if config.limbs:
        samples = limb_samples(points)
        factors = point_factors(samples.flatten(1, 2), config)
        limb_shape = (samples.shape[0], samples.shape[1], samples.shape[2])
        gz, gy, gx = (f.reshape(*limb_shape, f.shape[-1]) for f in factors)
        losses.append(separable_cross_entropy(logits[:, p:], gz, gy, gx))
        weights.append(limb_weights(weight))
    loss = torch.cat(losses, dim=1)
    w = torch.cat(weights, dim=1).to(loss.dtype)
    return (loss * w).sum() / w.sum().clamp(min=1.0)
