"""A pose prior that draws plausible SMPL poses from scratch, in batches, on a device.

SMPLR is trained on "millions of generated mocap-like data" (paper 3.2); no mocap
is available here, so poses come from this prior:

1. each sample picks a whole-body *family* (standing, walking/running, sitting,
   squatting, crouching/kneeling, reaching, lying, arm gestures, free) that sets
   correlated joint angles (:mod:`smplr.synthetic.families`);
2. every joint angle gets a small Gaussian perturbation;
3. half of the samples are mirrored left/right;
4. angles are clamped to per-joint anatomical limits
   (:mod:`smplr.synthetic.joint_limits`);
5. the pelvis gets the family's tilt, sometimes an extra random tilt, and a
   uniformly random heading (yaw about the vertical);
6. poses whose arms pass through the torso or whose legs pass through each other
   (tested on a reference skeleton) are redrawn from the same family.

Everything is batched tensor code: the only Python loops run over families and
redraw rounds, never over samples.

Example::

    prior = PosePrior()
    global_orient, body_pose = prior.sample(256, torch.Generator().manual_seed(0))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from smplr.geometry.rotations import axis_angle_to_matrix, axis_rotation
from smplr.synthetic.families import DEFAULT_FAMILY_WEIGHTS, FAMILIES, PoseDraft
from smplr.synthetic.joint_limits import (
    BODY_JOINT_NAMES,
    BODY_MIRROR,
    X,
    Y,
    Z,
    angles_to_body_pose,
    clamp_to_limits,
)
from smplr.synthetic.reference_skeleton import pose_reference_skeleton

FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)

# Standard deviation (degrees) of the per-angle perturbation added to every family.
PERTURBATION_DEGREES: dict[str, float] = {"hip": 3.0, "shoulder": 5.0, "collar": 3.0, "hand": 6.0}
DEFAULT_PERTURBATION_DEGREES = 2.0

_MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))


@dataclass
class PoseSample:
    """What :meth:`PosePrior.sample_detailed` returns for ``B`` samples.

    ``global_orient (B, 3, 3)``, ``body_pose (B, 23, 3, 3)``, ``angles (B, 23, 3)``
    (left-equivalent swing-twist, radians), ``family (B,)`` index into
    :data:`FAMILY_NAMES`, ``mirrored (B,)`` bool.
    """

    global_orient: torch.Tensor
    body_pose: torch.Tensor
    angles: torch.Tensor
    family: torch.Tensor
    mirrored: torch.Tensor


def _perturbation_scale(device, dtype) -> torch.Tensor:
    values = []
    for name in BODY_JOINT_NAMES:
        row = name.removeprefix("left_").removeprefix("right_")
        values.append(PERTURBATION_DEGREES.get(row, DEFAULT_PERTURBATION_DEGREES))
    return torch.deg2rad(torch.tensor(values, device=device, dtype=dtype))


class PosePrior:
    """Plausible SMPL poses, batched on ``device``.

    Args:
        device: where samples are built (``"cpu"``, ``"cuda"``).
        family_weights: relative frequency of each family (names in
            :data:`FAMILY_NAMES`); missing families get weight 0.  Default:
            :data:`~smplr.synthetic.families.DEFAULT_FAMILY_WEIGHTS`.
        tilt_probability: share of non-lying samples whose pelvis gets an extra random
            tilt of up to ``max_tilt_degrees`` (camera roll/pitch, leaning, falling).
        heading_degrees: width of the uniform range of the pelvis' heading (yaw about
            the vertical), centred on facing +Z; 360 (default) covers every direction.
        reject_collisions: redraw poses with arms through the torso or crossing legs.
        dtype: floating dtype of the samples (default: torch's default dtype).
    """

    def __init__(
        self,
        device="cpu",
        family_weights: dict[str, float] | None = None,
        tilt_probability: float = 0.15,
        max_tilt_degrees: float = 30.0,
        heading_degrees: float = 360.0,
        reject_collisions: bool = True,
        dtype: torch.dtype | None = None,
    ) -> None:
        weights = dict(DEFAULT_FAMILY_WEIGHTS if family_weights is None else family_weights)
        unknown = sorted(set(weights) - set(FAMILY_NAMES))
        if unknown:
            raise ValueError(
                f"unknown pose families {unknown}; expected names from {list(FAMILY_NAMES)}"
            )
        values = [float(weights.get(n, 0.0)) for n in FAMILY_NAMES]
        if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("family_weights must be finite, non-negative and not all zero")
        if not 0.0 <= tilt_probability <= 1.0:
            raise ValueError(f"tilt_probability must be in [0, 1], got {tilt_probability}")
        self.device = torch.device(device)
        self.dtype = dtype or torch.get_default_dtype()
        self.family_weights = dict(zip(FAMILY_NAMES, values, strict=True))
        self._weights = torch.tensor(values, dtype=torch.float64)
        self.tilt_probability = tilt_probability
        self.max_tilt_degrees = max_tilt_degrees
        self.heading_degrees = heading_degrees
        self.reject_collisions = reject_collisions
        self.redraw_rounds = 3  # colliding rows left after these keep their last draw
        self.redraw_candidates = 4
        self._perturbation = _perturbation_scale(self.device, self.dtype)

    # ------------------------------------------------------------------ public
    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``batch`` poses -> ``global_orient (B, 3, 3)``, ``body_pose (B, 23, 3, 3)``.

        Rotation matrices in SMPL's joint frames; ``generator`` must live on the
        prior's device and makes the draw reproducible.
        """
        s = self.sample_detailed(batch, generator)
        return s.global_orient, s.body_pose

    def sample_detailed(self, batch: int, generator: torch.Generator) -> PoseSample:
        """As :meth:`sample`, with the angles, family and mirror flag of every sample."""
        if batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch}")
        if torch.device(generator.device).type != self.device.type:
            raise ValueError(
                f"the generator is on {generator.device} but the pose prior builds on {self.device}"
            )
        family = torch.multinomial(
            self._weights, batch, replacement=True, generator=_cpu(generator)
        )
        family = family.to(self.device)
        out = self._draw(family, generator)
        if not self.reject_collisions:
            return out
        bad = torch.nonzero(self_collisions(out.global_orient, out.body_pose)).squeeze(1)
        for _ in range(self.redraw_rounds):
            if bad.numel() == 0:
                break
            # One draw of several candidates per colliding row (drawing costs mostly
            # per call): each row takes its first collision-free candidate.
            count = bad.numel()
            candidates = self._draw(family[bad].repeat(self.redraw_candidates), generator)
            free = ~self_collisions(candidates.global_orient, candidates.body_pose)
            free = free.view(self.redraw_candidates, count)
            found = free.any(0)
            pick = free.to(torch.int32).argmax(0) * count + torch.arange(count, device=self.device)
            for field in ("global_orient", "body_pose", "angles", "mirrored"):
                getattr(out, field)[bad[found]] = getattr(candidates, field)[pick[found]]
            bad = bad[~found]
        return out

    # ------------------------------------------------------------------ internals
    def _draw(self, family: torch.Tensor, generator: torch.Generator) -> PoseSample:
        batch = family.shape[0]
        dev, dt = self.device, self.dtype
        angles = torch.zeros(batch, 23, 3, device=dev, dtype=dt)
        root = torch.zeros(batch, 3, 3, device=dev, dtype=dt)
        lying = torch.zeros(batch, dtype=torch.bool, device=dev)
        for index, name in enumerate(FAMILY_NAMES):
            rows = torch.nonzero(family == index).squeeze(1)
            if rows.numel() == 0:
                continue
            draft = PoseDraft(rows.numel(), generator, dev, dt)
            FAMILIES[name](draft)
            angles[rows] = torch.deg2rad(draft.angles)
            root[rows] = _pelvis_rotation(draft)
            lying[rows] = draft.base is not None
        angles = angles + self._perturbation[:, None] * torch.randn(
            batch, 23, 3, generator=generator, device=dev, dtype=dt
        )
        mirrored = torch.rand(batch, generator=generator, device=dev) < 0.5
        angles = torch.where(mirrored[:, None, None], mirror_angles(angles), angles)
        m = _MIRROR.to(dev, dt)
        root = torch.where(mirrored[:, None, None], m @ root @ m, root)
        angles = clamp_to_limits(angles)
        tilt = self._random_tilt(batch, generator)
        tilt = torch.where(lying[:, None, None], torch.eye(3, device=dev, dtype=dt), tilt)
        yaw = torch.rand(batch, generator=generator, device=dev, dtype=dt) - 0.5
        heading = axis_rotation(yaw * math.radians(self.heading_degrees), Y)
        return PoseSample(
            global_orient=heading @ tilt @ root,
            body_pose=angles_to_body_pose(angles),
            angles=angles,
            family=family,
            mirrored=mirrored,
        )

    def _random_tilt(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        dev, dt = self.device, self.dtype
        direction = torch.rand(batch, generator=generator, device=dev, dtype=dt) * 2 * math.pi
        amount = torch.rand(batch, generator=generator, device=dev, dtype=dt)
        amount = amount * math.radians(self.max_tilt_degrees)
        tilted = torch.rand(batch, generator=generator, device=dev) < self.tilt_probability
        amount = torch.where(tilted, amount, torch.zeros_like(amount))
        axis = torch.stack(
            [torch.cos(direction), torch.zeros_like(direction), torch.sin(direction)], -1
        )
        return axis_angle_to_matrix(axis * amount[:, None])


def _cpu(generator: torch.Generator) -> torch.Generator:
    """``torch.multinomial`` on a small CPU tensor needs a CPU generator; derive one
    deterministically from the device generator when they differ."""
    if generator.device.type == "cpu":
        return generator
    seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device).item())
    return torch.Generator().manual_seed(seed)


def _pelvis_rotation(d: PoseDraft) -> torch.Tensor:
    """Family pelvis orientation: base (lying) · yaw · pitch · roll."""
    r = (
        axis_rotation(torch.deg2rad(d.yaw), Y)
        @ axis_rotation(torch.deg2rad(d.pitch), X)
        @ axis_rotation(torch.deg2rad(d.roll), Z)
    )
    return r if d.base is None else d.base @ r


def mirror_angles(angles: torch.Tensor) -> torch.Tensor:
    """Mirror left-equivalent angles ``(B, 23, 3)`` across the body's sagittal plane.

    Paired joints swap rows (both are stored left-equivalent); central joints (spine,
    neck, head) negate their y and z components.
    """
    mirrored = angles[:, list(BODY_MIRROR)]
    central = torch.tensor(
        [BODY_MIRROR[j] == j for j in range(len(BODY_MIRROR))], device=angles.device
    )
    sign = torch.ones(3, device=angles.device, dtype=angles.dtype)
    sign[1:] = -1.0
    return torch.where(central[None, :, None], mirrored * sign, mirrored)


# ---------------------------------------------------------------------- self-collision test
_TORSO = (0, 3, 6, 9, 12)  # pelvis, spine1, spine2, spine3, neck: the trunk's segments
_ARM_POINTS = (18, 19, 20, 21, 22, 23)  # elbows, wrists, hands
_TORSO_HALF_WIDTH = 0.11  # metres, thinner than an adult trunk: only clear penetrations count
_TORSO_HALF_DEPTH = 0.075
_LIMB_CLEARANCE = 0.06  # minimum distance between the axes of the two legs


def _segment_offsets(points: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Offsets ``(B, P, S, 3)`` from the nearest point of each segment ``a->b (B, S, 3)``."""
    ab = (b - a)[:, None]  # (B, 1, S, 3)
    ap = points[:, :, None] - a[:, None]  # (B, P, S, 3)
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)).clamp(0, 1)
    return ap - t[..., None] * ab


def self_collisions(global_orient: torch.Tensor, body_pose: torch.Tensor) -> torch.Tensor:
    """``(B,)`` bool: the pose, put on the reference skeleton, has an arm through the
    trunk or its legs through each other."""
    joints, world = pose_reference_skeleton(global_orient, body_pose)
    # Arms vs trunk: elbows, wrists, hands and forearm midpoints inside an elliptic
    # trunk around the spine segments, measured in each segment's own frame.
    arm = joints[:, list(_ARM_POINTS)]
    forearm_mid = 0.5 * (joints[:, [18, 19]] + joints[:, [20, 21]])
    points = torch.cat([arm, forearm_mid], dim=1)
    a, b = joints[:, list(_TORSO[:-1])], joints[:, list(_TORSO[1:])]
    offsets = _segment_offsets(points, a, b)  # (B, P, 4, 3) world
    local = torch.einsum("bsji,bpsj->bpsi", world[:, list(_TORSO[:-1])], offsets)
    radii = torch.tensor(
        [_TORSO_HALF_WIDTH, _TORSO_HALF_WIDTH, _TORSO_HALF_DEPTH],
        device=joints.device,
        dtype=joints.dtype,
    )
    arm_in_trunk = ((local / radii) ** 2).sum(-1).lt(1.0).flatten(1).any(1)
    # Legs vs legs: knee, mid-shin, ankle and toes of each leg against the other's bones.
    leg_points = []
    for knee, ankle, foot in ((4, 7, 10), (5, 8, 11)):
        mid_shin = 0.5 * (joints[:, knee] + joints[:, ankle])
        leg_points.append(
            torch.stack([joints[:, knee], mid_shin, joints[:, ankle], joints[:, foot]], 1)
        )
    leg_bones = [((1, 4), (4, 7), (7, 10)), ((2, 5), (5, 8), (8, 11))]
    legs_cross = torch.zeros(joints.shape[0], dtype=torch.bool, device=joints.device)
    for points_of, bones_of in ((0, 1), (1, 0)):
        a = joints[:, [s for s, _ in leg_bones[bones_of]]]
        b = joints[:, [e for _, e in leg_bones[bones_of]]]
        dist = _segment_offsets(leg_points[points_of], a, b).norm(dim=-1)
        legs_cross |= dist.lt(_LIMB_CLEARANCE).flatten(1).any(1)
    return arm_in_trunk | legs_cross


__all__ = [
    "FAMILY_NAMES",
    "PosePrior",
    "PoseSample",
    "mirror_angles",
    "self_collisions",
]
