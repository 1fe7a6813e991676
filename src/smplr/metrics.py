"""Evaluation metrics of the paper (section 4.3), with every convention spelled out.

All position metrics take corresponding points ``(N, K, 3)`` in **metres** (numpy arrays
or torch tensors), compute in float64 and return per-sample errors ``(N,)`` (or per-point
errors ``(N, K)``) in **millimetres**, as numpy arrays for numpy input and float64
tensors (same device) for torch input.  Averaging over samples is left to the caller.

Protocols (paper 4.3):

- **Protocol 1** (root-relative): prediction and ground truth each have their own root
  joint subtracted (``root``, default 0 = SMPL pelvis), then the mean Euclidean distance
  is taken.  For surface vertices the root is the body's root *joint*, passed separately.
- **Protocol 2** (Procrustes): the prediction is moved by the least-squares similarity
  transform (isotropic scale, proper rotation with det = +1, translation) onto the ground
  truth, fitted on the same points that are evaluated (Umeyama 1991, via
  :func:`smplr.geometry.alignment.similarity_procrustes`); then the mean distance.

Example::

    >>> import numpy as np
    >>> from smplr import metrics
    >>> gt = np.random.default_rng(0).normal(size=(4, 24, 3))
    >>> pred = gt + 0.01                      # 1 cm shift of every point
    >>> metrics.mpjpe(pred, gt).round(6)      # root-relative: a global shift costs nothing
    array([0., 0., 0., 0.])
    >>> metrics.pa_mpjpe(pred, gt).round(6)
    array([0., 0., 0., 0.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar

import numpy as np
import torch

from smplr.body.model import gender_sign_to_index
from smplr.body.skeleton import JL_PARENTS, NUM_JL, NUM_JOINTS, PARENTS
from smplr.geometry.alignment import procrustes_align, similarity_procrustes

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)
ProtocolId = Literal[1, 2]

PELVIS = 0
"""Default root joint: SMPL's pelvis."""

PART_GROUPS: dict[str, tuple[int, ...]] = {
    "Head": (12, 15),
    "Torso": (3, 6, 9),
    "Shoulder": (13, 14, 16, 17),
    "Elbow": (18, 19),
    "Wrist": (20, 21),
    "Hip": (1, 2),
    "Knee": (4, 5),
    "Foot": (7, 8, 10, 11),
}
"""The paper's per-part joint groups (SMPL joint indices), from the authors' release."""

PART_ABBREVIATIONS: dict[str, str] = {
    "Head": "Hd",
    "Torso": "Ts",
    "Shoulder": "Sr",
    "Elbow": "Ew",
    "Wrist": "Wt",
    "Hip": "Hp",
    "Knee": "Kn",
    "Foot": "Ft",
}
"""Column names of the paper's Table 1."""

ALL_JOINTS: tuple[int, ...] = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 18, 19, 20, 21)
"""The joints averaged in the paper's "Avg. Jt" (authors' "All" group; the root is excluded)."""

METRES_TO_MM = 1000.0


# ---------------------------------------------------------------------------- input checks
def _to_float64(name: str, value: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``value`` as a float64 tensor, and whether it came in as numpy."""
    is_numpy = not isinstance(value, torch.Tensor)
    try:
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc
    if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"{name} must hold real numbers, got dtype {tensor.dtype}")
    tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return tensor, is_numpy


def _points_pair(
    pred: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor, what: str = "points"
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    p, p_numpy = _to_float64(f"predicted {what}", pred)
    g, g_numpy = _to_float64(f"ground-truth {what}", gt)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"predicted {what} have shape {tuple(p.shape)}; expected (N, K, 3)")
    if g.ndim != 3 or g.shape[-1] != 3:
        raise ValueError(f"ground-truth {what} have shape {tuple(g.shape)}; expected (N, K, 3)")
    if p.shape[0] != g.shape[0]:
        raise ValueError(
            f"{p.shape[0]} predicted samples but {g.shape[0]} ground-truth samples: counts must match"
        )
    if p.shape != g.shape:
        raise ValueError(
            f"predicted {what} {tuple(p.shape)} and ground truth {tuple(g.shape)} "
            "have different numbers of points"
        )
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"no {what} to evaluate: shape {tuple(p.shape)}")
    if p.device != g.device:
        raise ValueError(f"prediction is on {p.device} but ground truth is on {g.device}")
    return p, g, p_numpy and g_numpy


def _output(value: torch.Tensor, as_numpy: bool) -> np.ndarray | torch.Tensor:
    return value.detach().cpu().numpy() if as_numpy else value


def _select(indices: Sequence[int] | None, count: int, what: str) -> list[int] | None:
    if indices is None:
        return None
    chosen = [int(i) for i in indices]
    if not chosen:
        raise ValueError(f"empty {what} selection")
    bad = [i for i in chosen if not 0 <= i < count]
    if bad:
        raise ValueError(f"{what} indices {bad} out of range for {count} points")
    return chosen


def _check_root(root: int, count: int) -> None:
    if not 0 <= root < count:
        raise ValueError(f"root index {root} out of range for {count} points")


# ---------------------------------------------------------------------------- position errors
def point_errors(
    pred: ArrayT,
    gt: ArrayT,
    *,
    protocol: ProtocolId = 1,
    root: int = PELVIS,
    align_on: Sequence[int] | None = None,
) -> ArrayT:
    """Per-point Euclidean errors ``(N, K)`` in mm under ``protocol`` 1 or 2.

    ``pred, gt: (N, K, 3)`` in metres.  Protocol 1 subtracts point ``root`` from each set.
    Protocol 2 aligns ``pred`` onto ``gt`` by a similarity fitted on the points
    ``align_on`` (default: all K) and reports every point's error after that alignment.
    """
    p, g, as_numpy = _points_pair(pred, gt)
    count = p.shape[1]
    if protocol == 1:
        _check_root(root, count)
        p = p - p[:, root : root + 1]
        g = g - g[:, root : root + 1]
    elif protocol == 2:
        fit_ids = _select(align_on, count, "align_on")
        p = _procrustes_onto(p, g, fit_ids)
    else:
        raise ValueError(
            f"unknown protocol {protocol!r}: expected 1 (root-relative) or 2 (Procrustes)"
        )
    return _output(torch.linalg.vector_norm(p - g, dim=-1) * METRES_TO_MM, as_numpy)  # type: ignore[return-value]


def _procrustes_onto(p: torch.Tensor, g: torch.Tensor, fit_ids: list[int] | None) -> torch.Tensor:
    """``p`` moved by the similarity that best maps ``p[:, fit_ids]`` onto ``g[:, fit_ids]``."""
    if fit_ids is None:
        return procrustes_align(p, g)
    return similarity_procrustes(p[:, fit_ids], g[:, fit_ids]).apply(p)


def mpjpe(
    pred: ArrayT, gt: ArrayT, *, root: int = PELVIS, joints: Sequence[int] | None = None
) -> ArrayT:
    """Protocol 1 MPJPE per sample ``(N,)`` in mm: mean error over ``joints`` (default all)
    after subtracting joint ``root`` (default 0, SMPL pelvis) from prediction and ground truth.

    The root itself is included in the mean only if it is in ``joints`` (its error is 0).
    """
    errors = point_errors(pred, gt, protocol=1, root=root)
    return _mean_over(errors, _select(joints, errors.shape[1], "joints"))


def pa_mpjpe(pred: ArrayT, gt: ArrayT, *, joints: Sequence[int] | None = None) -> ArrayT:
    """Protocol 2 MPJPE per sample ``(N,)`` in mm: the prediction's ``joints`` (default all)
    are aligned to the ground truth's by a similarity (scale, proper rotation, translation)
    fitted on those same joints, then the mean error over them is taken."""
    p, g, as_numpy = _points_pair(pred, gt, "joints")
    chosen = _select(joints, p.shape[1], "joints")
    if chosen is not None:
        p, g = p[:, chosen], g[:, chosen]
    errors = point_errors(p, g, protocol=2)
    return _output(errors.mean(dim=1), as_numpy)  # type: ignore[return-value]


def _mean_over(errors: ArrayT, ids: list[int] | None) -> ArrayT:
    selected = errors if ids is None else errors[:, ids]
    return selected.mean(1)


def surface_error(
    pred_vertices: ArrayT,
    gt_vertices: ArrayT,
    *,
    protocol: ProtocolId = 1,
    pred_root: ArrayT | None = None,
    gt_root: ArrayT | None = None,
) -> ArrayT:
    """Mean per-vertex error per sample ``(N,)`` in mm (paper: "SMPL surface" error).

    Protocol 1 needs the bodies' root joints ``pred_root, gt_root: (N, 3)``, subtracted
    from the vertices (as joints are made root-relative).  Protocol 2 aligns the predicted
    vertices to the ground-truth vertices by a similarity fitted on all vertices.
    """
    if protocol == 1:
        if pred_root is None or gt_root is None:
            raise ValueError(
                "protocol 1 surface error needs pred_root and gt_root (N, 3): the body root joints"
            )
        pv, gv, as_numpy = _points_pair(pred_vertices, gt_vertices, "vertices")
        pr, _ = _to_float64("pred_root", pred_root)
        gr, _ = _to_float64("gt_root", gt_root)
        for name, r in (("pred_root", pr), ("gt_root", gr)):
            if tuple(r.shape) != (pv.shape[0], 3):
                raise ValueError(f"{name} has shape {tuple(r.shape)}; expected ({pv.shape[0]}, 3)")
        dist = torch.linalg.vector_norm((pv - pr[:, None]) - (gv - gr[:, None]), dim=-1)
        return _output(dist.mean(dim=1) * METRES_TO_MM, as_numpy)  # type: ignore[return-value]
    if protocol == 2:
        return point_errors(pred_vertices, gt_vertices, protocol=2).mean(1)
    raise ValueError(f"unknown protocol {protocol!r}: expected 1 (root-relative) or 2 (Procrustes)")


def landmark_error(
    pred_jl: ArrayT, gt_jl: ArrayT, *, protocol: ProtocolId = 1, root: int = PELVIS
) -> ArrayT:
    """Mean error of the 18 surface landmarks per sample ``(N,)`` in mm (Table 1 "Avg. Lm").

    ``pred_jl, gt_jl: (N, 42, 3)``: 24 joints then 18 landmarks.  Protocol 1 is relative
    to joint ``root``; Protocol 2 aligns on all 42 points, then measures the landmarks.
    """
    if tuple(pred_jl.shape[1:]) != (NUM_JL, 3) or tuple(gt_jl.shape[1:]) != (NUM_JL, 3):
        raise ValueError(
            f"landmark error needs JL (N, {NUM_JL}, 3), got {tuple(pred_jl.shape)} and {tuple(gt_jl.shape)}"
        )
    errors = point_errors(pred_jl, gt_jl, protocol=protocol, root=root)
    return errors[:, NUM_JOINTS:].mean(1)


def part_errors(joint_errors: ArrayT, joint_ids: Sequence[int] | None = None) -> dict[str, ArrayT]:
    """Per-sample mean error of each of the paper's part groups and of "All".

    ``joint_errors: (N, J)`` per-joint errors (e.g. from :func:`point_errors`), whose
    columns are the SMPL joints ``joint_ids`` (default ``0..J-1``).  A group is averaged
    over those of its joints that are present; groups with none present are left out.
    Returns ``{"Head": (N,), ..., "Foot": (N,), "All": (N,)}``.
    """
    if joint_errors.ndim != 2:
        raise ValueError(f"joint_errors has shape {tuple(joint_errors.shape)}; expected (N, J)")
    ids = list(range(joint_errors.shape[1])) if joint_ids is None else [int(i) for i in joint_ids]
    if len(ids) != joint_errors.shape[1]:
        raise ValueError(f"{len(ids)} joint ids for {joint_errors.shape[1]} error columns")
    column = {joint: c for c, joint in enumerate(ids)}
    groups = {**PART_GROUPS, "All": ALL_JOINTS}
    out: dict[str, ArrayT] = {}
    for name, members in groups.items():
        cols = [column[j] for j in members if j in column]
        if cols:
            out[name] = joint_errors[:, cols].mean(1)
    return out


def bone_length_error(pred: ArrayT, gt: ArrayT, *, parents: Sequence[int] | None = None) -> ArrayT:
    """Mean absolute bone-length difference per sample ``(N,)`` in mm (Table 1 "Avg. Bn").

    Bones are ``point i — point parents[i]`` for every non-root point.  ``parents``
    defaults to κ (``JL_PARENTS``) for 42 points and SMPL's ``PARENTS`` for 24 points.
    Invariant to rigid motion of either set; not to scale.
    """
    p, g, as_numpy = _points_pair(pred, gt)
    count = p.shape[1]
    if parents is None:
        if count == NUM_JL:
            parents = JL_PARENTS
        elif count == NUM_JOINTS:
            parents = PARENTS
        else:
            raise ValueError(f"no default kinematic tree for {count} points; pass parents=")
    if len(parents) != count:
        raise ValueError(f"parents lists {len(parents)} points but the inputs have {count}")
    child = [i for i, par in enumerate(parents) if par >= 0]
    parent = [int(parents[i]) for i in child]
    if not child:
        raise ValueError("the kinematic tree has no bones")
    p_len = torch.linalg.vector_norm(p[:, child] - p[:, parent], dim=-1)
    g_len = torch.linalg.vector_norm(g[:, child] - g[:, parent], dim=-1)
    return _output((p_len - g_len).abs().mean(dim=1) * METRES_TO_MM, as_numpy)  # type: ignore[return-value]


# ---------------------------------------------------------------------------- silhouettes
def silhouette_iou(pred_masks: ArrayT, gt_masks: ArrayT) -> ArrayT:
    """Intersection over union of boolean silhouettes ``(N, H, W)`` per sample ``(N,)``.

    A sample where both masks are empty has no defined IoU and gets NaN (callers report
    how many samples were valid).
    """
    p, p_numpy = _mask_tensor("predicted masks", pred_masks)
    g, g_numpy = _mask_tensor("ground-truth masks", gt_masks)
    if p.shape[0] != g.shape[0]:
        raise ValueError(
            f"{p.shape[0]} predicted masks but {g.shape[0]} ground-truth masks: counts must match"
        )
    if p.shape != g.shape:
        raise ValueError(
            f"predicted masks {tuple(p.shape)} and ground truth {tuple(g.shape)} differ in size"
        )
    if p.device != g.device:
        raise ValueError(f"predicted masks are on {p.device} but ground truth is on {g.device}")
    inter = (p & g).flatten(1).sum(1).to(torch.float64)
    union = (p | g).flatten(1).sum(1).to(torch.float64)
    iou = torch.where(union > 0, inter / union.clamp_min(1), torch.full_like(union, float("nan")))
    return _output(iou, p_numpy and g_numpy)  # type: ignore[return-value]


def _mask_tensor(name: str, value: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, bool]:
    is_numpy = not isinstance(value, torch.Tensor)
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    if tensor.dtype != torch.bool:
        raise ValueError(f"{name} must be boolean arrays, got dtype {tensor.dtype}")
    if tensor.ndim != 3:
        raise ValueError(f"{name} have shape {tuple(tensor.shape)}; expected (N, H, W)")
    if tensor.shape[0] == 0:
        raise ValueError(f"no {name} to evaluate")
    return tensor, is_numpy


# ---------------------------------------------------------------------------- gender
def gender_correct(pred_gender: ArrayT, gt_gender: ArrayT) -> ArrayT:
    """Per-sample gender agreement ``(N,)`` bool from the paper's gender values g.

    g ∈ [−1, 1], −1 female, +1 male; the sign decides, with the body model's rule
    (g >= 0 is male; :func:`smplr.body.model.gender_sign_to_index`).
    """
    p, p_numpy = _to_float64("predicted gender", pred_gender)
    g, g_numpy = _to_float64("ground-truth gender", gt_gender)
    if p.ndim != 1 or g.ndim != 1:
        raise ValueError(f"gender values must be (N,), got {tuple(p.shape)} and {tuple(g.shape)}")
    if p.shape[0] != g.shape[0]:
        raise ValueError(
            f"{p.shape[0]} predicted genders but {g.shape[0]} ground-truth genders: counts must match"
        )
    if p.shape[0] == 0:
        raise ValueError("no gender values to evaluate")
    if p.device != g.device:
        raise ValueError(f"predicted genders are on {p.device} but ground truth is on {g.device}")
    same = gender_sign_to_index(p) == gender_sign_to_index(g)
    return _output(same, p_numpy and g_numpy)  # type: ignore[return-value]


def gender_accuracy(pred_gender: ArrayT, gt_gender: ArrayT) -> float:
    """Fraction of samples whose predicted gender sign matches the ground truth's.

    >>> gender_accuracy(np.array([-0.8, 0.3, 0.9, -0.1]), np.array([-1.0, 1.0, -1.0, -1.0]))
    0.75
    """
    correct = torch.as_tensor(gender_correct(pred_gender, gt_gender))
    return float(correct.double().mean())
