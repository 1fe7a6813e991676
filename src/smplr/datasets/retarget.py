"""Retargeting motion-capture joint positions to SMPL poses by bone directions.

No two skeletons agree joint for joint (a mocap "Spine1" is not SMPL's ``spine3``, hip
joints sit at different widths), so bone lengths and exact joint sites are ignored: a
:class:`Bone` pairs two mocap points with two SMPL joints, and the fit turns the SMPL
body until each pair's unit direction matches.  The fit is scale-free and does not use
the shape: it poses the mean-shape body's rest joints with
:func:`~smplr.body.kinematics.forward_kinematics`.

Unknowns per frame: 24 axis-angle rotations (global orientation first), started from
the rest pose with the root turned onto the torso bones (Wahba's problem).  Cost per
frame (Adam, all frames at once; frames never interact):

- data: ``Σ_b |d_b(θ) − d̂_b|²`` over the mapped bones (``2 − 2 cos`` of the angle error);
- joint limits: ``limit_weight · Σ_j v_j²``, ``v_j`` the distance (radians) of body
  joint ``j`` outside the anatomical box of :mod:`smplr.synthetic.joint_limits`;
- rest prior: ``rest_weight · |θ_body|²``: joints no bone observes (wrists without a
  hand point, collars, twist about a limb) stay near the rest pose, and an unobserved
  chain (the spine) shares its bend evenly.

Example::

    points = z_up_to_y_up(read_holosoma_joints(path))          # (T, 53, 3)
    result = retarget(points, HOLOSOMA_JOINTS, HOLOSOMA_BONES, BodyModel.open("neutral"))
    result.global_orient, result.body_pose                        # (T, 3), (T, 69)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from smplr.body.kinematics import forward_kinematics
from smplr.body.model import BodyModel
from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from smplr.synthetic.joint_limits import body_pose_to_angles, limits


@dataclass(frozen=True)
class Bone:
    """One corresponding direction: mocap points ``source`` (from, to) and SMPL joints
    ``smpl`` (from, to).  ``torso`` bones set the starting global orientation."""

    name: str
    source: tuple[str, str]
    smpl: tuple[str, str]
    torso: bool = False


def _limbs(
    side: str, hip: str, knee: str, ankle: str, toe: str, shoulder: str, elbow: str, wrist: str
) -> tuple[Bone, ...]:
    s = side.lower()
    return (
        Bone(f"{s} thigh", (hip, knee), (f"{s}_hip", f"{s}_knee")),
        Bone(f"{s} shin", (knee, ankle), (f"{s}_knee", f"{s}_ankle")),
        Bone(f"{s} foot", (ankle, toe), (f"{s}_ankle", f"{s}_foot")),
        Bone(f"{s} upper arm", (shoulder, elbow), (f"{s}_shoulder", f"{s}_elbow")),
        Bone(f"{s} forearm", (elbow, wrist), (f"{s}_elbow", f"{s}_wrist")),
    )


def _holosoma_limbs(side: str) -> tuple[Bone, ...]:
    bones = _limbs(
        side,
        f"{side}UpLeg",
        f"{side}Leg",
        f"{side}Foot",
        f"{side}ToeBase",
        f"{side}Arm",
        f"{side}ForeArm",
        f"{side}Hand",
    )
    s = side.lower()
    hand = Bone(f"{s} hand", (f"{side}Hand", f"{side}HandMiddle1"), (f"{s}_wrist", f"{s}_hand"))
    return (*bones, hand)


def _deepmimic_limbs(side: str) -> tuple[Bone, ...]:
    s = side.lower()
    return _limbs(
        side,
        f"{s}_hip",
        f"{s}_knee",
        f"{s}_ankle",
        f"{s}_toe",
        f"{s}_shoulder",
        f"{s}_elbow",
        f"{s}_wrist",
    )


HOLOSOMA_BONES: tuple[Bone, ...] = (
    Bone("hip line", ("RightUpLeg", "LeftUpLeg"), ("right_hip", "left_hip"), torso=True),
    Bone("lower trunk", ("Hips", "Spine1"), ("pelvis", "spine3"), torso=True),
    Bone("upper trunk", ("Spine1", "Neck"), ("spine3", "neck"), torso=True),
    Bone("shoulder line", ("RightArm", "LeftArm"), ("right_shoulder", "left_shoulder")),
    Bone("head", ("Neck", "Head"), ("neck", "head")),
    *_holosoma_limbs("Left"),
    *_holosoma_limbs("Right"),
)
"""holosoma ``MOCAP_DEMO_JOINTS`` -> SMPL: 17 bones."""

DEEPMIMIC_BONES: tuple[Bone, ...] = (
    Bone("hip line", ("right_hip", "left_hip"), ("right_hip", "left_hip"), torso=True),
    Bone("lower trunk", ("root", "chest"), ("pelvis", "spine3"), torso=True),
    Bone("upper trunk", ("chest", "neck"), ("spine3", "neck"), torso=True),
    Bone("shoulder line", ("right_shoulder", "left_shoulder"), ("right_shoulder", "left_shoulder")),
    Bone("head", ("neck", "head"), ("neck", "head")),
    *_deepmimic_limbs("Left"),
    *_deepmimic_limbs("Right"),
)
"""DeepMimic humanoid (:data:`smplr.datasets.mocap.DEEPMIMIC_POINTS`) -> SMPL: 15 bones."""


@dataclass(frozen=True)
class RetargetPrior:
    """Weights of the regularisers (per radian², against ``2 − 2 cos`` per bone) and the
    optimiser's schedule."""

    limit_weight: float = 1.0
    rest_weight: float = 1e-3
    steps: int = 400
    learning_rate: float = 0.05


@dataclass
class RetargetResult:
    """``global_orient (T, 3)`` and ``body_pose (T, 69)`` axis-angle (float64), and the
    angle error of each bone ``error_degrees (T, K)``."""

    global_orient: np.ndarray
    body_pose: np.ndarray
    error_degrees: np.ndarray


def _indices(names: Sequence[str], wanted: Sequence[str], what: str) -> list[int]:
    missing = [n for n in wanted if n not in names]
    if missing:
        raise ValueError(f"{what} has no joint named {', '.join(sorted(set(missing)))}")
    return [list(names).index(n) for n in wanted]


def bone_directions(points: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Unit directions ``(..., K, 3)`` from ``points[..., a]`` to ``points[..., b]`` for each
    row ``(a, b)`` of ``pairs (K, 2)``; ``points (..., J, 3)``."""
    vectors = points[..., pairs[:, 1], :] - points[..., pairs[:, 0], :]
    return vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def _source_pairs(joint_names: Sequence[str], bones: Sequence[Bone]) -> torch.Tensor:
    flat = [name for bone in bones for name in bone.source]
    return torch.tensor(_indices(joint_names, flat, "the mocap skeleton")).view(-1, 2)


def _smpl_pairs(bones: Sequence[Bone]) -> torch.Tensor:
    flat = [name for bone in bones for name in bone.smpl]
    return torch.tensor(_indices(JOINT_NAMES, flat, "SMPL")).view(-1, 2)


def source_directions(
    points: np.ndarray, joint_names: Sequence[str], bones: Sequence[Bone]
) -> np.ndarray:
    """The mapped bones' unit directions ``(T, K, 3)`` in mocap points ``(T, J, 3)``."""
    pairs = _source_pairs(joint_names, bones)
    return bone_directions(torch.as_tensor(points, dtype=torch.float64), pairs).numpy()


def _start_orientation(
    target: torch.Tensor, rest: torch.Tensor, torso: torch.Tensor
) -> torch.Tensor:
    """Root rotation ``(T, 3, 3)`` turning the rest torso bones onto the target's (Kabsch)."""
    correlation = target[:, torso].transpose(1, 2) @ rest[torso]  # (T, 3, 3) Σ t rᵀ
    u, _, vh = torch.linalg.svd(correlation)
    sign = torch.sign(torch.linalg.det(u @ vh))
    fix = torch.diag_embed(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], -1))
    return u @ fix @ vh


def _limit_cost(rotations: torch.Tensor) -> torch.Tensor:
    """``(T,)`` squared distance outside the joint-limit box, summed over body joints."""
    angles = body_pose_to_angles(rotations[:, 1:])
    lower, upper = limits(angles.device, angles.dtype)
    outside = (lower - angles).clamp_min(0) + (angles - upper).clamp_min(0)
    return outside.square().sum(dim=(1, 2))


def retarget(
    points: np.ndarray,
    joint_names: Sequence[str],
    bones: Sequence[Bone],
    body: BodyModel,
    prior: RetargetPrior | None = None,
) -> RetargetResult:
    """Fit SMPL poses to mocap ``points (T, J, 3)`` (metres or any unit, Y up) so that the
    directions of ``bones`` match; ``joint_names`` names the J points."""
    points = np.asarray(points)
    if points.ndim != 3 or points.shape[2] != 3 or points.shape[1] != len(joint_names):
        raise ValueError(
            f"points have shape {points.shape}; expected (T, {len(joint_names)}, 3) "
            "for the given joint names"
        )
    if not np.isfinite(points).all():
        raise ValueError("points contain NaN or infinite values")
    torso = torch.tensor([b.torso for b in bones])
    if int(torso.sum()) < 2:
        raise ValueError("at least two bones must be torso bones to start the orientation")
    prior = prior or RetargetPrior()
    target = bone_directions(
        torch.as_tensor(points, dtype=torch.float64), _source_pairs(joint_names, bones)
    )
    smpl_pairs = _smpl_pairs(bones)
    rest_joints = body.rest_joints()[0].detach().to(torch.float64)
    rest = bone_directions(rest_joints, smpl_pairs)
    frames = points.shape[0]
    start = matrix_to_axis_angle(_start_orientation(target, rest, torso))
    params = torch.zeros(frames, NUM_JOINTS, 3, dtype=torch.float64)
    params[:, 0] = start
    params.requires_grad_(True)
    optimiser = torch.optim.Adam([params], lr=prior.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, prior.steps)

    def costs(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rotations = axis_angle_to_matrix(p)
        _, joints = forward_kinematics(rotations, rest_joints)
        directions = bone_directions(joints, smpl_pairs)
        data = (directions - target).square().sum(dim=(1, 2))
        regular = prior.limit_weight * _limit_cost(rotations)
        regular = regular + prior.rest_weight * p[:, 1:].square().sum(dim=(1, 2))
        return data + regular, directions

    for _ in range(prior.steps):
        optimiser.zero_grad()
        cost, _ = costs(params)
        cost.sum().backward()
        optimiser.step()
        schedule.step()
    with torch.no_grad():
        pose = matrix_to_axis_angle(axis_angle_to_matrix(params))  # angles into [0, π]
    global_orient = pose[:, 0].numpy()
    body_pose = pose[:, 1:].reshape(frames, -1).numpy()
    error = direction_errors(points, joint_names, bones, global_orient, body_pose, body)
    return RetargetResult(global_orient, body_pose, error)


def direction_errors(
    points: np.ndarray,
    joint_names: Sequence[str],
    bones: Sequence[Bone],
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    body: BodyModel,
) -> np.ndarray:
    """Angle (degrees) between each mapped bone of mocap ``points (T, J, 3)`` and of the
    mean-shape SMPL body posed by ``global_orient (T, 3)``, ``body_pose (T, 69)``: ``(T, K)``."""
    target = source_directions(points, joint_names, bones)
    pose = torch.cat([torch.as_tensor(global_orient), torch.as_tensor(body_pose)], dim=1).to(
        torch.float64
    )
    rest_joints = body.rest_joints()[0].detach().to(torch.float64)
    with torch.no_grad():
        _, joints = forward_kinematics(
            axis_angle_to_matrix(pose.view(-1, NUM_JOINTS, 3)), rest_joints
        )
        directions = bone_directions(joints, _smpl_pairs(bones)).numpy()
    cosine = np.clip((directions * target).sum(-1), -1.0, 1.0)
    return np.degrees(np.arccos(cosine))


__all__ = [
    "DEEPMIMIC_BONES",
    "HOLOSOMA_BONES",
    "Bone",
    "RetargetPrior",
    "RetargetResult",
    "bone_directions",
    "direction_errors",
    "retarget",
    "source_directions",
]
