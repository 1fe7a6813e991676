"""The input every image model takes: square RGB crops in [0, 1], standardised per channel."""

from __future__ import annotations

import torch

from smplr.image_model.config import ImageModelConfig

IMAGE_MEAN = (0.485, 0.456, 0.406)  # per-channel normalisation of [0, 1] RGB input
IMAGE_STD = (0.229, 0.224, 0.225)


def normalise_images(images: torch.Tensor, config: ImageModelConfig) -> torch.Tensor:
    """Check ``images (B, 3, S, S)`` (``S = config.input_size``, values in [0, 1]) and
    standardise each channel."""
    size = config.input_size
    if images.ndim != 4 or images.shape[1:] != (3, size, size):
        raise ValueError(
            f"images must be (B, 3, {size}, {size}) RGB in [0, 1], got {tuple(images.shape)}"
        )
    if not images.is_floating_point():
        raise ValueError(f"images must be floating point in [0, 1], got {images.dtype}")
    mean = torch.tensor(IMAGE_MEAN, dtype=images.dtype, device=images.device)[:, None, None]
    std = torch.tensor(IMAGE_STD, dtype=images.dtype, device=images.device)[:, None, None]
    return (images - mean) / std
