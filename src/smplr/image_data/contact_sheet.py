"""A contact sheet: many annotated images on one PNG, to check a dataset at a glance.

Each image gets a pair of tiles.  Left: the picture with the skeleton of the 24 joints
(the person's left side blue, right side red, the spine green), the 18 landmarks as
yellow dots and the person box; keypoints that are not visible (outside, occluded, or
landmarks behind the body) are drawn hollow.  Right: the masks: the part segmentation
(one colour per SMPL part) over a dark background, the occluders hatched in grey.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smplr.atomic_io import write_bytes_atomic
from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from smplr.image_data.augment import Record

_LEFT, _RIGHT, _CENTRE = (60, 120, 255), (255, 60, 60), (40, 220, 90)


def _side(index: int) -> tuple[int, int, int]:
    name = JOINT_NAMES[index]
    return _LEFT if name.startswith("left") else _RIGHT if name.startswith("right") else _CENTRE


def _palette() -> np.ndarray:
    from matplotlib import colormaps

    colours = colormaps["tab20"](np.linspace(0, 1, 20))[:, :3].tolist()
    colours += colormaps["Set2"](np.linspace(0, 1, 8))[:, :3].tolist()
    return (np.array([[0, 0, 0], *colours[:NUM_JOINTS]]) * 255).astype(np.float32)


def draw_tile(record: Record, tile: int) -> np.ndarray:
    """The pair of tiles of ``record`` side by side: ``(tile, 2·tile·W/H + 2, 3)`` uint8."""
    from PIL import Image, ImageDraw

    parts = record["parts"]
    height, width = parts.shape
    scale = tile / height
    size = (round(width * scale), tile)
    picture = Image.fromarray(record["image"]).resize(size, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(picture)
    points = record["jl2d"] * scale + (scale - 1) / 2
    visible = record["visible"]
    for child, parent in enumerate(PARENTS):
        if parent >= 0:
            a, b = points[child], points[parent]
            draw.line([tuple(a), tuple(b)], fill=_side(child), width=1)
    radius = max(1.0, tile / 96)
    for index, (u, v) in enumerate(points):
        colour = _side(index) if index < NUM_JOINTS else (255, 230, 40)
        box = (u - radius, v - radius, u + radius, v + radius)
        draw.ellipse(box, fill=colour if visible[index] else None, outline=colour)
    x0, y0, x1, y1 = (record["box"] * scale).tolist()
    draw.rectangle((x0, y0, x1 + scale - 1, y1 + scale - 1), outline=(255, 255, 255))
    masks = _palette()[parts]
    masks[parts == 0] = 24
    stripes = (np.add.outer(np.arange(height), np.arange(width)) // 3) % 2 == 0
    masks[record["occluders"] & stripes] = 150
    mask_tile = Image.fromarray(masks.astype(np.uint8)).resize(size, Image.Resampling.NEAREST)
    gap = np.full((tile, 2, 3), 255, np.uint8)
    return np.concatenate([np.asarray(picture), gap, np.asarray(mask_tile)], axis=1)


def save_contact_sheet(
    path: str | Path, records: Sequence[Record], columns: int = 8, tile: int = 112
) -> Path:
    """Write ``records`` as a grid of annotated tile pairs (``columns`` images wide,
    ``tile`` pixels high each) to the PNG ``path``, whole or not at all."""
    from PIL import Image

    if not records:
        raise ValueError("a contact sheet needs at least one image")
    tiles = [draw_tile(r, tile) for r in records]
    rows = -(-len(tiles) // columns)
    th, tw = tiles[0].shape[:2]
    gap = 4
    sheet = np.full(
        (rows * th + (rows - 1) * gap, columns * tw + (columns - 1) * gap, 3), 96, np.uint8
    )
    for i, picture in enumerate(tiles):
        r, c = divmod(i, columns)
        top, left = r * (th + gap), c * (tw + gap)
        sheet[top : top + th, left : left + tw] = picture
    buffer = io.BytesIO()
    # 256 colours are plenty to check a sheet by eye, and make the file about 3x smaller.
    Image.fromarray(sheet).quantize(256).save(buffer, format="png", optimize=True)
    return write_bytes_atomic(path, buffer.getvalue())
