"""The image backbone: RGB crop -> 41 root-relative 3D points (paper 3, 4.1, 4.4.1).

The front of the paper's chain (Fig. 2): a volumetric stacked hourglass (SHN) predicts
one ``D×H×W`` heatmap per point over a metric cube around the root, a soft-argmax turns
each into root-relative camera-frame metres, and those points (23 joints without the
root, then 18 landmarks) are what the DAE takes.  Also the paper's variants: SHN_nL (no
landmarks), SHN^final's 4 limb heatmaps, and the AlexNet-like direct regressor of
Table 1.  Conventions (axes, volume, crop): :mod:`smplr.image_model.volume`; the
architecture: :mod:`smplr.image_model.hourglass`; docs: ``docs/image_model.md``.

- :class:`ImageModelConfig` (:mod:`~smplr.image_model.config`): every size, typed;
  ``small()`` for CPUs, ``paper()`` for GPUs;
- :func:`build_image_model` / :class:`ImageModel` (:mod:`~smplr.image_model.model`);
- :func:`soft_argmax`, :func:`heatmap_loss`: the volume's read-out and training loss.
"""

from smplr.image_model.config import ARCHITECTURES, ImageModelConfig
from smplr.image_model.model import ImageModel, build_image_model, imagenet_start
from smplr.image_model.points import jl_from_points, points_from_jl
from smplr.image_model.targets import heatmap_loss
from smplr.image_model.volume import soft_argmax

__all__ = [
    "ARCHITECTURES",
    "ImageModel",
    "ImageModelConfig",
    "build_image_model",
    "heatmap_loss",
    "imagenet_start",
    "jl_from_points",
    "points_from_jl",
    "soft_argmax",
]
