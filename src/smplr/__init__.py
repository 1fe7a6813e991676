"""smplr: Deep SMPL reverse (SMPLR) for 3D human pose and shape recovery.

Data flow (paper Fig. 2), one subpackage per stage::

    image -> backbone -> keypoints (JL, 42x3) -> dae -> reverse (Ω, Ψ) -> body (SMPL) -> mesh

- :mod:`smplr.body`      the SMPL-format body model (decoder) and the open model
- :mod:`smplr.geometry`  rotations and Procrustes alignment
- :mod:`smplr.dae`       the denoising autoencoder (noisy / 2D / joint-only -> JL)
- :mod:`smplr.reverse`   SMPL reverse: features N and B, Ω (pose) and Ψ (shape)
- :mod:`smplr.pipeline`  :class:`SMPLR`, the whole chain; :mod:`smplr.refine` LM fitting
- :mod:`smplr.metrics`   MPJPE (protocols 1 and 2), surface, part, bone, IoU, gender metrics
- :mod:`smplr.datasets`  SURREAL, Human3.6M and UP-3D readers in their released formats
- :mod:`smplr.evaluation` the paper's tables from any method's predictions (``smplr evaluate``)
"""

from smplr.body import BodyModel, BodyOutput, GenderedBodyModel
from smplr.pipeline import SMPLR, SMPLRResult

__version__ = "0.1.0"

__all__ = ["SMPLR", "BodyModel", "BodyOutput", "GenderedBodyModel", "SMPLRResult", "__version__"]
