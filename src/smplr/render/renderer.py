"""World-space meshes to pictures: camera projection, rasterisation, shading in one call.

Example::

    from smplr.render import front_view_camera, render_shaded, render_silhouette

    camera = front_view_camera(out.vertices, width=256, height=256)
    masks = render_silhouette(out.vertices, model.faces, camera)  # (B, 256, 256) bool
    rgba = render_shaded(out.vertices, model.faces, camera)      # (B, 256, 256, 4) in [0, 1]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from smplr.render.camera import PinholeCamera, front_view_camera
from smplr.render.image import composite, save_png
from smplr.render.rasterizer import rasterize
from smplr.render.shading import DEFAULT_COLOUR, DEFAULT_LIGHT, lambert


def render_silhouette(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    camera: PinholeCamera,
    cull_backfaces: bool = False,
    max_pairs: int | None = None,
) -> torch.Tensor:
    """Silhouettes ``(B, H, W)`` bool of meshes ``vertices (B, V, 3)`` (world), ``faces (F, 3)``.

    ``cull_backfaces=True`` is faster (1.2-1.6x measured on a body) and gives the same
    masks for closed meshes with outward normals (SMPL and the open model).
    """
    screen = camera.to_screen(vertices)
    return rasterize(screen, faces, camera.image_size, cull_backfaces, max_pairs).mask


def render_camera_silhouettes(
    vertices: torch.Tensor | np.ndarray,
    faces: torch.Tensor | np.ndarray,
    intrinsics: torch.Tensor | np.ndarray,
    image_size: tuple[int, int],
    cull_backfaces: bool = False,
    dtype: torch.dtype = torch.float64,
) -> np.ndarray:
    """Silhouettes ``(B, H, W)`` bool (numpy) of meshes already in camera coordinates.

    ``vertices (B, V, 3)`` (OpenCV camera frame, metres), ``faces (F, 3)``, ``intrinsics
    (B, 3, 3)`` or ``(3, 3)``, ``image_size (H, W)``: the ``SilhouetteRenderer`` interface
    of :mod:`smplr.evaluation` (silhouette IoU).  Computes in ``dtype`` on the CPU;
    ``cull_backfaces`` and float32 are faster (about 2x together, measured on bodies) and
    give the same masks for closed meshes with outward normals (SMPL, the open model).
    """
    vertices = torch.as_tensor(vertices).detach().cpu().to(dtype)
    faces = torch.as_tensor(
        np.asarray(faces, dtype=np.int64) if isinstance(faces, np.ndarray) else faces
    ).cpu()
    K = torch.as_tensor(intrinsics).detach().cpu().to(dtype)
    if K.ndim == 2 and vertices.ndim == 3:
        K = K.expand(vertices.shape[0], 3, 3)
    camera = PinholeCamera.from_intrinsics(K, width=int(image_size[1]), height=int(image_size[0]))
    return render_silhouette(vertices, faces, camera, cull_backfaces).numpy()


def render_shaded(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    camera: PinholeCamera,
    colour: tuple[float, float, float] | torch.Tensor = DEFAULT_COLOUR,
    light_direction: tuple[float, float, float] | torch.Tensor = DEFAULT_LIGHT,
    ambient: float = 0.35,
    supersample: int = 1,
    cull_backfaces: bool = False,
    max_pairs: int | None = None,
) -> torch.Tensor:
    """Lambert-shaded RGBA ``(B, H, W, 4)`` in [0, 1] (straight alpha: the mesh's coverage).

    ``supersample = s`` renders at ``s×`` the resolution and averages ``s × s`` blocks:
    smooth edges, fractional alpha, ``s²`` times the work.  ``colour``, ``light_direction``
    and ``ambient`` as in :func:`smplr.render.shading.lambert` (light in camera coordinates).
    """
    if supersample < 1:
        raise ValueError(f"supersample must be a positive integer, got {supersample}")
    fine = camera if supersample == 1 else _scaled(camera, supersample)
    camera_vertices = fine.world_to_camera(vertices)
    fragments = rasterize(
        fine.to_screen(vertices), faces, fine.image_size, cull_backfaces, max_pairs
    )
    rgb = lambert(camera_vertices, faces, fragments, colour, light_direction, ambient)
    premultiplied = torch.cat([rgb, fragments.mask[..., None].to(rgb.dtype)], dim=-1)
    if supersample > 1:
        premultiplied = F.avg_pool2d(premultiplied.permute(0, 3, 1, 2), supersample).permute(
            0, 2, 3, 1
        )
    alpha = premultiplied[..., 3:]
    colour_part = premultiplied[..., :3] / alpha.clamp(min=1e-12)
    return torch.cat([colour_part * (alpha > 0), alpha], dim=-1)


def _scaled(camera: PinholeCamera, factor: int) -> PinholeCamera:
    """The same view at ``factor×`` the resolution: pixel ``(u, v)`` of the original image is
    covered by the ``factor × factor`` block whose centres are ``factor·u + (factor−1)/2 + i``."""
    shift = (factor - 1) / 2
    return PinholeCamera(
        focal=camera.focal * factor,
        principal=camera.principal * factor + shift,
        rotation=camera.rotation,
        translation=camera.translation,
        width=camera.width * factor,
        height=camera.height * factor,
    )


def write_pictures(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    out_dir: str | Path,
    size: int = 256,
    azimuth_degrees: float = 0.0,
    stem: str = "body",
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    batch_size: int = 16,
    first_index: int = 0,
) -> list[Path]:
    """Write one shaded PNG per mesh of ``vertices (N, V, 3)`` (world, Y up, facing +Z),
    ``faces (F, 3)``: ``{stem}_{i:05d}.png`` in ``out_dir`` (``i`` from ``first_index``),
    ``size × size`` pixels, each body framed on its own from the front (turned by
    ``azimuth_degrees``), 2×2 supersampled.
    """
    if vertices.ndim != 3 or vertices.shape[2] != 3:
        raise ValueError(f"vertices have shape {tuple(vertices.shape)}; expected (N, V, 3)")
    out = Path(out_dir)
    paths = []
    with torch.no_grad():
        for start in range(0, vertices.shape[0], batch_size):
            part = vertices[start : start + batch_size]
            camera = front_view_camera(part, size, size, azimuth_degrees, elevation_degrees=5.0)
            rgb = composite(render_shaded(part, faces, camera, supersample=2), background)
            for offset, image in enumerate(rgb):
                name = f"{stem}_{first_index + start + offset:05d}.png"
                paths.append(save_png(out / name, image))
    return paths
