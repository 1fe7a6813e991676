"""The metric volume of the heatmaps and the differentiable soft-argmax onto it.

Coordinates.  Every heatmap is a ``(D, H, W)`` grid over the cube
``[-r, r)³`` metres (``r = half_range_m``, 1.25 m: the paper's 2.5 m crop) around the
root, in the camera frame with OpenCV axes: W runs along x (image right), H along y
(image down), D along z (away from the camera).  Cell ``i`` of an axis with ``n`` cells
has its centre at ``-r + (i + 0.5) · 2r / n`` metres.  The paper's 64×64×16 volume has
3.9 cm cells in x and y and 15.6 cm cells in depth; the small configuration's
32×32×16 one 7.8 cm and 15.6 cm.

Image alignment.  The crop is the paper's: a 2.5 m square perpendicular to the camera
axis, centred on the body at the root's depth, resized to ``input_size`` pixels.  A point
at the root's depth then falls on the heatmap cell under its pixel (4 pixels per cell);
a point ``Δz`` nearer or farther sits ``Δz / Z_root`` off in x and y (weak
perspective): the network learns that, it is not corrected here.

:func:`soft_argmax` is the expectation of the cell centres under the softmax of the
logits over the whole volume: exact on a one-cell heatmap, differentiable everywhere.
"""

from __future__ import annotations

import torch


def cell_centres(
    cells: int,
    half_range: float,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Metric centres of ``cells`` cells spanning ``[-half_range, half_range)``: ``(cells,)``."""
    size = 2.0 * half_range / cells
    return -half_range + (torch.arange(cells, dtype=dtype, device=device) + 0.5) * size


def metres_to_cells(coords: torch.Tensor, cells: int, half_range: float) -> torch.Tensor:
    """Continuous cell index of metric coordinates (cell ``i``'s centre maps to ``i``)."""
    return (coords + half_range) * (cells / (2.0 * half_range)) - 0.5


def inside_volume(points: torch.Tensor, half_range: float) -> torch.Tensor:
    """``points (..., 3)`` metres -> ``(...)`` bool: inside the volume on every axis."""
    return ((points >= -half_range) & (points < half_range)).all(dim=-1)


def soft_argmax(logits: torch.Tensor, half_range: float) -> torch.Tensor:
    """Metric root-relative camera-frame coordinates of volumetric heatmaps.

    ``logits (B, P, D, H, W)`` (any real values; softmax over each point's whole volume)
    -> ``(B, P, 3)`` metres, ``(x, y, z)`` in ``[-half_range, half_range)``.
    """
    if logits.ndim != 5:
        raise ValueError(f"logits must be (B, P, D, H, W), got {tuple(logits.shape)}")
    b, p, d, h, w = logits.shape
    prob = logits.reshape(b, p, d * h * w).softmax(dim=-1).reshape(b, p, d, h, w)
    dtype, device = logits.dtype, logits.device
    x = (prob.sum(dim=(2, 3)) * cell_centres(w, half_range, dtype, device)).sum(-1)
    y = (prob.sum(dim=(2, 4)) * cell_centres(h, half_range, dtype, device)).sum(-1)
    z = (prob.sum(dim=(3, 4)) * cell_centres(d, half_range, dtype, device)).sum(-1)
    return torch.stack([x, y, z], dim=-1)


def volume_logits(raw: torch.Tensor, depth_bins: int, factorised: bool) -> torch.Tensor:
    """A volumetric head's output ``raw (B, M·C, H, W)`` as logit volumes ``(B, M, D, H, W)``.

    Direct (the paper's): ``C = D`` channels are the logits.  Factorised: ``C = D + 1``;
    channel 0 is a 2D heatmap and channels 1..D a depth distribution at each cell, and the
    volume is ``log softmax_hw(2D) + log softmax_d(depth)`` — normalised log-probabilities
    of ``p(h, w) · p(d | h, w)``, which any volume distribution can be written as.
    """
    b, channels, h, w = raw.shape
    per_map = depth_bins + int(factorised)
    if channels % per_map:
        raise ValueError(f"head output has {channels} channels, not a multiple of {per_map}")
    raw = raw.reshape(b, channels // per_map, per_map, h, w)
    if not factorised:
        return raw
    plane = raw[:, :, 0].reshape(b, -1, h * w).log_softmax(dim=-1).reshape(b, -1, 1, h, w)
    return plane + raw[:, :, 1:].log_softmax(dim=2)
