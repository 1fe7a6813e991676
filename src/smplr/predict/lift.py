"""Detected BlazePose landmarks to SMPL bodies: lift through a DAE, refine with priors.

The detector's world landmarks (metres, hip-centred, image axes) are turned into the
view frame SMPLR works in (y up) and fitted with the landmarks' visibilities as the
refinement's per-keypoint confidences, so landmarks the detector did not see pull
(almost) nothing and the DAE's and the priors' guess stands for them.

With ``lift="keypoint-dae"`` and weights that hold the detector formats' DAE
(``dae_keypoints``), the 33 landmarks go in as the ``blazepose33`` input format
(:data:`smplr.body.keypoints.BLAZEPOSE33`: each landmark a site on the body model;
below visibility 0.5 a landmark is missing for the DAE, above it weights the
refinement on the format's own keypoints).

The default, ``lift="joints24"``, looked better on the real photos (with the shipped
keypoint DAE the half-body portraits got splayed or misplaced guessed legs, and Grace
Hopper's body was placed partly behind the camera): limbs the detector did not see are
hung straight down from the last seen joint (:func:`rest_limbs`; BlazePose still
reports positions for them, guessed and often odd), then the 33 landmarks are mapped
onto SMPL's 24 joints (:data:`JOINT_SOURCES`: a landmark or the mean of a few; spine
joints interpolated between the hip and shoulder centres) and fitted through the
``joints24`` DAE.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from smplr.body.keypoints import BLAZEPOSE33
from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS
from smplr.input_formats import KEYPOINT_DAE
from smplr.pipeline import SMPLR, SMPLRResult
from smplr.predict.detector import VISIBLE
from smplr.predict.placement import FLIP

_LANDMARK = {name: index for index, name in enumerate(BLAZEPOSE33.names)}
LEFT_EAR, RIGHT_EAR = _LANDMARK["left_ear"], _LANDMARK["right_ear"]
LEFT_SHOULDER, RIGHT_SHOULDER = _LANDMARK["left_shoulder"], _LANDMARK["right_shoulder"]
LEFT_HIP, RIGHT_HIP = _LANDMARK["left_hip"], _LANDMARK["right_hip"]


def _landmark(name: str) -> dict[int, float]:
    return {_LANDMARK[name]: 1.0}


_HIPS = {LEFT_HIP: 0.5, RIGHT_HIP: 0.5}
_SHOULDERS = {LEFT_SHOULDER: 0.5, RIGHT_SHOULDER: 0.5}


def _between(low: dict[int, float], high: dict[int, float], at: float) -> dict[int, float]:
    mixed: dict[int, float] = {}
    for index, weight in low.items():
        mixed[index] = mixed.get(index, 0.0) + (1 - at) * weight
    for index, weight in high.items():
        mixed[index] = mixed.get(index, 0.0) + at * weight
    return mixed


JOINT_SOURCES: dict[str, dict[int, float]] = {
    "pelvis": _HIPS,
    "left_hip": _landmark("left_hip"),
    "right_hip": _landmark("right_hip"),
    "spine1": _between(_HIPS, _SHOULDERS, 0.2),
    "left_knee": _landmark("left_knee"),
    "right_knee": _landmark("right_knee"),
    "spine2": _between(_HIPS, _SHOULDERS, 0.45),
    "left_ankle": _landmark("left_ankle"),
    "right_ankle": _landmark("right_ankle"),
    "spine3": _between(_HIPS, _SHOULDERS, 0.65),
    "left_foot": {_LANDMARK["left_heel"]: 0.25, _LANDMARK["left_foot_index"]: 0.75},
    "right_foot": {_LANDMARK["right_heel"]: 0.25, _LANDMARK["right_foot_index"]: 0.75},
    "neck": _between(_HIPS, _SHOULDERS, 1.05),
    "left_collar": _between(_SHOULDERS, {LEFT_SHOULDER: 1.0}, 0.4),
    "right_collar": _between(_SHOULDERS, {RIGHT_SHOULDER: 1.0}, 0.4),
    "head": {LEFT_EAR: 0.5, RIGHT_EAR: 0.5},
    "left_shoulder": _landmark("left_shoulder"),
    "right_shoulder": _landmark("right_shoulder"),
    "left_elbow": _landmark("left_elbow"),
    "right_elbow": _landmark("right_elbow"),
    "left_wrist": _landmark("left_wrist"),
    "right_wrist": _landmark("right_wrist"),
    "left_hand": {_LANDMARK["left_pinky"]: 0.5, _LANDMARK["left_index"]: 0.5},
    "right_hand": {_LANDMARK["right_pinky"]: 0.5, _LANDMARK["right_index"]: 0.5},
}
"""Each SMPL joint as weights of BlazePose landmarks (the default joints24 lift)."""

_INTERPOLATED = {"spine1", "spine2", "spine3", "neck", "left_collar", "right_collar"}
JOINT_READOUT = np.zeros((NUM_JOINTS, 33))
"""``(24, 33)``: SMPL joints = ``JOINT_READOUT @ landmarks`` (:data:`JOINT_SOURCES`)."""
for _row, _name in enumerate(JOINT_NAMES):
    for _index, _weight in JOINT_SOURCES[_name].items():
        JOINT_READOUT[_row, _index] = _weight


def has_keypoint_dae(model: SMPLR) -> bool:
    """Whether ``model``'s weights include the detector formats' DAE (then BlazePose-33
    can go through it with ``lift="keypoint-dae"``)."""
    return KEYPOINT_DAE.removeprefix("dae_") in model.daes


@dataclass
class Lifted:
    """Fitted bodies in the view frame and, per body, ``observed (N, 24)`` bool: the SMPL
    joints that visible landmarks support (the others are guessed by the DAE and priors)."""

    result: SMPLRResult
    observed: np.ndarray


def observed_joints(visibility: np.ndarray) -> np.ndarray:
    """``visibility (N, 33)`` -> ``(N, 24)`` bool: every landmark a joint is made of is
    visible (above :data:`smplr.predict.detector.VISIBLE`)."""
    visible = visibility > VISIBLE
    return np.stack([visible[:, list(JOINT_SOURCES[name])].all(1) for name in JOINT_NAMES], axis=1)


LIFTS = ("joints24", "keypoint-dae")
"""How BlazePose landmarks are lifted: ``joints24`` (default: mapped onto SMPL's joints,
unseen limbs hung down, the ``joints24`` DAE) or ``keypoint-dae`` (the ``blazepose33``
input format through the detector formats' DAE, when the weights hold it)."""


def lift_blazepose(
    model: SMPLR,
    world: np.ndarray,
    visibility: np.ndarray,
    refine: int = 10,
    lift: str = "joints24",
) -> Lifted:
    """Bodies from BlazePose world landmarks ``world (N, 33, 3)`` (metres, image axes:
    y down) and ``visibility (N, 33)``.

    Returns the fit in the view frame (y up), rooted where the landmarks' hip centre is.
    """
    world = np.asarray(world, dtype=np.float64)
    visibility = np.clip(np.asarray(visibility, dtype=np.float64), 0.0, 1.0)
    if world.ndim != 3 or world.shape[1:] != (33, 3) or visibility.shape != world.shape[:2]:
        raise ValueError(
            f"BlazePose landmarks must be (N, 33, 3) with visibility (N, 33), got "
            f"{world.shape} and {visibility.shape}"
        )
    if lift not in LIFTS:
        raise ValueError(f"unknown lift '{lift}': expected one of {', '.join(LIFTS)}")
    if lift == "keypoint-dae":
        if not has_keypoint_dae(model):
            raise ValueError("--lift keypoint-dae needs weights with the keypoint DAE")
        result = model.fit(world * FLIP, BLAZEPOSE33.name, refine=refine, confidence=visibility)
        return Lifted(result, observed_joints(visibility))
    observed = observed_joints(visibility)
    joints = rest_limbs(np.einsum("jk,nkd->njd", JOINT_READOUT, world * FLIP), observed)
    confidence = np.einsum("jk,nk->nj", (JOINT_READOUT > 0).astype(np.float64), visibility)
    confidence /= (JOINT_READOUT > 0).sum(1)
    for row, name in enumerate(JOINT_NAMES):
        if name in _INTERPOLATED:
            confidence[:, row] *= 0.3
    confidence[~observed & _LIMB_JOINT] = 0.0  # placed by rest_limbs: no pull
    result = model.fit(
        joints, "joints24", refine=refine, confidence=confidence if refine > 0 else None
    )
    return Lifted(result, observed)


_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
LIMB_CHAINS: tuple[tuple[tuple[str, float], ...], ...] = tuple(
    ((f"{side}_{a}", 0.0), (f"{side}_{b}", lb), (f"{side}_{c}", lc), (f"{side}_{d}", ld))
    for side in ("left", "right")
    for (a, b, c, d), (lb, lc, ld) in (
        (("hip", "knee", "ankle", "foot"), (0.40, 0.42, 0.14)),
        (("shoulder", "elbow", "wrist", "hand"), (0.28, 0.25, 0.08)),
    )
)
"""Legs and arms from their root joint down: (joint, bone length in metres)."""
_LIMB_JOINT = np.zeros(NUM_JOINTS, dtype=bool)
for _chain in LIMB_CHAINS:
    for _name, _ in _chain[1:]:
        _LIMB_JOINT[_INDEX[_name]] = True


def rest_limbs(joints: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``joints (N, 24, 3)`` (view frame) with the unseen joints of each leg and arm
    (``observed (N, 24)`` False) hung straight down the body from the last seen one:
    thigh 40 cm, shin 42 cm, foot 14 cm forward; upper arm 28 cm, forearm 25 cm, hand
    8 cm — a standing person's limbs, the prior's guess, instead of what the detector
    made up for landmarks it did not see.  Down and forward come from the torso (hip
    and shoulder centres, the hip line)."""
    out = np.array(joints, dtype=np.float64)
    hips = (out[:, _INDEX["left_hip"]] + out[:, _INDEX["right_hip"]]) / 2
    shoulders = (out[:, _INDEX["left_shoulder"]] + out[:, _INDEX["right_shoulder"]]) / 2
    up = _unit(shoulders - hips)
    left = out[:, _INDEX["left_hip"]] - out[:, _INDEX["right_hip"]]
    left = _unit(left - (left * up).sum(1, keepdims=True) * up)
    forward = np.cross(left, up)
    for chain in LIMB_CHAINS:
        for (parent, _), (name, length) in pairwise(chain):
            child = _INDEX[name]
            unseen = ~observed[:, child]
            step = -up * length
            if name.endswith("_foot"):
                step = forward * length - up * 0.05
            out[unseen, child] = out[unseen, _INDEX[parent]] + step[unseen]
    return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
