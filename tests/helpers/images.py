"""Image files of every kind ``smplr predict`` meets, good and bad, written with Pillow
(16-bit colour PNGs by hand: Pillow cannot write them)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

BACKGROUND = (90, 120, 150)
"""The colour of the plain photos (RGB)."""

GOOD_KINDS = (
    "rgb.png",
    "grey.png",
    "grey16.png",
    "rgb16.png",
    "rgba.png",
    "palette.png",
    "cmyk.jpg",
    "rotated.jpg",
    "animated.gif",
    "pages.tif",
)
"""Readable photos of ``width x height`` pixels as displayed (``rotated.jpg`` is stored
sideways with an EXIF orientation)."""

BAD_KINDS = {
    "text.jpg": "not a readable image",
    "empty.png": "empty file (0 bytes)",
    "truncated.jpg": "not a readable image",
    "tiny.png": "image is 10x10 pixels; at least 32 per side needed",
    "missing.png": "no such file",
}
"""Unreadable inputs and (a part of) the one-line message each gives."""


def write_png16(path: Path, values: np.ndarray) -> Path:
    """A 16-bit PNG of ``values (H, W, C) uint16``, C = 1 grey, 2 grey + alpha, 3 RGB,
    4 RGBA."""
    height, width, channels = values.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + values[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    path.write_bytes(
        signature
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def write_kind(folder: Path, kind: str, width: int = 640, height: int = 480) -> Path:
    """Write the file ``kind`` (one of :data:`GOOD_KINDS` or :data:`BAD_KINDS`) in
    ``folder``; good ones are a plain :data:`BACKGROUND` photo of ``width x height``
    (grey ones the same size); ``missing.png`` is not written."""
    path = folder / kind
    plain = Image.new("RGB", (width, height), BACKGROUND)
    if kind == "rgb.png":
        plain.save(path)
    elif kind == "grey.png":
        plain.convert("L").save(path)
    elif kind == "grey16.png":
        ramp = np.linspace(0, 65535, width * height).reshape(height, width, 1)
        write_png16(path, ramp.astype(np.uint16))
    elif kind == "rgb16.png":
        write_png16(path, np.full((height, width, 3), 257 * np.array(BACKGROUND), np.uint16))
    elif kind == "rgba.png":
        plain.convert("RGBA").save(path)
    elif kind == "palette.png":
        plain.quantize(16).save(path)
    elif kind == "cmyk.jpg":
        plain.convert("CMYK").save(path, quality=95)
    elif kind == "rotated.jpg":
        exif = Image.Exif()
        exif[0x0112] = 6  # stored sideways: turn 90° clockwise to display
        Image.new("RGB", (height, width), BACKGROUND).save(path, exif=exif, quality=95)
    elif kind == "animated.gif":
        second = Image.new("RGB", (width, height), (255, 0, 0))
        plain.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    elif kind == "pages.tif":
        plain.save(path, save_all=True, append_images=[Image.new("RGB", (20, 20))])
    elif kind == "text.jpg":
        path.write_text("not a picture\n")
    elif kind == "empty.png":
        path.write_bytes(b"")
    elif kind == "truncated.jpg":
        plain.save(path, quality=95)
        path.write_bytes(path.read_bytes()[:400])
    elif kind == "tiny.png":
        Image.new("RGB", (10, 10), BACKGROUND).save(path)
    elif kind != "missing.png":
        raise ValueError(f"unknown image kind {kind}")
    return path
