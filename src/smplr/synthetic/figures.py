"""Pictures of the pose prior: a grid of sampled poses, one row per family.

Run ``python -m smplr.synthetic.figures docs/images/synthetic_poses.png`` to redraw
the picture in ``docs/synthetic_data.md``.  With the open body model installed the
grid shows its shaded meshes (``smplr.render``), or with ``--skeleton`` its JL as
stick figures (24 joints + 18 landmarks along κ); without it, the prior's reference
skeleton (24 joints).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from mpl_toolkits.mplot3d import Axes3D

from smplr.atomic_io import save_figure_atomic
from smplr.body.model import GenderedBodyModel
from smplr.body.model_file import ModelFileError
from smplr.body.skeleton import JL_NAMES, JL_PARENTS, JOINT_NAMES, PARENTS
from smplr.render import composite, front_view_camera, render_shaded
from smplr.synthetic.bodies import pose_bodies
from smplr.synthetic.poses import FAMILY_NAMES, PosePrior
from smplr.synthetic.reference_skeleton import pose_reference_skeleton
from smplr.synthetic.shapes import sample_shapes

LEFT_COLOUR, RIGHT_COLOUR, CENTRE_COLOUR = "tab:red", "tab:blue", "0.2"


def _colour(name: str) -> str:
    if "left" in name:
        return LEFT_COLOUR
    if "right" in name:
        return RIGHT_COLOUR
    return CENTRE_COLOUR


def draw_skeleton(ax, points, parents, names, azimuth: float = -60.0) -> None:
    """Draw one stick figure ``points (K, 3)`` (SMPL axes, Y up) on a 3D matplotlib axis,
    seen from the front-left (``azimuth`` −90° is straight from the front)."""
    for i, p in enumerate(parents):
        if p < 0:
            continue
        xs, ys, zs = zip(points[i], points[p], strict=True)
        # matplotlib's vertical axis is its third: SMPL (x, y, z) -> (x, −z, y), a rotation.
        ax.plot(xs, [-z for z in zs], ys, color=_colour(names[i]), lw=2.2, solid_capstyle="round")
    bottom = float(points[:, 1].min())
    ax.plot([-0.6, 0.6, 0.6, -0.6, -0.6], [-0.6, -0.6, 0.6, 0.6, -0.6], [bottom] * 5, c="0.85")
    centre = points.mean(0)
    for setter, c in (
        (ax.set_xlim, centre[0]),
        (ax.set_ylim, -centre[2]),
        (ax.set_zlim, centre[1]),
    ):
        setter(float(c) - 0.85, float(c) + 0.85)
    ax.set_box_aspect((1, 1, 1))
    ax.set_proj_type("ortho")
    ax.view_init(elev=12, azim=azimuth)
    ax.set_axis_off()


def _draw_mesh(ax, vertices: torch.Tensor, faces: torch.Tensor, height: int = 240) -> None:
    """Shaded picture of one body ``vertices (V, 3)`` seen from the front-left."""
    camera = front_view_camera(vertices[None], (3 * height) // 4, height, 30.0, 10.0)
    rgba = render_shaded(vertices[None], faces, camera, supersample=2)
    ax.imshow(composite(rgba[0], (1.0, 1.0, 1.0)).numpy())
    ax.set_axis_off()


def pose_grid(
    path: str | Path,
    per_family: int = 6,
    seed: int = 0,
    body: GenderedBodyModel | None = None,
    families: tuple[str, ...] = FAMILY_NAMES,
    mesh: bool = False,
) -> Path:
    """Sample ``per_family`` poses of each family (facing +Z, no extra tilt) and save a
    grid: shaded meshes of ``body`` if ``mesh``, else stick figures of its JL (or of
    the reference skeleton without a body)."""
    if mesh and body is None:
        raise ValueError("drawing meshes needs a body model")
    fig = plt.figure(figsize=(2.1 * per_family, 2.4 * len(families) * (1.25 if mesh else 1)))
    for row, family in enumerate(families):
        prior = PosePrior(family_weights={family: 1.0}, tilt_probability=0.0, heading_degrees=0.0)
        generator = torch.Generator().manual_seed(seed)
        global_orient, body_pose = prior.sample(per_family, generator)
        if body is None:
            points, _ = pose_reference_skeleton(global_orient, body_pose)
            parents, names = PARENTS, JOINT_NAMES
        else:
            betas, gender = sample_shapes(per_family, generator)
            with torch.no_grad():
                bodies = pose_bodies(body, betas, gender, global_orient, body_pose, mesh)
            points, parents, names = bodies.jl, JL_PARENTS, JL_NAMES
        for col in range(per_family):
            index = row * per_family + col + 1
            if mesh:
                # body was checked above; pose_bodies returns vertices when asked (mesh)
                assert body is not None and bodies.vertices is not None
                ax = fig.add_subplot(len(families), per_family, index)
                _draw_mesh(ax, bodies.vertices[col], body.faces)
            else:
                ax = fig.add_subplot(len(families), per_family, index, projection="3d")
                draw_skeleton(ax, points[col].numpy(), parents, names)
            if col == 0:
                label = ax.text if mesh else cast(Axes3D, ax).text2D
                label(0.0, 0.95, family, transform=ax.transAxes, fontsize=10)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, wspace=0, hspace=0)
    save_figure_atomic(fig, path, dpi=80)
    plt.close(fig)
    return Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", help="output PNG")
    parser.add_argument("--per-family", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", default=",".join(FAMILY_NAMES))
    parser.add_argument("--skeleton", action="store_true", help="stick figures, not meshes")
    args = parser.parse_args()
    try:
        body = GenderedBodyModel.open()
    except ModelFileError:
        body = None
        print("open body model not installed: drawing the prior's reference skeleton")
    families = tuple(args.families.split(","))
    mesh = body is not None and not args.skeleton
    print(pose_grid(args.path, args.per_family, args.seed, body, families, mesh))


if __name__ == "__main__":
    main()
