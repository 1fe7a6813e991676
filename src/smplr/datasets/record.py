"""The common sample record every dataset reader yields, and its camera.

Conventions (all readers):

- lengths in metres; 3D joints in SMPL's 24-joint order (``smplr.body.skeleton.JOINT_NAMES``);
  a dataset that annotates fewer joints fills the others with NaN and says which it has in
  ``joint_mask``;
- ``joints3d`` is in the frame named by ``coordinates``: ``"camera"`` (OpenCV camera:
  x right, y down, z forward), ``"camera_root_relative"`` (camera axes, pelvis at the
  origin) or ``"world"`` (the dataset's world frame, when no camera is known);
- SMPL parameters (``betas``, ``body_pose``, ``global_orient``, ``transl``) are in the
  dataset's *world* frame, exactly as the dataset defines them, and ``camera`` maps that
  world frame to the camera: ``x_cam = camera.rotation @ x_world + camera.translation``;
- pixels: x right, y down, origin at the top-left pixel's centre, as in OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from smplr.body.skeleton import NUM_JOINTS

Coordinates = Literal["camera", "camera_root_relative", "world"]
GenderName = Literal["female", "male", "neutral"]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera without distortion.

    ``intrinsics (3, 3)``; ``rotation (3, 3)`` and ``translation (3,)`` map world to
    camera coordinates (metres); ``width``, ``height`` in pixels.
    """

    intrinsics: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    width: int
    height: int

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """``points (..., 3)`` world -> camera coordinates."""
        return np.asarray(points) @ self.rotation.T + self.translation

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """``points_camera (..., 3)`` -> pixel coordinates ``(..., 2)``."""
        homogeneous = np.asarray(points_camera) @ self.intrinsics.T
        return homogeneous[..., :2] / homogeneous[..., 2:3]


class MaskSource(Protocol):
    """Anything that gives a sample's ground-truth silhouette: :class:`MaskRef` (a file of
    the dataset) or a mask rendered on demand (the synthetic set's)."""

    def load(self) -> np.ndarray:
        """The silhouette as an ``(H, W)`` boolean array."""
        ...


@dataclass(frozen=True)
class MaskRef:
    """Where a sample's ground-truth person silhouette lives; :meth:`load` reads it.

    ``kind``: ``"mat_segm"`` — a MATLAB file holding a part-label image under ``key``
    (SURREAL's ``_segm.mat``: 0 background, 1..24 body parts); ``"render_png"`` — an
    image of the fitted body on white (UP-3D's ``_render_light.png``): the person is
    every pixel that is not pure white.
    """

    path: Path
    kind: Literal["mat_segm", "render_png"]
    key: str | None = None

    def load(self) -> np.ndarray:
        """The silhouette as an ``(H, W)`` boolean array."""
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: silhouette file not found")
        if self.kind == "mat_segm":
            from smplr.datasets.matfile import load_mat

            if self.key is None:
                raise ValueError(f"{self.path}: a mat_segm mask needs the key of its image")
            data = load_mat(self.path, [self.key])
            segm = np.asarray(data[self.key])
            if segm.ndim != 2:
                raise ValueError(f"{self.path}: {self.key} has shape {segm.shape}; expected (H, W)")
            return segm > 0
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(self.path) as image:
                rgb = np.asarray(image.convert("RGB"))
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"{self.path}: not a readable image: {exc}") from exc
        return rgb.min(axis=2) < 255


@dataclass
class Sample:
    """One annotated image (or video frame) of a dataset, in smplr's conventions.

    Shapes: ``joints3d (24, 3)``, ``joint_mask (24,)`` bool, ``joints2d (24, 2)`` pixels,
    ``joints2d_visible (24,)`` bool, ``betas (10,)``, ``body_pose (69,)``,
    ``global_orient (3,)`` axis-angle, ``transl (3,)``.  Fields a dataset does not provide
    are None.  ``source`` keeps dataset-specific raw values (documented by each reader).
    """

    dataset: str
    split: str
    key: str
    image_path: Path | None = None
    frame: int | None = None
    joints3d: np.ndarray | None = None
    joint_mask: np.ndarray = field(default_factory=lambda: np.ones(NUM_JOINTS, dtype=bool))
    coordinates: Coordinates = "camera"
    joints2d: np.ndarray | None = None
    joints2d_visible: np.ndarray | None = None
    betas: np.ndarray | None = None
    body_pose: np.ndarray | None = None
    global_orient: np.ndarray | None = None
    transl: np.ndarray | None = None
    gender: GenderName | None = None
    camera: Camera | None = None
    mask: MaskSource | None = None
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def gender_value(self) -> float | None:
        """The paper's gender value g: −1 female, +1 male, None otherwise."""
        return {"female": -1.0, "male": 1.0}.get(self.gender or "")

    @property
    def has_smpl(self) -> bool:
        """Whether the sample carries SMPL shape and pose parameters."""
        return (
            self.betas is not None and self.body_pose is not None and self.global_orient is not None
        )


def smpl_order(values: np.ndarray, smpl_ids: tuple[int, ...], fill: float = np.nan) -> np.ndarray:
    """Scatter per-joint ``values (J, D)`` of another skeleton into SMPL order ``(24, D)``.

    ``smpl_ids[j]`` is the SMPL joint that the other skeleton's joint ``j`` stands for
    (−1: none).  Unmapped SMPL joints get ``fill``.
    """
    out = np.full((NUM_JOINTS, values.shape[1]), fill, dtype=np.float64)
    for j, smpl in enumerate(smpl_ids):
        if smpl >= 0:
            out[smpl] = values[j]
    return out


def smpl_mask(smpl_ids: tuple[int, ...]) -> np.ndarray:
    """``(24,)`` bool: the SMPL joints that a mapping ``smpl_ids`` provides."""
    mask = np.zeros(NUM_JOINTS, dtype=bool)
    mask[[i for i in smpl_ids if i >= 0]] = True
    return mask
