"""An approximate adult skeleton for the pose prior's self-collision test and plots.

The prior must reject poses whose arms pass through the torso or whose legs pass
through each other without evaluating a body model.  It poses this fixed stick
figure (rest joints of an average adult in SMPL's T-pose, metres, pelvis at the
origin, rounded to 5 mm) with forward kinematics and tests a few points against
simple volumes.  The collision volumes are deliberately thinner than a real body,
so only clear penetrations are rejected.
"""

from __future__ import annotations

import torch

from smplr.body.kinematics import forward_kinematics
from smplr.body.skeleton import JOINT_NAMES

# Left-side and central joints; right-side joints are their mirror images (x -> -x).
_LEFT_AND_CENTRE: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.07, -0.09, -0.005),
    "spine1": (0.0, 0.12, -0.025),
    "left_knee": (0.105, -0.455, -0.01),
    "spine2": (0.0, 0.25, 0.0),
    "left_ankle": (0.09, -0.865, -0.055),
    "spine3": (0.0, 0.31, 0.0),
    "left_foot": (0.12, -0.93, 0.065),
    "neck": (0.0, 0.51, -0.045),
    "left_collar": (0.075, 0.42, -0.035),
    "head": (0.0, 0.575, 0.02),
    "left_shoulder": (0.195, 0.47, -0.045),
    "left_elbow": (0.45, 0.45, -0.07),
    "left_wrist": (0.71, 0.455, -0.07),
    "left_hand": (0.795, 0.445, -0.08),
}


def _rest_joint(name: str) -> tuple[float, float, float]:
    if name.startswith("right_"):
        x, y, z = _LEFT_AND_CENTRE["left_" + name[len("right_") :]]
        return (-x, y, z)
    return _LEFT_AND_CENTRE[name]


REST_JOINTS: tuple[tuple[float, float, float], ...] = tuple(_rest_joint(n) for n in JOINT_NAMES)
"""``(24, 3)`` rest joints of the reference skeleton, metres, in JOINT_NAMES order."""


def pose_reference_skeleton(
    global_orient: torch.Tensor, body_pose: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward kinematics of the reference skeleton.

    ``global_orient (B, 3, 3)``, ``body_pose (B, 23, 3, 3)`` -> joints ``(B, 24, 3)``
    (pelvis at the origin) and world rotations ``(B, 24, 3, 3)``.
    """
    rest = torch.tensor(REST_JOINTS, device=body_pose.device, dtype=body_pose.dtype)
    world, joints = forward_kinematics(torch.cat([global_orient.unsqueeze(1), body_pose], 1), rest)
    return joints, world
