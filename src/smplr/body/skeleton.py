"""The SMPL skeleton, the paper's 18 surface landmarks and the 42-point tree κ.

Everything here is a constant of the SMPL format, shared by every body model that
uses SMPL's 24-joint tree (the official SMPL files and the shipped open model).

JL (paper section 3) is the concatenation of the 24 SMPL joints and the 18 surface
landmarks: 42 points, root (pelvis) first.  κ (``JL_PARENTS``) gives each point its
parent; joints keep SMPL's parent table and each landmark hangs off one joint
(paper Fig. 3).
"""

from __future__ import annotations

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)
NUM_JOINTS = len(JOINT_NAMES)  # 24
NUM_BODY_JOINTS = NUM_JOINTS - 1  # 23: every joint but the root, as in ``body_pose``

# SMPL's kinematic tree: parent of each joint, -1 for the root.
PARENTS: tuple[int, ...] = (
    -1,
    0,
    0,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    9,
    9,
    12,
    13,
    14,
    16,
    17,
    18,
    19,
    20,
    21,
)

# Left/right mirror of each joint (index of its symmetric counterpart).
JOINT_MIRROR: tuple[int, ...] = (
    0,
    2,
    1,
    3,
    5,
    4,
    6,
    8,
    7,
    9,
    11,
    10,
    12,
    14,
    13,
    15,
    17,
    16,
    19,
    18,
    21,
    20,
    23,
    22,
)

LANDMARK_NAMES: tuple[str, ...] = (
    "breast_left",
    "breast_right",
    "belly",
    "hip_right",
    "hip_left",
    "upper_leg_front_right",
    "upper_leg_front_left",
    "upper_leg_back_right",
    "upper_leg_back_left",
    "foot_left",
    "foot_right",
    "hand_left",
    "biceps_left",
    "triceps_left",
    "biceps_right",
    "triceps_right",
    "hand_right",
    "head_top",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)  # 18

# Vertex ids of the 18 landmarks on the official SMPL topology (6,890 vertices),
# in the order of LANDMARK_NAMES (from the paper authors' public release).
SMPL_LANDMARK_VERTEX_IDS: tuple[int, ...] = (
    3042,
    4428,
    3503,
    4311,
    822,
    4361,
    877,
    4386,
    898,
    3222,
    6620,
    2544,
    2820,
    1258,
    4116,
    5365,
    5989,
    331,
)
SMPL_NUM_VERTICES = 6890

# The joint each landmark hangs off in κ: the joint whose rotation moves the body
# part the landmark sits on (breasts: spine3; belly: spine1; hips: pelvis;
# thighs: hip joints; feet: ankles; hands: wrists; upper arms: shoulders; head top: head).
LANDMARK_PARENTS: tuple[int, ...] = (9, 9, 3, 0, 0, 2, 1, 2, 1, 7, 8, 20, 16, 16, 17, 17, 21, 15)

# Left/right mirror of each landmark, as an index into LANDMARK_NAMES.
LANDMARK_MIRROR: tuple[int, ...] = (1, 0, 2, 4, 3, 6, 5, 8, 7, 10, 9, 16, 14, 15, 12, 13, 11, 17)

NUM_JL = NUM_JOINTS + NUM_LANDMARKS  # 42
JL_NAMES: tuple[str, ...] = JOINT_NAMES + LANDMARK_NAMES
# κ: parent of each of the 42 points, -1 for the root.
JL_PARENTS: tuple[int, ...] = PARENTS + LANDMARK_PARENTS
JL_MIRROR: tuple[int, ...] = JOINT_MIRROR + tuple(NUM_JOINTS + m for m in LANDMARK_MIRROR)


def kinematic_levels(parents: tuple[int, ...]) -> list[list[int]]:
    """Group the nodes of a tree by depth: level 0 holds the root(s).

    Every node's parent lies in an earlier level, so a forward pass can process one
    level at a time with batched operations instead of one node at a time.
    """
    depth: list[int] = []
    for i, p in enumerate(parents):
        if p >= i:
            raise ValueError(f"tree is not topologically ordered: node {i} has parent {p}")
        depth.append(0 if p < 0 else depth[p] + 1)
    levels: list[list[int]] = [[] for _ in range(max(depth) + 1)]
    for i, d in enumerate(depth):
        levels[d].append(i)
    return levels
