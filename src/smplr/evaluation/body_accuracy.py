"""Accuracy of a fitted chain against bodies whose parameters are known.

:class:`Truth` holds the root-relative ground truth of a set of bodies; :func:`score`
gives the mean errors (mm, :mod:`smplr.metrics`) of predicted JL and vertices against it,
and :func:`fit_and_score` runs :meth:`smplr.SMPLR.fit` on keypoints and scores the result.
Used by the accuracy benchmark (held-out synthetic set) and the out-of-distribution and
motion-capture test sets (:mod:`smplr.evaluation.pose_sets`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from smplr import metrics
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.pipeline import SMPLR
from smplr.synthetic.bodies import SyntheticBatch


@dataclass
class Truth:
    """Ground truth of the evaluated bodies, root-relative: ``jl (N, 42, 3)``,
    ``rotations (N, 24, 3, 3)``, ``betas``, ``gender``."""

    jl: torch.Tensor
    rotations: torch.Tensor
    betas: torch.Tensor
    gender: torch.Tensor

    @classmethod
    def from_batch(cls, batch: SyntheticBatch) -> Truth:
        rotations = torch.cat([batch.global_orient[:, None], batch.body_pose], 1)
        return cls(batch.jl.float(), rotations.float(), batch.betas.float(), batch.gender.float())

    def turned(self, rotation: torch.Tensor) -> Truth:
        rotations = self.rotations.clone()
        rotations[:, 0] = rotation @ rotations[:, 0]
        return Truth(self.jl @ rotation.transpose(1, 2), rotations, self.betas, self.gender)


def _vertices(body: GenderedBodyModel, gender, betas, rotations) -> torch.Tensor:
    out = body(gender, betas, rotations[:, :1], rotations[:, 1:])
    return out.vertices - out.joints[:, :1]


def score(
    body: GenderedBodyModel,
    truth: Truth,
    pred_jl: torch.Tensor,
    pred_vertices: torch.Tensor | None,
    pred_gender: torch.Tensor | None,
    chunk: int = 250,
) -> dict[str, float]:
    """Mean errors (mm) of predicted JL ``(N, 42, 3)`` and vertices against ``truth``."""
    sums: dict[str, float] = {}
    count = truth.jl.shape[0]
    for s in range(0, count, chunk):
        gt = truth.jl[s : s + chunk]
        pj = pred_jl[s : s + chunk]
        parts = {
            "joints_p1": metrics.mpjpe(pj[:, :NUM_JOINTS], gt[:, :NUM_JOINTS]),
            "joints_p2": metrics.pa_mpjpe(pj[:, :NUM_JOINTS], gt[:, :NUM_JOINTS]),
            "landmarks_p1": metrics.landmark_error(pj, gt),
        }
        if pred_vertices is not None:
            with torch.no_grad():
                gv = _vertices(
                    body,
                    truth.gender[s : s + chunk],
                    truth.betas[s : s + chunk],
                    truth.rotations[s : s + chunk],
                )
            pv = pred_vertices[s : s + chunk]
            parts["vertices_p1"] = metrics.surface_error(
                pv, gv, protocol=1, pred_root=pj[:, 0], gt_root=gt[:, 0]
            )
            parts["vertices_p2"] = metrics.surface_error(pv, gv, protocol=2)
        for key, value in parts.items():
            sums[key] = sums.get(key, 0.0) + float(value.sum())
    result = {k: v / count for k, v in sums.items()}
    if pred_gender is not None:
        result["gender_acc"] = metrics.gender_accuracy(pred_gender, truth.gender)
    return result


def fit_and_score(
    model: SMPLR, truth: Truth, points: torch.Tensor, fmt: str, **options
) -> dict[str, float]:
    """``model.fit(points, fmt, **options)`` scored against ``truth`` by :func:`score`, plus
    ``ms_per_body`` (wall time of the fit)."""
    started = time.perf_counter()
    result = model.fit(points, fmt, **options)
    seconds = time.perf_counter() - started
    assert result.vertices is not None  # fit returns vertices unless options say not
    root = result.joints[:, :1]
    jl = torch.cat([result.joints, result.landmarks], 1) - root
    row = score(model.body, truth, jl, result.vertices - root, result.gender)
    row["ms_per_body"] = 1000 * seconds / len(points)
    return row
