"""Ground truth for a batch of dataset samples, in the samples' camera (or given) frame.

Joints come from the dataset's annotation when it has one (SURREAL, Human3.6M).  Anything
that needs a body surface — landmarks, vertices, silhouettes of the true mesh, and all of
UP-3D's 3D ground truth — comes from posing a body model with the sample's SMPL
parameters, so it is only as right as that model: official SMPL files reproduce the
datasets' bodies; the open model gives a different body (not comparable to published
numbers).  :class:`GroundTruthBodies` holds the models and says which was used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from smplr.body.model import BodyModel
from smplr.datasets.record import Sample

# File names of the official SMPL releases, tried in this order for each gender.
SMPL_FILE_NAMES: dict[str, tuple[str, ...]] = {
    "female": ("SMPL_FEMALE.pkl", "basicModel_f_lbs_10_207_0_v1.0.0.pkl", "SMPL_FEMALE.npz"),
    "male": (
        "SMPL_MALE.pkl",
        "basicmodel_m_lbs_10_207_0_v1.0.0.pkl",
        "basicModel_m_lbs_10_207_0_v1.0.0.pkl",
        "SMPL_MALE.npz",
    ),
    "neutral": (
        "SMPL_NEUTRAL.pkl",
        "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl",
        "SMPL_NEUTRAL.npz",
    ),
}


@dataclass
class GroundTruthBodies:
    """Body models by gender name used to pose ground-truth SMPL parameters.

    ``description`` is written into every report (e.g. "official SMPL files in DIR").
    """

    models: dict[str, BodyModel]
    description: str

    @classmethod
    def open_models(cls) -> GroundTruthBodies:
        """The shipped open models.  Their bodies are not SMPL's: surface numbers made
        with them are internally consistent but not comparable to published ones."""
        models = {g: BodyModel.open(g, dtype=torch.float64) for g in ("female", "male", "neutral")}
        return cls(
            models,
            "open smplr body model (not SMPL: surface numbers not comparable to published ones)",
        )

    @classmethod
    def from_directory(cls, folder: str | Path) -> GroundTruthBodies:
        """Official SMPL files found in ``folder`` (see ``SMPL_FILE_NAMES``)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: SMPL model folder not found")
        models: dict[str, BodyModel] = {}
        for gender, names in SMPL_FILE_NAMES.items():
            for name in names:
                if (folder / name).is_file():
                    models[gender] = BodyModel.from_file(folder / name, gender, dtype=torch.float64)
                    break
        if not models:
            wanted = ", ".join(n for names in SMPL_FILE_NAMES.values() for n in names[:1])
            raise FileNotFoundError(f"{folder}: no SMPL model files found (expected e.g. {wanted})")
        return cls(models, f"SMPL-format model files in {folder}")

    def model(self, gender: str | None) -> BodyModel:
        name = gender or "neutral"
        if name not in self.models:
            raise ValueError(
                f"no {name} body model available for the ground truth ({self.description})"
            )
        return self.models[name]


@dataclass
class GroundTruth:
    """Ground truth of a batch of B samples.

    ``joints (B, 24, 3)`` metres (NaN where not annotated), ``joint_mask (24,)`` the joints
    annotated in every sample, ``landmarks (B, 18, 3)``, ``vertices (B, V, 3)`` (None
    without a body model), ``gender (B,)`` g values (None unless every sample is female or
    male), ``coordinates`` the frame of all of them.
    """

    keys: list[str]
    joints: np.ndarray
    joint_mask: np.ndarray
    coordinates: str
    landmarks: np.ndarray | None = None
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    gender: np.ndarray | None = None

    @property
    def jl(self) -> np.ndarray | None:
        """Joints then landmarks ``(B, 42, 3)``, when every joint and the landmarks exist."""
        if self.landmarks is None or not self.joint_mask.all():
            return None
        return np.concatenate([self.joints, self.landmarks], axis=1)


def ground_truth_batch(
    samples: Sequence[Sample], bodies: GroundTruthBodies | None = None
) -> GroundTruth:
    """Assemble the ground truth of ``samples`` (one dataset, one frame convention)."""
    if not samples:
        raise ValueError("no samples to build ground truth from")
    frames = {s.coordinates for s in samples}
    if len(frames) != 1:
        raise ValueError(f"samples mix coordinate frames {sorted(frames)}")
    surfaces = posed_bodies(samples, bodies) if bodies is not None else None
    joints = np.stack([_joints_of(s, surfaces, i) for i, s in enumerate(samples)])
    mask = np.logical_and.reduce([s.joint_mask for s in samples])
    genders = [s.gender_value for s in samples]
    return GroundTruth(
        keys=[s.key for s in samples],
        joints=joints,
        joint_mask=mask,
        coordinates=samples[0].coordinates,
        landmarks=None if surfaces is None else surfaces.landmarks,
        vertices=None if surfaces is None else surfaces.vertices,
        faces=None if surfaces is None else surfaces.faces,
        gender=None if any(g is None for g in genders) else np.array(genders, dtype=np.float64),
    )


def _joints_of(sample: Sample, surfaces: PosedBodies | None, index: int) -> np.ndarray:
    if sample.joints3d is not None:
        return np.asarray(sample.joints3d, dtype=np.float64)
    if surfaces is None:
        raise ValueError(
            f"sample {sample.key} has no 3D joint annotation; its 3D ground truth needs a body model "
            "(e.g. --gt-body open or --gt-body SMPL_DIR)"
        )
    return surfaces.joints[index]


class PosedBodies(NamedTuple):
    """Bodies posed from samples' SMPL parameters, in the samples' frame (metres):
    ``joints (B, 24, 3)``, ``landmarks (B, 18, 3)`` or None, ``vertices (B, V, 3)``, ``faces (F, 3)``."""

    joints: np.ndarray
    landmarks: np.ndarray | None
    vertices: np.ndarray
    faces: np.ndarray


def posed_bodies(samples: Sequence[Sample], bodies: GroundTruthBodies) -> PosedBodies:
    """Pose every sample's SMPL parameters with the body model of its gender and move the
    result into the sample's frame (camera coordinates via ``Sample.camera``; without a
    stored translation the body's root joint is put on the annotated root joint).

    Samples of one gender are posed in one batched call of their model."""
    for sample in samples:
        if not sample.has_smpl:
            raise ValueError(
                f"sample {sample.key} has no SMPL parameters to pose a ground-truth body"
            )
    by_model: dict[str, list[int]] = {}
    for i, sample in enumerate(samples):
        by_model.setdefault(sample.gender or "neutral", []).append(i)
    joints: list = [None] * len(samples)
    landmarks: list = [None] * len(samples)
    vertices: list = [None] * len(samples)
    faces = None
    for gender, rows in by_model.items():
        model = bodies.model(gender)
        if faces is None:
            faces = model.faces.cpu().numpy()
        elif model.faces.shape[0] != faces.shape[0]:
            raise ValueError("ground-truth body models of different genders have different meshes")
        with torch.no_grad():
            out = model(**_params([samples[i] for i in rows], model))
        posed_joints = out.joints.detach().cpu().numpy()
        posed_vertices = out.vertices.detach().cpu().numpy()
        posed_landmarks = None if out.landmarks is None else out.landmarks.detach().cpu().numpy()
        for k, i in enumerate(rows):
            root = posed_joints[k, 0]
            joints[i] = _to_sample_frame(samples[i], posed_joints[k], root)
            vertices[i] = _to_sample_frame(samples[i], posed_vertices[k], root)
            if posed_landmarks is not None:
                landmarks[i] = _to_sample_frame(samples[i], posed_landmarks[k], root)
    stacked_landmarks = None if any(lm is None for lm in landmarks) else np.stack(landmarks)
    assert faces is not None
    return PosedBodies(np.stack(joints), stacked_landmarks, np.stack(vertices), faces)


def _params(samples: Sequence[Sample], model: BodyModel) -> dict[str, torch.Tensor]:
    """The samples' SMPL parameters as one batch for ``model`` (a missing translation is 0)."""

    def tensor(values: list) -> torch.Tensor:
        return torch.as_tensor(
            np.stack([np.asarray(v, dtype=np.float64) for v in values]),
            dtype=model.dtype,
            device=model.device,
        )

    return {
        "betas": tensor([np.asarray(s.betas)[: model.num_betas] for s in samples]),
        "global_orient": tensor([s.global_orient for s in samples]),
        "body_pose": tensor([s.body_pose for s in samples]),
        "transl": tensor([np.zeros(3) if s.transl is None else s.transl for s in samples]),
    }


def _to_sample_frame(sample: Sample, points: np.ndarray, posed_root: np.ndarray) -> np.ndarray:
    """World-frame body points -> the sample's frame.

    Without a stored translation (SURREAL) the body is placed so that its root joint lands
    on the annotated root joint.
    """
    if sample.coordinates == "world":
        placed, root = points, posed_root
    elif sample.camera is None:
        raise ValueError(
            f"sample {sample.key} is in camera coordinates but has no camera to move its body there"
        )
    else:
        placed, root = (
            sample.camera.world_to_camera(points),
            sample.camera.world_to_camera(posed_root),
        )
    if sample.transl is None:
        if sample.joints3d is None or not np.isfinite(sample.joints3d[0]).all():
            raise ValueError(
                f"sample {sample.key} has neither a translation nor an annotated root joint"
            )
        placed = placed + (sample.joints3d[0] - root)
        root = sample.joints3d[0]
    if sample.coordinates == "camera_root_relative":
        placed = placed - root
    return placed
