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

Detector formats (``coco17``, ``h36m17``, ``blazepose33``, ``openpose25``, ``smpl24`` in
3D metres, ``<name>_2d`` in 2D; ``docs/keypoint_formats.md``):

- ``.npz`` / ``.json``: ``keypoints`` (or ``points``) ``(N, K, D)`` in the detector's
  order, NaN where a keypoint is missing, and optionally ``visibility`` (or
  ``confidence``) ``(N, K)``: keypoints below the threshold (0.5) are missing, the others
  weight the refinement.  2D: root-plane metres, or pixels with ``intrinsics`` and
  ``root_depth`` as above, or pixels alone — then scaled to metres by the skeleton's
  bone lengths (y flipped to point up), a weak-perspective guess that is announced;
- OpenPose's own ``.json`` (``{"people": [{"pose_keypoints_2d": [x, y, c, ...]}]}``,
  one body per person; ``pose_keypoints_3d`` for 3D) for ``openpose25``;
- COCO annotations ``.json`` (``{"annotations": [{"keypoints": [x, y, v, ...]}]}`` or the
  bare list; ``v`` 0 = not labelled: missing) for ``coco17_2d``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import typer

from smplr.geometry.projection import pixels_to_root_plane
from smplr.input_formats import (
    INPUT_FORMATS,
    VISIBILITY_THRESHOLD,
    check_input_format,
    check_points_shape,
    fittable_bodies,
    keypoint_format,
    visibility_mask,
)
from smplr.keypoint_checks import SCALE_HIGH, bone_scale, metres_from_pixels

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


def _array(path: Path, name: str, value: Any, allow_nan: bool = False) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: '{name}' is not a numeric array") from exc
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{path}: '{name}' contains {'inf' if allow_nan else 'NaN or inf'}")
    return array


def _detector_json(path: Path, content: Any, input_format: str) -> dict[str, Any] | None:
    """OpenPose's and COCO's own JSON layouts as ``points`` + ``confidence`` (pixels)."""
    kp = INPUT_FORMATS[input_format].keypoints
    if kp is None or path.suffix != ".json":
        return None
    dims = INPUT_FORMATS[input_format].dims
    if isinstance(content, dict) and "people" in content:
        key = "pose_keypoints_2d" if dims == 2 else "pose_keypoints_3d"
        rows = [person.get(key, []) for person in content["people"]]
    elif isinstance(content, dict) and "annotations" in content:
        rows = [a.get("keypoints", []) for a in content["annotations"]]
    elif isinstance(content, list) and content and isinstance(content[0], dict):
        rows = [a.get("keypoints", []) for a in content]
    else:
        return None
    flat = _array(path, "keypoints", rows) if rows else np.zeros((0, kp.count * (dims + 1)))
    if flat.ndim != 2 or flat.shape[1] != kp.count * (dims + 1):
        raise ValueError(
            f"{path}: expected {kp.count} keypoints of {dims + 1} numbers per person "
            f"({input_format}), got {flat.shape[-1] if flat.ndim == 2 else flat.shape} numbers"
        )
    if flat.shape[0] == 0:
        raise ValueError(f"{path}: the file holds no people")
    triples = flat.reshape(len(flat), kp.count, dims + 1)
    return {"points": triples[..., :dims], "confidence": triples[..., dims]}


def load_keypoints(path: str | Path, input_format: str) -> np.ndarray:
    """Points of ``input_format`` from ``path`` as ``(N, P, D)`` float64 in metres (2D: the
    root-plane form).  Every problem raises a one-line ValueError / FileNotFoundError."""
    path = Path(path)
    input_format = check_input_format(input_format)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: keypoint file not found")
    content = _content(path, input_format)
    detector = not INPUT_FORMATS[input_format].is_jl
    if detector and "keypoints" in content and "points" not in content:
        content["points"] = content["keypoints"]
    if "points" not in content:
        raise ValueError(
            f"{path}: no 'points' array (keys: {', '.join(sorted(content)) or 'none'})"
        )
    points = _array(path, "points", content["points"], allow_nan=detector)
    try:
        check_points_shape(points.shape, input_format)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if points.ndim == 2:
        points = points[None]
    flat = INPUT_FORMATS[input_format].dims == 2
    if detector and flat and "intrinsics" not in content:
        return _pixels_by_bones(path, points, content, input_format)
    if flat and "intrinsics" in content:
        if "root_depth" not in content:
            raise ValueError(
                f"{path}: pixel keypoints need 'root_depth' (metres from the camera to the pelvis) besides 'intrinsics'"
            )
        intrinsics = torch.as_tensor(_array(path, "intrinsics", content["intrinsics"]))
        depth = torch.as_tensor(_array(path, "root_depth", content["root_depth"]))
        missing = np.isnan(points)
        try:
            plane = pixels_to_root_plane(torch.as_tensor(np.nan_to_num(points)), intrinsics, depth)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        points = np.where(missing, np.nan, plane[..., :2].numpy())
    return points


def _content(path: Path, input_format: str) -> dict[str, Any]:
    """The file's arrays, OpenPose / COCO JSON read as ``points`` + ``confidence``."""
    content = _read(path)
    if path.suffix == ".json":
        raw = json.loads(path.read_text())
        detector = _detector_json(path, raw, input_format)
        if detector is not None:
            return detector
    return content


def _pixels_by_bones(
    path: Path, points: np.ndarray, content: dict[str, Any], input_format: str
) -> np.ndarray:
    """2D detector keypoints without a camera: metres already, or pixels scaled to metres
    by the median bone length against the template's (weak perspective; y flipped)."""
    kp = keypoint_format(input_format)
    confidence = _confidence(path, content, points.shape[:2])
    visible = visibility_mask(points, confidence, VISIBILITY_THRESHOLD)
    scale = bone_scale(torch.as_tensor(points), visible, kp)
    known = ~torch.isnan(scale)
    if not bool(known.any()) or float(scale[known].median()) < SCALE_HIGH:
        return points  # root-plane metres (or too few bones to tell: the fit will say)
    metres, per_metre = metres_from_pixels(torch.as_tensor(points), visible, kp)
    typer.echo(
        f"{path}: 2D keypoints in pixels without 'intrinsics': scaled to metres by the "
        f"bone lengths (about {float(per_metre.median()):.0f} px per metre; give "
        "'intrinsics' and 'root_depth' for a perspective camera)",
        err=True,
    )
    return metres.numpy()


def drop_unfittable(
    path: str | Path,
    points: np.ndarray,
    confidence: np.ndarray | None,
    threshold: float = VISIBILITY_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Detector keypoints: report each body with too few visible keypoints on stderr and
    drop it; ``(points, confidence, index of the kept bodies in the file)``.  No body
    left raises a one-line ValueError."""
    keep = fittable_bodies(points, confidence, threshold).numpy()
    index = np.flatnonzero(keep)
    for body in np.flatnonzero(~keep):
        typer.echo(
            f"smplr: warning: {path}: body {body}: fewer than 3 of {points.shape[1]} keypoints "
            f"visible (visibility threshold {threshold}): skipped",
            err=True,
        )
    if index.size == 0:
        raise ValueError(
            f"{path}: no body has 3 or more visible keypoints (visibility threshold {threshold})"
        )
    return points[index], None if confidence is None else confidence[index], index


def load_confidence(
    path: str | Path, shape: tuple[int, int], input_format: str | None = None
) -> np.ndarray | None:
    """Per-keypoint weights of the refinement from a ``.npz`` / ``.json`` keypoint file:
    the array ``confidence`` (or ``visibility``) ``(N, P)`` (or ``(P,)`` for one body)
    matching the points' ``shape (N, P)``, finite and >= 0; None when the file has none.
    ``input_format``: read OpenPose / COCO JSON layouts too (detector formats)."""
    path = Path(path)
    content = _content(path, input_format) if input_format else _read(path)
    return _confidence(path, content, shape)


def _confidence(path: Path, content: dict[str, Any], shape: tuple[int, int]) -> np.ndarray | None:
    key = next((k for k in ("confidence", "visibility") if k in content), None)
    if key is None:
        return None
    confidence = _array(path, key, content[key])
    if confidence.ndim == 1:
        confidence = confidence[None]
    if confidence.shape != tuple(shape):
        raise ValueError(
            f"{path}: '{key}' has shape {confidence.shape}; expected {tuple(shape)}, "
            "one weight per keypoint"
        )
    if (confidence < 0).any():
        raise ValueError(f"{path}: '{key}' must be >= 0")
    return confidence
