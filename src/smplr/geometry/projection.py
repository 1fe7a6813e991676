"""Camera projection and the 2D form of JL used to lift 2D to 3D (paper 4.4.2, DAE^2d).

The DAE lifts 2D joints to 3D when trained with "depth set to 0".  In smplr the 2D
form of a pose is *metric*: every point's image position expressed in metres on the
plane through the root, perpendicular to the camera axis, at the root's depth
(as the paper's crops are: a fixed 2.5 m square at the root's distance), relative
to the root, with z = 0.  Training data and user keypoints reach that form through
the same function, :func:`pixels_to_root_plane`:

- training: 3D JL -> :func:`random_views` (random camera) -> :func:`project_to_pixels`
  -> :func:`pixels_to_root_plane` (all in :func:`random_view_2d`);
- ``smplr fit --input-format 2d``: pixel keypoints + intrinsics (fx, fy, cx, cy) + an
  assumed or known root depth -> :func:`pixels_to_root_plane`.

Frames.  The *view frame* is SMPL's convention seen from the camera: x to the
image's right, y up, z towards the camera, root at the origin (a person facing the
camera has SMPL's own axes).  The camera frame is OpenCV's (x right, y down,
z forward); the root sits at ``root (B, 3)`` in it, ``root[:, 2]`` its depth.
Intrinsics are ``(fx, fy, cx, cy)`` in pixels, as a ``(4,)`` or ``(B, 4)`` tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from smplr.geometry.rotations import axis_rotation

VIEW_TO_OPENCV = (1.0, -1.0, -1.0)
"""Per-axis signs taking the view frame (x right, y up, z to the camera) to OpenCV camera
axes (x right, y down, z forward): a 180° rotation about x, its own inverse."""


def _intrinsics(intrinsics: torch.Tensor, batch: int) -> torch.Tensor:
    k = torch.as_tensor(intrinsics)
    if k.shape == (4,):
        k = k.expand(batch, 4)
    if k.shape != (batch, 4):
        raise ValueError(
            f"intrinsics has shape {tuple(k.shape)}; expected (4,) or ({batch}, 4) = (fx, fy, cx, cy)"
        )
    if not bool(torch.isfinite(k).all()) or bool((k[:, :2] <= 0).any()):
        raise ValueError("intrinsics must be finite with positive focal lengths fx, fy")
    return k


def project_to_pixels(
    points: torch.Tensor, root: torch.Tensor, intrinsics: torch.Tensor
) -> torch.Tensor:
    """Perspective projection of root-relative view-frame ``points (B, N, 3)`` with the
    root at ``root (B, 3)`` in the OpenCV camera frame -> pixels ``(B, N, 2)``."""
    if points.ndim != 3 or points.shape[-1] != 3:
        raise ValueError(f"points has shape {tuple(points.shape)}; expected (B, N, 3)")
    if root.shape != (points.shape[0], 3):
        raise ValueError(f"root has shape {tuple(root.shape)}; expected ({points.shape[0]}, 3)")
    k = _intrinsics(intrinsics, points.shape[0]).to(points)
    flip = torch.tensor(VIEW_TO_OPENCV, device=points.device, dtype=points.dtype)
    camera = points * flip + root[:, None]
    depth = camera[..., 2]
    if bool((depth <= 1e-6).any()):
        raise ValueError("a point lies at or behind the camera plane; increase the root depth")
    u = k[:, None, 0] * camera[..., 0] / depth + k[:, None, 2]
    v = k[:, None, 1] * camera[..., 1] / depth + k[:, None, 3]
    return torch.stack([u, v], dim=-1)


def pixels_to_root_plane(
    pixels: torch.Tensor,
    intrinsics: torch.Tensor,
    root_depth: torch.Tensor | float,
    root_index: int = 0,
) -> torch.Tensor:
    """Pixel keypoints ``(B, N, 2)`` -> the metric 2D form ``(B, N, 3)``.

    Each ray is cut with the plane at ``root_depth`` metres (a number or ``(B,)``),
    expressed in the view frame (x right, y up) relative to point ``root_index``,
    and given z = 0.  A point at the root's depth gets its exact view-frame x, y.

    Example::

        jl_2d = pixels_to_root_plane(keypoints_px, torch.tensor([1145.0, 1144.0, 512.5, 515.0]), 5.2)
    """
    if pixels.ndim != 3 or pixels.shape[-1] != 2:
        raise ValueError(f"pixels has shape {tuple(pixels.shape)}; expected (B, N, 2)")
    if not bool(torch.isfinite(pixels).all()):
        raise ValueError("pixels contains NaN or inf")
    batch = pixels.shape[0]
    k = _intrinsics(intrinsics, batch).to(pixels)
    depth = torch.as_tensor(root_depth, device=pixels.device, dtype=pixels.dtype)
    if depth.numel() != 1 and tuple(depth.shape) != (batch,):
        raise ValueError(
            f"root_depth has shape {tuple(depth.shape)} for {batch} bodies; expected one "
            f"number or ({batch},), one depth per body"
        )
    depth = depth.reshape(-1).expand(batch)
    if not bool(torch.isfinite(depth).all()) or bool((depth <= 0).any()):
        raise ValueError("root_depth must be finite and positive (metres)")
    x = (pixels[..., 0] - k[:, None, 2]) / k[:, None, 0] * depth[:, None]
    y = -(pixels[..., 1] - k[:, None, 3]) / k[:, None, 1] * depth[:, None]
    plane = torch.stack([x, y, torch.zeros_like(x)], dim=-1)
    return plane - plane[:, root_index : root_index + 1]


@dataclass
class RandomView:
    """Random cameras for ``B`` bodies: ``rotation (B, 3, 3)`` from SMPL's world frame
    to the view frame, ``root (B, 3)`` in the OpenCV camera frame, ``intrinsics (B, 4)``."""

    rotation: torch.Tensor
    root: torch.Tensor
    intrinsics: torch.Tensor


def random_views(
    batch: int,
    generator: torch.Generator,
    device="cpu",
    dtype: torch.dtype | None = None,
    elevation_degrees: tuple[float, float] = (-10.0, 35.0),
    roll_degrees: float = 5.0,
    depth: tuple[float, float] = (3.0, 8.0),
    focal: tuple[float, float] = (800.0, 1600.0),
    image_size: float = 1000.0,
    off_centre: float = 0.25,
) -> RandomView:
    """Draw cameras around the body: any heading, elevation uniform in
    ``elevation_degrees`` (positive: camera above, looking down), roll N(0, σ²),
    root depth uniform in ``depth`` metres, focal length uniform in ``focal`` pixels,
    principal point at the centre of a square ``image_size`` image, and the root
    anywhere within ``off_centre`` of the half-field of view from the optical axis."""
    dtype = dtype or torch.get_default_dtype()

    def uniform(low: float, high: float) -> torch.Tensor:
        r = torch.rand(batch, generator=generator, device=device, dtype=dtype)
        return low + (high - low) * r

    heading = uniform(-math.pi, math.pi)
    elevation = torch.deg2rad(uniform(*elevation_degrees))
    roll = math.radians(roll_degrees) * torch.randn(
        batch, generator=generator, device=device, dtype=dtype
    )
    rotation = axis_rotation(roll, 2) @ axis_rotation(elevation, 0) @ axis_rotation(heading, 1)
    root_depth = uniform(*depth)
    f = uniform(*focal)
    half_fov = (image_size / 2) / f  # tan of the half field of view
    offset = torch.stack([uniform(-1, 1), uniform(-1, 1)], -1) * (off_centre * half_fov)[:, None]
    root = torch.cat([offset * root_depth[:, None], root_depth[:, None]], dim=-1)
    centre = torch.full((batch,), image_size / 2, device=device, dtype=dtype)
    return RandomView(rotation, root, torch.stack([f, f, centre, centre], dim=-1))


def random_view_2d(
    jl: torch.Tensor, generator: torch.Generator, **view_options
) -> tuple[torch.Tensor, torch.Tensor, RandomView]:
    """Training pair for lifting 2D to 3D from root-relative world ``jl (B, N, 3)``.

    Returns ``jl_view (B, N, 3)`` (the 3D target, rotated into a random camera's view
    frame), ``jl_2d (B, N, 3)`` (its metric 2D form, z = 0) and the cameras.
    ``view_options`` go to :func:`random_views`.
    """
    views = random_views(jl.shape[0], generator, jl.device, jl.dtype, **view_options)
    jl_view = jl @ views.rotation.transpose(-1, -2)
    pixels = project_to_pixels(jl_view, views.root, views.intrinsics)
    return jl_view, pixels_to_root_plane(pixels, views.intrinsics, views.root[:, 2]), views
