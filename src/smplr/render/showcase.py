"""A one-picture overview of a body model: a few shapes and a few poses, shaded.

Row 1 shows the shape space (front view, arms down): the mean shape and ±2 on the
first two betas.  Row 2 shows poses of the mean shape from a three-quarter view:
T-pose (θ = 0), walking, sitting, waving, squatting.  All bodies of a row are drawn at
one scale with their feet on one line, so differences in size are visible.

Example::

    from smplr.body import BodyModel
    from smplr.render.showcase import save_showcase

    save_showcase("model.png", BodyModel.open("female"))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import save_figure_atomic
from smplr.body.model import BodyModel
from smplr.body.skeleton import JOINT_NAMES, NUM_BODY_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.render.camera import fit_camera, orbit_direction
from smplr.render.image import composite, to_uint8
from smplr.render.renderer import render_shaded

BACKGROUND = (0.93, 0.94, 0.95)


def _rotation(*steps: tuple[str, float]) -> torch.Tensor:
    """``(3, 3)`` rotation made of turns about the parent's axes, applied in the given
    order: ``_rotation(("z", -70), ("x", -25))`` lowers an arm, then swings it forward."""
    rotation = torch.eye(3, dtype=torch.float64)
    for axis, degrees in steps:
        rotvec = torch.zeros(3, dtype=torch.float64)
        rotvec["xyz".index(axis)] = math.radians(degrees)
        rotation = axis_angle_to_matrix(rotvec) @ rotation
    return rotation


def _pose(**joints: torch.Tensor) -> torch.Tensor:
    """``body_pose (23, 3, 3)``: identity except the named joints (relative rotations)."""
    pose = torch.eye(3, dtype=torch.float64).repeat(NUM_BODY_JOINTS, 1, 1)
    for name, rotation in joints.items():
        pose[JOINT_NAMES.index(name) - 1] = rotation
    return pose


def _arms_down(**more: torch.Tensor) -> dict[str, torch.Tensor]:
    """Arms lowered from the T-pose, elbows slightly bent, plus ``more`` joints."""
    return {
        "left_shoulder": _rotation(("z", -70)),
        "right_shoulder": _rotation(("z", 70)),
        "left_elbow": _rotation(("y", -15)),
        "right_elbow": _rotation(("y", 15)),
        **more,
    }


def showcase_poses() -> dict[str, torch.Tensor]:
    """The named display poses, ``body_pose (23, 3, 3)`` float64 each.

    SMPL frame: Y up, the body faces +Z, its left is +X.  In the T-pose the left arm
    points along +X: a turn about Z lowers it (negative for the left side), about Y
    brings it forward (negative for the left side); its elbow bends forward about Y.
    A hanging limb swings forward with a negative turn about X, a knee bends with a
    positive one; a leg raised forward abducts about Y (positive for the left side).
    """
    return {
        "T-pose": _pose(),
        "arms down": _pose(**_arms_down()),
        "walking": _pose(
            **_arms_down(
                left_shoulder=_rotation(("z", -75), ("x", -20)),
                right_shoulder=_rotation(("z", 75), ("x", 20)),
                right_elbow=_rotation(("y", 10)),
                left_elbow=_rotation(("y", -35)),
            ),
            left_hip=_rotation(("x", 15)),
            left_knee=_rotation(("x", 30)),
            right_hip=_rotation(("x", -20)),
            right_knee=_rotation(("x", 8)),
        ),
        "sitting": _pose(
            **_arms_down(left_elbow=_rotation(("y", -60)), right_elbow=_rotation(("y", 60))),
            left_hip=_rotation(("x", -85), ("y", 8)),
            right_hip=_rotation(("x", -85), ("y", -8)),
            left_knee=_rotation(("x", 85)),
            right_knee=_rotation(("x", 85)),
        ),
        "waving": _pose(
            **_arms_down(right_shoulder=_rotation(("z", -10)), right_elbow=_rotation(("z", -80))),
            head=_rotation(("z", 8)),
        ),
        "squatting": _pose(
            left_shoulder=_rotation(("y", -80), ("x", 10)),
            right_shoulder=_rotation(("y", 80), ("x", 10)),
            spine1=_rotation(("x", 20)),
            left_hip=_rotation(("x", -110), ("y", 15)),
            right_hip=_rotation(("x", -110), ("y", -15)),
            left_knee=_rotation(("x", 130)),
            right_knee=_rotation(("x", 130)),
            left_ankle=_rotation(("x", -20)),
            right_ankle=_rotation(("x", -20)),
        ),
    }


@dataclass
class ShowcaseRow:
    """One row of the picture: a title and labelled RGB images ``(H, W, 3)`` uint8."""

    title: str
    labels: list[str]
    images: list[np.ndarray]


def _standing_on_ground(vertices: torch.Tensor) -> torch.Tensor:
    """Move each body so its lowest point is at y = 0 and its x/z extent is centred."""
    lo, hi = vertices.amin(dim=1), vertices.amax(dim=1)
    shift = -(lo + hi) / 2
    shift[:, 1] = -lo[:, 1]
    return vertices + shift[:, None]


def _render_row(
    model: BodyModel,
    betas: torch.Tensor,
    body_pose: torch.Tensor,
    azimuth: float,
    height: int,
    supersample: int,
) -> list[np.ndarray]:
    """Shaded pictures of bodies ``betas (N, L)``, ``body_pose (N, 23, 3, 3)``, one common scale."""
    with torch.no_grad():
        vertices = _standing_on_ground(model(betas=betas, body_pose=body_pose).vertices)
        count = vertices.shape[0]
        direction = orbit_direction(azimuth, 10.0).to(vertices.device, vertices.dtype)
        # One camera framing all bodies at once, then copied to every body of the row.
        camera = fit_camera(
            vertices.reshape(1, -1, 3), direction, cell_width(height), height, margin=0.06
        )
        camera = camera.expand(count)
        rgba = render_shaded(vertices, model.faces, camera, supersample=supersample)
        rgb = composite(rgba, BACKGROUND)
    return [to_uint8(image) for image in rgb]


def cell_width(height: int) -> int:
    """Width of one picture of the overview: portrait, 3:4."""
    return (3 * height + 2) // 4


def render_showcase(model: BodyModel, size: int = 256, supersample: int = 2) -> list[ShowcaseRow]:
    """Render the overview rows of ``model`` (see the module doc): one picture per body,
    ``size`` pixels high and :func:`cell_width` wide."""
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    device, dtype = model.device, model.dtype
    poses = {name: pose.to(device, dtype) for name, pose in showcase_poses().items()}
    shapes = {
        "mean shape": (0, 0.0),
        "β0 = −2": (0, -2.0),
        "β0 = +2": (0, 2.0),
        "β1 = −2": (1, -2.0),
        "β1 = +2": (1, 2.0),
    }
    betas = torch.zeros(len(shapes), model.num_betas, device=device, dtype=dtype)
    for row, (index, value) in enumerate(shapes.values()):
        if index < model.num_betas:
            betas[row, index] = value
    shape_images = _render_row(
        model, betas, poses["arms down"].expand(len(shapes), -1, -1, -1), 0.0, size, supersample
    )
    pose_names = ["T-pose", "walking", "sitting", "waving", "squatting"]
    pose_images = _render_row(
        model,
        torch.zeros(len(pose_names), model.num_betas, device=device, dtype=dtype),
        torch.stack([poses[name] for name in pose_names]),
        35.0,
        size,
        supersample,
    )
    return [
        ShowcaseRow("shapes (front view)", list(shapes), shape_images),
        ShowcaseRow("poses (mean shape, three-quarter view)", pose_names, pose_images),
    ]


def save_showcase(
    path: str | Path, model: BodyModel, size: int = 256, title: str | None = None
) -> Path:
    """Render the overview of ``model`` and write it as a labelled PNG grid."""
    from matplotlib.figure import Figure

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: expected a .png file name")
    rows = render_showcase(model, size)
    columns = max(len(row.images) for row in rows)
    dpi = 100
    label_px, heading_px, title_px = 22, 32, 34 if title else 0
    row_px = heading_px + size + label_px
    cell = cell_width(size)
    width_px, height_px = columns * cell, title_px + len(rows) * row_px
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, facecolor=BACKGROUND)
    font = max(8, size // 22)
    if title:
        figure.text(
            0.5, 1 - (title_px / 2) / height_px, title, ha="center", va="center", fontsize=font + 3
        )
    for r, row in enumerate(rows):
        top = title_px + r * row_px
        figure.text(
            0.5,
            1 - (top + heading_px / 2) / height_px,
            row.title,
            ha="center",
            va="center",
            fontsize=font + 1,
            weight="bold",
        )
        for c, (label, image) in enumerate(zip(row.labels, row.images, strict=True)):
            bottom = height_px - (top + heading_px + size)
            axes = figure.add_axes(
                (c * cell / width_px, bottom / height_px, cell / width_px, size / height_px)
            )
            axes.imshow(image, interpolation="none")
            axes.set_axis_off()
            figure.text(
                (c + 0.5) * cell / width_px,
                (bottom - label_px / 2) / height_px,
                label,
                ha="center",
                va="center",
                fontsize=font,
            )
    return save_figure_atomic(figure, path, dpi=dpi, facecolor=BACKGROUND)
