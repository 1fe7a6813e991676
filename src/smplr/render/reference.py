"""Brute-force rasterisation: one triangle at a time, each against every pixel centre of
its bounding box.  The test oracle and the benchmark baseline of
:mod:`smplr.render.rasterizer`; written independently (point-in-triangle through
barycentric coordinates, z-buffer update per triangle, a Python loop over triangles)
and far too slow for real use.
"""

from __future__ import annotations

import math

import torch

from smplr.render.rasterizer import Fragments, check_mesh


def _owns_edge(start: torch.Tensor, end: torch.Tensor, clockwise: bool) -> bool:
    """Top-left rule: does a triangle own pixel centres on its edge ``start -> end``?

    On screen (v down) a left edge of a clockwise triangle goes up, a top edge is
    horizontal and goes right; for a counter-clockwise triangle walk the edge backwards.
    """
    du, dv = (end - start) if clockwise else (start - end)
    return bool(dv < 0 or (dv == 0 and du > 0))


def rasterize_brute_force(
    screen_vertices: torch.Tensor,
    faces: torch.Tensor,
    image_size: tuple[int, int],
    cull_backfaces: bool = False,
) -> Fragments:
    """Same contract as :func:`smplr.render.rasterizer.rasterize` (no gradients)."""
    check_mesh(screen_vertices, faces)
    height, width = image_size
    batch = screen_vertices.shape[0]
    dtype = screen_vertices.dtype
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    pixels = torch.stack([cols, rows], dim=-1).to(dtype)  # (H, W, 2) pixel centres
    face_index = torch.full((batch, height, width), -1, dtype=torch.long)
    depth = torch.full((batch, height, width), torch.inf, dtype=dtype)
    barycentrics = torch.zeros(batch, height, width, 3, dtype=dtype)
    for b in range(batch):
        for f, corners in enumerate(faces.tolist()):
            p = screen_vertices[b, corners].detach().cpu()  # (3, 3)
            if bool((p[:, 2] <= 0).any()):
                continue
            uv = p[:, :2]
            e1, e2 = uv[1] - uv[0], uv[2] - uv[0]
            det = e1[0] * e2[1] - e1[1] * e2[0]  # > 0: clockwise on screen
            if det == 0 or (cull_backfaces and det > 0):
                continue
            top, left = max(0, math.ceil(uv[:, 1].min())), max(0, math.ceil(uv[:, 0].min()))
            bottom = min(height - 1, math.floor(uv[:, 1].max()))
            right = min(width - 1, math.floor(uv[:, 0].max()))
            if top > bottom or left > right:
                continue
            box = (b, slice(top, bottom + 1), slice(left, right + 1))
            centres = pixels[box[1:]]
            # Barycentric weight of corner k: signed area of (pixel, next corner, corner after).
            weights = []
            for k in range(3):
                a, c = uv[(k + 1) % 3], uv[(k + 2) % 3]
                d1, d2 = a - centres, c - centres
                weights.append(
                    (d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0]) * torch.sign(det)
                )
            inside = torch.ones(centres.shape[:2], dtype=torch.bool)
            for k in range(3):
                owned = _owns_edge(uv[(k + 1) % 3], uv[(k + 2) % 3], bool(det > 0))
                inside &= (weights[k] > 0) | ((weights[k] == 0) & owned)
            screen = torch.stack(weights, dim=-1) / det.abs()  # (H, W, 3)
            inverse = (screen / p[:, 2]).sum(dim=-1)
            z = 1.0 / inverse
            closer = inside & (z < depth[box])
            face_index[box][closer] = f
            depth[box][closer] = z[closer]
            barycentrics[box][closer] = (screen / p[:, 2] / inverse[..., None])[closer]
    return Fragments(face_index=face_index, depth=depth, barycentrics=barycentrics)
