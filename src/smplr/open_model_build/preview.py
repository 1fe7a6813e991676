"""A picture to check a body model's rest pose, joints and landmarks by eye.

The meshes are drawn by smplr's own renderer (:mod:`smplr.render`); joints (all, seen
through the body) and landmarks (those facing the camera, with their names) are marked
on top with matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from smplr.render.camera import front_view_camera
from smplr.render.image import composite
from smplr.render.rasterizer import rasterize
from smplr.render.renderer import render_shaded

#: Camera turns about the vertical, in degrees, towards the body's left.
VIEWS: dict[str, float] = {"front": 0.0, "back": 180.0, "left": 90.0}


def save_landmark_preview(
    path: str | Path,
    bodies: dict[str, tuple[np.ndarray, np.ndarray]],
    faces: np.ndarray,
    landmark_ids: np.ndarray,
    landmark_names: list[str],
    size: int = 480,
) -> Path:
    """One row per body (``name -> (vertices (V, 3), joints (24, 3))``, SMPL axes), one
    column per view of :data:`VIEWS`; the landmarks in sight in red with their names, all
    joints in blue.  Writes a PNG and returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(bodies), len(VIEWS), figsize=(3.2 * len(VIEWS), 3.4 * len(bodies)), squeeze=False
    )
    face_tensor = torch.as_tensor(faces, dtype=torch.long)
    for row, (name, (vertices, joints)) in enumerate(bodies.items()):
        verts = torch.as_tensor(vertices, dtype=torch.float64)[None]
        for col, (view, azimuth) in enumerate(VIEWS.items()):
            camera = front_view_camera(verts, size, size, azimuth_degrees=azimuth)
            image = composite(render_shaded(verts, face_tensor, camera, supersample=2))[0]
            marks = torch.as_tensor(np.concatenate([vertices[landmark_ids], joints]))[None]
            pixels, depth = (x[0] for x in camera.project(marks.to(torch.float64)))
            surface = rasterize(camera.to_screen(verts), face_tensor, camera.image_size).depth[0]
            u, v = pixels[: len(landmark_ids)].round().long().clamp(0, size - 1).unbind(-1)
            facing = (
                depth[: len(landmark_ids)] <= surface[v, u] + 0.03
            ).numpy()  # in sight, rims too
            xy = pixels.numpy()
            ax = axes[row, col]
            ax.imshow(image.numpy())
            lm, jt = xy[: len(landmark_ids)], xy[len(landmark_ids) :]
            ax.scatter(jt[:, 0], jt[:, 1], s=6, c="tab:blue")
            ax.scatter(lm[facing, 0], lm[facing, 1], s=10, c="red")
            for (u, v), label in zip(lm[facing], np.asarray(landmark_names)[facing], strict=True):
                ax.annotate(
                    label,
                    (u, v),
                    fontsize=5,
                    color="navy",
                    xytext=(2, 2),
                    textcoords="offset points",
                )
            ax.set_title(f"{name}: {view}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
