"""SMPL reverse (paper 3.2): the encoder half of SMPLR's autoencoder.

JL (42 points) -> features N (Eq. 1, bone directions) and B (Eqs. 2-3, bone-length
offsets) -> Ω(N) = 24 rotations and Ψ(B) = 10 betas + gender.  The decoder is the body
model (:mod:`smplr.body`).
"""

from smplr.reverse.features import (
    bone_lengths,
    bone_vectors,
    relative_directions,
    relative_distances,
)
from smplr.reverse.networks import PoseNet, ShapeNet

__all__ = [
    "PoseNet",
    "ShapeNet",
    "bone_lengths",
    "bone_vectors",
    "relative_directions",
    "relative_distances",
]
