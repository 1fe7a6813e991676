"""SMPLR's one-shot accuracy on a given set of SMPL poses (e.g. real motion capture).

Each pose gets a random body: ``betas ~ N(0, 1)`` (10) and a random gender, from a seeded
generator; the clean 42 JL points (24 joints + 18 landmarks, root-relative) go through
:meth:`smplr.pipeline.SMPLR.fit` once without and once with the DAE, and are scored like
the model card (:func:`smplr.benchmarks.core_accuracy.score`: Protocol 1 joints and
vertices in mm, gender accuracy).

Run: ``python -m smplr.evaluation.pose_sets [--weights W.pt] [--num-synthetic 2000]``
prints the table for the shipped real poses (:mod:`smplr.datasets.real_mocap`), per
source and split, next to the synthetic held-out set of the model card.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from smplr.benchmarks.core_accuracy import Truth, score
from smplr.datasets.real_mocap import load_real_mocap_poses
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.pipeline import SMPLR
from smplr.synthetic.bodies import SyntheticBatch, held_out_set, pose_bodies

CONDITIONS: dict[str, bool] = {"one-shot, no DAE": False, "one-shot, DAE": True}
COLUMNS = ("joints_p1", "vertices_p1", "gender_acc")


def random_bodies(
    model: SMPLR, global_orient: torch.Tensor, body_pose: torch.Tensor, seed: int = 0
) -> SyntheticBatch:
    """Pose ``global_orient (N, 3)`` / ``body_pose (N, 69)`` axis-angle on random shapes
    (``betas ~ N(0, 1)``, gender ±1 at even odds) of ``model``'s body."""
    if global_orient.ndim != 2 or global_orient.shape[1] != 3:
        raise ValueError(f"global_orient has shape {tuple(global_orient.shape)}; expected (N, 3)")
    if body_pose.shape != (global_orient.shape[0], 69):
        raise ValueError(f"body_pose has shape {tuple(body_pose.shape)}; expected (N, 69)")
    count = global_orient.shape[0]
    generator = torch.Generator().manual_seed(seed)
    betas = torch.randn(count, model.body.num_betas, generator=generator, dtype=torch.float64)
    gender = torch.where(torch.rand(count, generator=generator) < 0.5, -1.0, 1.0).double()
    body = model.body
    dtype, device = body.female.dtype, body.female.device
    rotations = (
        axis_angle_to_matrix(global_orient.double()),
        axis_angle_to_matrix(body_pose.double().view(count, 23, 3)),
    )
    params = [t.to(device, dtype) for t in (betas, gender, *rotations)]
    with torch.no_grad():
        return pose_bodies(body, *params)


def evaluate_truth(model: SMPLR, truth: Truth) -> dict[str, dict[str, float]]:
    """Scores of every :data:`CONDITIONS` row on ``truth``'s clean JL."""
    rows = {}
    for label, use_dae in CONDITIONS.items():
        with torch.no_grad():
            result = model.fit(truth.jl, "jl42", use_dae=use_dae)
        root = result.joints[:, :1]
        jl = torch.cat([result.joints, result.landmarks], 1) - root
        rows[label] = score(model.body, truth, jl, result.vertices - root, result.gender)
    return rows


def evaluate_pose_set(
    model: SMPLR, global_orient: np.ndarray, body_pose: np.ndarray, seed: int = 0
) -> dict[str, dict[str, float]]:
    """One-shot scores (mm, gender accuracy) of ``model`` on poses ``global_orient (N, 3)``,
    ``body_pose (N, 69)`` (axis-angle) with random shapes, without and with the DAE."""
    batch = random_bodies(model, torch.as_tensor(global_orient), torch.as_tensor(body_pose), seed)
    return evaluate_truth(model, Truth.from_batch(batch))


def _pooled(parts: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Means over the union of disjoint sets, from each set's means and ``_count``."""
    counts = [p["_count"]["n"] for p in parts]
    pooled: dict[str, dict[str, float]] = {"_count": {"n": sum(counts)}}
    for label in CONDITIONS:
        pooled[label] = {
            key: sum(p[label][key] * n for p, n in zip(parts, counts, strict=True)) / sum(counts)
            for key in parts[0][label]
        }
    return pooled


def _table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| pose set | N | condition | joints P1 (mm) | vertices P1 (mm) | gender acc. |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, rows in results.items():
        count = rows.pop("_count")
        for label, row in rows.items():
            lines.append(
                f"| {name} | {int(count['n'])} | {label} | {row['joints_p1']:.1f} | "
                f"{row['vertices_p1']:.1f} | {100 * row['gender_acc']:.1f} % |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument(
        "--poses", type=Path, default=None, help="real pose file (default: shipped)"
    )
    parser.add_argument("--num-synthetic", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = SMPLR.pretrained() if args.weights is None else SMPLR.load(args.weights)
    poses = load_real_mocap_poses(args.poses)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for source in sorted(set(poses.source)):
        for split in ("train", "test"):
            rows = (poses.source == source) & (poses.split == split)
            name = f"{source}, {split}"
            results[name] = evaluate_pose_set(
                model, poses.global_orient[rows], poses.body_pose[rows], args.seed
            )
            results[name]["_count"] = {"n": float(rows.sum())}
    for split in ("train", "test"):
        results[f"real, {split}"] = _pooled([v for k, v in results.items() if k.endswith(split)])
    synthetic = Truth.from_batch(held_out_set(model.body, num=args.num_synthetic))
    results["synthetic held-out"] = evaluate_truth(model, synthetic)
    results["synthetic held-out"]["_count"] = {"n": float(args.num_synthetic)}
    print(_table(results))


if __name__ == "__main__":
    main()
