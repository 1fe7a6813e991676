"""SMPLR's accuracy on sets of SMPL poses: any given set, and the named test sets.

:func:`evaluate_pose_set` poses the bodies (random shapes unless given) on the model's
body, feeds their clean 42 JL points (24 joints + 18 landmarks, root-relative) to
:meth:`smplr.pipeline.SMPLR.fit` once per condition of :func:`conditions` (one shot
without and with the DAE; with ``refine=K``, also K Levenberg-Marquardt steps on the DAE's
output with the default priors) and scores the result like the model card
(:func:`smplr.evaluation.body_accuracy.score`: Protocol 1 joints and vertices in mm,
gender accuracy, ...).  :func:`evaluate_test_sets` does so for the named test sets of
:mod:`smplr.datasets.test_sets` (in-distribution, out-of-distribution, real motion
capture), each row labelled with whether its pose source feeds training.  The same rows
feed ``smplr bench ood``, ``smplr bench accuracy --ood-num N`` and the reproduction report.

Run: ``smplr bench ood [--weights W.pt] [--num 400] [--sets a,b] [--refine 10]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from smplr.datasets.test_sets import TEST_SETS, draw_test_set
from smplr.evaluation.body_accuracy import Truth, fit_and_score
from smplr.pipeline import SMPLR
from smplr.synthetic.bodies import pose_bodies_in_chunks
from smplr.synthetic.pose_sources import Poses
from smplr.synthetic.shapes import sample_shapes

CONDITIONS: dict[str, dict[str, bool | int]] = {
    "no DAE": {"use_dae": False},
    "DAE": {"use_dae": True},
}
"""The one-shot conditions: label -> options of :meth:`smplr.pipeline.SMPLR.fit`."""
COLUMNS = ("joints_p1", "vertices_p1", "gender_acc", "joints_p2", "landmarks_p1")


def conditions(refine: int = 0) -> dict[str, dict[str, bool | int]]:
    """:data:`CONDITIONS`, then ``"DAE + refine K"`` (``refine`` = K > 0 Levenberg-Marquardt
    steps on the DAE's output, default priors of :class:`smplr.refine.FitPrior`)."""
    if isinstance(refine, bool) or not isinstance(refine, int) or refine < 0:
        raise ValueError(f"refine must be a non-negative number of steps, got {refine!r}")
    if refine == 0:
        return dict(CONDITIONS)
    return {**CONDITIONS, f"DAE + refine {refine}": {"use_dae": True, "refine": refine}}


def pose_set_truth(
    model: SMPLR, poses: Poses, betas: torch.Tensor, gender: torch.Tensor, chunk: int = 500
) -> Truth:
    """Ground truth of ``poses`` on shapes ``betas (N, num_betas)``, ``gender (N,)`` of the
    model's body (posed in chunks of ``chunk`` bodies)."""
    if betas.shape != (len(poses), model.body.num_betas) or gender.shape != (len(poses),):
        raise ValueError(
            f"betas {tuple(betas.shape)} and gender {tuple(gender.shape)} do not match "
            f"{len(poses)} poses and {model.body.num_betas} betas"
        )
    global_orient, body_pose = poses.matrices()
    batch = pose_bodies_in_chunks(
        model.body.jl_model(), betas, gender, global_orient, body_pose, chunk=chunk
    )
    return Truth.from_batch(batch)


def evaluate_pose_set(
    model: SMPLR,
    poses: Poses,
    betas: torch.Tensor | None = None,
    gender: torch.Tensor | None = None,
    seed: int = 0,
    refine: int = 0,
) -> list[dict]:
    """Scores of ``model`` on ``poses``, one row per condition of :func:`conditions`
    (``refine`` steps for its refined row; 0: one-shot rows only): ``{"condition",
    "bodies", "joints_p1", "vertices_p1", "gender_acc", ...}`` (errors in mm).  Without
    ``betas``/``gender`` each pose gets a random shape
    (:func:`smplr.synthetic.shapes.sample_shapes`, float64, seeded by ``seed``)."""
    measured = conditions(refine)
    if (betas is None) != (gender is None):
        raise ValueError("give both betas and gender, or neither")
    if betas is None or gender is None:
        generator = torch.Generator().manual_seed(seed)
        betas, gender = sample_shapes(
            len(poses), generator, num_betas=model.body.num_betas, dtype=torch.float64
        )
    truth = pose_set_truth(model, poses, betas, gender)
    rows = []
    for condition, options in measured.items():
        with torch.no_grad():
            row = fit_and_score(model, truth, truth.jl, "jl42", **options)
        rows.append({"condition": condition, "bodies": len(poses), **row})
    return rows


def evaluate_test_sets(
    model: SMPLR,
    sets: Iterable[str] = tuple(TEST_SETS),
    num: int | None = None,
    refine: int = 0,
) -> Iterator[dict]:
    """The rows of :func:`evaluate_pose_set` (with ``refine``) for every named test set
    (``num`` bodies each, default its size; all of a smaller set), with ``"set"`` and
    ``"source"`` (its label) added, or ``{"set", "source", "skipped": reason}`` for a set
    whose data file is missing."""
    conditions(refine)  # a bad refine fails before the first set is drawn
    for name in sets:
        drawn = draw_test_set(name, model.body.num_betas, num)
        if drawn is None:
            yield {
                "set": name,
                "source": TEST_SETS[name].label,
                "skipped": "real_mocap_poses.npz not found",
            }
            continue
        for row in evaluate_pose_set(model, *drawn, refine=refine):
            yield {"set": name, "source": TEST_SETS[name].label, **row}


def format_header() -> str:
    cols = " ".join(f"{c:>12}" for c in COLUMNS)
    return f"{'set':<16} {'input':<15} {'bodies':>6} {cols}  source"


def format_row(row: dict) -> str:
    """One line of the table under :func:`format_header`."""
    if "skipped" in row:
        return f"{row['set']:<16} skipped: {row['skipped']}"
    cells = " ".join(
        f"{row[c]:>12.3f}" if c == "gender_acc" else f"{row[c]:>12.1f}" for c in COLUMNS
    )
    return f"{row['set']:<16} {row['condition']:<15} {row['bodies']:>6} {cells}  {row['source']}"
