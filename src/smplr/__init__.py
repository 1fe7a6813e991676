"""smplr: Deep SMPL reverse (SMPLR) for 3D human pose and shape recovery.

Data flow (paper Fig. 2), one subpackage per stage::

    image -> backbone -> keypoints (JL, 42x3) -> dae -> reverse (Ω, Ψ) -> body (SMPL) -> mesh

- :mod:`smplr.body`      the SMPL-format body model (decoder) and the open model
- :mod:`smplr.geometry`  rotations and Procrustes alignment
"""

from smplr.body import BodyModel, BodyOutput, GenderedBodyModel

__version__ = "0.1.0"

__all__ = ["BodyModel", "BodyOutput", "GenderedBodyModel", "__version__"]
