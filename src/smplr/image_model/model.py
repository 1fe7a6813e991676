"""One interface over every image backbone: outputs, points, loss.

:class:`ImageModel` wraps the network :data:`~smplr.image_model.config.ARCHITECTURES`
names (``shn``: :class:`~smplr.image_model.hourglass.VolumetricHourglass`, ``alexnet``:
:class:`~smplr.image_model.alexnet.DirectRegressor`), so training, the weight bundle and
prediction never branch on the architecture::

    >>> import torch
    >>> from smplr.image_model import ImageModelConfig, build_image_model
    >>> model = build_image_model(ImageModelConfig(stacks=1, features=16, input_size=64,
    ...                                            depth_bins=4, hourglass_depth=2)).eval()
    >>> outputs = model(torch.rand(2, 3, 64, 64))      # one (2, 41, 4, 16, 16) volume per stack
    >>> model.points(outputs).shape                     # soft-argmax: root-relative metres
    torch.Size([2, 41, 3])
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from smplr.body.skeleton import JL_MIRROR, JOINT_MIRROR
from smplr.image_model.alexnet import DirectRegressor
from smplr.image_model.config import ImageModelConfig
from smplr.image_model.crop_frame import at_input_size, camera_points
from smplr.image_model.hourglass import VolumetricHourglass
from smplr.image_model.mobilenet import VolumetricMobileNet, imagenet_encoder_state
from smplr.image_model.targets import heatmap_loss
from smplr.image_model.volume import soft_argmax

MM = 1000.0


class ImageModel(nn.Module):
    """An image backbone with its config: ``images (B, 3, S, S)`` in [0, 1] -> raw outputs
    (:meth:`forward`) -> ``points (B, P, 3)`` root-relative camera-frame metres
    (:meth:`points`), and the training loss (:meth:`loss`)."""

    def __init__(self, config: ImageModelConfig) -> None:
        super().__init__()
        self.config = config
        backbones = {
            "shn": VolumetricHourglass,
            "mobilenet": VolumetricMobileNet,
            "alexnet": DirectRegressor,
        }
        self.backbone: nn.Module = backbones[config.architecture](config)
        for layer in self.modules():  # paper 4.1: Xavier initialisation
            if isinstance(layer, nn.Conv2d | nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
        if isinstance(self.backbone, DirectRegressor):
            self.backbone.reset_output()

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Per stack, ``(B, M, D, H, W)`` heatmap logits (``shn``; one for ``mobilenet``);
        or one ``(B, P, 3)`` point tensor (``alexnet``)."""
        return self.backbone(images)

    def points(self, outputs: list[torch.Tensor]) -> torch.Tensor:
        """The volume points of the last output: ``(B, V, 3)`` in the model's frame
        (``V = config.num_volume_points``; the ``root`` frame's are root-relative metres,
        the ``crop`` frame's go through :meth:`camera_points`)."""
        last = outputs[-1]
        if not self.config.volumetric:
            return last
        return soft_argmax(last[:, : self.config.num_volume_points], self.config.half_range_m)

    def camera_points(
        self, volume: torch.Tensor, intrinsics: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``volume (B, V, 3)`` from :meth:`points` -> ``(B, P, 3)`` root-relative metres,
        camera frame (OpenCV axes).  ``intrinsics (B, 3, 3)``: the crops' camera at the
        model's input size, for the ``crop`` frame (``None``: weak perspective,
        :func:`smplr.image_model.crop_frame.camera_points`); the ``root`` frame ignores it."""
        if self.config.frame == "root":
            return volume
        return camera_points(volume, intrinsics, self.config.input_size, self.config.half_range_m)

    def predict(
        self,
        images: torch.Tensor,
        intrinsics: torch.Tensor | None = None,
        flip_test: bool = False,
    ) -> torch.Tensor:
        """``images (B, 3, S, S)`` -> ``points (B, P, 3)`` root-relative camera-frame
        metres (whatever the training mode); ``intrinsics`` as in :meth:`camera_points`.

        ``flip_test``: also read the mirrored images and average the two readings (the
        mirrored one brought back: left and right points swapped, x negated; exact for
        the crop frame, and for the root frame when the principal point is the crop's
        centre).  Twice the cost."""
        volume = self.points(self(images))
        if flip_test:
            mirrored = self.points(self(images.flip(-1)))[:, list(self.mirror_order)]
            volume = 0.5 * (volume + mirrored * mirrored.new_tensor([-1.0, 1.0, 1.0]))
        return self.camera_points(volume, intrinsics)

    @torch.no_grad()
    def read(
        self, images: torch.Tensor, intrinsics: torch.Tensor, flip_test: bool = True
    ) -> torch.Tensor:
        """Square crops ``images (B, 3, S, S)`` in [0, 1] of any side ``S`` with their
        cameras ``intrinsics (B, 3, 3)`` -> ``points (B, P, 3)`` as :meth:`predict` gives
        them: the crops resized to the input size as in training, read in eval mode
        without autograd, on the model's device."""
        images, cameras = at_input_size(images.float(), intrinsics, self.config.input_size)
        assert cameras is not None
        device = next(self.parameters()).device
        return self.eval().predict(
            images.clamp(0.0, 1.0).to(device), cameras.to(device), flip_test=flip_test
        )

    @property
    def mirror_order(self) -> tuple[int, ...]:
        """For each volume point, the index of its left/right counterpart."""
        order = JL_MIRROR if self.config.landmarks else JOINT_MIRROR
        points = tuple(i - 1 for i in order[1 : self.config.num_points + 1])
        return points + tuple(range(self.config.num_points, self.config.num_volume_points))

    def loss(
        self,
        outputs: list[torch.Tensor],
        points: torch.Tensor,
        valid: torch.Tensor,
        coordinate_weight: float = 0.0,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Training loss and its parts, for ``points (B, V, 3)`` the true volume points
        (:meth:`points`' frame and layout) and ``valid (B, V)`` bool.

        ``shn``: the softmax cross-entropy of every stack's heatmaps, summed (intermediate
        supervision), plus ``coordinate_weight`` × the L1 (metres) of the soft-argmax
        points (0 in the paper).  ``alexnet``: mean squared error in metres (L2, paper
        4.4.1).  Parts: ``l_ce`` (last stack), ``l_l2``, ``mpjpe_mm`` (all valid points,
        in the volume's frame).
        """
        expected = (points.shape[0], self.config.num_volume_points, 3)
        if tuple(points.shape) != expected or tuple(valid.shape) != expected[:2]:
            raise ValueError(
                f"targets must be points {expected} and valid {expected[:2]}, got "
                f"{tuple(points.shape)} and {tuple(valid.shape)}"
            )
        mask = valid.to(points.dtype)[..., None]
        count = mask.sum().clamp(min=1.0)
        pred = self.points(outputs)
        error = (pred - points) * mask
        parts = {"mpjpe_mm": float(error.detach().norm(dim=-1).sum() / count) * MM}
        if not self.config.volumetric:
            loss = (error**2).sum() / (3 * count)
            parts["l_l2"] = float(loss.detach())
            return loss, parts
        stacks = [heatmap_loss(logits, points, valid, self.config) for logits in outputs]
        loss = torch.stack(stacks).sum()
        parts["l_ce"] = float(stacks[-1].detach())
        if coordinate_weight:
            l1 = error.abs().sum() / (3 * count)
            loss = loss + coordinate_weight * l1
            parts["l_coord"] = float(l1.detach())
        return loss, parts


def build_image_model(config: ImageModelConfig) -> ImageModel:
    """A fresh (Xavier-initialised) image model of ``config``."""
    return ImageModel(config)


def imagenet_start(
    config: ImageModelConfig, path: str | Path | None = None
) -> dict[str, torch.Tensor]:
    """A fresh ``mobilenet`` model's state dict with its encoder from ImageNet
    (:func:`smplr.image_model.mobilenet.imagenet_encoder_state`; ``path`` default: the
    installed weights package's file); the decoder keeps its fresh initialisation."""
    state = build_image_model(config).state_dict()
    for name, tensor in imagenet_encoder_state(path).items():
        state[f"backbone.{name}"] = tensor.to(state[f"backbone.{name}"].dtype)
    return state
