"""Backgrounds: procedural pictures, photos shipped inside installed packages, user folders.

Sources (:func:`background_sources`):

- ``procedural``: gradients, low-frequency colour noise, a floor/wall split, random
  rectangles; drawn on the fly, endless.
- ``packages``: the natural photos that ship inside installed packages, people excluded
  (they would be unlabelled people): scikit-image's ``skimage/data`` (the ``images`` extra)
  and matplotlib's ``sample_data``.  :data:`HELD_OUT_PHOTOS` are kept out of the training
  split and are the only photos of the test split, so a test set has unseen backgrounds.
- ``--backgrounds DIR``: every readable image under ``DIR`` (e.g. a copy of Pascal VOC or
  LSUN, as SURREAL used), at most ``max_files`` of them (sorted, evenly spaced).

Every photo is converted to 8-bit RGB on loading: greyscale is repeated, 16-bit is scaled
down, alpha is dropped (the picture is shown as if opaque), palette images are expanded.
Unreadable files (not an image, truncated or corrupt) are skipped with a one-line warning;
a folder with no usable image is an error.  Photos are scaled so their short side is at
most :data:`MAX_SIDE` pixels and kept in memory; each background is a random crop (a
quarter to all of the short side), randomly mirrored, resized to the output.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
MAX_SIDE = 512

# Photos of packages: (package, folder inside it, file names); people left out on purpose
# (skimage astronaut, camera, lfw_subset; matplotlib grace_hopper).
PACKAGE_PHOTOS: dict[str, tuple[str, ...]] = {
    "skimage": (
        "brick.png",
        "grass.png",
        "gravel.png",
        "chelsea.png",
        "coffee.png",
        "coins.png",
        "hubble_deep_field.jpg",
        "ihc.png",
        "motorcycle_left.png",
        "motorcycle_right.png",
        "rocket.jpg",
        "moon.png",
        "page.png",
        "text.png",
        "retina.jpg",
        "color.png",
        "clock_motion.png",
        "chessboard_RGB.png",
    ),
    "matplotlib": ("Minduka_Present_Blue_Pack.png", "logo2.png"),
}
HELD_OUT_PHOTOS: frozenset[str] = frozenset(
    {"skimage/coffee.png", "skimage/rocket.jpg", "matplotlib/Minduka_Present_Blue_Pack.png"}
)
"""Photos only the test split uses (``package/file``)."""


@dataclass
class Photo:
    """One loaded background photo: ``pixels (H, W, 3)`` uint8 and its ``name``."""

    name: str
    pixels: torch.Tensor


def _package_folder(package: str) -> Path | None:
    try:
        if package == "skimage":
            import importlib.util

            spec = importlib.util.find_spec("skimage")
            if spec is None or spec.origin is None:
                return None
            return Path(spec.origin).parent / "data"
        import matplotlib

        return Path(matplotlib.get_data_path()) / "sample_data"
    except ImportError:
        return None


def read_photo(path: Path) -> np.ndarray:
    """An image file as 8-bit RGB ``(H, W, 3)``; ValueError (one line) when unreadable.

    Greyscale is repeated to RGB, 16-bit and float images are scaled to 8 bits, alpha is
    dropped, palette images are expanded.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()  # decodes fully: truncated or corrupt data fails here
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(image, dtype=np.float64)
                top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
                array = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
                return np.repeat(array[..., None], 3, axis=2)
            if image.mode == "F":
                array = np.asarray(image, dtype=np.float64)
                span = max(float(array.max() - array.min()), 1e-12)
                array = ((array - array.min()) / span * 255.0 + 0.5).astype(np.uint8)
                return np.repeat(array[..., None], 3, axis=2)
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from exc


def _shrink(pixels: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` scaled so its short side is at most :data:`MAX_SIDE`."""
    tensor = torch.from_numpy(np.array(pixels, dtype=np.uint8))  # a writable copy
    short = min(tensor.shape[:2])
    if short <= MAX_SIDE:
        return tensor
    size = [round(s * MAX_SIDE / short) for s in tensor.shape[:2]]
    chw = tensor.permute(2, 0, 1)[None].float()
    small = F.interpolate(chw, size=size, mode="area")[0].permute(1, 2, 0)
    return small.round().clamp(0, 255).to(torch.uint8).contiguous()


def package_photos(split: str = "train") -> list[Photo]:
    """The background photos of installed packages for ``split`` (``train``: all but
    :data:`HELD_OUT_PHOTOS`; ``test``: only those)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    photos = []
    for package, names in PACKAGE_PHOTOS.items():
        folder = _package_folder(package)
        if folder is None:
            continue
        for name in names:
            key = f"{package}/{name}"
            if (key in HELD_OUT_PHOTOS) != (split == "test") or not (folder / name).is_file():
                continue
            photos.append(Photo(key, _shrink(read_photo(folder / name))))
    return photos


def folder_photos(
    folder: str | Path, max_files: int = 500, warn: Callable[[str], None] | None = None
) -> list[Photo]:
    """Every readable image under ``folder`` (recursively; at most ``max_files``, evenly
    spaced over the sorted file list).  Unreadable files are skipped with a warning;
    ValueError (one line) when the folder is missing or holds no usable image."""
    folder = Path(folder)
    warn = warn or (lambda message: warnings.warn(message, stacklevel=3))
    if not folder.is_dir():
        raise ValueError(f"--backgrounds {folder}: not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise ValueError(
            f"--backgrounds {folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) among "
            f"{len(files)} file(s)"
        )
    if len(images) > max_files:
        step = len(images) / max_files
        images = [images[int(i * step)] for i in range(max_files)]
    photos, skipped = [], []
    for path in images:
        try:
            pixels = read_photo(path)
        except ValueError as exc:
            skipped.append(str(exc))
            continue
        if min(pixels.shape[:2]) < 8:
            skipped.append(f"{path}: too small ({pixels.shape[1]}x{pixels.shape[0]} pixels)")
            continue
        photos.append(Photo(str(path.relative_to(folder)), _shrink(pixels)))
    if not photos:
        raise ValueError(
            f"--backgrounds {folder}: none of {len(images)} image file(s) is readable "
            f"(first: {skipped[0]})"
        )
    for message in skipped:
        warn(f"skipped background {message}")
    return photos


class Backgrounds:
    """Draws backgrounds ``(B, H, W, 3)`` float in [0, 1]: a share ``procedural`` of them
    procedural, the rest random crops of ``photos`` (all procedural when there are none)."""

    def __init__(self, photos: list[Photo], procedural: float = 0.3) -> None:
        if not 0.0 <= procedural <= 1.0:
            raise ValueError(f"procedural share must be in [0, 1], got {procedural}")
        self.photos = photos
        self.procedural = procedural if photos else 1.0

    def draw(
        self, batch: int, height: int, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, list[str]]:
        """``batch`` backgrounds ``(B, H, W, 3)`` and the name of each one's source."""
        out = torch.empty(batch, height, width, 3)
        names = []
        kinds = torch.rand(batch, generator=generator)
        picks = torch.randint(max(1, len(self.photos)), (batch,), generator=generator)
        for i in range(batch):
            if kinds[i] < self.procedural:
                out[i] = procedural_background(height, width, generator)
                names.append("procedural")
            else:
                photo = self.photos[int(picks[i])]
                out[i] = random_crop(photo.pixels, height, width, generator)
                names.append(photo.name)
        return out, names


def random_crop(
    pixels: torch.Tensor, height: int, width: int, generator: torch.Generator
) -> torch.Tensor:
    """A random crop of ``pixels (h, w, 3)`` uint8 with the output's aspect ratio, a
    quarter to all of the largest such crop, maybe mirrored, resized: ``(H, W, 3)`` float."""
    h, w = pixels.shape[:2]
    scale = 0.25 + 0.75 * float(torch.rand((), generator=generator))
    crop_h = max(2, min(h, round(min(h, w * height / width) * scale)))
    crop_w = max(2, min(w, round(crop_h * width / height)))
    top = int(torch.randint(h - crop_h + 1, (), generator=generator))
    left = int(torch.randint(w - crop_w + 1, (), generator=generator))
    # Resized as 8 bits, channels last (as the photo is stored): several times faster than
    # in floats and within 1/255 of it.
    patch = pixels[top : top + crop_h, left : left + crop_w].permute(2, 0, 1)[None]
    resized = F.interpolate(patch, size=(height, width), mode="bilinear", align_corners=False)
    image = resized[0].permute(1, 2, 0)
    if float(torch.rand((), generator=generator)) < 0.5:
        image = image.flip(1)
    return image.float() / 255.0


def procedural_background(height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """One procedural background ``(H, W, 3)`` float: a tilted two-colour gradient,
    low-frequency colour waves, maybe a floor/wall split and a few rectangles.  Drawn at
    a quarter of the resolution and scaled up (its content is smooth; 16x less work)."""
    g = generator
    small_h, small_w = max(2, height // 4), max(2, width // 4)
    ys = torch.linspace(0, 1, small_h)[:, None].expand(small_h, small_w)
    xs = torch.linspace(0, 1, small_w)[None, :].expand(small_h, small_w)
    colours = torch.rand(4, 3, generator=g) * 0.9 + 0.05
    angle = float(torch.rand((), generator=g)) * 2 * math.pi
    ramp = (xs * math.cos(angle) + ys * math.sin(angle)).clamp(0, 1)[..., None]
    image = colours[0] * (1 - ramp) + colours[1] * ramp
    waves = torch.zeros(small_h, small_w)
    for _ in range(3):
        fx, fy = (torch.rand(2, generator=g) * 12).tolist()
        phase = float(torch.rand((), generator=g)) * 6.28
        waves += torch.sin(2 * math.pi * (fx * xs + fy * ys) + phase)
    image = image + 0.08 * waves[..., None] * (colours[2] - 0.5)
    if float(torch.rand((), generator=g)) < 0.5:  # floor and wall
        horizon = 0.4 + 0.4 * float(torch.rand((), generator=g))
        floor = (ys > horizon)[..., None]
        image = torch.where(floor, image * 0.5 + colours[3] * 0.5, image)
    for _ in range(int(torch.randint(0, 5, (), generator=g))):
        x0, y0, w, h = torch.rand(4, generator=g).tolist()
        box = (xs >= x0) & (xs <= x0 + w * 0.5) & (ys >= y0) & (ys <= y0 + h * 0.5)
        image = torch.where(box[..., None], torch.rand(3, generator=g), image)
    full = F.interpolate(
        image.permute(2, 0, 1)[None], size=(height, width), mode="bilinear", align_corners=False
    )
    return full[0].permute(1, 2, 0).clamp(0.0, 1.0)
