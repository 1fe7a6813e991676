"""Person boxes for the ``shn`` route: checked against the image they belong to."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def check_box(box: np.ndarray, height: int, width: int, name: str = "box") -> np.ndarray:
    """``box (x0, y0, x1, y1)`` pixels, clipped to a ``height × width`` image; one-line
    ValueError when it is not 4 finite numbers, empty or inverted, or outside the image."""
    values = np.asarray(box, dtype=np.float64).reshape(-1)
    if values.shape != (4,) or not np.isfinite(values).all():
        raise ValueError(f"{name}: a box is 4 finite numbers x0,y0,x1,y1 (pixels)")
    x0, y0, x1, y1 = values
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"{name}: box {x0:g},{y0:g},{x1:g},{y1:g} is empty or inverted")
    clipped = np.array([max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)])
    if not (clipped[2] > clipped[0] and clipped[3] > clipped[1]):
        raise ValueError(
            f"{name}: box {x0:g},{y0:g},{x1:g},{y1:g} lies outside the {width}x{height} image"
        )
    return clipped


def parse_box(text: str) -> np.ndarray:
    """``"x0,y0,x1,y1"`` -> ``(4,)`` float pixels (one-line ValueError otherwise)."""
    try:
        values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        values = np.zeros(0)
    if values.shape != (4,):
        raise ValueError(f"--box must be x0,y0,x1,y1 in pixels, got '{text}'")
    return values


def read_boxes(path: Path) -> dict[str, np.ndarray]:
    """A box file: JSON ``{"name": [x0, y0, x1, y1]}`` or CSV lines ``name,x0,y0,x1,y1``
    (names as the photos' file names) -> ``{name: (4,) float}``."""
    if not path.is_file():
        raise ValueError(f"{path}: box file not found")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        rows = [(str(name), value) for name, value in data.items()]
    else:
        rows = []
        for line in text.splitlines():
            if line.strip():
                name, _, rest = line.partition(",")
                rows.append((name.strip(), rest))
    boxes = {}
    for name, value in rows:
        try:
            text_value = value if isinstance(value, str) else ",".join(str(v) for v in value)
            boxes[name] = parse_box(text_value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: the box of '{name}' is not x0,y0,x1,y1") from exc
    return boxes
