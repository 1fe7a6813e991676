"""What a method under evaluation gives back, and how methods plug in.

A method is any object with ``name`` and ``predict(inputs) -> Prediction``
(:class:`Predictor`).  Three ready adapters:

- :class:`FitPredictor` wraps a keypoint-to-body model with SMPLR's interface
  ``fit(points (N, 42, 3)) -> dict(joints, landmarks, vertices, gender, ...)`` and feeds it
  the ground-truth JL (the paper's SMPLR-from-ground-truth setting);
- :class:`PrecomputedPredictions` serves predictions saved in an ``.npz`` (any method, any
  language): arrays ``keys (N,)`` sample keys, ``joints (N, 24, 3)`` metres, optional
  ``landmarks (N, 18, 3)``, ``vertices (N, V, 3)``, ``faces (F, 3)``, ``gender (N,)``
  (g: −1 female, +1 male), ``masks (N, H, W)`` bool silhouettes;
  :func:`save_predictions` writes that file.

Predictions are in the ground truth's frame (camera coordinates for SURREAL and UP-3D,
see ``Sample.coordinates``), SMPL joint order, metres.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from smplr.atomic_io import save_npz_atomic
from smplr.body.skeleton import NUM_JOINTS, NUM_LANDMARKS
from smplr.datasets.record import Sample
from smplr.geometry.projection import VIEW_TO_OPENCV


@dataclass
class Prediction:
    """Predicted bodies of B samples: ``joints (B, 24, 3)``; optional ``landmarks (B, 18, 3)``,
    ``vertices (B, V, 3)`` with ``faces (F, 3)``, ``gender (B,)`` g values, ``masks (B, H, W)``."""

    joints: np.ndarray
    landmarks: np.ndarray | None = None
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    gender: np.ndarray | None = None
    masks: np.ndarray | None = None

    def validated(self, count: int, source: str) -> Prediction:
        """This prediction as float64 arrays, checked to hold ``count`` samples."""
        joints = _array(source, "joints", self.joints, (count, NUM_JOINTS, 3))
        landmarks = (
            None
            if self.landmarks is None
            else _array(source, "landmarks", self.landmarks, (count, NUM_LANDMARKS, 3))
        )
        vertices = (
            None
            if self.vertices is None
            else _array(source, "vertices", self.vertices, (count, -1, 3))
        )
        gender = None if self.gender is None else _array(source, "gender", self.gender, (count,))
        masks = None
        if self.masks is not None:
            masks = np.asarray(self.masks)
            if masks.dtype != bool or masks.ndim != 3 or masks.shape[0] != count:
                raise ValueError(
                    f"{source}: masks must be boolean (N, H, W) with N = {count}, got {masks.dtype} {masks.shape}"
                )
        faces = None if self.faces is None else np.asarray(self.faces, dtype=np.int64)
        if faces is not None and (faces.ndim != 2 or faces.shape[1] != 3):
            raise ValueError(f"{source}: faces have shape {faces.shape}; expected (F, 3)")
        return Prediction(joints, landmarks, vertices, faces, gender, masks)


def _array(source: str, name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(_numpy(value), dtype=np.float64)
    wanted = "(" + ", ".join("V" if d == -1 else str(d) for d in shape) + ")"
    if arr.ndim != len(shape) or any(
        d not in (-1, a) for d, a in zip(shape, arr.shape, strict=True)
    ):
        if arr.ndim >= 1 and arr.shape[0] != shape[0]:
            raise ValueError(
                f"{source}: {arr.shape[0]} predicted samples but {shape[0]} ground-truth samples: counts must match"
            )
        raise ValueError(f"{source}: {name} has shape {arr.shape}; expected {wanted}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{source}: {name} contains NaN or inf")
    return arr


def _numpy(value: Any) -> Any:
    detach = getattr(value, "detach", None)
    return detach().cpu().numpy() if callable(detach) else value


@dataclass
class PredictorInputs:
    """What a predictor may use for B samples: the samples themselves (image paths,
    cameras, 2D joints) and, where the dataset allows, the ground-truth JL ``(B, 42, 3)``
    in the ground truth's frame (for keypoint-to-body methods)."""

    samples: Sequence[Sample]
    jl: np.ndarray | None = None


class Predictor(Protocol):
    """A method under evaluation."""

    name: str

    def predict(self, inputs: PredictorInputs) -> Prediction: ...


class FitPredictor:
    """A keypoint-to-body model with SMPLR's ``fit(points (N, 42, 3)) -> dict`` interface,
    fed the ground-truth JL.

    The dict must hold ``joints (N, 24, 3)`` and may hold ``landmarks``, ``vertices``,
    ``gender`` (tensors or arrays); ``faces`` (F, 3) is taken from the dict, else from
    ``faces=``, for silhouettes.  SMPLR's output is root-relative, so by default
    (``place_on_input_root``) the predicted body is translated to put its root joint on the
    input's root joint: Protocols 1 and 2 do not change, and camera-frame measures
    (silhouettes) see the body where the input was.

    SMPLR learnt upright bodies (Y up), but OpenCV camera coordinates point y down: for
    samples in a camera frame the input is first turned into the view frame (x right,
    y up, z towards the camera; a 180° rotation about x,
    :data:`smplr.geometry.projection.VIEW_TO_OPENCV`) and the prediction turned back.
    """

    def __init__(
        self,
        model: Any,
        name: str = "SMPLR",
        faces: np.ndarray | None = None,
        place_on_input_root: bool = True,
    ) -> None:
        if not callable(getattr(model, "fit", None)):
            raise ValueError(f"{type(model).__name__} has no fit(points) method")
        self.model = model
        self.name = name
        self.faces = faces
        self.place_on_input_root = place_on_input_root

    def predict(self, inputs: PredictorInputs) -> Prediction:
        if inputs.jl is None:
            raise ValueError(
                f"{self.name} needs ground-truth joints and landmarks (JL) as input: use a dataset with "
                "SMPL parameters and a ground-truth body model that defines landmarks"
            )
        turn = _turn_to_view(inputs.samples)
        out = self.model.fit(inputs.jl * turn)
        if "joints" not in out:
            raise ValueError(f"{self.name}.fit returned no 'joints'")
        faces = out.get("faces", self.faces)
        prediction = Prediction(
            joints=_numpy(out["joints"]),
            landmarks=_numpy(out.get("landmarks")),
            vertices=_numpy(out.get("vertices")),
            faces=None if faces is None else _numpy(faces),
            gender=_numpy(out.get("gender")),
        ).validated(len(inputs.jl), f"{self.name}.fit")
        prediction.joints = prediction.joints * turn
        if prediction.landmarks is not None:
            prediction.landmarks = prediction.landmarks * turn
        if prediction.vertices is not None:
            prediction.vertices = prediction.vertices * turn
        if self.place_on_input_root:
            shift = (inputs.jl[:, 0] - prediction.joints[:, 0])[:, None]
            prediction.joints = prediction.joints + shift
            if prediction.landmarks is not None:
                prediction.landmarks = prediction.landmarks + shift
            if prediction.vertices is not None:
                prediction.vertices = prediction.vertices + shift
        return prediction


def _turn_to_view(samples: Sequence[Sample]) -> np.ndarray:
    """Per-axis signs ``(3,)`` that make the samples' frame upright: the view-frame flip
    for OpenCV camera frames, none for world frames."""
    camera = any(s.coordinates != "world" for s in samples)
    return np.asarray(VIEW_TO_OPENCV if camera else (1.0, 1.0, 1.0))


class PrecomputedPredictions:
    """Predictions read from an ``.npz`` (layout in the module docstring), served by key."""

    OPTIONAL = ("landmarks", "vertices", "faces", "gender", "masks")

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or self.path.stem
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: predictions file not found")
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{self.path}: not a readable .npz predictions file: {exc}") from exc
        missing = [k for k in ("keys", "joints") if k not in arrays]
        if missing:
            raise ValueError(
                f"{self.path}: missing arrays {missing}; expected keys, joints [, {', '.join(self.OPTIONAL)}]"
            )
        keys = [str(k) for k in np.asarray(arrays["keys"]).reshape(-1)]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.path}: keys are not unique")
        self.keys = keys
        self.row = {k: i for i, k in enumerate(keys)}
        self.arrays = arrays
        self.full = Prediction(
            joints=arrays["joints"], **{k: arrays.get(k) for k in self.OPTIONAL}
        ).validated(len(keys), str(self.path))
        self.served: set[str] = set()

    def __len__(self) -> int:
        return len(self.keys)

    def predict(self, inputs: PredictorInputs) -> Prediction:
        rows = []
        for sample in inputs.samples:
            if sample.key not in self.row:
                raise ValueError(
                    f"{self.path}: no prediction for sample {sample.key!r} of {sample.dataset}/{sample.split}"
                )
            rows.append(self.row[sample.key])
        self.served.update(sample.key for sample in inputs.samples)
        full = self.full
        return Prediction(
            joints=full.joints[rows],
            landmarks=None if full.landmarks is None else full.landmarks[rows],
            vertices=None if full.vertices is None else full.vertices[rows],
            faces=full.faces,
            gender=None if full.gender is None else full.gender[rows],
            masks=None if full.masks is None else full.masks[rows],
        )

    def check_all_served(self, evaluated: int) -> None:
        """Refuse when the file holds predictions for samples that were not evaluated."""
        if len(self.served) != len(self.keys):
            extra = next(k for k in self.keys if k not in self.served)
            raise ValueError(
                f"{self.path}: {len(self.keys)} predictions but {evaluated} ground-truth samples: "
                f"counts must match (e.g. no sample {extra!r} in the evaluated split)"
            )


def save_predictions(path: str | Path, keys: Sequence[str], prediction: Prediction) -> Path:
    """Write ``prediction`` for samples ``keys`` in :class:`PrecomputedPredictions`' layout."""
    checked = prediction.validated(len(keys), str(path))
    arrays: dict[str, np.ndarray] = {
        "keys": np.asarray(list(keys), dtype=str),
        "joints": checked.joints,
    }
    for name in PrecomputedPredictions.OPTIONAL:
        value = getattr(checked, name)
        if value is not None:
            arrays[name] = value
    path = Path(path)
    if path.suffix != ".npz":  # as numpy names it
        path = path.with_name(path.name + ".npz")
    return save_npz_atomic(path, arrays)
