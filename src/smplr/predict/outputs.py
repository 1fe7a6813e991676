"""What ``smplr predict`` writes: ``predictions.npz``, overlays, meshes, strips, videos.

``predictions.npz`` (one row per fitted person; no pickles, plain arrays):

- ``names (N,)`` str: the input file name, ``name#frame`` for video frames;
- ``betas (N, 10)``, ``gender (N,)`` g in [−1, 1] (−1 female, +1 male);
- ``global_orient (N, 3)``, ``body_pose (N, 69)`` axis-angle, ``transl (N, 3)``: SMPL
  parameters in the camera frame (OpenCV axes: x right, y down, z forward; metres);
- ``joints (N, 24, 3)``, ``landmarks (N, 18, 3)``: the posed body in the camera frame;
- ``intrinsics (N, 3, 3)`` the camera assumed, ``image_size (N, 2)`` height, width;
- ``frame (N,)`` the video frame index (−1 for photos);
- ``observed (N, 24)`` bool: joints that visible keypoints support; the others (e.g. the
  legs of a half-body photo) are guessed from the DAE and the priors.

Every file is written whole or not at all (:mod:`smplr.atomic_io`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import save_npz_atomic
from smplr.pipeline import BODY_KEYS
from smplr.predict.media import require_opencv
from smplr.render import PinholeCamera, overlay, render_shaded, to_uint8

PREDICTION_KEYS = (
    "names",
    *BODY_KEYS,
    "intrinsics",
    "image_size",
    "frame",
    "observed",
)


def write_predictions(path: str | Path, rows: Sequence[dict[str, np.ndarray]]) -> Path:
    """Stack per-person ``rows`` (each with every key of :data:`PREDICTION_KEYS`, unbatched)
    into ``predictions.npz``; no rows -> empty arrays of the right trailing shapes."""
    if rows:
        arrays = {key: np.stack([np.asarray(row[key]) for row in rows]) for key in PREDICTION_KEYS}
        arrays["names"] = arrays["names"].astype(str)
    else:
        shapes = {
            "betas": (0, 10), "gender": (0,), "global_orient": (0, 3), "body_pose": (0, 69),
            "transl": (0, 3), "joints": (0, 24, 3), "landmarks": (0, 18, 3),
            "intrinsics": (0, 3, 3), "image_size": (0, 2), "frame": (0,), "observed": (0, 24),
        }  # fmt: skip
        arrays = {key: np.zeros(shape, dtype=np.float32) for key, shape in shapes.items()}
        arrays["names"] = np.zeros(0, dtype=str)
        arrays["image_size"] = arrays["image_size"].astype(np.int64)
        arrays["frame"] = arrays["frame"].astype(np.int64)
        arrays["observed"] = arrays["observed"].astype(bool)
    return save_npz_atomic(path, arrays)


def scaled_intrinsics(K: np.ndarray, factor: float) -> np.ndarray:
    """``K`` of the same camera for an image resized by ``factor`` (pixel centres on
    integers: ``c' = (c + 0.5)·factor − 0.5``)."""
    out = np.array(K, dtype=np.float64)
    out[:2, :2] *= factor
    out[:2, 2] = (out[:2, 2] + 0.5) * factor - 0.5
    return out


def resize(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """``image (H, W, 3) uint8`` shrunk so its longer side is at most ``max_side``, and the
    factor used (1 when it already fits)."""
    height, width = image.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return image, 1.0
    from PIL import Image

    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS)), factor


def render_overlay(
    image: np.ndarray,
    vertices: np.ndarray,
    faces: np.ndarray | torch.Tensor,
    K: np.ndarray,
    max_side: int | None = 1024,
    opacity: float = 0.7,
) -> np.ndarray:
    """The meshes ``vertices (B, V, 3)`` (camera frame) drawn over ``image (H, W, 3)
    uint8`` through ``K (3, 3)`` by :mod:`smplr.render`: ``(h, w, 3) uint8``, the photo
    shrunk to ``max_side`` pixels first (rendering costs grow with the pixel count)."""
    small, factor = resize(image, max_side)
    height, width = small.shape[:2]
    picture = torch.from_numpy(np.array(small, dtype=np.uint8))  # a writable copy
    vertices = np.asarray(vertices, dtype=np.float32)
    if vertices.ndim == 2:
        vertices = vertices[None]
    camera = PinholeCamera.from_intrinsics(
        torch.as_tensor(scaled_intrinsics(K, factor), dtype=torch.float32), width, height
    )
    faces_t = torch.as_tensor(np.asarray(faces, dtype=np.int64))
    result = picture.float() / 255.0
    with torch.no_grad():
        for body in vertices:
            if not (body[:, 2] > 0.05).all():
                continue  # a body reaching behind the camera is not drawn
            rgba = render_shaded(torch.as_tensor(body)[None], faces_t, camera, cull_backfaces=True)
            result = overlay(result, rgba[0], opacity)
    return to_uint8(result)


def crop_around(
    image: np.ndarray, box: np.ndarray, grow: float = 1.5, aspect: float = 0.75
) -> np.ndarray:
    """A ``width / height = aspect`` crop of ``image (H, W, 3)`` around ``box (4,)``
    (``u0, v0, u1, v1``) grown ``grow`` times, moved inside the image (clipped where the
    image is too small)."""
    height, width = image.shape[:2]
    centre = (box[:2] + box[2:]) / 2
    crop_h = grow * max(float(box[3] - box[1]), float(box[2] - box[0]) / aspect, 8.0)
    crop_h = min(crop_h, height, width / aspect)
    crop_w = crop_h * aspect
    u0 = int(np.clip(round(centre[0] - crop_w / 2), 0, max(width - crop_w, 0)))
    v0 = int(np.clip(round(centre[1] - crop_h / 2), 0, max(height - crop_h, 0)))
    return image[v0 : v0 + round(crop_h), u0 : u0 + round(crop_w)]


def frame_strip(frames: Sequence[np.ndarray], height: int = 360, gap: int = 4) -> np.ndarray:
    """Frames ``(H_i, W_i, 3) uint8`` side by side, each scaled to ``height`` pixels,
    ``gap`` white pixels apart: ``(height, W, 3) uint8``."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to put in a strip")
    scaled = []
    for frame in frames:
        h, w = frame.shape[:2]
        size = (max(1, round(w * height / h)), height)
        scaled.append(np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS)))
    width = sum(f.shape[1] for f in scaled) + gap * (len(scaled) - 1)
    strip = np.full((height, width, 3), 255, dtype=np.uint8)
    left = 0
    for frame in scaled:
        strip[:, left : left + frame.shape[1]] = frame
        left += frame.shape[1] + gap
    return strip


def write_video(path: str | Path, frames: Sequence[np.ndarray], fps: float) -> Path:
    """``frames (H, W, 3) uint8`` RGB, all one size, as an MP4 (OpenCV's mp4v codec),
    written to a temporary file and renamed over ``path``."""
    cv2 = require_opencv()
    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise ValueError(f"{path}: OpenCV cannot write this video format")
        for frame in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
        writer.release()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
