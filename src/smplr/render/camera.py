"""A batched pinhole camera in OpenCV's convention, and cameras that frame a body.

Conventions (the same as OpenCV's):

- Camera coordinates: the camera looks along **+Z**, **x** points right and **y** points
  down in the image.  A world point ``X`` goes to camera coordinates ``R @ X + t``.
- Pixel coordinates ``(u, v)``: ``u`` is the column (right), ``v`` the row (down); pixel
  centres lie on integer coordinates, so the image spans ``[-0.5, W - 0.5]`` in ``u``
  and a centred principal point is ``((W - 1) / 2, (H - 1) / 2)``.
- Projection: ``u = fx · x / z + cx``, ``v = fy · y / z + cy``; depth is the camera ``z``.

SMPL-format bodies are **Y-up and face +Z** (a person's left is +X).  The *front view*
(:func:`front_view_camera`) therefore puts the camera on the +Z side looking towards −Z
with world +Y up in the image: the body faces the camera and its left side appears on
the right of the picture, as when you face a person.

Example::

    camera = front_view_camera(vertices, width=256, height=256)  # frames all bodies
    pixels, depth = camera.project(vertices)                     # (B, V, 2), (B, V)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from smplr.geometry.rotations import axis_angle_to_matrix


def _as_batch(
    value: torch.Tensor | float, batch: int, shape: tuple[int, ...], name: str, like: torch.Tensor
):
    """Broadcast ``value`` to ``(batch, *shape)`` on ``like``'s device and dtype."""
    tensor = torch.as_tensor(value, device=like.device, dtype=like.dtype)
    if tensor.shape == shape or tensor.ndim == 0:
        tensor = tensor.expand(batch, *shape)
    if tensor.shape != (batch, *shape):
        raise ValueError(
            f"{name} has shape {tuple(tensor.shape)}; expected {shape} or ({batch}, {', '.join(map(str, shape))})"
        )
    return tensor


@dataclass
class PinholeCamera:
    """``B`` pinhole cameras of one image size (OpenCV convention, see the module doc).

    Each argument may also be given without its batch dimension (or ``focal`` and
    ``principal`` as one number) and is then shared by all ``B`` cameras.

    Attributes:
        focal: ``(B, 2)`` focal lengths ``fx, fy`` in pixels.
        principal: ``(B, 2)`` principal point ``cx, cy`` in pixels.
        rotation: ``(B, 3, 3)`` world-to-camera rotation ``R``.
        translation: ``(B, 3)`` world-to-camera translation ``t``.
        width, height: image size in pixels.
    """

    focal: torch.Tensor
    principal: torch.Tensor
    rotation: torch.Tensor
    translation: torch.Tensor
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        shapes = {"focal": (2,), "principal": (2,), "rotation": (3, 3), "translation": (3,)}
        given = {name: torch.as_tensor(getattr(self, name)) for name in shapes}
        # The batch size is that of any argument given with a leading batch dimension.
        batched = [v.shape[0] for name, v in given.items() if v.ndim == len(shapes[name]) + 1]
        batch = batched[0] if batched else 1
        like = given["rotation"]
        if not like.is_floating_point():
            like = like.to(torch.get_default_dtype())
        for name, shape in shapes.items():
            value = _as_batch(given[name], batch, shape, name, like)
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"camera {name} contains NaN or inf")
            setattr(self, name, value)

    @classmethod
    def from_intrinsics(
        cls,
        K: torch.Tensor,
        width: int,
        height: int,
        rotation: torch.Tensor | None = None,
        translation: torch.Tensor | None = None,
    ) -> PinholeCamera:
        """Cameras from intrinsic matrices ``K (B, 3, 3)`` or ``(3, 3)`` (skew must be 0).

        ``rotation (B, 3, 3)`` and ``translation (B, 3)`` default to the identity and zero
        (points already in camera coordinates).
        """
        K = torch.as_tensor(K)
        if K.shape[-2:] != (3, 3) or K.ndim not in (2, 3):
            raise ValueError(f"K has shape {tuple(K.shape)}; expected (3, 3) or (B, 3, 3)")
        K = K.reshape(-1, 3, 3)
        if not bool((K[:, 0, 1] == 0).all()):
            raise ValueError("K has a non-zero skew K[0, 1]; only zero-skew cameras are supported")
        batch = (
            K.shape[0] if rotation is None else torch.as_tensor(rotation).reshape(-1, 3, 3).shape[0]
        )
        K = K.expand(batch, 3, 3)
        eye = torch.eye(3, dtype=K.dtype, device=K.device).expand(batch, 3, 3)
        return cls(
            focal=torch.stack([K[:, 0, 0], K[:, 1, 1]], dim=1),
            principal=torch.stack([K[:, 0, 2], K[:, 1, 2]], dim=1),
            rotation=eye
            if rotation is None
            else torch.as_tensor(rotation, dtype=K.dtype, device=K.device),
            translation=K.new_zeros(batch, 3) if translation is None else translation,
            width=width,
            height=height,
        )

    # ------------------------------------------------------------------ properties
    @property
    def batch_size(self) -> int:
        return self.rotation.shape[0]

    @property
    def image_size(self) -> tuple[int, int]:
        """``(height, width)``, the order of image tensors ``(B, H, W)``."""
        return self.height, self.width

    @property
    def K(self) -> torch.Tensor:
        """Intrinsic matrices ``(B, 3, 3)``."""
        K = self.rotation.new_zeros(self.batch_size, 3, 3)
        K[:, 0, 0], K[:, 1, 1] = self.focal[:, 0], self.focal[:, 1]
        K[:, 0, 2], K[:, 1, 2] = self.principal[:, 0], self.principal[:, 1]
        K[:, 2, 2] = 1.0
        return K

    @property
    def centre(self) -> torch.Tensor:
        """Camera positions in world coordinates ``(B, 3)``: ``−Rᵀ t``."""
        return -(self.rotation.transpose(1, 2) @ self.translation.unsqueeze(-1)).squeeze(-1)

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> PinholeCamera:
        """The same cameras with tensors on ``device`` / in ``dtype``."""
        move = lambda x: x.to(device=device, dtype=dtype)  # noqa: E731
        return PinholeCamera(
            move(self.focal),
            move(self.principal),
            move(self.rotation),
            move(self.translation),
            self.width,
            self.height,
        )

    def expand(self, batch_size: int) -> PinholeCamera:
        """One camera (``batch_size == 1``) repeated for ``batch_size`` items (no copy)."""
        if self.batch_size != 1:
            raise ValueError(f"only a single camera can be expanded, this holds {self.batch_size}")
        focal, principal, rotation, translation = (
            t.expand(batch_size, *t.shape[1:])
            for t in (self.focal, self.principal, self.rotation, self.translation)
        )
        return PinholeCamera(
            focal, principal, rotation, translation, width=self.width, height=self.height
        )

    # ------------------------------------------------------------------ projection
    def _check_points(self, points: torch.Tensor) -> None:
        if points.ndim != 3 or points.shape[2] != 3:
            raise ValueError(f"points have shape {tuple(points.shape)}; expected (B, N, 3)")
        if points.shape[0] != self.batch_size:
            raise ValueError(
                f"points have batch size {points.shape[0]}, but there are {self.batch_size} cameras"
            )

    def world_to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """``points (B, N, 3)`` in world coordinates -> camera coordinates ``(B, N, 3)``."""
        self._check_points(points)
        return (
            points @ self.rotation.transpose(1, 2).to(points.dtype)
            + self.translation.to(points.dtype)[:, None]
        )

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``points (B, N, 3)`` world -> ``pixels (B, N, 2)`` and ``depth (B, N)`` (camera z).

        Points at or behind the camera (depth <= 0) get meaningless pixel coordinates;
        check ``depth > 0`` where that can happen.  Differentiable.
        """
        screen = self.to_screen(points)
        return screen[..., :2], screen[..., 2]

    def to_screen(self, points: torch.Tensor) -> torch.Tensor:
        """``points (B, N, 3)`` world -> ``(B, N, 3)`` of ``u, v, depth``: the rasteriser's input."""
        cam = self.world_to_camera(points)
        depth = cam[..., 2:]
        safe = torch.where(depth.abs() > 1e-12, depth, torch.full_like(depth, 1e-12))
        pixels = (
            cam[..., :2] / safe * self.focal.to(cam.dtype)[:, None]
            + self.principal.to(cam.dtype)[:, None]
        )
        return torch.cat([pixels, depth], dim=-1)


# ---------------------------------------------------------------------- construction helpers
def look_at(
    eye: torch.Tensor, target: torch.Tensor, up: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """World-to-camera ``rotation (B, 3, 3)`` and ``translation (B, 3)`` of cameras at
    ``eye (B, 3)`` looking at ``target (B, 3)`` with world direction ``up (3,)`` or ``(B, 3)``
    (default +Y) pointing up in the image (OpenCV: camera +Z forward, +Y down).
    """
    eye, target = torch.as_tensor(eye), torch.as_tensor(target)
    if eye.ndim != 2 or eye.shape[1] != 3 or target.shape != eye.shape:
        raise ValueError(
            f"eye {tuple(eye.shape)} and target {tuple(target.shape)} must both be (B, 3)"
        )
    if up is None:
        up = torch.tensor([0.0, 1.0, 0.0])
    up = torch.as_tensor(up, dtype=eye.dtype, device=eye.device).expand_as(eye)
    forward = target - eye
    norm = forward.norm(dim=1, keepdim=True)
    if bool((norm < 1e-12).any()):
        raise ValueError("look_at: eye and target coincide")
    forward = forward / norm
    right = torch.linalg.cross(forward, up, dim=1)
    right_norm = right.norm(dim=1, keepdim=True)
    if bool((right_norm < 1e-9 * up.norm(dim=1, keepdim=True)).any()):
        raise ValueError("look_at: the viewing direction is parallel to the up direction")
    right = right / right_norm
    down = torch.linalg.cross(forward, right, dim=1)
    rotation = torch.stack([right, down, forward], dim=1)  # rows: camera axes in world coordinates
    translation = -(rotation @ eye.unsqueeze(-1)).squeeze(-1)
    return rotation, translation


def focal_from_fov(fov_degrees: float, width: int, height: int) -> float:
    """Focal length in pixels giving a field of view of ``fov_degrees`` across the
    image's shorter side."""
    if not 0.0 < fov_degrees < 180.0:
        raise ValueError(f"fov_degrees must be in (0, 180), got {fov_degrees}")
    return 0.5 * min(width, height) / math.tan(math.radians(fov_degrees) / 2)


def fit_camera(
    points: torch.Tensor,
    view_direction: torch.Tensor,
    width: int,
    height: int,
    up: torch.Tensor | None = None,
    fov_degrees: float = 25.0,
    margin: float = 0.05,
) -> PinholeCamera:
    """Cameras looking along ``view_direction (3,)`` or ``(B, 3)`` (world) that frame
    all of ``points (B, N, 3)``, each batch item on its own.

    The camera is moved back along the viewing direction until every point projects
    inside the image shrunk by ``margin`` (a fraction of each side) — the nearest distance
    that does so, so the points touch the shrunk border on at least one side.  The
    optical axis passes through the centre of the points' extent across the view.
    """
    if points.ndim != 3 or points.shape[2] != 3 or points.shape[1] == 0:
        raise ValueError(f"points have shape {tuple(points.shape)}; expected (B, N, 3) with N > 0")
    if not bool(torch.isfinite(points).all()):
        raise ValueError("points contain NaN or inf")
    if not 0.0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin}")
    batch = points.shape[0]
    direction = torch.as_tensor(view_direction, dtype=points.dtype, device=points.device).expand(
        batch, 3
    )
    lo, hi = points.amin(dim=1), points.amax(dim=1)
    centre = (lo + hi) / 2
    rotation, _ = look_at(centre - direction, centre, up)
    local = (points - centre[:, None]) @ rotation.transpose(1, 2)  # (B, N, 3) in camera axes
    mid = (local.amax(dim=1) + local.amin(dim=1)) / 2
    mid[:, 2] = 0.0
    local = local - mid[:, None]
    focal = focal_from_fov(fov_degrees, width, height)
    half = torch.tensor([width, height], dtype=points.dtype, device=points.device) * (0.5 - margin)
    # A point at depth D + z projects |focal · x / (D + z)| <= half  <=>  D >= focal |x| / half - z.
    needed = (focal * local[..., :2].abs() / half - local[..., 2:]).amax(dim=(1, 2))
    extent = (hi - lo).norm(dim=1)
    distance = torch.maximum(needed, -local[..., 2].amin(dim=1) + 0.05 * extent + 1e-6)
    target = centre + (mid[:, None] @ rotation).squeeze(1)
    eye = target - distance[:, None] * (rotation[:, 2])
    rotation, translation = look_at(eye, target, up)
    return PinholeCamera(
        focal=torch.full((batch, 2), focal, dtype=points.dtype, device=points.device),
        principal=torch.tensor(
            [(width - 1) / 2, (height - 1) / 2], dtype=points.dtype, device=points.device
        ),
        rotation=rotation,
        translation=translation,
        width=width,
        height=height,
    )


def orbit_direction(azimuth_degrees: float = 0.0, elevation_degrees: float = 0.0) -> torch.Tensor:
    """World viewing direction ``(3,)`` of a camera in front of a Y-up, +Z-facing body,
    turned ``azimuth_degrees`` about +Y (positive: towards the body's left side) and
    raised ``elevation_degrees`` (positive: looking down on the body)."""
    rotation = axis_angle_to_matrix(
        torch.tensor([0.0, math.radians(azimuth_degrees), 0.0], dtype=torch.float64)
    )
    tilt = axis_angle_to_matrix(
        torch.tensor([-math.radians(elevation_degrees), 0.0, 0.0], dtype=torch.float64)
    )
    # The camera sits at +Z and looks along -Z; raise it (tilt), then turn it about Y.
    return (rotation @ tilt @ torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64)).to(
        torch.get_default_dtype()
    )


def front_view_camera(
    points: torch.Tensor,
    width: int,
    height: int,
    azimuth_degrees: float = 0.0,
    elevation_degrees: float = 0.0,
    fov_degrees: float = 25.0,
    margin: float = 0.05,
) -> PinholeCamera:
    """Cameras in front of Y-up, +Z-facing bodies ``points (B, N, 3)`` (SMPL's frame),
    world +Y up in the image, framing each body (see :func:`fit_camera`).

    ``azimuth_degrees`` turns the camera about the vertical towards the body's left
    (90: a view of its left side); ``elevation_degrees`` raises it.
    """
    direction = orbit_direction(azimuth_degrees, elevation_degrees).to(points.device, points.dtype)
    return fit_camera(points, direction, width, height, fov_degrees=fov_degrees, margin=margin)
