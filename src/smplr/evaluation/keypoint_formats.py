"""SMPLR's accuracy from each detector keypoint format, with keypoints missing.

For every named test set asked for (default: the in-distribution held-out draw and the
real motion-capture test clips), the bodies are posed on the model's body and their
keypoints of each detector format (:mod:`smplr.body.keypoints`: exact on the body, as
the format is defined) are given to :meth:`smplr.pipeline.SMPLR.fit`:

- 3D: in the body's frame (root-relative metres);
- 2D: seen by a random perspective camera (seeded,
  :func:`smplr.geometry.projection.random_views`) and brought to the root-plane form;
  the truth is turned into the camera's frame;
- missing: ``round(p · K)`` keypoints per body (p = 0, 20, 40 %) drawn at random are NaN;
- one shot, and refined ``refine`` Levenberg-Marquardt steps on the format's keypoints.

Scores (mm, :func:`smplr.evaluation.body_accuracy.score`): MPJPE Protocol 1 (root
aligned) and 2 (Procrustes) of the 24 joints, and vertex error Protocol 1.

Run: ``smplr bench formats [--num 200] [--sets in_distribution,real_mocap_test]
[--formats coco17,...] [--refine 10]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import save_figure_atomic
from smplr.body.keypoints import KEYPOINT_FORMATS, SiteBody
from smplr.body.model import GenderedBodyModel
from smplr.datasets.test_sets import TEST_SETS, draw_test_set
from smplr.evaluation.body_accuracy import fit_and_score
from smplr.evaluation.pose_sets import pose_set_truth
from smplr.geometry.projection import pixels_to_root_plane, project_to_pixels, random_views
from smplr.pipeline import SMPLR

DEFAULT_SETS = ("in_distribution", "real_mocap_test")
MISSING = (0.0, 0.2, 0.4)
COLUMNS = ("joints_p1", "joints_p2", "vertices_p1")


def drop_keypoints(
    points: torch.Tensor, fraction: float, generator: torch.Generator
) -> torch.Tensor:
    """``points (N, K, D)`` with ``round(fraction · K)`` keypoints per body set to NaN
    (drawn uniformly, independently per body)."""
    count = round(fraction * points.shape[1])
    if count == 0:
        return points
    order = torch.rand(points.shape[:2], generator=generator).argsort(dim=1)
    dropped = points.clone()
    rows = torch.arange(points.shape[0])[:, None]
    dropped[rows, order[:, :count]] = float("nan")
    return dropped


def evaluate_formats(
    model: SMPLR,
    sets: Iterable[str] = DEFAULT_SETS,
    num: int | None = 200,
    formats: Iterable[str] = tuple(KEYPOINT_FORMATS),
    missing: Iterable[float] = MISSING,
    refine: int = 10,
    seed: int = 0,
) -> Iterator[dict]:
    """One row per set, format, dimension, missing fraction and condition (one shot,
    refined): ``{"set", "format", "missing", "condition", "bodies", "joints_p1",
    "joints_p2", "vertices_p1", ...}``; ``{"set", "skipped"}`` for a set whose data is
    missing."""
    formats, missing = tuple(formats), tuple(missing)
    unknown = sorted(set(formats) - set(KEYPOINT_FORMATS))
    if unknown:
        raise ValueError(f"unknown formats {unknown}; expected names from {list(KEYPOINT_FORMATS)}")
    for name in sets:
        drawn = draw_test_set(name, model.body.num_betas, num)
        if drawn is None:
            yield {"set": name, "skipped": "real_mocap_poses.npz not found"}
            continue
        poses, betas, gender = drawn
        truth = pose_set_truth(model, poses, betas, gender)
        generator = torch.Generator().manual_seed(seed)
        views = random_views(len(poses), generator, dtype=torch.float32)
        turned = truth.turned(views.rotation)
        for fmt in formats:
            kp = KEYPOINT_FORMATS[fmt]
            with torch.no_grad():
                sites, jl = SiteBody(model.body, kp.sites)(
                    truth.gender, truth.betas, truth.rotations
                )
            sites = (sites - jl[:, :1]).double()
            camera = sites @ views.rotation.double().transpose(1, 2)
            pixels = project_to_pixels(camera, views.root.double(), views.intrinsics.double())
            plane = pixels_to_root_plane(
                pixels, views.intrinsics.double(), views.root[:, 2].double()
            )
            for dims, points, target in ((3, sites, truth), (2, plane[..., :2], turned)):
                input_format = fmt if dims == 3 else f"{fmt}_2d"
                for fraction in missing:
                    dropped = drop_keypoints(points, fraction, generator)
                    for condition, steps in (("one shot", 0), (f"refine {refine}", refine)):
                        if condition != "one shot" and refine == 0:
                            continue
                        with torch.no_grad():
                            row = fit_and_score(model, target, dropped, input_format, refine=steps)
                        yield {
                            "set": name,
                            "source": TEST_SETS[name].label,
                            "format": input_format,
                            "missing": fraction,
                            "condition": condition,
                            "bodies": len(poses),
                            **row,
                        }


def format_header() -> str:
    cols = " ".join(f"{c:>12}" for c in COLUMNS)
    return f"{'set':<16} {'format':<15} {'missing':>7} {'condition':<10} {'bodies':>6} {cols}"


def format_row(row: dict) -> str:
    """One line of the table under :func:`format_header`."""
    if "skipped" in row:
        return f"{row['set']:<16} skipped: {row['skipped']}"
    cells = " ".join(f"{row[c]:>12.1f}" for c in COLUMNS)
    return (
        f"{row['set']:<16} {row['format']:<15} {100 * row['missing']:>6.0f}% "
        f"{row['condition']:<10} {row['bodies']:>6} {cells}"
    )


def markdown_table(rows: list[dict]) -> str:
    """The rows as one markdown table per set: a line per format and dimension, columns
    P1 / P2 / vertices for each missing fraction and condition."""
    out = []
    for name in dict.fromkeys(r["set"] for r in rows if "skipped" not in r):
        mine = [r for r in rows if r.get("set") == name and "skipped" not in r]
        keys = list(dict.fromkeys((r["missing"], r["condition"]) for r in mine))
        head = " | ".join(f"{100 * m:.0f} % {c}: P1 / P2 / V" for m, c in keys)
        out += [f"**{name}** ({mine[0]['bodies']} bodies), mm", "", f"| format | {head} |"]
        out.append("|---" * (len(keys) + 1) + "|")
        for fmt in dict.fromkeys(r["format"] for r in mine):
            cells = []
            for m, c in keys:
                r = next(
                    x
                    for x in mine
                    if x["format"] == fmt and x["missing"] == m and x["condition"] == c
                )
                cells.append(
                    f"{r['joints_p1']:.0f} / {r['joints_p2']:.0f} / {r['vertices_p1']:.0f}"
                )
            out.append(f"| {fmt} | {' | '.join(cells)} |")
        out.append("")
    return "\n".join(out)


def definitions_figure(body: GenderedBodyModel, path: str | Path) -> Path:
    """PNG of every detector format's keypoints on the neutral rest body (front view, and
    the head and the left foot enlarged), numbered in the detector's order; left side
    blue, right side red, midline green."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rest = torch.eye(3).expand(1, 24, 3, 3)
    with torch.no_grad():
        mesh = body(torch.ones(1), torch.zeros(1, body.num_betas), rest[:, :1], rest[:, 1:])
    vertices = mesh.vertices[0].numpy()
    names = list(KEYPOINT_FORMATS)
    fig, axes = plt.subplots(
        3, len(names), figsize=(3.6 * len(names), 9.5), gridspec_kw={"height_ratios": [3, 2, 1.2]}
    )
    views = (
        ("front", (0, 1), None),
        ("head, front", (0, 1), (vertices[:, 1] > 0.6) & (np.abs(vertices[:, 0]) < 0.12)),
        ("left foot, side", (2, 1), (vertices[:, 1] < -0.7) & (vertices[:, 0] > 0)),
    )
    for col, name in enumerate(names):
        fmt = KEYPOINT_FORMATS[name]
        with torch.no_grad():
            posed, _ = SiteBody(body, fmt.sites)(
                torch.ones(1), torch.zeros(1, body.num_betas), rest
            )
        points = posed[0].numpy()
        colours = [
            "tab:blue" if n.startswith("left") or n.endswith("_left") else
            "tab:red" if n.startswith("right") or n.endswith("_right") else "tab:green"
            for n in fmt.names
        ]  # fmt: skip
        for row, (label, (a, b), region) in enumerate(views):
            ax = axes[row, col]
            shown = vertices if region is None else vertices[region]
            step = 3 if region is None else 1
            ax.scatter(shown[::step, a], shown[::step, b], s=0.3, c="0.8", rasterized=True)
            keep = np.ones(len(points), bool)
            if region is not None:
                lo, hi = shown.min(0) - 0.02, shown.max(0) + 0.02
                keep = ((points >= lo) & (points <= hi)).all(1)
                if label.startswith("left foot"):
                    keep &= points[:, 0] > 0
            for k in np.flatnonzero(keep):
                ax.scatter(points[k, a], points[k, b], s=18, c=colours[k], zorder=3)
                ax.annotate(str(k), (points[k, a], points[k, b]), fontsize=7, zorder=4,
                            xytext=(2, 2), textcoords="offset points")  # fmt: skip
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name} ({fmt.count}): {label}" if row == 0 else label, fontsize=10)
    fig.suptitle("Detector keypoints defined on the body model (numbers: detector order; "
                 "blue left, red right, green midline)")  # fmt: skip
    fig.tight_layout()
    return save_figure_atomic(fig, path, dpi=70)
