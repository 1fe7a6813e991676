"""Quick matplotlib pictures of a body mesh with its joints and landmarks.

Orthographic, flat-shaded, painter's algorithm: enough to check by eye that a rest
pose, the axes and the landmarks are right (no OpenGL needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Camera rotations (rows: screen right, screen up, towards the viewer) in SMPL axes
#: (+X the body's left, +Y up, +Z the body's front).
VIEWS: dict[str, np.ndarray] = {
    "front": np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]),
    "back": np.array([[-1.0, 0, 0], [0, 1, 0], [0, 0, -1]]),
    "left": np.array([[0, 0, -1.0], [0, 1, 0], [1, 0, 0]]),
    "top": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
}


def draw_mesh(
    ax,
    vertices: np.ndarray,
    faces: np.ndarray,
    view: str = "front",
    points: np.ndarray | None = None,
    labels: list[str] | None = None,
    color: str = "red",
    point_normals: np.ndarray | None = None,
) -> None:
    """Draw ``vertices (V, 3)`` / ``faces (F, 3)`` seen from ``view`` (a key of :data:`VIEWS`)
    on a matplotlib axis, with optional ``points (K, 3)`` and their ``labels``; with
    ``point_normals (K, 3)`` only the points facing the viewer are drawn."""
    from matplotlib.collections import PolyCollection

    if view not in VIEWS:
        raise ValueError(f"unknown view '{view}': expected one of {', '.join(VIEWS)}")
    cam = VIEWS[view]
    projected = vertices @ cam.T
    tri = projected[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    order = np.argsort(tri[:, :, 2].mean(axis=1))
    order = order[normal[order, 2] > 0]
    shade = 0.3 + 0.7 * np.clip(normal[order] @ np.array([0.3, 0.4, 0.87]), 0.0, 1.0)
    grey = np.repeat(shade[:, None], 3, axis=1)
    ax.add_collection(PolyCollection(tri[order][:, :, :2], facecolors=grey, edgecolors="none"))
    if points is not None:
        if point_normals is not None:
            facing = point_normals @ cam[2] > 0
            points = points[facing]
            labels = [label for label, keep in zip(labels or [], facing, strict=False) if keep]
        front = points @ cam.T
        ax.scatter(front[:, 0], front[:, 1], s=14, c=color, zorder=3)
        for p, label in zip(front, labels or [], strict=False):
            ax.annotate(
                label,
                p[:2],
                fontsize=6,
                color="navy",
                zorder=4,
                xytext=(3, 2),
                textcoords="offset points",
            )
    lo, hi = projected.min(axis=0), projected.max(axis=0)
    ax.set_xlim(lo[0] - 0.02, hi[0] + 0.02)
    ax.set_ylim(lo[1] - 0.02, hi[1] + 0.02)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def save_landmark_preview(
    path: str | Path,
    bodies: dict[str, tuple[np.ndarray, np.ndarray]],
    faces: np.ndarray,
    landmark_ids: np.ndarray,
    landmark_names: list[str],
    views: tuple[str, ...] = ("front", "back", "left"),
) -> Path:
    """One row per body (``name -> (vertices (V, 3), joints (24, 3))``), one column per view;
    landmarks in red with their names (those facing the viewer), joints in blue (all).  Writes a PNG and returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import trimesh

    fig, axes = plt.subplots(
        len(bodies), len(views), figsize=(5 * len(views), 4.2 * len(bodies)), squeeze=False
    )
    for row, (name, (vertices, joints)) in enumerate(bodies.items()):
        normals = trimesh.Trimesh(vertices, faces, process=False).vertex_normals[landmark_ids]
        for col, view in enumerate(views):
            ax = axes[row, col]
            draw_mesh(
                ax,
                vertices,
                faces,
                view,
                vertices[landmark_ids],
                list(landmark_names),
                point_normals=normals,
            )
            front = joints @ VIEWS[view].T
            ax.scatter(front[:, 0], front[:, 1], s=8, c="tab:blue", zorder=3)
            ax.set_title(f"{name}: {view}", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
