"""The image model's keypoints route (``smplr predict --keypoints shn``): the paper's chain.

    photo ─► square crop around the person (a box, or the whole photo) ─► volumetric
    stacked hourglass ─► 41 root-relative 3D points ─► DAE ─► Ω, Ψ ─► body ─► camera

The DAE is the image model's own (DAE_SHN, trained on its readings) when its weights
file holds one, else SMPLR's noise-trained ``jl42`` DAE.

The crop is the paper's: a square that holds a 2.5 m cube around the body
(:data:`CROP_METRES`), resized to the model's input side.  Given a person box, its
longer side is taken to fill :data:`BOX_FILL` of the crop (the median of the synthetic
training crops, where the fill ranged 0.43–0.71 over the middle 80 %); without a box the
whole photo, padded to a square, is the crop (the paper's setting: a photo framed on
one person).

Placement in the camera: the training crops are centred on the mean of the 24 joints
and span 2.5 m at its depth, so a crop of ``side`` pixels in a photo with focal ``f``
puts the mean joint at depth ``Z = f · 2.5 / side`` on the ray through the crop centre.
The body is moved so that its mean joint lies there.  The points and the body keep the
camera's axes (OpenCV: x right, y down, z forward); SMPLR, trained in the view frame (y
up, z towards the camera), sees them turned by :data:`~smplr.predict.placement.FLIP`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smplr.dae import DenoisingAutoencoder
from smplr.image_model import ImageModel, build_image_model, jl_from_points
from smplr.image_model.crop_frame import resized_intrinsics
from smplr.weights import load_image_weights, shipped_image_path

BOX_FILL = 0.57
"""Longer side of the person's box over the crop side, in the synthetic training crops
(median; :mod:`smplr.image_data`)."""


@dataclass(frozen=True)
class Crop:
    """A square of the photo: centre ``(x, y)`` and ``side`` in pixels (may reach past
    the photo's borders, which are filled with black)."""

    centre_x: float
    centre_y: float
    side: float

    @classmethod
    def around_box(cls, box: np.ndarray) -> Crop:
        """The crop of a person box ``(x0, y0, x1, y1)`` pixels (see :data:`BOX_FILL`)."""
        x0, y0, x1, y1 = (float(v) for v in box)
        return cls((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / BOX_FILL)

    @classmethod
    def whole(cls, height: int, width: int) -> Crop:
        """The whole photo, padded to a square."""
        return cls((width - 1) / 2, (height - 1) / 2, float(max(height, width)))

    def edges(self) -> tuple[int, int, int, int]:
        """The photo's pixel edges the crop cuts along: ``(left, top, right, bottom)``
        (pixel ``u`` spans ``[u, u + 1)`` in these units, as PIL counts)."""
        half = self.side / 2
        return (
            round(self.centre_x + 0.5 - half),
            round(self.centre_y + 0.5 - half),
            round(self.centre_x + 0.5 + half),
            round(self.centre_y + 0.5 + half),
        )

    def pixels(self, image: np.ndarray, size: int) -> np.ndarray:
        """The crop of ``image (H, W, 3) uint8`` resized to ``(size, size, 3) uint8``
        (antialiased)."""
        from PIL import Image

        cut = Image.fromarray(image).crop(self.edges())  # black outside the photo
        return np.asarray(cut.resize((size, size), Image.Resampling.BILINEAR))

    def intrinsics(self, K: np.ndarray, size: int) -> np.ndarray:
        """The camera of the ``size``² crop (:meth:`pixels`) of a photo with intrinsics
        ``K (3, 3)``: ``(3, 3)`` (pixel centres at integers in both)."""
        left, top, right, bottom = self.edges()
        cut = torch.tensor(K, dtype=torch.float64)
        cut[:2, 2] -= torch.tensor([left, top], dtype=torch.float64)  # the cut's own pixels
        return resized_intrinsics(cut, (right - left, bottom - top), size).numpy()

    def mean_joint(self, K: np.ndarray, crop_metres: float) -> np.ndarray:
        """Where the crop puts the body's mean joint: ``(3,)`` camera frame, metres."""
        depth = K[0, 0] * crop_metres / self.side
        ray = np.linalg.solve(K, np.array([self.centre_x, self.centre_y, 1.0]))
        return ray / ray[2] * depth


class ImageKeypoints:
    """A trained image model (default the shipped one) reading crops: ``points`` gives
    the 41 root-relative points, ``jl`` the JL42 that SMPLR takes; ``dae`` is the DAE
    trained on this model's readings (the paper's DAE_SHN, ``smplr train image-dae``)
    when its weights file holds one, else ``None`` (SMPLR's own DAE is used)."""

    def __init__(
        self,
        model: ImageModel,
        device: str | torch.device = "cpu",
        dae: DenoisingAutoencoder | None = None,
    ) -> None:
        self.model = model.to(device).eval()
        self.device = torch.device(device)
        self.dae = None if dae is None else dae.to(device).eval()

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu") -> ImageKeypoints:
        """The image model of an image-weights file (or a SMPLR bundle holding one);
        default: the shipped one."""
        weights = load_image_weights(shipped_image_path() if path is None else path)
        model = build_image_model(weights.config)
        model.load_state_dict(weights.state)
        return cls(model, device, None if weights.dae is None else weights.dae.build())

    @property
    def input_size(self) -> int:
        return self.model.config.input_size

    @property
    def crop_metres(self) -> float:
        return 2 * self.model.config.half_range_m

    @torch.no_grad()
    def points(self, crops: np.ndarray, intrinsics: np.ndarray | None = None) -> np.ndarray:
        """``crops (B, S, S, 3) uint8`` at the model's input side, with their cameras
        ``intrinsics (B, 3, 3)`` (:meth:`Crop.intrinsics`; ``None``: weak perspective)
        -> ``(B, P, 3)`` metres, root-relative, camera axes (P = 41, or 23 for a model
        without landmarks).  Read twice, the second time mirrored (``flip_test``)."""
        images = torch.as_tensor(crops, device=self.device).permute(0, 3, 1, 2).float() / 255
        cameras = None if intrinsics is None else torch.as_tensor(intrinsics, device=self.device)
        return self.model.predict(images, cameras, flip_test=True).double().cpu().numpy()

    def jl(self, crops: np.ndarray, intrinsics: np.ndarray | None = None) -> np.ndarray:
        """``crops (B, S, S, 3) uint8`` (and their cameras, as :meth:`points`) -> JL
        ``(B, 42, 3)`` root-relative, camera axes."""
        if not self.model.config.landmarks:
            raise ValueError("this image model predicts no landmarks: SMPLR needs all 41 points")
        return jl_from_points(torch.as_tensor(self.points(crops, intrinsics))).numpy()
