"""Keypoint files for ``smplr fit``: ``.npy``, ``.npz`` or ``.json``, validated (the
point shapes by :func:`smplr.input_formats.check_points_shape`).

3D input (``jl42``: 24 joints + 18 landmarks; ``joints24``: SMPL's 24 joints) is in
metres, SMPL's axes (y up), any origin:

- ``.npy``: the array ``(N, P, 3)`` or ``(P, 3)``;
- ``.npz``: the array under ``points`` (or the file's only array);
- ``.json``: ``{"points": [...]}`` or the bare nested list.

2D input (``2d``: the 42 points in an image) comes in one of two forms:

- pixels: ``points (N, 42, 2)`` in pixels plus ``intrinsics`` ``[fx, fy, cx, cy]``
  (``(4,)`` or ``(N, 4)``) and ``root_depth`` (metres from the camera to the pelvis,
  a number or ``(N,)``) — converted by
  :func:`smplr.geometry.projection.pixels_to_root_plane`;
- root-plane metres (no ``intrinsics`` key): ``points (N, 42, 2)`` already in the metric
  form: x right, y up, metres on the plane through the pelvis facing the camera.

Example ``.json`` for pixels::

    {"points": [[[512.0, 300.1], ...42 pairs...]], "intrinsics": [1100, 1100, 512, 512],
     "root_depth": 4.5}
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from smplr.geometry.projection import pixels_to_root_plane
from smplr.input_formats import check_input_format, check_points_shape

SUFFIXES = (".npy", ".npz", ".json")


def _read(path: Path) -> dict[str, Any]:
    """The file's arrays by name; a bare array is called ``points``."""
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: unknown keypoint file type '{path.suffix}'; expected .npy, .npz or .json"
        )
    try:
        if path.suffix == ".npy":
            return {"points": np.load(path, allow_pickle=False)}
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            if "points" not in arrays and len(arrays) == 1:
                arrays = {"points": next(iter(arrays.values()))}
            return arrays
        content = json.loads(path.read_text())
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable {path.suffix} keypoint file ({exc})") from exc
    return content if isinstance(content, dict) else {"points": content}


def _array(path: Path, name: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: '{name}' is not a numeric array") from exc
    if not np.isfinite(array).all():
        raise ValueError(f"{path}: '{name}' contains NaN or inf")
    return array


def load_keypoints(path: str | Path, input_format: str) -> np.ndarray:
    """Points of ``input_format`` from ``path`` as ``(N, P, D)`` float64 in metres (2D: the
    root-plane form).  Every problem raises a one-line ValueError / FileNotFoundError."""
    path = Path(path)
    input_format = check_input_format(input_format)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: keypoint file not found")
    content = _read(path)
    if "points" not in content:
        raise ValueError(
            f"{path}: no 'points' array (keys: {', '.join(sorted(content)) or 'none'})"
        )
    points = _array(path, "points", content["points"])
    try:
        check_points_shape(points.shape, input_format)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if points.ndim == 2:
        points = points[None]
    if input_format == "2d" and "intrinsics" in content:
        if "root_depth" not in content:
            raise ValueError(
                f"{path}: pixel keypoints need 'root_depth' (metres from the camera to the pelvis) besides 'intrinsics'"
            )
        intrinsics = torch.as_tensor(_array(path, "intrinsics", content["intrinsics"]))
        depth = torch.as_tensor(_array(path, "root_depth", content["root_depth"]))
        try:
            plane = pixels_to_root_plane(torch.as_tensor(points), intrinsics, depth)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        points = plane[..., :2].numpy()
    return points


def load_confidence(path: str | Path, shape: tuple[int, int]) -> np.ndarray | None:
    """Per-keypoint weights of the refinement from a ``.npz`` / ``.json`` keypoint file:
    the array ``confidence`` ``(N, P)`` (or ``(P,)`` for one body) matching the points'
    ``shape (N, P)``, finite and >= 0; None when the file has none."""
    path = Path(path)
    content = _read(path)
    if "confidence" not in content:
        return None
    confidence = _array(path, "confidence", content["confidence"])
    if confidence.ndim == 1:
        confidence = confidence[None]
    if confidence.shape != tuple(shape):
        raise ValueError(
            f"{path}: 'confidence' has shape {confidence.shape}; expected {tuple(shape)}, "
            "one weight per keypoint"
        )
    if (confidence < 0).any():
        raise ValueError(f"{path}: 'confidence' must be >= 0")
    return confidence
