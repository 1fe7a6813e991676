"""Per-joint anatomical limits of SMPL's 23 body joints, in swing-twist coordinates.

At θ = 0 a SMPL-format model stands in a T-pose and every joint frame is aligned
with the world: X = the body's left, Y = up, Z = forward.  A body-pose rotation
acts in its parent's frame, about the joint, so anatomical motions map to fixed
axes of that frame (e.g. the knees flex about +X, the left elbow about −Y).

**Coordinates.**  Each joint has a *twist axis*, the rest direction of the bone it
moves (Y for the legs and spine, X for the arms, Z for the toes).  A rotation is
written ``R = exp(swing) · exp(twist)``: first a twist ``τ`` about that axis, then
a swing about an axis perpendicular to it.  Both are rotation vectors, so one joint
is three numbers ``(x, y, z)`` in radians: the component along the twist axis is
``τ``, the other two are the swing.  The decomposition is unique while the swing
angle stays below 180°, which every limit below guarantees, so limits can be
checked on any rotation matrix (:func:`body_pose_to_angles`).

**Left-equivalent convention.**  Right-side joints are stored mirrored
(x, −y, −z), so one limit table serves both sides and ``+`` means the same
anatomical motion on the left and the right (e.g. hip flexion is negative x,
shoulder elevation positive z, elbow flexion negative y on both sides).

**Shoulder twist.**  Swing-twist from the T-pose does not measure humeral
rotation the anatomical way once the arm is swung forward or backward (Codman's
paradox): raising the hanging arm forward to the horizontal, anatomically without
any humeral rotation, ends at a T-pose twist of −90°.  Below and around the
horizontal that neutral twist is close to ``0.75 · swing_y``, so the stored
shoulder twist is relative to it: ``τ = τ_rel + clamp(0.75 · swing_y, ±85°)``,
and ``τ_rel`` (internal rotation +, external −) is what the limits bound.

The limits table (:data:`LIMITS_DEGREES`) follows clinical ranges of motion,
shared out over SMPL's joints (e.g. the spine's flexion over three joints).
"""

from __future__ import annotations

import functools
import math

import torch

from smplr.body.skeleton import JOINT_MIRROR, JOINT_NAMES, NUM_BODY_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle

X, Y, Z = 0, 1, 2
BODY_JOINT_NAMES: tuple[str, ...] = JOINT_NAMES[1:]  # the 23 joints of ``body_pose``


def body_joint(name: str) -> int:
    """Index of a joint in ``body_pose`` (SMPL joint index − 1)."""
    return BODY_JOINT_NAMES.index(name)


# name: (twist axis, (x_lo, x_hi), (y_lo, y_hi), (z_lo, z_hi), max swing angle), degrees,
# left-equivalent.  Right-side joints share their left twin's row.
_TABLE: dict[
    str, tuple[int, tuple[float, float], tuple[float, float], tuple[float, float], float]
] = {
    # hip: x flexion (−) / extension (+), z abduction (+) / adduction (−), twist about the femur
    "hip": (Y, (-125.0, 25.0), (-40.0, 40.0), (-25.0, 50.0), 125.0),
    # lumbar / thoracic spine: x forward bend (+), z lateral bend, y axial twist
    "spine1": (Y, (-20.0, 45.0), (-15.0, 15.0), (-15.0, 15.0), 180.0),
    "spine2": (Y, (-15.0, 30.0), (-15.0, 15.0), (-12.0, 12.0), 180.0),
    "spine3": (Y, (-15.0, 25.0), (-15.0, 15.0), (-10.0, 10.0), 180.0),
    # knee: x flexion (+) only, little axial twist, almost no varus/valgus
    "knee": (Y, (0.0, 150.0), (-15.0, 15.0), (-5.0, 5.0), 180.0),
    # ankle: x plantarflexion (+) / dorsiflexion (−), z eversion (+) / inversion (−)
    "ankle": (Y, (-25.0, 50.0), (-20.0, 20.0), (-30.0, 20.0), 180.0),
    # toes: x flexion (+, toes down) / extension (−), twist about the foot's length
    "foot": (Z, (-45.0, 25.0), (-5.0, 5.0), (-5.0, 5.0), 180.0),
    # neck and head: x nod forward (+), y turn, z tilt
    "neck": (Y, (-35.0, 45.0), (-45.0, 45.0), (-30.0, 30.0), 180.0),
    "head": (Y, (-30.0, 30.0), (-30.0, 30.0), (-20.0, 20.0), 180.0),
    # collar: y protraction (−, forward) / retraction (+), z elevation (+) / depression
    "collar": (X, (-10.0, 10.0), (-25.0, 15.0), (-10.0, 30.0), 180.0),
    # shoulder: y horizontal flexion (−, forward), z elevation (+); x relative humeral
    # twist, internal (+) / external (−)
    "shoulder": (X, (-90.0, 85.0), (-135.0, 85.0), (-95.0, 110.0), 150.0),
    # elbow: y flexion (−) only, x forearm twist (pronation/supination share)
    "elbow": (X, (-45.0, 45.0), (-150.0, 0.0), (-5.0, 5.0), 180.0),
    # wrist: z flexion (−, towards the palm) / extension (+), y radial (−) / ulnar (+)
    "wrist": (X, (-45.0, 45.0), (-20.0, 30.0), (-70.0, 60.0), 180.0),
    # hand (fingers as one block): z curl (−)
    "hand": (X, (-5.0, 5.0), (-10.0, 10.0), (-50.0, 10.0), 180.0),
}


def _row(name: str) -> str:
    for prefix in ("left_", "right_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


LIMITS_DEGREES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    name: _TABLE[_row(name)][1:4] for name in BODY_JOINT_NAMES
}
"""Per body joint: ``((x_lo, x_hi), (y_lo, y_hi), (z_lo, z_hi))`` in degrees, left-equivalent."""

TWIST_AXIS: tuple[int, ...] = tuple(_TABLE[_row(n)][0] for n in BODY_JOINT_NAMES)
MAX_SWING_DEGREES: tuple[float, ...] = tuple(_TABLE[_row(n)][4] for n in BODY_JOINT_NAMES)
IS_RIGHT: tuple[bool, ...] = tuple(n.startswith("right_") for n in BODY_JOINT_NAMES)
SHOULDERS: tuple[int, int] = (body_joint("left_shoulder"), body_joint("right_shoulder"))
# Left/right twin of each body joint, as an index into ``body_pose``.
BODY_MIRROR: tuple[int, ...] = tuple(JOINT_MIRROR[j + 1] - 1 for j in range(NUM_BODY_JOINTS))


@functools.cache
def _tables(device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Constant tensors of the limits, built once per device and dtype (never mutated)."""
    table = torch.deg2rad(
        torch.tensor([LIMITS_DEGREES[n] for n in BODY_JOINT_NAMES], dtype=torch.float64)
    )  # (23, 3, 2)
    twist = torch.nn.functional.one_hot(torch.tensor(TWIST_AXIS), 3).to(torch.float64)
    sign = torch.ones(NUM_BODY_JOINTS, 3, dtype=torch.float64)
    sign[torch.tensor(IS_RIGHT), 1:] = -1.0  # the YZ-plane mirror on right-side joints
    tables = {
        "lower": table[..., 0],
        "upper": table[..., 1],
        "twist_mask": twist,  # (23, 3) one-hot twist axis
        "side_sign": sign,  # (23, 3)
        "max_swing": torch.deg2rad(torch.tensor(MAX_SWING_DEGREES, dtype=torch.float64)),
    }
    return {k: v.to(device, dtype) for k, v in tables.items()}


def _table(name: str, device, dtype) -> torch.Tensor:
    return _tables(torch.device(device), dtype)[name]


def limits(device="cpu", dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper limits, ``(23, 3)`` each, radians, left-equivalent coordinates."""
    dtype = dtype or torch.get_default_dtype()
    return _table("lower", device, dtype).clone(), _table("upper", device, dtype).clone()


def _twist_mask(device, dtype) -> torch.Tensor:
    return _table("twist_mask", device, dtype)


def _side_sign(device, dtype) -> torch.Tensor:
    return _table("side_sign", device, dtype)


SHOULDER_TWIST_GAIN = 0.75
SHOULDER_TWIST_OFFSET_MAX = math.radians(85.0)


def _shoulder_twist_offset(angles: torch.Tensor) -> torch.Tensor:
    """Neutral humeral twist of each shoulder for its swing: ``(..., 2)``."""
    offset = SHOULDER_TWIST_GAIN * angles[..., SHOULDERS, Y]
    return offset.clamp(-SHOULDER_TWIST_OFFSET_MAX, SHOULDER_TWIST_OFFSET_MAX)


def angles_to_body_pose(angles: torch.Tensor) -> torch.Tensor:
    """Left-equivalent swing-twist angles ``(B, 23, 3)`` (radians) -> ``body_pose (B, 23, 3, 3)``."""
    if angles.ndim != 3 or angles.shape[1:] != (NUM_BODY_JOINTS, 3):
        raise ValueError(f"angles has shape {tuple(angles.shape)}; expected (B, 23, 3)")
    angles = angles.clone()
    angles[:, SHOULDERS, X] = angles[:, SHOULDERS, X] + _shoulder_twist_offset(angles)
    vec = angles * _side_sign(angles.device, angles.dtype)
    mask = _twist_mask(angles.device, angles.dtype)
    return axis_angle_to_matrix(vec * (1.0 - mask)) @ axis_angle_to_matrix(vec * mask)


def body_pose_to_angles(body_pose: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`angles_to_body_pose`: ``(B, 23, 3, 3)`` -> ``(B, 23, 3)`` radians.

    Exact for any rotation whose swing is below 180°; use it to check limits on
    poses from anywhere (a network's output, a data set).
    """
    if body_pose.ndim != 4 or body_pose.shape[1:] != (NUM_BODY_JOINTS, 3, 3):
        raise ValueError(f"body_pose has shape {tuple(body_pose.shape)}; expected (B, 23, 3, 3)")
    device, dtype = body_pose.device, body_pose.dtype
    mask = _twist_mask(device, dtype)  # (23, 3) one-hot twist axis
    bone = torch.einsum("bjkl,jl->bjk", body_pose, mask)  # R · e: where the twist axis goes
    axis = torch.linalg.cross(mask.expand_as(bone), bone, dim=-1)
    sin = axis.norm(dim=-1, keepdim=True)
    cos = (bone * mask).sum(dim=-1, keepdim=True)
    angle = torch.atan2(sin, cos)
    swing = torch.where(sin > 1e-12, axis / sin.clamp_min(1e-12) * angle, torch.zeros_like(axis))
    twist_rot = axis_angle_to_matrix(swing).transpose(-1, -2) @ body_pose
    twist = (matrix_to_axis_angle(twist_rot) * mask).sum(dim=-1, keepdim=True)
    vec = swing * (1.0 - mask) + twist * mask
    angles = vec * _side_sign(device, dtype)
    angles[:, SHOULDERS, X] = angles[:, SHOULDERS, X] - _shoulder_twist_offset(angles)
    return angles


def clamp_to_limits(angles: torch.Tensor) -> torch.Tensor:
    """Clamp left-equivalent angles ``(B, 23, 3)`` into the box and the swing cone."""
    lo, hi = (
        _table("lower", angles.device, angles.dtype),
        _table("upper", angles.device, angles.dtype),
    )
    angles = torch.maximum(torch.minimum(angles, hi), lo)
    mask = _twist_mask(angles.device, angles.dtype)
    swing = angles * (1.0 - mask)
    max_swing = _table("max_swing", angles.device, angles.dtype)
    norm = swing.norm(dim=-1)
    # Scaling a swing towards 0 keeps it in the box: every box contains 0.
    scale = (max_swing / norm.clamp_min(1e-12)).clamp(max=1.0)
    return swing * scale.unsqueeze(-1) + angles * mask


def limit_violation(body_pose: torch.Tensor) -> torch.Tensor:
    """How far each joint lies outside its limits, ``(B, 23)`` radians (0 inside)."""
    angles = body_pose_to_angles(body_pose)
    lo, hi = limits(angles.device, angles.dtype)
    box = (lo - angles).clamp_min(0) + (angles - hi).clamp_min(0)
    mask = _twist_mask(angles.device, angles.dtype)
    max_swing = _table("max_swing", angles.device, angles.dtype)
    cone = ((angles * (1.0 - mask)).norm(dim=-1) - max_swing).clamp_min(0)
    return box.amax(dim=-1).maximum(cone)


def within_limits(body_pose: torch.Tensor, tolerance_degrees: float = 0.1) -> torch.Tensor:
    """``body_pose (B, 23, 3, 3)`` -> ``(B, 23)`` bool: joint inside its anatomical limits."""
    return limit_violation(body_pose) <= math.radians(tolerance_degrees)


def swing_towards(rest: tuple[float, float, float], direction: torch.Tensor) -> torch.Tensor:
    """Swing rotation vector ``(..., 3)`` turning unit ``rest`` onto unit ``direction (..., 3)``.

    The shortest rotation; e.g. ``swing_towards((1, 0, 0), d)`` is the left-equivalent
    shoulder swing that points the upper arm along ``d`` in the collar's frame.
    """
    r = torch.tensor(rest, device=direction.device, dtype=direction.dtype).expand_as(direction)
    axis = torch.linalg.cross(r, direction, dim=-1)
    sin = axis.norm(dim=-1, keepdim=True)
    angle = torch.atan2(sin, (r * direction).sum(dim=-1, keepdim=True))
    return torch.where(sin > 1e-12, axis / sin.clamp_min(1e-12) * angle, torch.zeros_like(axis))
