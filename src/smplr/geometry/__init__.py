"""Geometry shared by the body model, SMPLR and the metrics: rotations and alignment."""
