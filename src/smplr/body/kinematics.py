"""Forward kinematics along SMPL's 24-joint tree, batched one tree level at a time."""

from __future__ import annotations

import torch

from smplr.body.skeleton import NUM_JOINTS, PARENTS, kinematic_levels

_LEVELS = kinematic_levels(PARENTS)
_LEVEL_PARENTS = [[PARENTS[j] for j in level] for level in _LEVELS]


def forward_kinematics(
    rotations: torch.Tensor, rest_joints: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chain relative joint rotations down the tree.

    Args:
        rotations: ``(B, 24, 3, 3)`` rotation of each joint relative to its parent
            (index 0: the root's global orientation).
        rest_joints: ``(B, 24, 3)`` or ``(24, 3)`` joint positions in the rest pose.
    Returns:
        world rotations ``(B, 24, 3, 3)`` and posed joint positions ``(B, 24, 3)``;
        the root stays at its rest position.
    """
    batch = rotations.shape[0]
    rest = rest_joints.expand(batch, NUM_JOINTS, 3)
    world = rotations.new_empty(batch, NUM_JOINTS, 3, 3)
    joints = rotations.new_empty(batch, NUM_JOINTS, 3)
    world[:, 0] = rotations[:, 0]
    joints[:, 0] = rest[:, 0]
    for level, parents in zip(_LEVELS[1:], _LEVEL_PARENTS[1:], strict=True):
        bone = (rest[:, level] - rest[:, parents]).unsqueeze(-1)  # (B, L, 3, 1)
        parent_world = world[:, parents]
        world[:, level] = parent_world @ rotations[:, level]
        joints[:, level] = joints[:, parents] + (parent_world @ bone).squeeze(-1)
    return world, joints
