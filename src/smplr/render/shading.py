"""Shading of rasterised meshes: per-vertex normals and Lambert lighting.

Lighting happens in camera coordinates (OpenCV: +Z forward, +Y down), so a light
direction such as the default "from the upper left, behind the viewer" keeps its
meaning whatever the camera's pose.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from smplr.render.rasterizer import Fragments, interpolate

# Direction *towards* the light in camera coordinates: up (−Y), left (−X), towards the viewer (−Z).
DEFAULT_LIGHT = (-0.4, -0.5, -0.77)
SKIN_COLOUR = (0.75, 0.72, 0.70)


def face_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Unnormalised right-hand face normals ``(B, F, 3)`` (length: twice the face area)."""
    corners = vertices.index_select(1, faces.reshape(-1).long()).view(vertices.shape[0], -1, 3, 3)
    return torch.linalg.cross(
        corners[:, :, 1] - corners[:, :, 0], corners[:, :, 2] - corners[:, :, 0], dim=-1
    )


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals ``(B, V, 3)`` of meshes ``vertices (B, V, 3)``,
    ``faces (F, 3)``; right-hand rule on the faces' corner order (outwards for SMPL).
    Vertices on no face get a zero normal."""
    normals = face_normals(vertices, faces)  # (B, F, 3)
    accumulated = torch.zeros_like(vertices)
    for corner in range(3):
        accumulated = accumulated.index_add(1, faces[:, corner].long(), normals)
    return F.normalize(accumulated, dim=-1, eps=1e-12)


def lambert(
    camera_vertices: torch.Tensor,
    faces: torch.Tensor,
    fragments: Fragments,
    colour: tuple[float, float, float] | torch.Tensor = SKIN_COLOUR,
    light_direction: tuple[float, float, float] | torch.Tensor = DEFAULT_LIGHT,
    ambient: float = 0.35,
) -> torch.Tensor:
    """Lambert-shaded RGB ``(B, H, W, 3)`` in [0, 1] (0 on background).

    Args:
        camera_vertices: ``(B, V, 3)`` vertices in camera coordinates (normals are taken there).
        faces: ``(F, 3)``.
        fragments: the rasterisation of these vertices.
        colour: albedo, RGB ``(3,)``, or per vertex ``(B, V, 3)`` / ``(V, 3)``.
        light_direction: ``(3,)`` direction towards a directional light, camera coordinates.
        ambient: share of light that reaches every surface, in [0, 1].

    Surfaces seen from behind (inside of an open mesh) are lit as if their normal were
    flipped towards the camera (two-sided lighting).
    """
    if not 0.0 <= ambient <= 1.0:
        raise ValueError(f"ambient must be in [0, 1], got {ambient}")
    dtype, device = camera_vertices.dtype, camera_vertices.device
    light = F.normalize(
        torch.as_tensor(light_direction, dtype=dtype, device=device).reshape(3), dim=0
    )
    normals = F.normalize(
        interpolate(vertex_normals(camera_vertices, faces), faces, fragments), dim=-1, eps=1e-12
    )
    # Flip where the visible face turns its back to the camera (its normal points along the ray).
    geometric = face_normals(camera_vertices, faces)  # (B, F, 3)
    visible = geometric.gather(
        1, fragments.face_index.clamp(min=0).flatten(1)[..., None].expand(-1, -1, 3)
    )
    corner = camera_vertices.gather(
        1,
        faces.long()[fragments.face_index.clamp(min=0).flatten(1), 0][..., None].expand(-1, -1, 3),
    )
    backwards = ((visible * corner).sum(-1) > 0).view_as(fragments.face_index)
    normals = torch.where(backwards[..., None], -normals, normals)
    diffuse = (normals * light).sum(-1).clamp(min=0.0)
    intensity = ambient + (1.0 - ambient) * diffuse  # (B, H, W)
    colour = torch.as_tensor(colour, dtype=dtype, device=device)
    albedo = interpolate(colour, faces, fragments) if colour.ndim >= 2 else colour
    rgb = albedo * intensity[..., None]
    return rgb * fragments.mask[..., None].to(dtype)
