"""Whole-body pose families of the pose prior: correlated poses, drawn in batches.

Each family fills a :class:`PoseDraft` for ``n`` samples at once: left-equivalent
swing-twist angles in degrees (see :mod:`smplr.synthetic.joint_limits`) plus the
pelvis' pitch/roll/yaw and, for lying poses, a base orientation.  Per-sample
randomness (gait phase, how far a knee bends, which gesture an arm makes) is drawn
as tensors, so a family costs a few dozen tensor ops whatever ``n`` is.

Families describe limbs the anatomical way: an upper arm or a thigh is aimed by a
*flexion* (forward from hanging down) and an *abduction* (sideways, away from the
body), see :func:`limb_direction`, and converted to the joint's swing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from smplr.geometry.rotations import axis_rotation
from smplr.synthetic.joint_limits import X, Y, Z, body_joint, limits, swing_towards

SIDES = ("left", "right")


def limb_direction(flexion: torch.Tensor, abduction: torch.Tensor) -> torch.Tensor:
    """Unit direction ``(n, 3)`` of a limb hanging down (−Y), swung forward by
    ``flexion`` then sideways by ``abduction`` (degrees, left-equivalent: +X is outwards)."""
    f, a = torch.deg2rad(flexion), torch.deg2rad(abduction)
    return torch.stack(
        [torch.sin(a), -torch.cos(a) * torch.cos(f), torch.cos(a) * torch.sin(f)], -1
    )


def _von_mises_bump(phase: torch.Tensor, centre: float, sharpness: float) -> torch.Tensor:
    """Periodic bump in [0, 1] peaking at ``centre`` (fraction of a cycle)."""
    return torch.exp(sharpness * (torch.cos(phase - 2 * math.pi * centre) - 1.0))


class PoseDraft:
    """The poses of ``n`` samples being built by a family (angles in degrees)."""

    def __init__(self, n: int, generator: torch.Generator, device, dtype: torch.dtype) -> None:
        self.n = n
        self.generator = generator
        self.device = device
        self.dtype = dtype
        self.angles = torch.zeros(n, 23, 3, device=device, dtype=dtype)
        self.pitch = torch.zeros(n, device=device, dtype=dtype)  # pelvis forward tilt (+)
        self.roll = torch.zeros(n, device=device, dtype=dtype)  # pelvis left side up (+)
        self.yaw = torch.zeros(n, device=device, dtype=dtype)  # pelvis turn to its left (+)
        self.base: torch.Tensor | None = None  # (n, 3, 3) orientation under the pelvis tilt

    # ------------------------------------------------------------------ random numbers
    def uniform(self, low: float, high: float) -> torch.Tensor:
        r = torch.rand(self.n, generator=self.generator, device=self.device, dtype=self.dtype)
        return low + (high - low) * r

    def normal(self, mean: float, std: float) -> torch.Tensor:
        r = torch.randn(self.n, generator=self.generator, device=self.device, dtype=self.dtype)
        return mean + std * r

    def coin(self, p: float) -> torch.Tensor:
        r = torch.rand(self.n, generator=self.generator, device=self.device)
        return r < p

    def choice(self, k: int) -> torch.Tensor:
        return torch.randint(k, (self.n,), generator=self.generator, device=self.device)

    # ------------------------------------------------------------------ joints
    def set(self, joint: str, component: int, value: torch.Tensor | float) -> None:
        self.angles[:, body_joint(joint), component] = value

    def add(self, joint: str, component: int, value: torch.Tensor | float) -> None:
        self.angles[:, body_joint(joint), component] += value

    def get(self, joint: str, component: int) -> torch.Tensor:
        return self.angles[:, body_joint(joint), component]

    def aim_arm(self, side: str, flexion, abduction, twist) -> None:
        """Point the upper arm (flexion/abduction from hanging, degrees) with humeral twist.

        The collar takes its share as the shoulder blade does (scapulohumeral rhythm):
        a quarter of the elevation above the horizontal (up to 25°) and 15 % of the
        forward swing (up to 20°); the shoulder joint does the rest.
        """
        d = limb_direction(self._t(flexion), self._t(abduction))
        swing = torch.rad2deg(swing_towards((1.0, 0.0, 0.0), d))
        collar_y = (0.15 * swing[:, Y]).clamp(-20.0, 0.0)
        collar_z = (0.25 * swing[:, Z]).clamp(0.0, 25.0)
        self.set(f"{side}_collar", Y, collar_y)
        self.set(f"{side}_collar", Z, collar_z)
        self.set(f"{side}_shoulder", Y, swing[:, Y] - collar_y)
        self.set(f"{side}_shoulder", Z, swing[:, Z] - collar_z)
        self.set(f"{side}_shoulder", X, twist)

    def aim_leg(self, side: str, flexion, abduction, twist) -> None:
        """Point the thigh relative to the pelvis (flexion/abduction, degrees)."""
        d = limb_direction(self._t(flexion), self._t(abduction))
        swing = torch.rad2deg(swing_towards((0.0, -1.0, 0.0), d))
        self.set(f"{side}_hip", X, swing[:, X])
        self.set(f"{side}_hip", Z, swing[:, Z])
        self.set(f"{side}_hip", Y, twist)

    def ground_feet(self) -> None:
        """Set the ankles so that the soles stay about parallel to the pelvis' ground
        (undo the sagittal and frontal rotations accumulated along each leg)."""
        for side, sign in (("left", 1.0), ("right", -1.0)):
            sagittal = self.pitch + self.get(f"{side}_hip", X) + self.get(f"{side}_knee", X)
            frontal = sign * self.roll + self.get(f"{side}_hip", Z)
            self.set(f"{side}_ankle", X, -sagittal)
            self.set(f"{side}_ankle", Z, -frontal)

    def spread(self, joints: tuple[str, ...], component: int, total: torch.Tensor) -> None:
        """Share a rotation equally over a chain (e.g. a trunk bend over the spine)."""
        for joint in joints:
            self.add(joint, component, total / len(joints))

    def keep_where(self, mask: torch.Tensor, before: torch.Tensor) -> None:
        """Keep the changes made since ``before`` (a copy of ``angles``) only where ``mask``."""
        self.angles = torch.where(mask[:, None, None], self.angles, before)

    def _t(self, value) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value
        return torch.full((self.n,), float(value), device=self.device, dtype=self.dtype)


SPINE = ("spine1", "spine2", "spine3")


# ---------------------------------------------------------------------- arm gestures
# One row per gesture of one arm, each entry a (low, high) range in degrees:
# upper-arm flexion, abduction, humeral twist (relative, + internal), elbow flexion,
# forearm twist, wrist extension (+) / flexion (−).  Ranges of the gestures that
# bring the hands to the body (on the hip, crossed, behind the back) were tuned on
# the reference skeleton so that the wrist lands where the gesture puts it.
GESTURES: dict[str, tuple[tuple[float, float], ...]] = {
    "relaxed": ((-10, 15), (5, 20), (-10, 30), (5, 35), (-20, 20), (-20, 10)),
    "point": ((60, 110), (-10, 40), (-20, 20), (0, 15), (-30, 30), (-10, 20)),
    "wave": ((-10, 30), (80, 130), (-95, -60), (50, 110), (-30, 30), (-20, 20)),
    "hand_on_hip": ((-20, 0), (30, 40), (50, 85), (70, 90), (-20, 20), (10, 40)),
    "hand_on_head": ((30, 70), (90, 130), (-40, 0), (110, 145), (-20, 20), (-20, 20)),
    "hand_to_face": ((20, 60), (0, 30), (0, 40), (120, 145), (-30, 30), (-20, 20)),
    "arms_crossed": ((30, 50), (-10, 0), (45, 75), (80, 100), (-20, 20), (-10, 10)),
    "spread": ((-20, 30), (70, 110), (-20, 20), (0, 30), (-30, 30), (-20, 20)),
    "raised": ((140, 180), (-10, 30), (-30, 30), (0, 40), (-30, 30), (-20, 20)),
    "forward": ((60, 100), (-15, 15), (-60, -20), (0, 90), (-30, 30), (-20, 20)),
    "behind_back": ((-40, -25), (0, 15), (45, 80), (40, 70), (-20, 20), (-10, 20)),
}
_GESTURE_NAMES = tuple(GESTURES)


def _arm_from_ranges(d: PoseDraft, side: str, ranges: torch.Tensor) -> None:
    """Pose one arm from per-sample ranges ``(n, 6, 2)`` (degrees), uniform inside each."""
    r = torch.rand(d.n, 6, generator=d.generator, device=d.device, dtype=d.dtype)
    v = ranges[..., 0] + (ranges[..., 1] - ranges[..., 0]) * r
    d.aim_arm(side, v[:, 0], v[:, 1], v[:, 2])
    d.set(f"{side}_elbow", Y, -v[:, 3])
    d.set(f"{side}_elbow", X, v[:, 4])
    d.set(f"{side}_wrist", Z, v[:, 5])
    d.set(f"{side}_hand", Z, d.uniform(-35, 0))


def gesture_arm(d: PoseDraft, side: str, names: tuple[str, ...] = _GESTURE_NAMES) -> torch.Tensor:
    """Give one arm a random gesture out of ``names``; returns the gesture index per sample."""
    table = torch.tensor([GESTURES[n] for n in names], device=d.device, dtype=d.dtype)
    pick = d.choice(len(names))
    _arm_from_ranges(d, side, table[pick])
    return pick


def relaxed_arms(d: PoseDraft) -> None:
    for side in SIDES:
        gesture_arm(d, side, ("relaxed",))


def relaxed_head(d: PoseDraft, turn: float = 20.0, nod: float = 10.0) -> None:
    d.set("neck", X, d.normal(0, nod))
    d.set("neck", Y, d.normal(0, turn * 0.6))
    d.set("head", X, d.normal(0, nod * 0.7))
    d.set("head", Y, d.normal(0, turn * 0.4))
    d.set("head", Z, d.normal(0, 5))


def standing_legs(d: PoseDraft) -> None:
    """Both feet on the ground, weight shifted between the legs (contrapposto)."""
    d.roll = d.uniform(-7, 7)
    d.pitch = d.normal(0, 3)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        d.aim_leg(side, d.normal(0, 4) + d.pitch, -sign * d.roll + d.uniform(0, 7), d.normal(0, 8))
        d.set(f"{side}_knee", X, d.uniform(0, 8))
    # The leg on the pelvis' low side is unloaded: its knee bends forward, the hip
    # flexing by half as much, so that the foot stays under the body.
    relaxed_knee = d.uniform(5, 25)
    for side, unloaded in (("left", d.roll <= 0), ("right", d.roll > 0)):
        d.add(f"{side}_knee", X, relaxed_knee * unloaded)
        d.add(f"{side}_hip", X, -0.5 * relaxed_knee * unloaded)
    d.spread(SPINE, Z, -d.roll)
    d.spread(SPINE, X, d.normal(3, 4))
    d.spread(SPINE, Y, d.normal(0, 8))
    d.ground_feet()


# ---------------------------------------------------------------------- families
def standing(d: PoseDraft) -> None:
    """Upright, feet on the ground, weight shift, relaxed arms, head turns."""
    standing_legs(d)
    relaxed_arms(d)
    relaxed_head(d)


def locomotion(d: PoseDraft) -> None:
    """Walking and running cycles: legs in anti-phase, arms swinging against the legs.

    Joint curves are smooth periodic approximations of gait kinematics at a random
    phase; running (35 %) has larger hip/knee/elbow angles and a forward lean.
    """
    phase = d.uniform(0, 2 * math.pi)
    run = d.coin(0.35).to(d.dtype)
    walk = 1.0 - run
    d.pitch = walk * d.normal(3, 2) + run * d.uniform(5, 15)
    d.yaw = (walk * 5 + run * 8) * torch.sin(phase)
    d.roll = 3 * walk * torch.sin(2 * phase)
    for side, offset in (("left", 0.0), ("right", math.pi)):
        p = phase + offset
        hip = walk * (10 + 20 * torch.cos(p)) + run * (20 + 35 * torch.cos(p))
        knee = walk * (
            5 + 12 * _von_mises_bump(p, 0.12, 8) + 55 * _von_mises_bump(p, 0.72, 6)
        ) + run * (10 + 30 * _von_mises_bump(p, 0.18, 8) + 95 * _von_mises_bump(p, 0.75, 5))
        ankle = walk * (
            -8 * _von_mises_bump(p, 0.45, 6) + 18 * _von_mises_bump(p, 0.62, 10)
        ) + run * (-15 * _von_mises_bump(p, 0.3, 6) + 25 * _von_mises_bump(p, 0.55, 8))
        d.aim_leg(side, hip + d.pitch, d.uniform(0, 6), d.normal(0, 6))
        d.set(f"{side}_knee", X, knee)
        d.set(f"{side}_ankle", X, ankle)
        # The arm swings with the opposite leg.
        arm = (walk * d.uniform(12, 25) + run * d.uniform(25, 45)) * torch.cos(p + math.pi)
        d.aim_arm(side, arm, d.uniform(5, 15), d.uniform(-10, 30))
        elbow = walk * d.uniform(10, 35) + run * d.uniform(65, 100)
        d.set(f"{side}_elbow", Y, -(elbow + 0.3 * arm.clamp_min(0)))
        d.set(f"{side}_wrist", Z, d.uniform(-20, 10))
        d.set(f"{side}_hand", Z, d.uniform(-35, 0))
    d.spread(SPINE, Y, -d.yaw * 1.5)
    d.spread(SPINE, X, run * d.uniform(0, 10))
    relaxed_head(d, turn=10, nod=6)


def sitting(d: PoseDraft) -> None:
    """Sitting on a chair: hips ~90° flexed, knees bent, feet on the floor."""
    d.pitch = d.uniform(-15, 8)
    for side in SIDES:
        thigh = d.uniform(75, 100)
        d.aim_leg(side, thigh + d.pitch, d.uniform(-5, 20), d.normal(-5, 10))
        d.set(f"{side}_knee", X, thigh + d.uniform(-30, 30))
    slouch = d.uniform(-5, 30)
    d.spread(SPINE, X, slouch)
    d.spread(SPINE, Y, d.normal(0, 10))
    d.ground_feet()
    for side in SIDES:
        gesture_arm(d, side, ("relaxed", "hand_to_face", "forward", "arms_crossed", "point"))
        # Half of the forearms rest on the thighs or a desk.
        before = d.angles.clone()
        d.aim_arm(side, d.uniform(15, 50), d.uniform(0, 15), d.uniform(0, 40))
        d.set(f"{side}_elbow", Y, -d.uniform(50, 100))
        d.keep_where(d.coin(0.5), before)
    relaxed_head(d, turn=25, nod=12)


def squatting(d: PoseDraft) -> None:
    """Deep squat: hips and knees strongly flexed, trunk leaning forward, heels down."""
    d.pitch = d.uniform(15, 45)
    for side in SIDES:
        thigh = d.uniform(95, 125)
        d.aim_leg(side, thigh + d.pitch, d.uniform(10, 35), d.normal(-10, 10))
        d.set(f"{side}_knee", X, d.uniform(115, 150))
    d.spread(SPINE, X, d.uniform(-10, 20))
    d.ground_feet()
    # Trunk pitch is partly undone by the hip limit; look ahead.
    d.set("neck", X, -0.4 * d.pitch + d.normal(0, 8))
    d.set("neck", Y, d.normal(0, 12))
    for side in SIDES:
        gesture_arm(d, side, ("relaxed", "forward", "arms_crossed", "point"))
        # Most arms hang between the knees or reach forward for balance.
        before = d.angles.clone()
        d.aim_arm(side, d.uniform(20, 100), d.uniform(-10, 25), d.uniform(-30, 40))
        d.set(f"{side}_elbow", Y, -d.uniform(0, 40))
        d.keep_where(d.coin(0.6), before)


def crouching(d: PoseDraft) -> None:
    """Half-squat bent over, kneeling on one knee, or kneeling / sitting on the heels."""
    kind = d.choice(3)
    half, one_knee, kneel = (
        (kind == 0).to(d.dtype),
        (kind == 1).to(d.dtype),
        (kind == 2).to(d.dtype),
    )
    d.pitch = half * d.uniform(30, 60) + one_knee * d.uniform(-5, 15) + kneel * d.uniform(-5, 20)
    # Half-squat: both legs alike.  One knee: the left leg is the front leg (mirroring
    # later makes either side the front).  Kneeling: thighs from vertical to sitting on heels.
    sit_back = d.uniform(0, 1)
    thigh_l = half * d.uniform(45, 90) + one_knee * d.uniform(70, 100) + kneel * (sit_back * 70)
    thigh_r = half * d.uniform(45, 90) + one_knee * d.uniform(-20, 10) + kneel * (sit_back * 70)
    knee_l = (
        half * d.uniform(50, 100) + one_knee * d.uniform(75, 100) + kneel * (90 + sit_back * 55)
    )
    knee_r = (
        half * d.uniform(50, 100) + one_knee * d.uniform(85, 120) + kneel * (90 + sit_back * 55)
    )
    d.aim_leg("left", thigh_l + d.pitch, d.uniform(0, 20), d.normal(0, 8))
    d.aim_leg("right", thigh_r + d.pitch, d.uniform(0, 20), d.normal(0, 8))
    d.set("left_knee", X, knee_l)
    d.set("right_knee", X, knee_r)
    d.ground_feet()
    # A knee on the floor: shin lies flat, foot pointed (or toes tucked under).
    for side, on_floor in (("left", kneel), ("right", one_knee + kneel)):
        d.set(
            f"{side}_ankle",
            X,
            d.get(f"{side}_ankle", X) * (1 - on_floor) + on_floor * d.uniform(0, 45),
        )
        d.set(f"{side}_foot", X, on_floor * d.uniform(-40, 0))
    d.spread(SPINE, X, half * d.uniform(10, 40) + (1 - half) * d.uniform(-5, 15))
    d.set("neck", X, -0.3 * d.pitch + d.normal(0, 8))
    for side in SIDES:
        gesture_arm(d, side, ("relaxed", "forward", "point", "hand_on_hip", "hand_to_face"))
        before = d.angles.clone()
        d.aim_arm(side, d.uniform(40, 100), d.uniform(-10, 25), d.uniform(-30, 30))
        d.keep_where(half.bool() & d.coin(0.6), before)


def reaching(d: PoseDraft) -> None:
    """Reaching out, up or down with one or both arms; the trunk bends and turns with it."""
    standing_legs(d)
    d.pitch = d.pitch + d.coin(0.4) * d.uniform(10, 75)  # bending over to reach down
    for side in SIDES:
        d.aim_leg(side, d.pitch + d.uniform(-5, 10), d.uniform(0, 10), d.normal(0, 8))
        d.set(f"{side}_knee", X, d.uniform(0, 25))
    d.ground_feet()
    d.spread(SPINE, X, d.uniform(-10, 30))
    turn = d.normal(0, 15)
    d.spread(SPINE, Y, turn)
    d.spread(SPINE, Z, d.normal(0, 8))
    both, left_one = d.coin(0.35), d.coin(0.5)
    for side in SIDES:
        gesture_arm(d, side, ("relaxed", "hand_on_hip", "spread"))  # the arm that does not reach
        before = d.angles.clone()
        d.aim_arm(side, d.uniform(-30, 175), d.uniform(-25, 90), d.uniform(-50, 40))
        d.set(f"{side}_elbow", Y, -d.uniform(0, 35))
        d.set(f"{side}_elbow", X, d.normal(0, 20))
        d.set(f"{side}_wrist", Z, d.normal(0, 20))
        d.set(f"{side}_hand", Z, d.uniform(-40, 5))
        d.keep_where(both | (left_one if side == "left" else ~left_one), before)
    relaxed_head(d, turn=25, nod=15)


def lying(d: PoseDraft) -> None:
    """Lying on the back, the front or a side: relaxed or bent legs, varied arms."""
    kind = d.choice(4)  # 0 supine, 1 prone, 2 left side, 3 right side
    angle = torch.tensor([-90.0, 90.0, 90.0, -90.0], device=d.device, dtype=d.dtype)[kind]
    about_z = kind >= 2
    angle = torch.deg2rad(angle)
    base_x = axis_rotation(torch.where(about_z, 0 * angle, angle), X)
    base_z = axis_rotation(torch.where(about_z, angle, 0 * angle), Z)
    d.base = base_x @ base_z
    side_lying = about_z.to(d.dtype)
    for side in SIDES:
        bent = d.coin(0.4).to(d.dtype)
        curl = torch.maximum(bent, side_lying)
        thigh = curl * d.uniform(20, 90) + (1 - curl) * d.normal(0, 8)
        d.aim_leg(side, thigh, d.uniform(-5, 20), d.normal(0, 10))
        d.set(f"{side}_knee", X, curl * d.uniform(30, 120) + (1 - curl) * d.uniform(0, 15))
        d.set(f"{side}_ankle", X, d.uniform(-10, 40))
        gesture_arm(d, side, ("relaxed", "raised", "spread", "hand_on_head", "arms_crossed"))
    d.spread(SPINE, X, side_lying * d.uniform(0, 30) + d.normal(0, 5))
    d.spread(SPINE, Y, d.normal(0, 8))
    relaxed_head(d, turn=30, nod=10)


def gestures(d: PoseDraft) -> None:
    """Standing with both arms in gestures (waving, pointing, hands on hips, ...)."""
    standing_legs(d)
    symmetric = d.coin(0.3)
    left = gesture_arm(d, "left")
    gesture_arm(d, "right")
    # Symmetric gestures: the right arm copies the left one's ranges.
    table = torch.tensor([GESTURES[n] for n in _GESTURE_NAMES], device=d.device, dtype=d.dtype)
    before = d.angles.clone()
    _arm_from_ranges(d, "right", table[left])
    d.keep_where(symmetric, before)
    relaxed_head(d, turn=25, nod=12)


def free(d: PoseDraft) -> None:
    """Every joint drawn on its own around neutral (σ = 20 % of its range), limbs aimed
    anywhere in a broad box: covers combinations the other families miss."""
    lo, hi = limits(d.device, d.dtype)
    lo, hi = torch.rad2deg(lo), torch.rad2deg(hi)
    noise = torch.randn(d.n, 23, 3, generator=d.generator, device=d.device, dtype=d.dtype)
    d.angles = (noise * 0.2 * (hi - lo)).clamp(lo, hi)
    for side in SIDES:
        d.aim_arm(side, d.uniform(-40, 170), d.uniform(-20, 100), d.normal(0, 30))
        d.aim_leg(side, d.uniform(-20, 100), d.uniform(-10, 35), d.normal(0, 12))
    d.pitch = d.normal(0, 12)
    d.roll = d.normal(0, 6)


FAMILIES: dict[str, Callable[[PoseDraft], None]] = {
    "standing": standing,
    "locomotion": locomotion,
    "sitting": sitting,
    "squatting": squatting,
    "crouching": crouching,
    "reaching": reaching,
    "lying": lying,
    "gestures": gestures,
    "free": free,
}
"""Name -> function that fills a :class:`PoseDraft`."""

DEFAULT_FAMILY_WEIGHTS: dict[str, float] = {
    "standing": 0.12,
    "locomotion": 0.2,
    "sitting": 0.12,
    "squatting": 0.07,
    "crouching": 0.09,
    "reaching": 0.12,
    "lying": 0.06,
    "gestures": 0.14,
    "free": 0.08,
}
"""How often each family is drawn by default (normalised when used)."""
