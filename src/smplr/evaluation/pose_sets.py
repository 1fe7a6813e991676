"""SMPLR's one-shot accuracy on a given set of SMPL poses (e.g. real motion capture).

Each pose gets a random body: ``betas ~ N(0, 1)`` (10) and a random gender, from a seeded
generator; the clean 42 JL points (24 joints + 18 landmarks, root-relative) go through
:meth:`smplr.pipeline.SMPLR.fit` once without and once with the DAE, and are scored like
the model card (:func:`smplr.evaluation.body_accuracy.score`: Protocol 1 joints and
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

from smplr.datasets.real_mocap import RealPoses, load_real_mocap_poses
from smplr.evaluation.body_accuracy import Truth, score
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


Scores = dict[str, dict[str, float]]  # condition label -> metric -> value


def pooled(parts: list[tuple[int, Scores]]) -> tuple[int, Scores]:
    """Means over the union of disjoint sets, from each set's ``(size, scores)``."""
    total = sum(n for n, _ in parts)
    scores = {
        label: {
            key: sum(n * part[label][key] for n, part in parts) / total
            for key in parts[0][1][label]
        }
        for label in CONDITIONS
    }
    return total, scores


def format_table(results: dict[str, tuple[int, Scores]]) -> str:
    """A markdown table of ``{set name: (size, scores)}``."""
    lines = [
        "| pose set | N | condition | joints P1 (mm) | vertices P1 (mm) | gender acc. |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, (count, scores) in results.items():
        for label, row in scores.items():
            lines.append(
                f"| {name} | {count} | {label} | {row['joints_p1']:.1f} | "
                f"{row['vertices_p1']:.1f} | {100 * row['gender_acc']:.1f} % |"
            )
    return "\n".join(lines)


def real_pose_results(
    model: SMPLR, poses: RealPoses, seed: int = 0
) -> dict[str, tuple[int, Scores]]:
    """Scores per source and split of ``poses``, then pooled per split."""
    results: dict[str, tuple[int, Scores]] = {}
    for source in sorted(set(poses.source)):
        for split in ("train", "test"):
            rows = (poses.source == source) & (poses.split == split)
            if rows.any():
                scores = evaluate_pose_set(
                    model, poses.global_orient[rows], poses.body_pose[rows], seed
                )
                results[f"{source}, {split}"] = int(rows.sum()), scores
    for split in ("train", "test"):
        parts = [v for k, v in list(results.items()) if k.endswith(f", {split}")]
        if parts:
            results[f"real, {split}"] = pooled(parts)
    return results


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
    results = real_pose_results(model, load_real_mocap_poses(args.poses), args.seed)
    synthetic = Truth.from_batch(held_out_set(model.body, num=args.num_synthetic))
    results["synthetic held-out"] = args.num_synthetic, evaluate_truth(model, synthetic)
    print(format_table(results))


if __name__ == "__main__":
    main()
