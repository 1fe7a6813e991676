"""Images: alpha compositing, mesh overlays, PNG files (through matplotlib, no extra deps).

Images are float arrays in [0, 1], channels last: ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA
with straight (not premultiplied) alpha, or ``(H, W)`` grey / masks; batched variants
carry a leading ``B``.  Functions accept torch tensors or numpy arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import atomic_write

ArrayLike = torch.Tensor | np.ndarray


def _as_tensor(image: ArrayLike | tuple | list, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    if tensor.dtype == torch.uint8:
        return tensor.to(torch.get_default_dtype()) / 255.0
    if tensor.dtype == torch.bool:
        return tensor.to(torch.get_default_dtype())
    if not tensor.is_floating_point():
        raise ValueError(f"{name} must be float in [0, 1], uint8 or bool, got {tensor.dtype}")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return tensor


def composite(
    rgba: ArrayLike, background: ArrayLike | tuple[float, float, float] = (1.0, 1.0, 1.0)
) -> torch.Tensor:
    """``rgba (..., H, W, 4)`` over ``background`` -> RGB ``(..., H, W, 3)`` in [0, 1].

    ``background`` is an image that broadcasts against the RGB part (``(H, W, 3)``,
    ``(B, H, W, 3)``, uint8 or float) or one colour ``(r, g, b)`` in [0, 1].
    """
    rgba = _as_tensor(rgba, "rgba")
    if rgba.ndim < 3 or rgba.shape[-1] != 4:
        raise ValueError(f"rgba has shape {tuple(rgba.shape)}; expected (..., H, W, 4)")
    back = _as_tensor(background, "background").to(rgba.device, rgba.dtype)
    if back.ndim >= 3 and back.shape[-3:-1] != rgba.shape[-3:-1]:
        raise ValueError(
            f"background is {tuple(back.shape[-3:-1])} pixels but the rendering is {tuple(rgba.shape[-3:-1])}"
        )
    if back.shape[-1:] != (3,):
        raise ValueError(
            f"background has shape {tuple(back.shape)}; expected (..., H, W, 3) or an RGB colour"
        )
    alpha = rgba[..., 3:]
    return rgba[..., :3] * alpha + back * (1.0 - alpha)


def overlay(image: ArrayLike, rgba: ArrayLike, opacity: float = 0.7) -> torch.Tensor:
    """A rendered mesh ``rgba (H, W, 4)`` laid over a photo ``image (H, W, 3)`` with the
    mesh at ``opacity``: RGB ``(H, W, 3)``. Batched inputs ``(B, H, W, ·)`` work too."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    rgba = _as_tensor(rgba, "rgba").clone()
    rgba[..., 3] = rgba[..., 3] * opacity
    return composite(rgba, image)


def to_uint8(image: ArrayLike) -> np.ndarray:
    """Float image in [0, 1] (values outside are clipped), uint8 or bool -> uint8 numpy array."""
    tensor = _as_tensor(image, "image")
    return (tensor.detach().cpu().clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).numpy()


def save_png(path: str | Path, image: ArrayLike) -> Path:
    """Write ``image`` — ``(H, W)`` grey or mask, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA,
    float in [0, 1], uint8 or bool — as a PNG file, whole or not at all (parent folders
    are created)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: expected a .png file name")
    pixels = to_uint8(image)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"image has shape {pixels.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    from matplotlib import image as mpl_image

    with atomic_write(path) as handle:
        mpl_image.imsave(handle, pixels, format="png")  # type: ignore[arg-type]  # a binary file
    return path


def load_image(path: str | Path) -> torch.Tensor:
    """Read a PNG or JPEG as RGB float ``(H, W, 3)`` in [0, 1] (alpha is dropped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    from matplotlib import image as mpl_image

    try:
        pixels = np.asarray(mpl_image.imread(path))
    except Exception as exc:  # matplotlib/PIL raise assorted errors on unreadable files
        raise ValueError(f"{path}: not a readable image ({exc})") from exc
    tensor = _as_tensor(pixels, "image")
    if tensor.ndim == 2:
        tensor = tensor[..., None].expand(*tensor.shape, 3)
    return tensor[..., :3].contiguous()
