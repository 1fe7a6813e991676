"""Random occluders in front of the person: ellipses, rectangles and bars with a texture.

Each occluder is placed near the person (its centre inside the person box grown by half
its size), 15-45 % of the person box's longer side, rotated at random, and filled with a
plain colour or a texture (a procedural background or a crop of a background photo).
The union of the occluders is returned as a mask; keypoints under it are not visible.
"""

from __future__ import annotations

import math

import torch

from smplr.image_data.backgrounds import Backgrounds


def draw_occluders(
    images: torch.Tensor,
    boxes: torch.Tensor,
    generator: torch.Generator,
    probability: float,
    textures: Backgrounds,
    most: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Paint occluders over ``images (B, H, W, 3)`` float around person ``boxes (B, 4)``
    (x0, y0, x1, y1 pixels): each image gets 1..``most`` with ``probability``.

    Returns the painted images and the occluder masks ``(B, H, W)`` bool.
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"occluder probability must be in [0, 1], got {probability}")
    batch, height, width, _ = images.shape
    masks = torch.zeros(batch, height, width, dtype=torch.bool)
    chosen = torch.rand(batch, generator=generator) < probability
    counts = torch.randint(1, most + 1, (batch,), generator=generator)
    ys_all = torch.arange(height, dtype=torch.float32)[:, None]
    xs_all = torch.arange(width, dtype=torch.float32)[None, :]
    images = images.clone()
    for i in torch.nonzero(chosen).flatten().tolist():
        x0, y0, x1, y1 = boxes[i].tolist()
        extent = max(x1 - x0, y1 - y0, 8.0)
        for _ in range(int(counts[i])):
            size = extent * (0.15 + 0.3 * float(torch.rand((), generator=generator)))
            aspect = 0.3 + 1.4 * float(torch.rand((), generator=generator))
            cx = x0 - size / 2 + (x1 - x0 + size) * float(torch.rand((), generator=generator))
            cy = y0 - size / 2 + (y1 - y0 + size) * float(torch.rand((), generator=generator))
            angle = math.pi * float(torch.rand((), generator=generator))
            a, b = size / 2, size * aspect / 2
            kind = int(torch.randint(3, (), generator=generator))
            # Only the pixels within the shape's circumscribed circle are evaluated.
            half = (a, b) if kind < 2 else (a * 3, b * 0.25)
            radius = math.hypot(*half) + 1.0
            top, left = max(0, math.floor(cy - radius)), max(0, math.floor(cx - radius))
            bottom = min(height, math.ceil(cy + radius) + 1)
            right = min(width, math.ceil(cx + radius) + 1)
            ys, xs = ys_all[top:bottom], xs_all[:, left:right]
            u = (xs - cx) * math.cos(angle) + (ys - cy) * math.sin(angle)
            v = -(xs - cx) * math.sin(angle) + (ys - cy) * math.cos(angle)
            if kind == 0:  # ellipse
                shape = (u / a) ** 2 + (v / b) ** 2 <= 1.0
            elif kind == 1:  # rectangle
                shape = (u.abs() <= a) & (v.abs() <= b)
            else:  # long bar (a pole, a table edge)
                shape = (u.abs() <= a * 3) & (v.abs() <= b * 0.25)
            if float(torch.rand((), generator=generator)) < 0.35:
                fill = torch.rand(3, generator=generator).expand(height, width, 3)
            else:
                fill = textures.draw(1, height, width, generator)[0][0]
            window = images[i, top:bottom, left:right]
            window.copy_(torch.where(shape[..., None], fill[top:bottom, left:right], window))
            masks[i, top:bottom, left:right] |= shape
    return images, masks
