"""The crop frame: heatmaps aligned with the crop's pixels, depth relative to the root.

A fully convolutional network finds a point where it sees it.  In the ``root`` frame a
heatmap cell is a place in metres around the root, so the network must also learn where
the root is and shift every heatmap by it; in the ``crop`` frame (the frame of the
volumetric heatmaps the paper builds on) a cell lies under its pixels:

- ``x, y``: the point's pixel ``(u, v)`` in the ``S × S`` crop as
  ``((u + 0.5) / S · 2 − 1) · r`` (and ``v`` alike): the crop spans ``[-r, r)``, so a
  coordinate reads as metres on the crop's plane (``r = half_range_m``, 1.25: the
  paper's 2.5 m crop);
- ``z``: the point's depth minus the root's, metres.

The volume points are the model's points (23 joints then 18 landmarks: JL without the
root) followed by the root (``z = 0``).  :func:`crop_points` makes them from a body's
camera-frame JL and the crop's intrinsics; :func:`camera_points` brings a prediction
back to root-relative camera-frame metres.  That needs one depth: the crop convention of
the paper and of ``smplr data synth`` puts the 24 joints' mean at ``Z = f · 2r / S``
(the 2.5 m square at the body's depth fills the crop), so
``Z_root = f · 2r / S − mean_j z_j`` and ``X = (u − c_x) · Z / f``.  Exact when the crop
follows the convention (tested); a zoomed crop scales the body.  Without intrinsics the
projection is weak perspective (every point at the mean depth: ``X − X_root = x − x_root``).
"""

from __future__ import annotations

import torch

from smplr.body.skeleton import NUM_JL, NUM_JOINTS


def _check_intrinsics(intrinsics: torch.Tensor, batch: int) -> None:
    if tuple(intrinsics.shape) != (batch, 3, 3):
        raise ValueError(f"intrinsics must be ({batch}, 3, 3), got {tuple(intrinsics.shape)}")


def crop_points(
    jl: torch.Tensor, intrinsics: torch.Tensor, size: int, half_range: float, count: int
) -> torch.Tensor:
    """The volume points of bodies in crops.

    ``jl (B, 42, 3)`` camera-frame metres (OpenCV axes), ``intrinsics (B, 3, 3)`` of the
    ``size``² crop -> ``(B, count + 1, 3)``: JL points ``1 .. count`` then the root, in
    the crop frame (module docstring)."""
    if jl.ndim != 3 or jl.shape[1:] != (NUM_JL, 3):
        raise ValueError(f"jl must be (B, {NUM_JL}, 3), got {tuple(jl.shape)}")
    _check_intrinsics(intrinsics, jl.shape[0])
    if bool((jl[..., 2] <= 0).any()):
        raise ValueError("a body point lies at or behind the camera: no crop position")
    chosen = torch.cat([jl[:, 1 : count + 1], jl[:, :1]], dim=1)
    K = intrinsics.to(jl.dtype)
    pixels = torch.einsum("bij,bpj->bpi", K, chosen / chosen[..., 2:])[..., :2]
    plane = ((pixels + 0.5) / size * 2.0 - 1.0) * half_range
    depth = chosen[..., 2:] - jl[:, None, 0, 2:]
    return torch.cat([plane, depth], dim=-1)


def camera_points(
    volume: torch.Tensor,
    intrinsics: torch.Tensor | None,
    size: int,
    half_range: float,
) -> torch.Tensor:
    """Crop-frame volume points back to metres: ``volume (B, P + 1, 3)`` (the root last)
    and ``intrinsics (B, 3, 3)`` of the ``size``² crop (``None``: weak perspective) ->
    ``(B, P, 3)`` root-relative, camera frame.  Differentiable."""
    if volume.ndim != 3 or volume.shape[-1] != 3 or volume.shape[1] < NUM_JOINTS:
        raise ValueError(f"volume points must be (B, >= {NUM_JOINTS}, 3), got {volume.shape}")
    if intrinsics is None:
        return volume[:, :-1] - volume[:, -1:]
    _check_intrinsics(intrinsics, volume.shape[0])
    K = intrinsics.to(volume.dtype)
    focal = torch.stack([K[:, 0, 0], K[:, 1, 1]], dim=-1)[:, None]  # (B, 1, 2)
    centre = K[:, None, :2, 2]  # (B, 1, 2)
    joints_z = torch.cat([volume[:, -1:, 2], volume[:, : NUM_JOINTS - 1, 2]], dim=1)
    root_z = K[:, 0, 0] * (2.0 * half_range / size) - joints_z.mean(dim=1)  # (B,)
    depth = root_z[:, None, None] + volume[..., 2:]  # (B, P + 1, 1)
    pixels = (volume[..., :2] / half_range + 1.0) / 2.0 * size - 0.5
    metric = torch.cat([(pixels - centre) / focal * depth, depth], dim=-1)
    return metric[:, :-1] - metric[:, -1:]


def resized_intrinsics(
    intrinsics: torch.Tensor, old: int | tuple[int, int], new: int
) -> torch.Tensor:
    """``intrinsics (..., 3, 3)`` of an image ``old`` pixels a side (or ``(width,
    height)``) -> those of it resized to ``new``² (pixel centres at integers:
    ``u' = (u + 0.5) · new / width − 0.5``)."""
    width, height = (old, old) if isinstance(old, int) else old
    if width == height == new:
        return intrinsics
    scale = intrinsics.new_tensor([new / width, new / height])
    out = intrinsics.clone()
    out[..., :2, :2] *= scale[:, None]
    out[..., :2, 2] = (intrinsics[..., :2, 2] + 0.5) * scale - 0.5
    return out


def at_input_size(
    images: torch.Tensor, intrinsics: torch.Tensor | None, size: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Square crops ``images (B, 3, S, S)`` and their cameras ``intrinsics (B, 3, 3)``
    (or ``None``) -> both at ``size``² (bilinear, antialiased: as training resizes)."""
    side = images.shape[-1]
    if side == size and images.shape[-2] == size:
        return images, intrinsics
    images = torch.nn.functional.interpolate(
        images, size=(size, size), mode="bilinear", antialias=True
    )
    return images, None if intrinsics is None else resized_intrinsics(intrinsics, side, size)
