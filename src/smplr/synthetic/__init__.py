"""Mocap-like training data generated on the fly (paper 3.2: "millions of generated
mocap-like data"): a pose prior, body shapes, synthetic bodies and noise models."""

from smplr.synthetic.bodies import SyntheticBatch, SyntheticBodies, held_out_set
from smplr.synthetic.poses import FAMILY_NAMES, PosePrior
from smplr.synthetic.shapes import sample_shapes

__all__ = [
    "FAMILY_NAMES",
    "PosePrior",
    "SyntheticBatch",
    "SyntheticBodies",
    "held_out_set",
    "sample_shapes",
]
