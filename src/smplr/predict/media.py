"""Photos and videos in: which files a ``smplr predict`` call covers, each read as RGB.

Images are read with Pillow (in the core package) as 8-bit RGB ``(H, W, 3) uint8``, the
EXIF orientation applied (phones store portraits sideways and say so in EXIF):

- grey ``1``/``L``, palette ``P``, ``CMYK`` (JPEG, Adobe inverted ones too), ``YCbCr``,
  ``LAB``: Pillow's conversion;
- transparency (``RGBA``, ``LA``, ``PA``, ``P`` with a transparent colour): composited on
  white, so a cut-out person stands on white rather than on whatever colour the
  transparent pixels happen to hold;
- 16-bit grey (``I;16``) by the full 16-bit range (``v / 257``); 16-bit colour PNGs the
  same way (Pillow keeps the high byte); ``I`` and ``F`` grey by the 16-bit or 0..1 range
  when they fit it, else by their own range (:func:`_grey_to_rgb8`);
- animated GIF / WebP: the first frame; multi-page TIFF: the first page.

Colour profiles (ICC) are not applied.  Each input that cannot be read raises a one-line
``ValueError`` naming the file, so a batch can report it and go on with the others:
empty, not an image, truncated or corrupt, over :data:`MAX_PIXELS` pixels, or a side
under :data:`MIN_SIDE` pixels.  Videos need OpenCV, which the ``photos`` extra brings
with MediaPipe.

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
"""Smallest image side (pixels) a person can be found in; smaller images are refused
(BlazePose's person detector sees a 224-pixel copy: a person under 32 pixels tall is a
smudge there)."""
MAX_PIXELS = 100_000_000
"""Largest image (pixels) read: 100 Mpx (12000 x 8000 and every phone or DSLR photo
fit; 300 MB as RGB).  Larger files, and decompression bombs (a small file that claims a
huge size; checked on the header, before decoding), are refused rather than filling
memory."""


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


def _grey_to_rgb8(image: Any) -> np.ndarray:
    """A Pillow image of a 16-bit, 32-bit integer or float grey mode -> ``(H, W, 3) uint8``.

    16-bit modes (and ``I`` holding values in 0..65535: how some decoders give 16-bit
    files) are scaled by the full 16-bit range, ``v / 257``, as Pillow does for 16-bit
    colour PNGs; ``F`` in 0..1 by 255; anything else by its own range (min -> 0, max
    -> 255).  Never clipped; NaN and infinite float pixels become 0 (black).
    """
    values = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(values)
    low = float(values[finite].min()) if finite.any() else 0.0
    high = float(values[finite].max()) if finite.any() else 0.0
    if image.mode.startswith("I;16") or (image.mode == "I" and low >= 0 and high <= 65535):
        low, high = 0.0, 65535.0
    elif image.mode == "F" and low >= 0 and high <= 1:
        low, high = 0.0, 1.0
    values = np.where(finite, values, low)
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    grey = (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # clip: float rounding
    return np.repeat(grey[..., None], 3, axis=2)


def _to_rgb8(image: Any) -> np.ndarray:
    """A Pillow image of any mode -> ``(H, W, 3) uint8``: grey modes of more than 8 bits by
    :func:`_grey_to_rgb8`, transparent pixels composited on white, the rest (``1``, ``L``,
    ``P``, ``CMYK``, ``YCbCr``, ``LAB``, ...) by Pillow's conversion."""
    from PIL import Image

    mode = image.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        return _grey_to_rgb8(image)
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image if mode == "RGB" else image.convert("RGB"))  # no extra copy


def _one_line(error: BaseException) -> str:
    """An error's reason on one line: the system's for a file that cannot be opened (no
    path repeated), else the decoder's message (its type's name when it has none)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()) or type(error).__name__


def read_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` as RGB ``(H, W, 3) uint8``, EXIF orientation applied.

    Every Pillow mode is converted (see the module's docstring); an animated GIF or WebP
    gives its first frame, a multi-page TIFF its first page.  Raises a one-line
    ``ValueError`` starting with ``path`` for an empty file, a file that is not an image
    or is truncated or corrupt (whatever the decoder raised), an image over
    :data:`MAX_PIXELS` pixels or Pillow's decompression-bomb limit, and one with a side
    under :data:`MIN_SIDE` pixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the file ({_one_line(exc)})") from None
    if size == 0:
        raise ValueError(f"{path}: empty file (0 bytes), not an image")
    try:
        with warnings.catch_warnings():
            # one line per file: an image or an error, no decoder warnings (corrupt EXIF,
            # Pillow's decompression-bomb warning at 89 Mpx: MAX_PIXELS is the limit)
            warnings.simplefilter("ignore")
            with Image.open(path) as handle:
                width, height = handle.size
                if width * height <= MAX_PIXELS:
                    handle.load()
                    ImageOps.exif_transpose(handle, in_place=True)  # no copy when upright
                    pixels = _to_rgb8(handle)
    except UnidentifiedImageError:
        raise ValueError(
            f"{path}: not a readable image (not an image format Pillow knows)"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{path}: image too large to read safely ({_one_line(exc)})") from None
    except Exception as exc:  # a decoder may raise anything on a corrupt or truncated file
        raise ValueError(f"{path}: not a readable image ({_one_line(exc)})") from None
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"{path}: image is {width}x{height} pixels, over the {MAX_PIXELS:,}-pixel "
            "limit; downscale it first"
        )
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ValueError(
            f"{path}: image is {width}x{height} pixels; at least {MIN_SIDE} per side needed "
            "to find a person"
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
