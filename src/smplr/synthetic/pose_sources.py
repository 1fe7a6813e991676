"""Pose and shape sources independent of the pose prior, for out-of-distribution data.

The pose prior (:mod:`smplr.synthetic.poses`) draws whole-body *families*; a network
trained and tested on it alone has never seen what the families miss.  The sources
here draw poses another way and share only the joint-limit table
(:mod:`smplr.synthetic.joint_limits`) with the prior:

- :func:`uniform_limits`: every joint uniform inside its limits;
- :func:`perturbed`: wide Gaussian perturbations around the rest pose or around a
  prior draw;
- :func:`mirror`: the left/right mirror image of any poses;
- :func:`extreme`: hand-designed extreme-but-valid poses (deep squats, kneeling,
  lying, handstands, arms overhead, crossed arms and legs, twists, lunges, sitting);
- :func:`wide_shapes`: betas out to ±4σ, both genders.

**Parametrisation.**  Joint angles are drawn in the limits' own coordinates:
left-equivalent swing-twist rotation vectors ``(B, 23, 3)`` in radians (see
:mod:`smplr.synthetic.joint_limits`), so "inside the limits" is a box plus a swing
cone per joint; a swing outside the cone is scaled back onto it
(:func:`~smplr.synthetic.joint_limits.clamp_to_limits`).  Every source returns
:class:`Poses`: axis-angle ``global_orient (B, 3)`` and ``body_pose (B, 69)`` on SMPL's
24-joint tree, Y up, the body facing +Z at identity.

All randomness comes from the ``generator`` argument; tensors are built on its device,
so the same seed gives the same poses.

Example::

    poses = uniform_limits(256, torch.Generator().manual_seed(0))
    poses.body_pose.shape  # (256, 69)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from smplr.body.skeleton import NUM_BODY_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix, axis_rotation, matrix_to_axis_angle
from smplr.synthetic.joint_limits import (
    BODY_JOINT_NAMES,
    BODY_MIRROR,
    LIMITS_DEGREES,
    X,
    Y,
    Z,
    angles_to_body_pose,
    clamp_to_limits,
    limits,
)
from smplr.synthetic.poses import PosePrior


@dataclass
class Poses:
    """``B`` poses as axis-angle: ``global_orient (B, 3)``, ``body_pose (B, 69)``, radians."""

    global_orient: torch.Tensor
    body_pose: torch.Tensor

    def __post_init__(self) -> None:
        b = self.global_orient.shape[0]
        if self.global_orient.shape != (b, 3) or self.body_pose.shape != (b, 3 * NUM_BODY_JOINTS):
            raise ValueError(
                f"poses have shapes {tuple(self.global_orient.shape)} and "
                f"{tuple(self.body_pose.shape)}; expected (B, 3) and (B, 69)"
            )

    def __len__(self) -> int:
        return self.global_orient.shape[0]

    def matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotation matrices: ``global_orient (B, 3, 3)``, ``body_pose (B, 23, 3, 3)``."""
        body = self.body_pose.reshape(len(self), NUM_BODY_JOINTS, 3)
        return axis_angle_to_matrix(self.global_orient), axis_angle_to_matrix(body)

    def index(self, rows: torch.Tensor) -> Poses:
        return Poses(self.global_orient[rows], self.body_pose[rows])

    @staticmethod
    def cat(parts: list[Poses]) -> Poses:
        return Poses(
            torch.cat([p.global_orient for p in parts]), torch.cat([p.body_pose for p in parts])
        )

    @staticmethod
    def from_matrices(global_orient: torch.Tensor, body_pose: torch.Tensor) -> Poses:
        """From ``global_orient (B, 3, 3)`` and ``body_pose (B, 23, 3, 3)``."""
        return Poses(
            matrix_to_axis_angle(global_orient),
            matrix_to_axis_angle(body_pose).reshape(body_pose.shape[0], -1),
        )


PoseSource = Callable[[int, torch.Generator], Poses]
"""``(batch, generator) -> Poses``: what every pose source here is (after its options)."""


def _check_batch(batch: int) -> None:
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch}")


def _rand(shape: tuple[int, ...], generator: torch.Generator, dtype) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=generator.device, dtype=dtype)


def _randn(shape: tuple[int, ...], generator: torch.Generator, dtype) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=generator.device, dtype=dtype)


def _from_angles(global_orient: torch.Tensor, angles: torch.Tensor) -> Poses:
    """Root matrices ``(B, 3, 3)`` and left-equivalent angles ``(B, 23, 3)`` -> :class:`Poses`
    (angles clamped into the limits first)."""
    return Poses.from_matrices(global_orient, angles_to_body_pose(clamp_to_limits(angles)))


# ---------------------------------------------------------------------- orientations
ORIENTATIONS = ("upright", "any")


def random_orientation(
    batch: int,
    generator: torch.Generator,
    mode: str = "upright",
    max_tilt_degrees: float = 30.0,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Random root rotations ``(B, 3, 3)``.

    ``"upright"``: a uniform heading about Y after a tilt of uniform direction and
    angle in ``[0, max_tilt_degrees]``; ``"any"``: uniform on SO(3) (normalised Gaussian
    quaternions), upside down included.
    """
    _check_batch(batch)
    dtype = dtype or torch.get_default_dtype()
    if mode == "any":
        q = _randn((batch, 4), generator, dtype)
        q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        q = torch.where(q[:, :1] < 0, -q, q)  # w >= 0: angle in [0, π]
        v = q[:, 1:]
        sin = v.norm(dim=-1, keepdim=True)
        angle = 2 * torch.atan2(sin, q[:, :1])
        rotvec = torch.where(sin > 1e-12, v / sin.clamp_min(1e-12) * angle, torch.zeros_like(v))
        return axis_angle_to_matrix(rotvec)
    if mode != "upright":
        raise ValueError(f"unknown orientation mode '{mode}': expected one of {ORIENTATIONS}")
    direction = _rand((batch,), generator, dtype) * 2 * math.pi
    amount = _rand((batch,), generator, dtype) * math.radians(max_tilt_degrees)
    axis = torch.stack([torch.cos(direction), torch.zeros_like(direction), torch.sin(direction)], 1)
    tilt = axis_angle_to_matrix(axis * amount[:, None])
    heading = axis_rotation((_rand((batch,), generator, dtype) * 2 - 1) * math.pi, Y)
    return heading @ tilt


# ---------------------------------------------------------------------- (a) uniform
def uniform_limits(
    batch: int,
    generator: torch.Generator,
    orientation: str = "upright",
    dtype: torch.dtype | None = None,
) -> Poses:
    """Every angle of every joint uniform in its swing-twist box (swings beyond the
    joint's cone scaled back onto it); root from :func:`random_orientation`."""
    _check_batch(batch)
    dtype = dtype or torch.get_default_dtype()
    lo, hi = limits(generator.device, dtype)
    angles = lo + (hi - lo) * _rand((batch, NUM_BODY_JOINTS, 3), generator, dtype)
    root = random_orientation(batch, generator, orientation, dtype=dtype)
    return _from_angles(root, angles)


# ---------------------------------------------------------------------- (b) perturbed
PERTURB_AROUND = ("rest", "families")


def perturbed(
    batch: int,
    generator: torch.Generator,
    around: str = "rest",
    spread: float = 0.2,
    root_degrees: float = 10.0,
    dtype: torch.dtype | None = None,
) -> Poses:
    """Gaussian perturbations of ``spread`` × each angle's limit range (σ) around the rest
    pose (``around="rest"``, upright random root) or around poses of the pose prior's
    families (``"families"``, whose roots get a further ``N(0, root_degrees)`` turn per
    axis); clamped into the limits."""
    _check_batch(batch)
    if around not in PERTURB_AROUND:
        raise ValueError(f"unknown centre '{around}': expected one of {PERTURB_AROUND}")
    if not spread >= 0:
        raise ValueError(f"spread must be >= 0, got {spread}")
    dtype = dtype or torch.get_default_dtype()
    lo, hi = limits(generator.device, dtype)
    noise = spread * (hi - lo) * _randn((batch, NUM_BODY_JOINTS, 3), generator, dtype)
    if around == "rest":
        return _from_angles(random_orientation(batch, generator, dtype=dtype), noise)
    prior = PosePrior(generator.device, dtype=dtype)
    drawn = prior.sample_detailed(batch, generator)
    turn = axis_angle_to_matrix(math.radians(root_degrees) * _randn((batch, 3), generator, dtype))
    return _from_angles(drawn.global_orient @ turn, drawn.angles + noise)


# ---------------------------------------------------------------------- (c) mirror
_MIRROR_SIGN = (1.0, -1.0, -1.0)


def mirror(poses: Poses) -> Poses:
    """The left/right mirror image (reflection through the body's sagittal YZ plane).

    Each rotation ``R`` becomes ``M R M`` with ``M = diag(−1, 1, 1)`` — on an axis-angle
    vector ``(x, y, z) -> (x, −y, −z)`` — and left/right joints swap.  ``mirror(mirror(p))``
    is ``p`` exactly; the joint limits are symmetric, so mirrored valid poses stay valid.
    """
    sign = torch.tensor(_MIRROR_SIGN, device=poses.body_pose.device, dtype=poses.body_pose.dtype)
    body = poses.body_pose.reshape(len(poses), NUM_BODY_JOINTS, 3)[:, list(BODY_MIRROR)]
    return Poses(poses.global_orient * sign, (body * sign).reshape(len(poses), -1))


def mirrored(source: PoseSource, share: float = 1.0) -> PoseSource:
    """A source whose poses are ``source``'s, a ``share`` of them mirrored at random."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")

    def draw(batch: int, generator: torch.Generator) -> Poses:
        return mirror_some(source(batch, generator), share, generator)

    return draw


def mirror_some(poses: Poses, share: float, generator: torch.Generator) -> Poses:
    """``poses`` with a random ``share`` of them (drawn from ``generator``) mirrored."""
    flip = _rand((len(poses),), generator, poses.body_pose.dtype) < share
    flipped = mirror(poses)
    return Poses(
        torch.where(flip[:, None], flipped.global_orient, poses.global_orient),
        torch.where(flip[:, None], flipped.body_pose, poses.body_pose),
    )


# ---------------------------------------------------------------------- (d) extreme
Ranges = dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]]

# Extreme poses as ranges (degrees, left-equivalent swing-twist: x, y, z) per joint.  A
# key without a side ("hip") sets both sides, a full name ("left_hip") one; unlisted
# joints stay within 30 % of their limits around rest.  Signs (joint_limits): hip
# flexion −x, abduction +z; knee flexion +x; ankle plantarflexion +x; spine forward
# bend +x, axial twist y; shoulder elevation +z, forward −y; elbow flexion −y.
# Arms not listed get :data:`DEFAULT_ARMS` (hanging to horizontal, elbows free).
# ``root``: ``(pitch range, placement)``, pitch forward + about X, placement one of
# "upright" (random heading), "lying" (on back, front or a side), "inverted" (upside
# down) or "any" (uniform on SO(3)).
EXTREME_POSES: dict[str, tuple[Ranges, tuple[tuple[float, float], str]]] = {
    "deep_squat": (
        {
            "hip": ((-125, -105), (-30, 10), (15, 50)),
            "knee": ((130, 150), (-10, 10), (-5, 5)),
            "ankle": ((-25, -5), (-15, 15), (-20, 15)),
            "spine1": ((10, 45), (-10, 10), (-10, 10)),
            "spine2": ((5, 30), (-10, 10), (-10, 10)),
            "shoulder": ((-40, 40), (-100, -50), (-60, 0)),
            "elbow": ((-30, 30), (-90, 0), (-5, 5)),
        },
        ((20, 50), "upright"),
    ),
    "kneeling": (
        {
            "hip": ((-90, 15), (-20, 20), (-10, 25)),
            "knee": ((85, 150), (-10, 10), (-5, 5)),
            "ankle": ((20, 50), (-15, 15), (-20, 15)),
            "foot": ((-45, 0), (-5, 5), (-5, 5)),
        },
        ((-15, 25), "upright"),
    ),
    "lying": (
        {
            "hip": ((-110, 20), (-35, 35), (-20, 45)),
            "knee": ((0, 140), (-10, 10), (-5, 5)),
            "shoulder": ((-80, 80), (-130, 80), (-90, 110)),
            "elbow": ((-40, 40), (-150, 0), (-5, 5)),
        },
        ((-30, 30), "lying"),
    ),
    "handstand": (
        {
            "hip": ((-60, 25), (-20, 20), (-10, 50)),
            "knee": ((0, 100), (-10, 10), (-5, 5)),
            "spine1": ((-20, 10), (-10, 10), (-10, 10)),
            "collar": ((-10, 10), (-10, 10), (15, 30)),
            "shoulder": ((-30, 30), (-30, 30), (85, 110)),
            "elbow": ((-20, 20), (-25, 0), (-5, 5)),
            "wrist": ((-20, 20), (-10, 20), (40, 60)),
        },
        ((-20, 20), "inverted"),
    ),
    "arms_overhead": (
        {
            "collar": ((-10, 10), (-20, 10), (15, 30)),
            "shoulder": ((-60, 60), (-60, 40), (80, 110)),
            "elbow": ((-40, 40), (-120, 0), (-5, 5)),
            "spine2": ((-15, 5), (-10, 10), (-10, 10)),
            "spine3": ((-15, 5), (-10, 10), (-10, 10)),
        },
        ((-10, 10), "upright"),
    ),
    "crossed_arms": (
        {
            "collar": ((-10, 10), (-25, -10), (-10, 10)),
            "shoulder": ((55, 85), (-70, -35), (-85, -50)),
            "elbow": ((-30, 30), (-110, -85), (-5, 5)),
        },
        ((-10, 10), "upright"),
    ),
    "crossed_legs": (
        {
            "hip": ((-40, 15), (-30, 30), (-25, -12)),
            "knee": ((0, 40), (-10, 10), (-5, 5)),
        },
        ((-10, 10), "upright"),
    ),
    "cross_legged_sitting": (
        {
            "hip": ((-110, -70), (-40, 40), (30, 50)),
            "knee": ((120, 150), (-15, 15), (-5, 5)),
            "ankle": ((0, 50), (-20, 20), (-30, 20)),
        },
        ((-20, 10), "upright"),
    ),
    "torso_twist": (
        {
            "spine1": ((-10, 20), (10, 15), (-15, 15)),
            "spine2": ((-10, 20), (10, 15), (-12, 12)),
            "spine3": ((-10, 20), (10, 15), (-10, 10)),
            "neck": ((-20, 30), (25, 45), (-20, 20)),
            "shoulder": ((-60, 60), (-120, 60), (-60, 90)),
        },
        ((-15, 15), "upright"),
    ),
    "lunge": (
        {
            "left_hip": ((-110, -70), (-20, 20), (0, 25)),
            "left_knee": ((70, 120), (-10, 10), (-5, 5)),
            "right_hip": ((0, 25), (-20, 20), (-10, 20)),
            "right_knee": ((0, 90), (-10, 10), (-5, 5)),
            "spine1": ((-20, 20), (-15, 15), (-15, 15)),
        },
        ((-20, 30), "upright"),
    ),
    "sitting": (
        {
            "hip": ((-110, -75), (-25, 25), (-10, 30)),
            "knee": ((0, 120), (-10, 10), (-5, 5)),
            "spine1": ((-10, 45), (-10, 10), (-10, 10)),
        },
        ((-30, 10), "upright"),
    ),
    "tumbling": ({}, ((0, 0), "any")),  # any pose near rest, any orientation
}
EXTREME_NAMES: tuple[str, ...] = tuple(EXTREME_POSES)
DEFAULT_ARMS: Ranges = {
    "shoulder": ((-40, 40), (-60, 30), (-90, 30)),
    "elbow": ((-30, 30), (-100, 0), (-5, 5)),
}
REST_SHARE = 0.3  # unlisted joints: within this share of their limits around rest


def _extreme_box(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper ranges ``(23, 3)`` (degrees, float64) of one extreme pose."""
    table = torch.tensor([LIMITS_DEGREES[n] for n in BODY_JOINT_NAMES], dtype=torch.float64)
    lo, hi = REST_SHARE * table[..., 0], REST_SHARE * table[..., 1]
    for key, ranges in {**DEFAULT_ARMS, **EXTREME_POSES[name][0]}.items():
        rows = [
            j
            for j, joint in enumerate(BODY_JOINT_NAMES)
            if joint == key or joint.removeprefix("left_").removeprefix("right_") == key
        ]
        if not rows:
            raise ValueError(f"extreme pose '{name}': unknown joint '{key}'")
        for j in rows:
            lo[j] = torch.tensor([r[0] for r in ranges], dtype=torch.float64)
            hi[j] = torch.tensor([r[1] for r in ranges], dtype=torch.float64)
    return lo, hi


def _placement(kind: str, batch: int, generator: torch.Generator, dtype) -> torch.Tensor:
    """Root placement ``(B, 3, 3)`` applied on top of the pitch."""
    heading = axis_rotation((_rand((batch,), generator, dtype) * 2 - 1) * math.pi, Y)
    if kind == "upright":
        return heading
    if kind == "inverted":
        half_turn = torch.full((batch,), math.pi, device=generator.device, dtype=dtype)
        return heading @ axis_rotation(half_turn, Z)
    if kind == "lying":
        # On the back (−90° about X), front (+90°), or a side (±90° about Z).
        which = torch.randint(4, (batch,), generator=generator, device=generator.device)
        quarter = torch.full((batch,), math.pi / 2, device=generator.device, dtype=dtype)
        sign = torch.where(which % 2 == 0, -quarter, quarter)
        base = torch.where(
            (which < 2)[:, None, None], axis_rotation(sign, X), axis_rotation(sign, Z)
        )
        return heading @ base
    return random_orientation(batch, generator, "any", dtype=dtype)


def extreme(
    batch: int,
    generator: torch.Generator,
    kinds: tuple[str, ...] = EXTREME_NAMES,
    dtype: torch.dtype | None = None,
) -> Poses:
    """Extreme-but-valid poses (:data:`EXTREME_POSES`), kinds drawn with equal odds,
    angles uniform in each kind's ranges (then clamped into the limits), half of the
    poses mirrored so that one-sided poses (lunges, twists) come in both sides."""
    _check_batch(batch)
    unknown = sorted(set(kinds) - set(EXTREME_NAMES))
    if unknown or not kinds:
        raise ValueError(f"unknown extreme poses {unknown}; expected names from {EXTREME_NAMES}")
    dtype = dtype or torch.get_default_dtype()
    device = generator.device
    pick = torch.randint(len(kinds), (batch,), generator=generator, device=device)
    angles = torch.zeros(batch, NUM_BODY_JOINTS, 3, device=device, dtype=dtype)
    root = torch.zeros(batch, 3, 3, device=device, dtype=dtype)
    for k, name in enumerate(kinds):
        rows = torch.nonzero(pick == k).squeeze(1)
        n = rows.numel()
        if n == 0:
            continue
        lo, hi = (t.to(device, dtype) for t in _extreme_box(name))
        angles[rows] = torch.deg2rad(
            lo + (hi - lo) * _rand((n, NUM_BODY_JOINTS, 3), generator, dtype)
        )
        (p_lo, p_hi), placement = EXTREME_POSES[name][1]
        pitch = torch.deg2rad(p_lo + (p_hi - p_lo) * _rand((n,), generator, dtype))
        root[rows] = _placement(placement, n, generator, dtype) @ axis_rotation(pitch, X)
    return mirror_some(_from_angles(root, angles), 0.5, generator)


# ---------------------------------------------------------------------- (e) shapes
def wide_shapes(
    batch: int,
    generator: torch.Generator,
    num_betas: int = 10,
    spread: tuple[float, float] = (1.0, 2.0),
    max_abs: float = 4.0,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shapes beyond the usual ±2σ -> ``betas (B, num_betas)``, ``gender (B,)`` in {−1, +1}.

    Each body's betas are ``N(0, s²)`` with ``s`` uniform in ``spread`` (per body), clipped
    to ``±max_abs``; genders ±1 with probability ½ each.
    """
    _check_batch(batch)
    if not 0 < spread[0] <= spread[1] or not max_abs > 0:
        raise ValueError(
            f"need 0 < spread[0] <= spread[1] and max_abs > 0, got {spread}, {max_abs}"
        )
    dtype = dtype or torch.get_default_dtype()
    s = spread[0] + (spread[1] - spread[0]) * _rand((batch, 1), generator, dtype)
    betas = (s * _randn((batch, num_betas), generator, dtype)).clamp(-max_abs, max_abs)
    male = _rand((batch,), generator, dtype) < 0.5
    gender = torch.where(male, 1.0, -1.0).to(dtype)
    return betas, gender


__all__ = [
    "EXTREME_NAMES",
    "EXTREME_POSES",
    "PoseSource",
    "Poses",
    "extreme",
    "mirror",
    "mirror_some",
    "mirrored",
    "perturbed",
    "random_orientation",
    "uniform_limits",
    "wide_shapes",
]
