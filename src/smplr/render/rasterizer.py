"""A vectorised z-buffer triangle rasteriser in plain PyTorch (CPU or CUDA, no OpenGL).

Input are *screen-space* vertices ``(B, V, 3)``: pixel coordinates ``u, v`` (OpenCV:
pixel centres on integers, ``v`` down) and the camera depth ``z`` of a perspective camera
(:meth:`smplr.render.camera.PinholeCamera.to_screen` makes them).  For every pixel the
rasteriser finds the nearest triangle covering the pixel centre and returns its index,
the depth there and the perspective-correct barycentric coordinates.

How it works: each triangle is tested only against the pixel centres inside its
bounding box.  The (triangle, pixel) candidate pairs are enumerated in chunks of at
most ``max_pairs`` (so memory stays bounded whatever the mesh), tested with edge
functions, and the nearest hit per pixel is kept with a single ``scatter_reduce(amin)``
on a 64-bit key ``depth bits << 31 | face``: smaller depth wins, ties go to the smaller
face index.  A second pass recomputes barycentrics and depth of the winning triangles
with differentiable operations, so gradients flow from interpolated attributes to the
vertex positions (not through the visibility decision itself).

Coverage rule: a pixel centre exactly on a shared edge or vertex belongs to exactly one
of the triangles that share it (Direct3D's top-left rule), so a watertight mesh covers
each pixel of its projection once, with no cracks and no double hits.

Triangles with a vertex at depth <= 0 (at or behind the camera) are not drawn (no
near-plane clipping); degenerate triangles (zero screen area) cover nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

# Candidate (face, pixel) pairs per chunk: small enough to stay in a CPU's cache,
# large enough on a GPU to keep it busy (about 100 bytes of temporaries per pair).
MAX_PAIRS_CPU = 1 << 17
MAX_PAIRS_GPU = 1 << 21
_NO_HIT = torch.iinfo(torch.int64).max
_FACE_BITS = 31


@dataclass
class Fragments:
    """Per-pixel rasterisation result for ``B`` images of ``H × W`` pixels.

    Attributes:
        face_index: ``(B, H, W)`` long, the visible face (row of ``faces``), −1 for background.
        depth: ``(B, H, W)``, camera depth of the visible surface, ``inf`` for background.
        barycentrics: ``(B, H, W, 3)``, perspective-correct weights of the visible face's
            three vertices (in the order of its row in ``faces``), 0 for background.
    """

    face_index: torch.Tensor
    depth: torch.Tensor
    barycentrics: torch.Tensor
    # The covered pixels, found once (shading, interpolation and to_image all need them);
    # the fields above are not to be changed in place after construction.
    _visible: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def mask(self) -> torch.Tensor:
        """``(B, H, W)`` bool, True where a face is visible: the silhouette."""
        return self.face_index >= 0

    def visible_pixels(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``image, row, column`` indices ``(M,)`` of the M covered pixels, in row-major order."""
        if self._visible is None:
            image, row, col = torch.nonzero(self.mask, as_tuple=True)
            self._visible = (image, row, col)
        return self._visible

    def to_image(self, values: torch.Tensor) -> torch.Tensor:
        """Per-covered-pixel ``values (M, C)`` (order of :meth:`visible_pixels`) -> an
        image ``(B, H, W, C)``, 0 on background.  Differentiable in ``values``."""
        batch, height, width = self.face_index.shape
        out = values.new_zeros(batch, height, width, values.shape[1])
        return out.index_put(self.visible_pixels(), values)


def check_mesh(vertices: torch.Tensor, faces: torch.Tensor) -> None:
    """Raise ValueError unless ``vertices (B, V, 3)`` (finite floats) and ``faces (F, 3)``
    (integers in ``[0, V)``) form a valid batch of meshes."""
    if vertices.ndim != 3 or vertices.shape[2] != 3:
        raise ValueError(f"vertices have shape {tuple(vertices.shape)}; expected (B, V, 3)")
    if not vertices.is_floating_point():
        raise ValueError(f"vertices must be floating point, got {vertices.dtype}")
    if not bool(torch.isfinite(vertices).all()):
        raise ValueError("vertices contain NaN or inf")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"faces have shape {tuple(faces.shape)}; expected (F, 3)")
    if faces.dtype.is_floating_point or faces.dtype == torch.bool:
        raise ValueError(f"faces must be integer vertex indices, got {faces.dtype}")
    if faces.numel() and (int(faces.min()) < 0 or int(faces.max()) >= vertices.shape[1]):
        raise ValueError(f"faces index vertices outside [0, {vertices.shape[1]})")
    if faces.device != vertices.device:
        raise ValueError(f"faces are on {faces.device} but vertices on {vertices.device}")


def _check_image_size(image_size: tuple[int, int]) -> tuple[int, int]:
    height, width = (int(s) for s in image_size)
    if height < 1 or width < 1:
        raise ValueError(f"image_size must be positive (height, width), got {image_size}")
    if height * width >= 1 << 31:
        raise ValueError(f"image_size {image_size} is too large")
    return height, width


_NEXT = (1, 2, 0)  # corner k -> corner k + 1
_AFTER_NEXT = (2, 0, 1)  # corner k -> corner k + 2


def _face_setup(tri: torch.Tensor, height: int, width: int, cull_backfaces: bool):
    """Edge functions and pixel boxes of triangles ``tri (N, 3, 3)`` (u, v, z per corner).

    Coordinates are shifted by the integers (W // 2, H // 2), so pixel centres stay on
    integers and magnitudes stay small.  Edge ``k`` runs from corner ``k`` to ``k + 1``;
    ``w_k(p) = A_k u + B_k v + C_k`` is twice the signed area of (corner k, corner k+1, p),
    computed so that it is exactly antisymmetric in the edge's direction: neighbours
    agree on shared edges bit for bit, hence no cracks and no double hits.

    Returns the coefficient table ``(N, 12)``: A, B, C and q with ``1/z(p) = Σ_k q_k w_k(p)``;
    the per-edge bias ``(N, 3)`` (0.5 where the edge owns pixel centres on it, by the
    top-left rule, else 0); the integer table ``(N, 3)``: first pixel column and row of
    the box in shifted coordinates, box width; and the candidate count per face (0 for
    faces that are culled, degenerate, behind the camera or off screen).
    """
    next_ = torch.tensor(_NEXT, device=tri.device)
    x = tri[..., 0] - width // 2
    y = tri[..., 1] - height // 2
    z = tri[..., 2]
    x1, y1 = x.index_select(1, next_), y.index_select(1, next_)
    a, b, c = y - y1, x1 - x, x * y1 - x1 * y  # (N, 3) each
    area2 = c.sum(dim=1)  # shoelace: twice the signed area; > 0 is clockwise on screen (v down)
    # Positive screen area means the right-hand normal points away from the camera.
    visible = (area2 < 0) if cull_backfaces else (area2 != 0)
    visible &= (z > 0).all(dim=1)
    sign = torch.where(area2 < 0, -1.0, 1.0).to(tri.dtype)[:, None]
    a, b, c = a * sign, b * sign, c * sign
    # Top-left rule on the re-oriented (clockwise on screen) edges: an edge owns the pixel
    # centres on it if it goes up the screen (dv = -a < 0) or is horizontal going right.
    bias = ((a > 0) | ((a == 0) & (b > 0))).to(tri.dtype) * 0.5
    # Barycentric weight of corner k+2 is w_k / |area2|; 1/z is affine on the screen.
    safe_area = torch.where(visible, area2.abs(), 1.0)[:, None]
    q = 1.0 / (
        safe_area
        * torch.where(z > 0, z, 1.0).index_select(1, torch.tensor(_AFTER_NEXT, device=tri.device))
    )
    table = torch.cat([a, b, c, q], dim=1)
    lo_x, hi_x = -(width // 2), width - 1 - width // 2
    lo_y, hi_y = -(height // 2), height - 1 - height // 2
    first_x = x.amin(dim=1).ceil().clamp(lo_x, hi_x + 1)
    last_x = x.amax(dim=1).floor().clamp(lo_x - 1, hi_x)
    first_y = y.amin(dim=1).ceil().clamp(lo_y, hi_y + 1)
    last_y = y.amax(dim=1).floor().clamp(lo_y - 1, hi_y)
    box_w = (last_x - first_x + 1).clamp(min=0)
    box_h = (last_y - first_y + 1).clamp(min=0)
    counts = torch.where(visible, box_w * box_h, 0.0).long()
    boxes = torch.stack([first_x, first_y, box_w], dim=1).long()
    return table, bias, boxes, counts


def _chunks(counts: torch.Tensor, max_pairs: int) -> list[tuple[int, int]]:
    """Split faces into consecutive ranges whose candidate pairs sum to <= ``max_pairs``
    (a single face with more pairs gets a range of its own)."""
    ends = torch.cumsum(counts, 0).cpu()
    total = int(ends[-1]) if len(ends) else 0
    if total <= max_pairs:
        return [(0, len(counts))] if total else []
    ranges, start, done = [], 0, 0
    while start < len(counts):
        stop = int(torch.searchsorted(ends, done + max_pairs, right=True))
        stop = max(stop, start + 1)
        ranges.append((start, stop))
        done = int(ends[stop - 1])
        start = stop
    return ranges


def _nearest_faces(
    screen_vertices: torch.Tensor,
    faces: torch.Tensor,
    height: int,
    width: int,
    cull_backfaces: bool,
    max_pairs: int,
) -> torch.Tensor:
    """Visibility pass: ``(B, H, W)`` index of the nearest covering face, −1 for none."""
    batch = screen_vertices.shape[0]
    num_faces = faces.shape[0]
    device = screen_vertices.device
    tri = screen_vertices.index_select(1, faces.reshape(-1)).reshape(batch * num_faces, 3, 3)
    table, bias, boxes, counts = _face_setup(tri, height, width, cull_backfaces)
    keep = torch.nonzero(counts).squeeze(1)  # (image, face) ids with candidate pixels
    table, bias, counts = (
        table.index_select(0, keep),
        bias.index_select(0, keep),
        counts.index_select(0, keep),
    )
    # Per face: first pixel of its box in the flat (B, H, W) buffer, box width, face id.
    image = keep // num_faces
    boxes = boxes.index_select(0, keep)
    first_pixel = (image * height + boxes[:, 1] + height // 2) * width + boxes[:, 0] + width // 2
    face_info = torch.stack(
        [first_pixel, boxes[:, 2], keep % num_faces, boxes[:, 0], boxes[:, 1]], dim=1
    )
    keys = torch.full((batch * height * width,), _NO_HIT, dtype=torch.int64, device=device)
    for start, stop in _chunks(counts, max_pairs):
        chunk_counts = counts[start:stop]
        total = int(chunk_counts.sum())
        local = torch.repeat_interleave(
            torch.arange(stop - start, device=device), chunk_counts, output_size=total
        )
        first_pair = torch.cumsum(chunk_counts, 0) - chunk_counts
        offset = torch.arange(total, device=device) - first_pair.index_select(0, local)
        face = local + start
        info = face_info.index_select(0, face)  # (P, 5)
        row, col = offset // info[:, 1], offset % info[:, 1]
        px = (info[:, 3] + col).to(table.dtype)[:, None]
        py = (info[:, 4] + row).to(table.dtype)[:, None]
        coef = table.index_select(0, face)  # (P, 12)
        edge = coef[:, 0:3] * px + coef[:, 3:6] * py + coef[:, 6:9]
        # Inside: every edge function > 0, or == 0 on an edge that owns its pixel centres.
        inside = (edge.sign() + bias.index_select(0, face)).amin(dim=1) > 0
        inverse_depth = (edge * coef[:, 9:12]).sum(dim=1)
        depth = (1.0 / inverse_depth.clamp(min=1e-30)).float()
        key = (depth.view(torch.int32).long() << _FACE_BITS) | info[:, 2]
        key = torch.where(inside, key, _NO_HIT)
        keys.scatter_reduce_(0, info[:, 0] + row * width + col, key, reduce="amin")
    face_index = torch.where(keys == _NO_HIT, -1, keys & ((1 << _FACE_BITS) - 1))
    return face_index.view(batch, height, width)


def rasterize(
    screen_vertices: torch.Tensor,
    faces: torch.Tensor,
    image_size: tuple[int, int],
    cull_backfaces: bool = False,
    max_pairs: int | None = None,
) -> Fragments:
    """Rasterise ``B`` meshes sharing ``faces (F, 3)`` into ``image_size = (H, W)`` images.

    Args:
        screen_vertices: ``(B, V, 3)`` pixel ``u, v`` and camera depth ``z`` per vertex.
        faces: ``(F, 3)`` vertex indices.
        image_size: ``(height, width)`` in pixels.
        cull_backfaces: skip faces whose right-hand normal (corners in the order of
            ``faces``) points away from the camera; right for closed meshes with outward
            normals (SMPL), about halves the work.
        max_pairs: most (face, pixel) candidate pairs tested at once (and, over whole
            images, faces set up at once); bounds memory, roughly 100 bytes per pair,
            without changing the result.  Default:
            ``MAX_PAIRS_CPU`` (13 MB) on the CPU, ``MAX_PAIRS_GPU`` (200 MB) elsewhere.

    Returns:
        :class:`Fragments` (face index, depth, barycentrics per pixel).

    Example::

        camera = front_view_camera(vertices, 256, 256)
        fragments = rasterize(camera.to_screen(vertices), faces, camera.image_size)
        fragments.mask  # (B, 256, 256) silhouettes
    """
    check_mesh(screen_vertices, faces)
    height, width = _check_image_size(image_size)
    if faces.shape[0] >= 1 << _FACE_BITS:
        raise ValueError(f"too many faces ({faces.shape[0]}); at most {(1 << _FACE_BITS) - 1}")
    if max_pairs is None:
        max_pairs = MAX_PAIRS_CPU if screen_vertices.device.type == "cpu" else MAX_PAIRS_GPU
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be positive, got {max_pairs}")
    faces = faces.long()
    # Whole images per visibility pass, so per-face temporaries stay near max_pairs rows.
    images_per_pass = max(1, max_pairs // max(1, faces.shape[0]))
    with torch.no_grad():
        face_index = torch.cat(
            [
                _nearest_faces(part, faces, height, width, cull_backfaces, max_pairs)
                for part in screen_vertices.detach().split(images_per_pass)
            ]
        )
    barycentrics, depth = _surface_at_pixels(screen_vertices, faces, face_index)
    return Fragments(face_index=face_index, depth=depth, barycentrics=barycentrics)


def _surface_at_pixels(
    screen_vertices: torch.Tensor, faces: torch.Tensor, face_index: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable pass: perspective-correct barycentrics ``(B, H, W, 3)`` and depth
    ``(B, H, W)`` of the visible faces at the pixel centres."""
    batch, height, width = face_index.shape
    image, row, col = torch.nonzero(face_index >= 0, as_tuple=True)  # as Fragments.visible_pixels
    corner_ids = faces.index_select(0, face_index[image, row, col])  # (M, 3)
    rows = (image[:, None] * screen_vertices.shape[1] + corner_ids).reshape(-1)
    corners = screen_vertices.reshape(-1, 3).index_select(0, rows).view(-1, 3, 3)  # (M, 3, 3)
    u, v, z = corners[..., 0], corners[..., 1], corners[..., 2]
    pu, pv = col.to(u.dtype)[:, None], row.to(u.dtype)[:, None]
    # Weight of corner k: twice the signed area of (p, corner k+1, corner k+2).
    next_, after_next = (torch.tensor(i, device=u.device) for i in (_NEXT, _AFTER_NEXT))
    u1, v1 = u.index_select(1, next_), v.index_select(1, next_)
    u2, v2 = u.index_select(1, after_next), v.index_select(1, after_next)
    area = (u1 - pu) * (v2 - pv) - (u2 - pu) * (v1 - pv)
    screen_weights = area / area.sum(dim=1, keepdim=True)
    inverse_depth_weights = screen_weights / z
    inverse_depth = inverse_depth_weights.sum(dim=1, keepdim=True)
    bary = inverse_depth_weights / inverse_depth
    dtype = screen_vertices.dtype
    barycentrics = torch.zeros(batch, height, width, 3, dtype=dtype, device=face_index.device)
    barycentrics = barycentrics.index_put((image, row, col), bary)
    depth = torch.full((batch, height, width), torch.inf, dtype=dtype, device=face_index.device)
    depth = depth.index_put((image, row, col), 1.0 / inverse_depth.squeeze(1))
    return barycentrics, depth


def interpolate_visible(
    attributes: torch.Tensor, faces: torch.Tensor, fragments: Fragments
) -> torch.Tensor:
    """Per-vertex ``attributes (B, V, C)`` (or ``(V, C)``, shared) interpolated at the
    covered pixels only: ``(M, C)`` in the order of :meth:`Fragments.visible_pixels`.

    Differentiable in ``attributes`` and, through the barycentrics, in the vertices.
    """
    batch = fragments.face_index.shape[0]
    if attributes.ndim == 2:
        attributes = attributes.expand(batch, *attributes.shape)
    if attributes.ndim != 3 or attributes.shape[0] != batch:
        raise ValueError(
            f"attributes have shape {tuple(attributes.shape)}; expected (V, C) or ({batch}, V, C)"
        )
    if faces.numel() and int(faces.max()) >= attributes.shape[1]:
        raise ValueError(f"faces index vertices beyond the {attributes.shape[1]} attribute rows")
    image, row, col = fragments.visible_pixels()
    corners = faces.long().index_select(0, fragments.face_index[image, row, col])  # (M, 3)
    flat = attributes.reshape(-1, attributes.shape[2])
    rows = (image[:, None] * attributes.shape[1] + corners).reshape(-1)
    corner_values = flat.index_select(0, rows).view(-1, 3, attributes.shape[2])  # (M, 3, C)
    weights = fragments.barycentrics[image, row, col].to(attributes.dtype)  # (M, 3)
    return (weights.unsqueeze(-1) * corner_values).sum(dim=1)


def interpolate(
    attributes: torch.Tensor, faces: torch.Tensor, fragments: Fragments
) -> torch.Tensor:
    """Per-pixel values of per-vertex ``attributes (B, V, C)`` (or ``(V, C)``, shared),
    interpolated with the fragments' barycentrics: ``(B, H, W, C)``, 0 on background.

    Differentiable in ``attributes`` and, through the barycentrics, in the vertices.
    """
    return fragments.to_image(interpolate_visible(attributes, faces, fragments))
