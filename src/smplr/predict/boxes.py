"""Person boxes given by the user: where in a photo the person to fit stands.

A box is ``x0, y0, x1, y1`` in pixels of the image as :func:`smplr.predict.media.read_image`
gives it (EXIF orientation applied, i.e. as a photo viewer shows it): x right, y down,
the image spanning ``0..width`` and ``0..height`` (pixel edges; the same axes as
:meth:`smplr.predict.detector.PoseDetection.box`).  As text: ``"x0,y0,x1,y1"``
(:func:`parse_box`).  A box file (:func:`read_boxes`) gives one box per image, by file
name:

- ``.json``: an object ``{"photo.jpg": [x0, y0, x1, y1], ...}``;
- any other suffix (``.csv``, ``.txt``): lines ``name,x0,y0,x1,y1`` (CSV: a name holding a
  comma is quoted), blank lines, ``#`` comments and a header line
  ``name,x0,y0,x1,y1`` skipped.

A name is a file name (``photo.jpg``) or a path as given on the command line
(``photos/photo.jpg``, for two photos of the same name); :func:`box_for` looks up the
path first, then the name.

:func:`check_box` checks a box against its image: not finite, empty or inverted (``x1 <=
x0`` or ``y1 <= y0``), or wholly outside the image -> a one-line ``ValueError``; a box
partly outside is clipped to the image.

Example::

    box = parse_box("120,40,380,470")                  # (4,) float64
    boxes = read_boxes("boxes.json")                   # {"photo.jpg": (4,) float64}
    box = check_box(box_for(boxes, "in/photo.jpg"), height=480, width=640)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

BOX_FIELDS = ("name", "x0", "y0", "x1", "y1")
"""The columns of a CSV box file (and of its optional header line)."""


def _box_values(values: object, where: str) -> np.ndarray:
    """``values`` as a box ``(4,) float64`` of 4 finite numbers with ``x0 < x1`` and
    ``y0 < y1``; otherwise a one-line ValueError starting with ``where``."""
    try:
        box = np.asarray(values, dtype=np.float64)  # numbers, or their text (CSV cells)
    except (TypeError, ValueError):
        box = np.empty(0)
    if box.shape != (4,):
        shown = ",".join(map(str, values)) if isinstance(values, list) else str(values)
        raise ValueError(f"{where}: a box is 4 numbers x0,y0,x1,y1 (pixels), got {shown!r}")
    if not np.isfinite(box).all():
        raise ValueError(f"{where}: box {_text(box)} has a NaN or infinite coordinate")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(
            f"{where}: box {_text(box)} is empty or inverted: need x0 < x1 and y0 < y1"
        )
    return box


def _text(box: np.ndarray) -> str:
    return ",".join(f"{v:g}" for v in box)


def parse_box(text: str, where: str = "--box") -> np.ndarray:
    """The box ``(4,) float64`` written ``"x0,y0,x1,y1"`` (spaces allowed); a one-line
    ValueError starting with ``where`` when it is not 4 finite numbers with ``x0 < x1``
    and ``y0 < y1``."""
    return _box_values(text.split(","), where)


def check_box(
    box: Sequence[float] | np.ndarray, height: int, width: int, where: str = "box"
) -> np.ndarray:
    """``box`` ``x0, y0, x1, y1`` checked against an image of ``height x width`` pixels:
    clipped to the image when partly outside; a one-line ValueError starting with
    ``where`` when it is not finite, empty, inverted or wholly outside.  Returns ``(4,)
    float64``."""
    x0, y0, x1, y1 = _box_values(box, where)
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise ValueError(
            f"{where}: box {_text(np.array([x0, y0, x1, y1]))} lies outside the "
            f"{width}x{height} image"
        )
    return np.array([max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))])


def read_boxes(path: str | Path) -> dict[str, np.ndarray]:
    """The boxes of a box file (JSON object or CSV lines, see the module's docstring):
    name -> ``(4,) float64``.  A one-line ValueError naming the file (and the line, for
    CSV) for a missing or unreadable file, a bad box, a name given twice, or no box."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"{path}: cannot read the box file ({reason})") from None
    entries: list[tuple[str, str, object]] = []  # (where, name, the box's values)
    if path.suffix.lower() == ".json":

        def no_twice(pairs: list[tuple[str, object]]) -> dict[str, object]:
            names = [name for name, _ in pairs]
            for name in names:
                if names.count(name) > 1:
                    raise ValueError(f"{path}: a second box for {name!r}")
            return dict(pairs)

        try:
            content = json.loads(text, object_pairs_hook=no_twice)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(content, dict):
            raise ValueError(f'{path}: expected a JSON object {{"photo.jpg": [x0, y0, x1, y1]}}')
        entries = [(f"{path}: {name!r}", name, values) for name, values in content.items()]
    else:
        for number, row in enumerate(csv.reader(text.splitlines()), start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if number == 1 and tuple(c.lower() for c in cells) == BOX_FIELDS:
                continue
            where = f"{path}:{number}"
            if len(cells) != len(BOX_FIELDS) or not cells[0]:
                raise ValueError(
                    f"{where}: expected {','.join(BOX_FIELDS)}, got {','.join(cells)!r}"
                )
            entries.append((where, cells[0], cells[1:]))
    boxes: dict[str, np.ndarray] = {}
    for where, name, values in entries:
        if name in boxes:
            raise ValueError(f"{where}: a second box for {name!r}")
        boxes[name] = _box_values(values, where)
    if not boxes:
        raise ValueError(f"{path}: no boxes in the file")
    return boxes


def box_for(boxes: dict[str, np.ndarray], path: str | Path) -> np.ndarray | None:
    """The box of the input ``path`` in ``boxes`` (:func:`read_boxes`): by the path as
    given, else by its file name; None when it has none."""
    path = Path(path)
    for key in (str(path), path.name):
        if key in boxes:
            return boxes[key]
    return None
