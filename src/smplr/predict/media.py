"""Photos and videos in: which files a ``smplr predict`` call covers, each read as RGB.

Images are read with Pillow (in the core package): the EXIF orientation is applied and
every mode is turned into 8-bit RGB ``(H, W, 3) uint8`` — grey, palette, RGBA (alpha
composited on white), 16-bit and 32-bit integer or float grey (scaled by their own range),
CMYK.  Videos need OpenCV, which the ``photos`` extra brings with MediaPipe.

Each input that cannot be read raises a one-line ``ValueError`` naming the file, so a
batch can report it and go on with the others.

Example::

    items = collect_inputs(["photo.jpg", "folder/", "clip.mp4"])
    image = read_image(items[0].path)            # (H, W, 3) uint8
    video = open_video(items[2].path)           # frames, fps, size
    for index, frame in video.frames(step=2):   # every second frame, (H, W, 3) uint8
        ...
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
MIN_SIDE = 32
"""Smallest image side (pixels) a person can be found in; smaller images are refused."""
MAX_PIXELS = 100_000_000
"""Largest image (pixels) read; larger files are refused rather than filling memory."""


@dataclass(frozen=True)
class MediaInput:
    """One input of a batch: ``path`` and ``kind`` (``"image"``, ``"video"``, or
    ``"missing"``: no such file, or a folder without images or videos)."""

    path: Path
    kind: str

    @property
    def name(self) -> str:
        return self.path.name


def media_kind(path: Path) -> str:
    """``"video"`` for a video file name (by its suffix), else ``"image"`` (an unknown
    suffix is tried as an image and reported if it is not one)."""
    return "video" if path.suffix.lower() in VIDEO_SUFFIXES else "image"


def collect_inputs(paths: Sequence[str | Path]) -> list[MediaInput]:
    """The inputs ``paths`` name, in order: files as given, folders expanded to their image
    and video files (sorted by name, not recursive).

    A path that does not exist or a folder without images or videos becomes an item of
    kind ``"missing"`` (reported by the caller with the others' results); no path at all
    raises a ``ValueError``.
    """
    if not paths:
        raise ValueError("no input given: name photos, folders or videos")
    items: list[MediaInput] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES
            )
            if not found:
                items.append(MediaInput(path, "missing"))
            items.extend(MediaInput(p, media_kind(p)) for p in found)
        elif path.is_file():
            items.append(MediaInput(path, media_kind(path)))
        else:
            items.append(MediaInput(path, "missing"))
    return items


def _to_rgb8(image: Any) -> np.ndarray:
    """A Pillow image of any mode -> ``(H, W, 3) uint8``."""
    from PIL import Image

    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
        grey = (scaled * 255.0 + 0.5).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def read_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` as RGB ``(H, W, 3) uint8``, EXIF orientation applied.

    Raises a one-line ``ValueError`` for a file that is not a readable image, one with a
    side under :data:`MIN_SIDE` pixels or over :data:`MAX_PIXELS` pixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as handle:
                width, height = handle.size
                if width * height > MAX_PIXELS:
                    raise ValueError(
                        f"{path}: image is {width}x{height} pixels, over the "
                        f"{MAX_PIXELS:,}-pixel limit; downscale it first"
                    )
                handle.load()
                image = ImageOps.exif_transpose(handle) or handle
                pixels = _to_rgb8(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"{path}: not a readable image") from None
    except (OSError, SyntaxError) as exc:  # truncated or corrupt files
        raise ValueError(f"{path}: not a readable image ({exc})") from None
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ValueError(
            f"{path}: image is {width}x{height} pixels; at least {MIN_SIDE} per side needed"
        )
    return np.ascontiguousarray(pixels)


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what native libraries (MediaPipe's glog/absl, FFmpeg) print straight to
    file descriptor 2 while the block runs, so that a bad input gives one line, not a
    library's log.  Python's own ``sys.stderr`` writes are flushed first."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (embedded interpreters): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def require_opencv() -> Any:
    """The ``cv2`` module, or a one-line ``ValueError`` saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise ValueError("reading videos needs OpenCV: pip install 'smplr[photos]'") from None
    return cv2


@dataclass
class Video:
    """An opened video: ``fps``, ``frame_count`` (as the container says; may be 0 when
    unknown), ``width``, ``height``; :meth:`frames` decodes it."""

    path: Path
    fps: float
    frame_count: int
    width: int
    height: int

    def frames(
        self, step: int = 1, max_frames: int | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, frame (H, W, 3) uint8 RGB)`` for every ``step``-th frame, at most
        ``max_frames`` of them."""
        if step < 1:
            raise ValueError(f"frame step must be >= 1, got {step}")
        cv2 = require_opencv()
        with quiet_native_stderr():
            capture = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            given = 0
            while max_frames is None or given < max_frames:
                ok, frame = capture.read()
                if not ok:
                    break
                if index % step == 0:
                    yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                    given += 1
                index += 1
        finally:
            capture.release()


def open_video(path: str | Path) -> Video:
    """Open a video file and check that its first frame decodes (one-line ``ValueError``
    if not)."""
    cv2 = require_opencv()
    path = Path(path)
    with quiet_native_stderr():
        capture = cv2.VideoCapture(str(path))
        ok, frame = capture.read() if capture.isOpened() else (False, None)
    try:
        if not ok or frame is None:
            raise ValueError(f"{path}: cannot decode the video (no readable frame)")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        height, width = frame.shape[:2]
    finally:
        capture.release()
    return Video(path, fps if fps > 0 else 25.0, max(count, 0), width, height)
