"""The paper's augmentations (4.1) on one annotated image, keeping every annotation exact.

A *record* is one image's dict of arrays (:data:`smplr.image_data.scene.RECORD_KEYS`,
without the batch dimension).  Each function returns a new record:

- :func:`flip`: mirror left/right.  The image and maps are mirrored, the principal point
  moves to ``W − 1 − cx``, camera-frame points get ``x → −x``, and left and right swap in
  the keypoints (:data:`~smplr.body.skeleton.JL_MIRROR`), the part labels and the pose
  (:func:`~smplr.synthetic.pose_sources.mirror`).  The mirrored pose on the same betas is
  the mirrored body up to the body model's own left/right asymmetry (millimetres).
- :func:`rotate_scale`: turn the image about the principal point and zoom it.  That is
  exactly a camera rolled about its optical axis with a longer focal length, so the 3D
  annotations rotate with the camera (``jl3d``, ``global_orient``, ``transl``) and ``K``
  scales; nothing is approximated.
- :func:`colour_jitter`: brightness, contrast, saturation and per-channel gains.
- :func:`swap_background`: a new background wherever neither the person nor an occluder is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from smplr.body.skeleton import JL_MIRROR, JOINT_MIRROR
from smplr.geometry.rotations import axis_angle_to_matrix, axis_rotation, matrix_to_axis_angle
from smplr.image_data.backgrounds import Backgrounds
from smplr.synthetic.pose_sources import Poses, mirror

Record = dict[str, np.ndarray]
_PART_MIRROR = np.array([0, *[1 + m for m in JOINT_MIRROR]], dtype=np.uint8)
_MAPS = ("silhouette", "parts", "depth", "occluders")


def flip(record: Record) -> Record:
    """``record`` mirrored left/right (see the module docstring)."""
    out = dict(record)
    width = record["image"].shape[1]
    out["image"] = record["image"][:, ::-1].copy()
    for name in _MAPS:
        out[name] = record[name][:, ::-1].copy()
    out["parts"] = _PART_MIRROR[out["parts"]]
    order = list(JL_MIRROR)
    jl3d = record["jl3d"][order].copy()
    jl3d[:, 0] *= -1
    out["jl3d"] = jl3d
    jl2d = record["jl2d"][order].copy()
    jl2d[:, 0] = width - 1 - jl2d[:, 0]
    out["jl2d"] = jl2d
    for name in ("in_image", "occluded", "visible"):
        out[name] = record[name][order].copy()
    K = record["K"].copy()
    K[0, 2] = width - 1 - K[0, 2]
    out["K"] = K
    poses = mirror(
        Poses(
            torch.as_tensor(record["global_orient"])[None],
            torch.as_tensor(record["body_pose"])[None],
        )
    )
    out["global_orient"] = poses.global_orient[0].numpy().astype(np.float32)
    out["body_pose"] = poses.body_pose[0].numpy().astype(np.float32)
    out["transl"] = (jl3d[0] - record["pelvis_rest"]).astype(np.float32)
    x0, y0, x1, y1 = record["box"]
    out["box"] = np.array([width - 1 - x1, y0, width - 1 - x0, y1], dtype=np.float32)
    return out


def rotate_scale(record: Record, degrees: float, scale: float) -> Record:
    """``record`` turned by ``degrees`` (clockwise on the screen, as the camera rolls the
    other way) about the image centre and zoomed by ``scale`` (> 1: the person grows).
    Pixels that come from outside the old image become background (no person, no occluder).

    Turning about the image centre ``c`` (where the paper's crop puts the body) rather
    than the principal point ``p`` is exact too: the image map ``T(c)·s·R·T(−c)`` times
    ``K`` equals ``K'·R_z``, a camera roll ``R_z`` with focal ``s·f`` and principal point
    ``c + s·R·(p − c)`` — so the person stays centred in the crop (turning about a
    principal point far from the centre moved people up to 56 px off it)."""
    if scale <= 0 or not math.isfinite(scale) or not math.isfinite(degrees):
        raise ValueError(f"scale must be positive and both finite, got {degrees}, {scale}")
    out = dict(record)
    height, width = record["image"].shape[:2]
    K = record["K"].astype(np.float64)
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    angle = math.radians(degrees)
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    # Output pixel p' shows input pixel p = c + Rᵀ (p' − c) / s.
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    target = np.stack([xs, ys], -1).reshape(-1, 2) - centre
    source = target @ turn / scale + centre  # row vectors: (Rᵀ x)ᵀ = xᵀ R
    grid = torch.as_tensor(source, dtype=torch.float32).view(1, height, width, 2)
    grid = grid / torch.tensor([(width - 1) / 2, (height - 1) / 2]) - 1.0

    def warp(array: np.ndarray, mode: str) -> np.ndarray:
        tensor = torch.tensor(array, dtype=torch.float32)  # a copy: arrays may be read-only
        chw = tensor.permute(2, 0, 1) if tensor.ndim == 3 else tensor[None]
        warped = F.grid_sample(chw[None], grid, mode=mode, align_corners=True)[0]
        return (warped.permute(1, 2, 0) if tensor.ndim == 3 else warped[0]).numpy()

    inside = warp(np.ones((height, width), np.float32), "nearest") > 0.5
    out["image"] = np.clip(warp(record["image"], "bilinear") + 0.5, 0, 255).astype(np.uint8)
    out["silhouette"] = (warp(record["silhouette"], "nearest") > 0.5) & inside
    out["occluders"] = (warp(record["occluders"], "nearest") > 0.5) & inside
    out["parts"] = np.where(out["silhouette"], warp(record["parts"], "nearest"), 0).astype(np.uint8)
    out["depth"] = np.where(out["silhouette"], warp(record["depth"], "nearest"), 0).astype(
        np.float32
    )
    roll = axis_rotation(torch.tensor(angle, dtype=torch.float64), 2)
    out["jl3d"] = (record["jl3d"].astype(np.float64) @ roll.numpy().T).astype(np.float32)
    out["jl2d"] = ((record["jl2d"] - centre) @ turn.T * scale + centre).astype(np.float32)
    K = K.copy()
    K[0, 0] *= scale
    K[1, 1] *= scale
    K[:2, 2] = centre + scale * turn @ (K[:2, 2] - centre)
    out["K"] = K.astype(np.float32)
    orient = axis_angle_to_matrix(torch.as_tensor(record["global_orient"], dtype=torch.float64))
    out["global_orient"] = matrix_to_axis_angle(roll @ orient).numpy().astype(np.float32)
    rest = record["pelvis_rest"].astype(np.float64)
    out["transl"] = ((record["transl"] + rest) @ roll.numpy().T - rest).astype(np.float32)
    u, v = out["jl2d"][:, 0].round(), out["jl2d"][:, 1].round()
    out["in_image"] = (u >= 0) & (u <= width - 1) & (v >= 0) & (v <= height - 1)
    out["in_image"] &= out["jl3d"][:, 2] > 0
    out["occluded"] = record["occluded"] & out["in_image"]
    out["visible"] = out["in_image"] & ~out["occluded"]
    out["box"] = _box(out["silhouette"], out["jl2d"], width, height)
    return out


def _box(mask: np.ndarray, points: np.ndarray, width: int, height: int) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    if rows.size:
        return np.array([cols.min(), rows.min(), cols.max(), rows.max()], dtype=np.float32)
    lo = np.clip(points.min(0), 0, None)
    hi = np.minimum(points.max(0), [width - 1, height - 1])
    return np.concatenate([lo, hi]).astype(np.float32)


def colour_jitter(record: Record, generator: torch.Generator, strength: float = 1.0) -> Record:
    """Random brightness (±30 %), contrast (±30 %), saturation (±40 %) and per-channel
    gains (±10 %), each scaled by ``strength``."""
    g = generator
    image = torch.as_tensor(record["image"]).float() / 255.0

    def factor(spread: float, n: int = 1) -> torch.Tensor:
        return 1.0 + strength * spread * (2 * torch.rand(n, generator=g) - 1)

    image = image * factor(0.3) * factor(0.1, 3)
    mean = image.mean()
    image = (image - mean) * factor(0.3) + mean
    grey = image.mean(-1, keepdim=True)
    image = (image - grey) * factor(0.4) + grey
    out = dict(record)
    out["image"] = (image.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()
    return out


def swap_background(record: Record, background: np.ndarray | torch.Tensor) -> Record:
    """``record`` with ``background (H, W, 3)`` (float in [0, 1] or uint8) wherever there is
    neither the person nor an occluder."""
    back = torch.as_tensor(np.asarray(background))
    if back.dtype != torch.uint8:
        back = (back.float().clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    if tuple(back.shape) != record["image"].shape:
        raise ValueError(
            f"background has shape {tuple(back.shape)}; the image {record['image'].shape}"
        )
    keep = (record["silhouette"] | record["occluders"])[..., None]
    out = dict(record)
    out["image"] = np.where(keep, record["image"], back.numpy())
    return out


@dataclass
class Augmentation:
    """The paper's augmentations with their probabilities and ranges.

    Attributes:
        flip: probability of a left/right flip.
        rotation_degrees: rotation uniform in ± this.
        scale: zoom range.
        colour: strength of the colour jitter (0: off).
        background_swap: probability of a new background (needs ``backgrounds``).
        backgrounds: where new backgrounds come from.
    """

    flip: float = 0.5
    rotation_degrees: float = 30.0
    scale: tuple[float, float] = field(default=(0.8, 1.2))
    colour: float = 1.0
    background_swap: float = 0.5
    backgrounds: Backgrounds | None = None

    def __call__(self, record: Record, generator: torch.Generator) -> Record:
        g = generator
        draws = torch.rand(4, generator=g).tolist()
        if draws[0] < self.flip:
            record = flip(record)
        if self.rotation_degrees > 0 or self.scale != (1.0, 1.0):
            degrees = (2 * draws[1] - 1) * self.rotation_degrees
            low, high = self.scale
            record = rotate_scale(record, degrees, low + (high - low) * draws[2])
        if self.backgrounds is not None and draws[3] < self.background_swap:
            height, width = record["image"].shape[:2]
            background = self.backgrounds.draw(1, height, width, g)[0][0]
            record = swap_background(record, background)
        if self.colour > 0:
            record = colour_jitter(record, g, self.colour)
        return record
