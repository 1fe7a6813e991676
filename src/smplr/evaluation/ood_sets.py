"""SMPLR's accuracy on the named out-of-distribution test sets (issue 11).

Run: ``smplr bench ood [--weights W.pt] [--num 400]``.

For every set of :data:`smplr.synthetic.test_sets.TEST_SETS` (the motion-capture set
only when its file exists): clean JL (24 joints + 18 landmarks) of the set's bodies on
the open body model, one-shot (no refinement) without and with the DAE; Protocol 1
errors of joints and vertices and gender accuracy, scored by
:func:`smplr.evaluation.body_accuracy.score`.  Each row says whether the set's pose
source is held out of training or seen in training with another seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields

import torch

from smplr.evaluation.body_accuracy import Truth, fit_and_score
from smplr.pipeline import SMPLR
from smplr.synthetic.bodies import pose_bodies
from smplr.synthetic.test_sets import TEST_SETS, draw_test_set

CONDITIONS: dict[str, bool] = {"no DAE": False, "DAE": True}  # label -> use_dae


def set_truth(model: SMPLR, name: str, num: int | None = None, chunk: int = 500) -> Truth | None:
    """Ground truth of test set ``name`` on the model's body (None when its file is missing)."""
    drawn = draw_test_set(name, model.body.num_betas, num)
    if drawn is None:
        return None
    poses, betas, gender = drawn
    body = model.body.jl_model()
    dtype, device = model.body.female.dtype, model.device
    global_orient, body_pose = (t.to(device, dtype) for t in poses.matrices())
    betas, gender = betas.to(device, dtype), gender.to(device, dtype)
    with torch.no_grad():
        parts = [
            Truth.from_batch(
                pose_bodies(
                    body,
                    betas[s : s + chunk],
                    gender[s : s + chunk],
                    global_orient[s : s + chunk],
                    body_pose[s : s + chunk],
                )
            )
            for s in range(0, len(poses), chunk)
        ]
    return Truth(*(torch.cat([getattr(p, f.name) for p in parts]) for f in fields(Truth)))


def evaluate_pose_sets(
    model: SMPLR, sets: Iterable[str] = tuple(TEST_SETS), num: int | None = None
) -> Iterator[dict]:
    """One row per available set and condition of :data:`CONDITIONS`:
    ``{"set", "source", "condition", "bodies", "joints_p1", "vertices_p1", "gender_acc", ...}``
    (errors in mm), or ``{"set", "skipped": reason}`` for a set whose data is missing."""
    for name in sets:
        truth = set_truth(model, name, num)
        if truth is None:
            yield {"set": name, "skipped": "real_mocap_poses.npz not found"}
            continue
        for condition, use_dae in CONDITIONS.items():
            with torch.no_grad():
                row = fit_and_score(model, truth, truth.jl, "jl42", use_dae=use_dae)
            yield {
                "set": name,
                "source": TEST_SETS[name].label,
                "condition": condition,
                "bodies": truth.jl.shape[0],
                **row,
            }


COLUMNS = ("joints_p1", "vertices_p1", "gender_acc", "joints_p2", "landmarks_p1")


def format_row(row: dict) -> str:
    if "skipped" in row:
        return f"{row['set']:<16} skipped: {row['skipped']}"
    cells = " ".join(
        f"{row[c]:>12.3f}" if c == "gender_acc" else f"{row[c]:>12.1f}" for c in COLUMNS
    )
    return f"{row['set']:<16} {row['condition']:<7} {row['bodies']:>6} {cells}  {row['source']}"


def format_header() -> str:
    cols = " ".join(f"{c:>12}" for c in COLUMNS)
    return f"{'set':<16} {'input':<7} {'bodies':>6} {cols}  source"
