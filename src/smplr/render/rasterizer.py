"""A vectorised z-buffer triangle rasteriser in plain PyTorch (CPU or CUDA, no OpenGL).

Input are *screen-space* vertices ``(B, V, 3)``: pixel coordinates ``u, v`` (OpenCV:
pixel centres on integers, ``v`` down) and the camera depth ``z`` of a perspective camera
(:meth:`smplr.render.camera.PinholeCamera.to_screen` makes them).  For every pixel the
rasteriser finds the nearest triangle covering the pixel centre and returns its index,
the depth there and the perspective-correct barycentric coordinates.

How it works: a first pass over all faces, one contiguous plane per corner coordinate,
keeps only the faces in front of the camera with a pixel centre inside their bounding
box (at 256² four faces of a body in five have none); only those are set up (edge
functions, culling).  Each face is then tested only against the pixel centres inside its
box: faces with boxes up to 4 × 4 pixels (nearly all of a body at 256²) in groups of one
box size, broadcast over the group; larger ones as (triangle, pixel) candidate pairs
enumerated in chunks of at most ``max_pairs`` (so memory stays bounded whatever the
mesh).  Pixels are tested with edge functions, and the nearest hit per pixel is kept with
``scatter_reduce(amin)`` on a 64-bit key ``depth bits << 31 | face``: smaller depth wins,
ties go to the smaller face index, so the result does not depend on the grouping or the
chunking.  A second pass recomputes barycentrics and depth of the winning triangles
with differentiable operations, so gradients flow from interpolated attributes to the
vertex positions (not through the visibility decision itself).

Coverage rule: a pixel centre exactly on a shared edge or vertex belongs to exactly one
of the triangles that share it (Direct3D's top-left rule), so a watertight mesh covers
each pixel of its projection once, with no cracks and no double hits.

Triangles with a vertex at depth <= 0 (at or behind the camera) are not drawn (no
near-plane clipping); degenerate triangles (zero screen area) cover nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
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


# Faces whose pixel box is at most this many pixels wide and high are tested in groups of
# one box size, broadcast over the group (no per-pair gathers: at 256² nearly every face
# of a body); larger ones through the general enumeration of (face, pixel) pairs.
_GROUP_SIDE = 4


def _face_setup(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, cull: bool):
    """Set-up of ``N`` triangles with corners ``x, y, z`` ``(3, N)`` (one row per corner):
    pixel coordinates shifted by the integers (W // 2, H // 2), so pixel centres stay on
    integers and magnitudes stay small, and camera depth.

    Edge ``k`` runs from corner ``k`` to ``k + 1``; ``w_k(p) = A_k u + B_k v + C_k`` is
    twice the signed area of (corner k, corner k+1, p), computed so that it is exactly
    antisymmetric in the edge's direction: neighbours agree on shared edges bit for bit,
    hence no cracks and no double hits.

    Returns the coefficient table ``(12, N)``: rows A, B, C and q (three each) with
    ``1/z(p) = Σ_k q_k w_k(p)``; the per-edge bias ``(3, N)`` (0.5 where the edge owns
    pixel centres on it, by the top-left rule, else 0); and whether each face is drawn at
    all ``(N,)`` (not culled, not degenerate, in front of the camera).
    """
    next_ = torch.tensor(_NEXT, device=x.device)
    x1, y1 = x.index_select(0, next_), y.index_select(0, next_)
    a, b, c = y - y1, x1 - x, x * y1 - x1 * y  # (3, N) each
    area2 = (c[0] + c[1]) + c[2]  # shoelace: twice the signed area; > 0 is clockwise (v down)
    # Positive screen area means the right-hand normal points away from the camera.
    visible = (area2 < 0) if cull else (area2 != 0)
    visible &= (z > 0).all(dim=0)
    sign = torch.where(area2 < 0, -1.0, 1.0).to(x.dtype)
    a, b, c = a * sign, b * sign, c * sign
    # Top-left rule on the re-oriented (clockwise on screen) edges: an edge owns the pixel
    # centres on it if it goes up the screen (dv = -a < 0) or is horizontal going right.
    bias = ((a > 0) | ((a == 0) & (b > 0))).to(x.dtype) * 0.5
    # Barycentric weight of corner k+2 is w_k / |area2|; 1/z is affine on the screen.
    safe_area = torch.where(visible, area2.abs(), 1.0)
    after_next = torch.tensor(_AFTER_NEXT, device=x.device)
    q = 1.0 / (safe_area * torch.where(z > 0, z, 1.0).index_select(0, after_next))
    return torch.cat([a, b, c, q]), bias, visible


def _candidate_faces(
    screen_vertices: torch.Tensor, faces: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The (image, face) pairs that may cover a pixel centre: in front of the camera, with
    at least one pixel centre inside their bounding box (at 256² most faces of a body have
    none).  Returns their flat ids ``image · F + face`` ``(N,)``, corners ``(9, N)``
    (shifted u of corners 0-2, then v, then z) and pixel boxes ``(4, N)`` long: first
    column and row (shifted), width, height."""
    shift = torch.tensor(
        [width // 2, height // 2, 0], dtype=screen_vertices.dtype, device=faces.device
    )
    shifted = screen_vertices - shift
    # Corners of all faces: one contiguous (B, F) plane per coordinate and corner.
    planes = [
        shifted[..., axis].index_select(1, corner)
        for axis in range(3)
        for corner in faces.T.contiguous()
    ]
    x, y, z = planes[0:3], planes[3:6], planes[6:9]
    lo_x, hi_x = -(width // 2), width - 1 - width // 2
    lo_y, hi_y = -(height // 2), height - 1 - height // 2
    first_x = torch.minimum(torch.minimum(x[0], x[1]), x[2]).ceil_().clamp_(lo_x, hi_x + 1)
    last_x = torch.maximum(torch.maximum(x[0], x[1]), x[2]).floor_().clamp_(lo_x - 1, hi_x)
    first_y = torch.minimum(torch.minimum(y[0], y[1]), y[2]).ceil_().clamp_(lo_y, hi_y + 1)
    last_y = torch.maximum(torch.maximum(y[0], y[1]), y[2]).floor_().clamp_(lo_y - 1, hi_y)
    box_w, box_h = last_x.sub_(first_x).add_(1), last_y.sub_(first_y).add_(1)
    wanted = (box_w > 0) & (box_h > 0) & (z[0] > 0) & (z[1] > 0) & (z[2] > 0)
    keep = torch.nonzero(wanted.view(-1)).squeeze(1)

    def pick(some: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([p.view(-1).index_select(0, keep) for p in some])

    return keep, pick(planes), pick([first_x, first_y, box_w, box_h]).long()


def _pair_keys(
    coef: Sequence[torch.Tensor],
    bias: Sequence[torch.Tensor],
    face: torch.Tensor,
    px: torch.Tensor,
    py: torch.Tensor,
) -> torch.Tensor:
    """Depth-and-face keys of faces (the 12 rows of their coefficient table, 3 of their
    bias, their index) at pixel centres ``px, py``: all broadcastable to one shape, which
    the keys have; :data:`_NO_HIT` where the face does not cover the pixel centre."""
    edge = [coef[k] * px + coef[3 + k] * py + coef[6 + k] for k in range(3)]
    # Inside: every edge function > 0, or == 0 on an edge that owns its pixel centres.
    inside = (edge[0].sign() + bias[0] > 0) & (edge[1].sign() + bias[1] > 0)
    inside &= edge[2].sign() + bias[2] > 0
    inverse_depth = (edge[0] * coef[9] + edge[1] * coef[10]) + edge[2] * coef[11]
    depth = (1.0 / inverse_depth.clamp(min=1e-30)).float()
    key = (depth.view(torch.int32).long() << _FACE_BITS) | face
    return torch.where(inside, key, _NO_HIT)


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
    keep, corners, boxes = _candidate_faces(screen_vertices, faces, height, width)
    table, bias, visible = _face_setup(corners[0:3], corners[3:6], corners[6:9], cull_backfaces)
    drawn = torch.nonzero(visible).squeeze(1)
    keep = keep.index_select(0, drawn)
    table, bias, boxes = (t.index_select(1, drawn) for t in (table, bias, boxes))
    face = keep % num_faces
    first_pixel = (
        ((keep // num_faces) * height + boxes[1] + height // 2) * width + boxes[0] + width // 2
    )
    keys = torch.full((batch * height * width,), _NO_HIT, dtype=torch.int64, device=device)
    # Small faces grouped by their exact box size (w, h): every face of a group is tested
    # at the same w·h offsets from its box's corner, broadcast over the group.
    small = (boxes[2] <= _GROUP_SIDE) & (boxes[3] <= _GROUP_SIDE)
    shape_code = torch.where(small, (boxes[3] - 1) * _GROUP_SIDE + boxes[2] - 1, -1)
    order = torch.argsort(shape_code, stable=True)
    sizes = torch.bincount(shape_code + 1, minlength=_GROUP_SIDE**2 + 1).tolist()
    start = sizes[0]  # the large faces come first
    for code, size in enumerate(sizes[1:]):
        members, start = order[start : start + size], start + size
        if size == 0:
            continue
        group_h, group_w = code // _GROUP_SIDE + 1, code % _GROUP_SIDE + 1
        slots = torch.arange(group_w * group_h, device=device)
        dx, dy = slots % group_w, slots // group_w  # (S,)
        for part in members.split(max(1, max_pairs // len(slots))):
            coef = table.index_select(1, part)[..., None].unbind(0)  # 12 × (n, 1)
            box = boxes.index_select(1, part)[..., None]
            key = _pair_keys(
                coef,
                bias.index_select(1, part)[..., None].unbind(0),
                face.index_select(0, part)[:, None],
                (box[0] + dx).to(table.dtype),
                (box[1] + dy).to(table.dtype),
            )
            pixel = first_pixel.index_select(0, part)[:, None] + (dy * width + dx)
            keys.scatter_reduce_(0, pixel.view(-1), key.view(-1), reduce="amin")
    large = order[: sizes[0]]
    if large.numel():
        table, bias, boxes = (t.index_select(1, large) for t in (table, bias, boxes))
        face, first_pixel = face.index_select(0, large), first_pixel.index_select(0, large)
        counts = boxes[2] * boxes[3]
        for start, stop in _chunks(counts, max_pairs):
            chunk_counts = counts[start:stop]
            total = int(chunk_counts.sum())
            local = torch.repeat_interleave(
                torch.arange(stop - start, device=device), chunk_counts, output_size=total
            )
            first_pair = torch.cumsum(chunk_counts, 0) - chunk_counts
            offset = torch.arange(total, device=device) - first_pair.index_select(0, local)
            rows = local + start
            box = boxes.index_select(1, rows)
            row, col = offset // box[2], offset % box[2]
            key = _pair_keys(
                table.index_select(1, rows).unbind(0),
                bias.index_select(1, rows).unbind(0),
                face.index_select(0, rows),
                (box[0] + col).to(table.dtype),
                (box[1] + row).to(table.dtype),
            )
            pixel = first_pixel.index_select(0, rows) + row * width + col
            keys.scatter_reduce_(0, pixel, key, reduce="amin")
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
            images, four times as many faces sorted out at once); bounds memory, roughly
            100 bytes per pair, without changing the result.  Default:
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
    # Whole images per visibility pass, so that the per-face temporaries (about 30 numbers
    # a face, against about 25 a pair) stay near max_pairs pairs' worth.
    images_per_pass = max(1, 4 * max_pairs // max(1, faces.shape[0]))
    with torch.no_grad():
        face_index = torch.cat(
            [
                _nearest_faces(part, faces, height, width, cull_backfaces, max_pairs)
                for part in screen_vertices.detach().split(images_per_pass)
            ]
        )
    image, row, col = torch.nonzero(face_index >= 0, as_tuple=True)  # row-major, as the mask
    visible = (image, row, col)
    barycentrics, depth = _surface_at_pixels(screen_vertices, faces, face_index, visible)
    return Fragments(face_index, depth, barycentrics, visible)


def _surface_at_pixels(
    screen_vertices: torch.Tensor,
    faces: torch.Tensor,
    face_index: torch.Tensor,
    visible: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable pass: perspective-correct barycentrics ``(B, H, W, 3)`` and depth
    ``(B, H, W)`` of the visible faces at the pixel centres ``visible`` (image, row and
    column indices of the covered pixels)."""
    batch, height, width = face_index.shape
    image, row, col = visible
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
    if attributes.ndim not in (2, 3) or (attributes.ndim == 3 and attributes.shape[0] != batch):
        raise ValueError(
            f"attributes have shape {tuple(attributes.shape)}; expected (V, C) or ({batch}, V, C)"
        )
    if faces.numel() and int(faces.max()) >= attributes.shape[-2]:
        raise ValueError(f"faces index vertices beyond the {attributes.shape[-2]} attribute rows")
    image, row, col = fragments.visible_pixels()
    corners = faces.long().index_select(0, fragments.face_index[image, row, col])  # (M, 3)
    channels = attributes.shape[-1]
    if attributes.ndim == 2:  # shared by all images: no per-image copies
        corner_values = attributes.index_select(0, corners.reshape(-1))
    else:
        rows = (image[:, None] * attributes.shape[1] + corners).reshape(-1)
        corner_values = attributes.reshape(-1, channels).index_select(0, rows)
    corner_values = corner_values.view(-1, 3, channels)  # (M, 3, C)
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
