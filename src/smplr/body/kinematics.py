"""Forward kinematics along SMPL's 24-joint tree, batched one tree level at a time."""

from __future__ import annotations

import torch

from smplr.body.skeleton import NUM_JOINTS, PARENTS, kinematic_levels


def _level_slices() -> list[tuple[int, int, list[int]]]:
    """Each level of the tree below the root as a ``(start, stop, parents)`` range of joints.

    SMPL numbers its joints level by level, so every level is a contiguous range and
    the forward pass writes slices instead of scattering.
    """
    slices = []
    for level in kinematic_levels(PARENTS)[1:]:
        if level != list(range(level[0], level[-1] + 1)):
            raise AssertionError(f"joints {level} of one tree level are not numbered contiguously")
        slices.append((level[0], level[-1] + 1, [PARENTS[j] for j in level]))
    return slices


_LEVELS = _level_slices()
_PARENT_INDEX: dict[torch.device, list[torch.Tensor]] = {}


def _parent_index(device: torch.device) -> list[torch.Tensor]:
    """The parents of each level as index tensors on ``device`` (made once per device)."""
    if device not in _PARENT_INDEX:
        _PARENT_INDEX[device] = [torch.tensor(p, device=device) for _, _, p in _LEVELS]
    return _PARENT_INDEX[device]


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
    for (start, stop, _), parents in zip(_LEVELS, _parent_index(rotations.device), strict=True):
        parent_world = world.index_select(1, parents)
        bone = rest[:, start:stop] - rest.index_select(1, parents)  # (B, L, 3)
        world[:, start:stop] = parent_world @ rotations[:, start:stop]
        joints[:, start:stop] = joints.index_select(1, parents) + (
            parent_world @ bone.unsqueeze(-1)
        ).squeeze(-1)
    return world, joints
