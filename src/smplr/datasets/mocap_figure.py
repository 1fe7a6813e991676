"""A picture of retargeted real poses next to the motion capture they came from.

Each cell shows the mocap skeleton (the mapped bones, left side blue, right side red)
and the retargeted open-model body (mean shape), both seen from the same direction:
30° off the body's front, 15° from above (from the side for bodies lying down).

Run: ``smplr data mocap-figure --out docs/images/real_mocap_retargeted.png`` (needs the
``mocap`` extra's packages to read the original frames).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from smplr.atomic_io import save_figure_atomic
from smplr.body.model import BodyModel
from smplr.datasets.real_mocap import Clip, RealPoses
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.render.camera import fit_camera
from smplr.render.image import composite, to_uint8
from smplr.render.renderer import render_shaded

BACKGROUND = (0.93, 0.94, 0.95)
SHOWN_DEEPMIMIC = (
    "humanoid3d_backflip",
    "humanoid3d_cartwheel",
    "humanoid3d_crawl",
    "humanoid3d_dance_a",
    "humanoid3d_getup_faceup",
    "humanoid3d_jump",
    "humanoid3d_roll",
    "humanoid3d_spinkick",
)


def pick_poses(poses: RealPoses, per_source: int = 8) -> np.ndarray:
    """Row indices of the poses to show: ``per_source`` evenly spread climbing poses and
    the middle frame of each of :data:`SHOWN_DEEPMIMIC`."""
    climbing = np.flatnonzero(poses.source == "holosoma")
    rows = list(climbing[np.linspace(0, len(climbing) - 1, per_source).round().astype(int)])
    for clip in SHOWN_DEEPMIMIC[:per_source]:
        index = np.flatnonzero(poses.clip == clip)
        rows.append(index[len(index) // 2])
    return np.asarray(rows)


def view_direction(global_orient: np.ndarray) -> torch.Tensor:
    """Camera viewing direction ``(3,)`` for a body with root rotation ``global_orient (3,)``."""
    rotation = axis_angle_to_matrix(torch.as_tensor(global_orient, dtype=torch.float64))
    facing = rotation[:, 2].clone()
    facing[1] = 0.0
    if facing.norm() < 0.5:  # lying or upside down: look from the body's side
        facing = rotation[:, 0].clone()
        facing[1] = 0.0
    facing = facing / facing.norm()
    turn = axis_angle_to_matrix(torch.tensor([0.0, math.radians(30.0), 0.0], dtype=torch.float64))
    direction = -(turn @ facing)
    direction[1] = -math.tan(math.radians(15.0))
    return direction / direction.norm()


def _sticks(ax, clip: Clip, frame: int, direction: torch.Tensor, size: int) -> None:
    points = torch.as_tensor(clip.points[frame][None], dtype=torch.float64)
    camera = fit_camera(points, direction, size, size, margin=0.1)
    pixels = camera.project(points)[0][0].numpy()
    ax.imshow(np.ones((size, size, 3)) * np.asarray(BACKGROUND))
    names = list(clip.joint_names)
    for bone in clip.bones:
        a, b = (pixels[names.index(n)] for n in bone.source)
        colour = "tab:blue" if bone.name.startswith("left") else "tab:red"
        colour = "0.2" if not bone.name.startswith(("left", "right")) else colour
        ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, lw=2.0, solid_capstyle="round")


def _mesh(body: BodyModel, poses: RealPoses, row: int, direction: torch.Tensor, size: int):
    with torch.no_grad():
        out = body(
            global_orient=torch.as_tensor(poses.global_orient[row : row + 1]).double(),
            body_pose=torch.as_tensor(poses.body_pose[row : row + 1]).double(),
        )
        camera = fit_camera(out.vertices, direction, size, size, margin=0.06)
        rgba = render_shaded(out.vertices, body.faces, camera, supersample=2)
    return to_uint8(composite(rgba, BACKGROUND)[0])


def save_figure(path: str | Path, poses: RealPoses, clips: list[Clip], size: int = 220) -> Path:
    """Draw the picked poses (4 columns of skeleton + body pairs) into ``path`` (.png)."""
    body = BodyModel.open("neutral", dtype=torch.float64)
    by_name = {clip.name: clip for clip in clips}
    rows = pick_poses(poses)
    columns = 4
    lines = math.ceil(len(rows) / columns)
    figure, axes = plt.subplots(lines, 2 * columns, figsize=(2 * columns * 1.6, lines * 1.85))
    for cell, row in enumerate(rows):
        direction = view_direction(poses.global_orient[row])
        clip = by_name[str(poses.clip[row])]
        left, right = axes.flat[2 * cell], axes.flat[2 * cell + 1]
        _sticks(left, clip, int(poses.frame[row]), direction, size)
        right.imshow(_mesh(body, poses, row, direction, size))
        label = (
            str(poses.clip[row]).replace("humanoid3d_", "").replace("mocap_climb_seq_", "climb ")
        )
        left.set_title(f"{label} #{poses.frame[row]}", fontsize=7, loc="left")
        right.set_title(f"{poses.error_degrees[row]:.1f}° ({poses.split[row]})", fontsize=7)
    for ax in axes.flat:
        ax.set_axis_off()
    figure.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.01, wspace=0.02, hspace=0.12)
    try:
        return save_figure_atomic(figure, path, dpi=110)
    finally:
        plt.close(figure)
