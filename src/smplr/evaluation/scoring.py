"""Per-sample scores of predictions against ground truth, and their summary.

Every number is computed by :mod:`smplr.metrics`; this module decides *which* points
enter each metric and records that choice in the summary, so a reported number can be
reproduced:

- joints: the SMPL joints annotated by the dataset (``joint_ids``); Protocol 1 subtracts
  joint ``root`` (default 0, pelvis), Protocol 2 fits the similarity on ``joint_ids``;
- "Avg. Jt" and the per-sample MPJPE: mean over the paper's "All" joints present;
- landmarks: Protocol 1 relative to the root joint; Protocol 2 aligned with the joints
  and landmarks together;
- bones: κ (``JL_PARENTS``) over joints + landmarks when both exist, else SMPL's tree;
  only bones whose two ends are present;
- surface: all vertices; Protocol 1 relative to each body's root joint, Protocol 2
  aligned on the vertices;
- silhouette IoU: predicted mask (given, or rendered from the predicted mesh by a
  silhouette renderer) against the dataset's mask; NaN when both are empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from smplr import metrics
from smplr.body.skeleton import JL_PARENTS, JOINT_NAMES, NUM_JOINTS, PARENTS
from smplr.datasets.ground_truth import GroundTruth
from smplr.datasets.record import Sample
from smplr.evaluation.predictor import Prediction

SilhouetteRenderer = Callable[[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]], np.ndarray]
"""``(vertices (B, V, 3) camera coords, faces (F, 3), intrinsics (B, 3, 3), (H, W)) -> (B, H, W) bool``.

The interface of a mesh rasteriser (e.g. ``smplr.render``) used for silhouette IoU."""


@dataclass
class Scores:
    """Per-sample errors in mm (and IoU / gender agreement) for N samples.

    ``joints_p1, joints_p2 (N, J)`` over ``joint_ids``; ``landmarks_p1, landmarks_p2 (N, 18)``;
    ``bones, surface_p1, surface_p2, iou (N,)``; ``gender_correct (N,)`` bool.
    """

    keys: list[str]
    joint_ids: list[int]
    joints_p1: np.ndarray
    joints_p2: np.ndarray
    landmarks_p1: np.ndarray | None = None
    landmarks_p2: np.ndarray | None = None
    bones: np.ndarray | None = None
    surface_p1: np.ndarray | None = None
    surface_p2: np.ndarray | None = None
    iou: np.ndarray | None = None
    gender_correct: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def concatenate(parts: Sequence[Scores]) -> Scores:
        """Join the scores of consecutive batches (they must measure the same things)."""
        if not parts:
            raise ValueError("no scores to join")
        first = parts[0]
        for part in parts[1:]:
            if part.joint_ids != first.joint_ids:
                raise ValueError(
                    "batches evaluated different joints; the dataset's joint annotation changed"
                )
        joined: dict = {"keys": [k for p in parts for k in p.keys], "joint_ids": first.joint_ids}
        for f in fields(Scores):
            if f.name in ("keys", "joint_ids", "notes"):
                continue
            values = [getattr(p, f.name) for p in parts]
            present = [v is not None for v in values]
            if any(present) and not all(present):
                raise ValueError(f"{f.name} was measured on some batches only")
            joined[f.name] = np.concatenate(values) if all(present) else None
        joined["notes"] = sorted({n for p in parts for n in p.notes})
        return Scores(**joined)


def score_batch(
    prediction: Prediction,
    truth: GroundTruth,
    *,
    samples: Sequence[Sample] | None = None,
    root: int = metrics.PELVIS,
    renderer: SilhouetteRenderer | None = None,
) -> Scores:
    """Score one batch.  ``samples`` supply silhouettes and cameras for IoU."""
    count = len(truth.keys)
    pred = prediction.validated(count, "prediction")
    joint_ids = [int(j) for j in np.flatnonzero(truth.joint_mask)]
    if root not in joint_ids:
        raise ValueError(
            f"root joint {root} is not annotated by this dataset; evaluated joints: {joint_ids}"
        )
    p_joints, g_joints = pred.joints[:, joint_ids], truth.joints[:, joint_ids]
    local_root = joint_ids.index(root)
    scores = Scores(
        keys=list(truth.keys),
        joint_ids=joint_ids,
        joints_p1=metrics.point_errors(p_joints, g_joints, protocol=1, root=local_root),
        joints_p2=metrics.point_errors(p_joints, g_joints, protocol=2),
    )
    if pred.landmarks is not None and truth.landmarks is not None:
        p_jl = np.concatenate([p_joints, pred.landmarks], axis=1)
        g_jl = np.concatenate([g_joints, truth.landmarks], axis=1)
        n = len(joint_ids)
        scores.landmarks_p1 = metrics.point_errors(p_jl, g_jl, protocol=1, root=local_root)[:, n:]
        scores.landmarks_p2 = metrics.point_errors(p_jl, g_jl, protocol=2)[:, n:]
    scores.bones = _bone_errors(pred, truth, joint_ids)
    if pred.vertices is not None and truth.vertices is not None:
        if pred.vertices.shape[1] != truth.vertices.shape[1]:
            scores.notes.append(
                f"surface error skipped: predicted meshes have {pred.vertices.shape[1]} vertices, "
                f"ground truth {truth.vertices.shape[1]} (different body models)"
            )
        else:
            scores.surface_p1 = metrics.surface_error(
                pred.vertices,
                truth.vertices,
                protocol=1,
                pred_root=pred.joints[:, root],
                gt_root=truth.joints[:, root],
            )
            scores.surface_p2 = metrics.surface_error(pred.vertices, truth.vertices, protocol=2)
    scores.iou = _iou(pred, truth, samples, renderer)
    if pred.gender is not None and truth.gender is not None:
        scores.gender_correct = metrics.gender_correct(pred.gender, truth.gender)
    return scores


def _bone_errors(pred: Prediction, truth: GroundTruth, joint_ids: list[int]) -> np.ndarray:
    with_landmarks = pred.landmarks is not None and truth.landmarks is not None
    if with_landmarks:
        p_all = np.concatenate([pred.joints, pred.landmarks], axis=1)
        g_all = np.concatenate([truth.joints, truth.landmarks], axis=1)
        parents, present = JL_PARENTS, [*joint_ids, *range(NUM_JOINTS, len(JL_PARENTS))]
    else:
        p_all, g_all, parents, present = pred.joints, truth.joints, PARENTS, joint_ids
    local = {point: i for i, point in enumerate(present)}
    sub_parents = [local.get(parents[p], -1) if parents[p] >= 0 else -1 for p in present]
    return metrics.bone_length_error(p_all[:, present], g_all[:, present], parents=sub_parents)


def _iou(
    pred: Prediction,
    truth: GroundTruth,
    samples: Sequence[Sample] | None,
    renderer: SilhouetteRenderer | None,
) -> np.ndarray | None:
    """Per-sample IoU, or None when this batch cannot be scored: a sample without a mask,
    no predicted masks and nothing to render, or a frame without image position."""
    if samples is None or any(s.mask is None for s in samples):
        return None
    gt_masks = [np.asarray(s.mask.load(), dtype=bool) for s in samples]  # type: ignore[union-attr]
    masks = (
        pred.masks
        if pred.masks is not None
        else _rendered(pred, truth, samples, [m.shape for m in gt_masks], renderer)
    )
    if masks is None:
        return None
    out = np.empty(len(samples))
    for i, (sample, mask, gt_mask) in enumerate(zip(samples, masks, gt_masks, strict=True)):
        if mask.shape != gt_mask.shape:
            raise ValueError(
                f"sample {sample.key}: predicted mask {mask.shape} vs ground-truth mask {gt_mask.shape}"
            )
        out[i] = metrics.silhouette_iou(mask[None].astype(bool), gt_mask[None])[0]
    return out


def _rendered(
    pred: Prediction,
    truth: GroundTruth,
    samples: Sequence[Sample],
    sizes: Sequence[tuple[int, ...]],
    renderer: SilhouetteRenderer | None,
) -> list[np.ndarray] | None:
    """Silhouettes ``sizes[i] = (H, W)`` (the ground-truth masks') of the predicted meshes
    seen by each sample's camera, rendered in one call per image size.  Camera-frame meshes are drawn as they are; world-frame meshes
    are first moved by the sample's camera (world -> camera)."""
    if renderer is None or pred.vertices is None or pred.faces is None:
        return None
    if truth.coordinates not in ("camera", "world"):
        return None  # root-relative frames have lost the body's place in the image
    for sample in samples:
        if sample.camera is None:
            if truth.coordinates == "world":
                return None
            raise ValueError(f"sample {sample.key} has no camera to render the predicted mesh with")
    vertices = pred.vertices
    if truth.coordinates == "world":
        vertices = np.stack(
            [s.camera.world_to_camera(v) for s, v in zip(samples, vertices, strict=True)]  # type: ignore[union-attr]
        )
    masks: list[np.ndarray] = [np.empty(0)] * len(samples)
    for size in dict.fromkeys(sizes):
        rows = [i for i, other in enumerate(sizes) if other == size]
        intrinsics = np.stack([samples[i].camera.intrinsics for i in rows])  # type: ignore[union-attr]
        drawn = np.asarray(renderer(vertices[rows], pred.faces, intrinsics, size))  # type: ignore[arg-type]
        for i, mask in zip(rows, drawn, strict=True):
            masks[i] = mask
    return masks


def summarise(scores: Scores) -> dict:
    """Means over samples (mm), per part and overall, with the choices that define them."""
    ids = scores.joint_ids
    parts1 = metrics.part_errors(scores.joints_p1, ids)
    parts2 = metrics.part_errors(scores.joints_p2, ids)
    all_ids = [j for j in metrics.ALL_JOINTS if j in ids]
    summary: dict = {
        "num_samples": len(scores),
        "joints_evaluated": ids,
        "joints_averaged": all_ids,
        "protocol_1": {
            "parts": {name: _mean(v) for name, v in parts1.items() if name != "All"},
            "joints": _mean(parts1["All"]),
            "per_joint": dict(zip(_names(ids), _means(scores.joints_p1), strict=True)),
        },
        "protocol_2": {
            "parts": {name: _mean(v) for name, v in parts2.items() if name != "All"},
            "joints": _mean(parts2["All"]),
            "per_joint": dict(zip(_names(ids), _means(scores.joints_p2), strict=True)),
        },
    }
    if scores.landmarks_p1 is not None:
        summary["protocol_1"]["landmarks"] = _mean(scores.landmarks_p1)
        summary["protocol_2"]["landmarks"] = _mean(scores.landmarks_p2)  # type: ignore[arg-type]
    if scores.bones is not None:
        summary["bones"] = _mean(scores.bones)
    if scores.surface_p1 is not None:
        summary["protocol_1"]["surface"] = _mean(scores.surface_p1)
        summary["protocol_2"]["surface"] = _mean(scores.surface_p2)  # type: ignore[arg-type]
    if scores.iou is not None:
        valid = ~np.isnan(scores.iou)
        summary["silhouette_iou"] = float(scores.iou[valid].mean()) if valid.any() else None
        summary["silhouette_iou_samples"] = int(valid.sum())
    if scores.gender_correct is not None:
        summary["gender_accuracy"] = float(np.mean(scores.gender_correct))
    if scores.notes:
        summary["notes"] = list(scores.notes)
    return summary


def per_sample_mpjpe(scores: Scores, protocol: int = 1) -> np.ndarray:
    """Per-sample mean error over the paper's "All" joints present, in mm."""
    errors = scores.joints_p1 if protocol == 1 else scores.joints_p2
    return metrics.part_errors(errors, scores.joint_ids)["All"]


def _names(ids: Sequence[int]) -> list[str]:
    return [JOINT_NAMES[j] for j in ids]


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values))


def _means(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.mean(values, axis=0)]
