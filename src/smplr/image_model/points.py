"""Which points an image model predicts, and the limbs of SHN^final's limb heatmaps.

The paper's backbone predicts 41 points relative to the root: JL without its first point
(the pelvis) — 23 joints then 18 landmarks (:mod:`smplr.body.skeleton`).  SHN_nL predicts
the 23 joints only.  Point ``k`` of an image model is JL point ``k + 1``.

Limbs (paper 4.4.1, Fig. 4): four chains of joints, each drawn as one volumetric heatmap.
"""

from __future__ import annotations

import itertools

import torch

from smplr.body.skeleton import JOINT_NAMES, NUM_BODY_JOINTS, NUM_JL

LIMB_CHAINS: dict[str, tuple[str, ...]] = {
    "left_arm": ("left_shoulder", "left_elbow", "left_wrist", "left_hand"),
    "right_arm": ("right_shoulder", "right_elbow", "right_wrist", "right_hand"),
    "left_leg": ("left_hip", "left_knee", "left_ankle", "left_foot"),
    "right_leg": ("right_hip", "right_knee", "right_ankle", "right_foot"),
}


def limb_segments() -> list[list[tuple[int, int]]]:
    """Per limb, its segments as pairs of *predicted point* indices (JL index − 1)."""
    index = {name: i - 1 for i, name in enumerate(JOINT_NAMES)}
    return [
        [(index[a], index[b]) for a, b in itertools.pairwise(chain)]
        for chain in LIMB_CHAINS.values()
    ]


def points_from_jl(jl: torch.Tensor, landmarks: bool = True) -> torch.Tensor:
    """The prediction target from JL: ``jl (B, 42, 3)`` -> root-relative ``(B, 41, 3)``
    (or ``(B, 23, 3)`` without landmarks)."""
    if jl.ndim != 3 or jl.shape[1:] != (NUM_JL, 3):
        raise ValueError(f"jl must be (B, {NUM_JL}, 3), got {tuple(jl.shape)}")
    rel = jl[:, 1:] - jl[:, :1]
    return rel if landmarks else rel[:, :NUM_BODY_JOINTS]


def jl_from_points(points: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`points_from_jl` for all 41 points: ``(B, 41, 3)`` -> JL
    ``(B, 42, 3)`` with the root at the origin (the DAE's input form)."""
    if points.ndim != 3 or points.shape[1:] != (NUM_JL - 1, 3):
        raise ValueError(f"points must be (B, {NUM_JL - 1}, 3), got {tuple(points.shape)}")
    return torch.cat([points.new_zeros(points.shape[0], 1, 3), points], dim=1)
