"""smplr: Deep SMPL reverse (SMPLR) for 3D human pose and shape recovery.

Data flow (paper Fig. 2), one subpackage per stage::

    image -> backbone -> keypoints (JL, 42x3) -> dae -> reverse (Ω, Ψ) -> body (SMPL) -> mesh

- :mod:`smplr.body`      the SMPL-format body model (decoder) and the open model
- :mod:`smplr.geometry`  rotations and Procrustes alignment
- :mod:`smplr.dae`       the denoising autoencoder (noisy / 2D / joint-only -> JL)
- :mod:`smplr.reverse`   SMPL reverse: features N and B, Ω (pose) and Ψ (shape)
- :mod:`smplr.pipeline`  :class:`SMPLR`, the whole chain; :mod:`smplr.refine` LM fitting
"""

from smplr.body import BodyModel, BodyOutput, GenderedBodyModel
from smplr.pipeline import SMPLR, SMPLRResult

__version__ = "0.1.0"

__all__ = ["SMPLR", "BodyModel", "BodyOutput", "GenderedBodyModel", "SMPLRResult", "__version__"]
