"""Reading and writing SMPL-format model files (``.pkl`` as distributed, ``.npz``).

A SMPL-format model holds, for V vertices, F triangles, L shape components and the
24-joint tree:

- ``v_template``   (V, 3)      rest-pose mean mesh, metres, Y up
- ``shapedirs``    (V, 3, L)   shape blend shapes
- ``posedirs``     (V, 3, 207) pose-corrective blend shapes (may be all zero)
- ``J_regressor``  (24, V)     joint regressor (dense or scipy sparse in files)
- ``weights``      (V, 24)     linear-blend skinning weights
- ``kintree_table`` (2, 24)    row 0: parent of each joint, row 1: joint ids
- ``f``            (F, 3)      triangles

The official SMPL ``.pkl`` files are Python-2 pickles that reference ``chumpy``
objects and ``scipy.sparse`` matrices.  They are read here without chumpy: every
chumpy class is replaced, while unpickling, by a stand-in that keeps its array.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smplr.body.skeleton import (
    NUM_JOINTS,
    NUM_LANDMARKS,
    PARENTS,
    SMPL_LANDMARK_VERTEX_IDS,
    SMPL_NUM_VERTICES,
)

REQUIRED_KEYS: tuple[str, ...] = (
    "v_template",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "kintree_table",
    "f",
)
POSE_FEATURES = 9 * (NUM_JOINTS - 1)  # 207


class ModelFileError(ValueError):
    """A body-model file is missing, unreadable or not in SMPL's format."""


@dataclass(frozen=True)
class BodyModelData:
    """The arrays of one SMPL-format body model, validated, as float64/int64 numpy.

    Shapes: ``v_template (V,3)``, ``shapedirs (V,3,L)``, ``posedirs (V,3,207)``,
    ``J_regressor (24,V)``, ``weights (V,24)``, ``parents (24,)``, ``faces (F,3)``,
    ``landmark_vertex_ids (18,)`` or None where the topology has no known landmarks.
    """

    v_template: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray
    J_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray
    faces: np.ndarray
    landmark_vertex_ids: np.ndarray | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def num_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def num_betas(self) -> int:
        return int(self.shapedirs.shape[2])


class _ChumpyStandIn:
    """Takes the place of any chumpy class while unpickling; keeps the array it held."""

    value: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.value: Any = args[0] if args else None

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.value = state.get("x", state.get("_x", self.value))
        elif isinstance(state, tuple) and state and isinstance(state[0], dict):
            self.value = state[0].get("x", self.value)


class _SmplUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("chumpy"):
            return _ChumpyStandIn
        if module.startswith("scipy.sparse"):
            import scipy.sparse

            return getattr(scipy.sparse, name)
        return super().find_class(module, name)


def _plain(value: Any) -> Any:
    """Turn chumpy stand-ins and scipy sparse matrices into dense numpy arrays."""
    if isinstance(value, _ChumpyStandIn):
        value = value.value
    if hasattr(value, "toarray"):
        value = value.toarray()
    return value


def _read_pkl(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            raw = _SmplUnpickler(fh, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError) as exc:
        raise ModelFileError(
            f"{path}: not a readable SMPL pickle (truncated or corrupt?): {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise ModelFileError(
            f"{path}: expected a pickled dict of model arrays, got {type(raw).__name__}"
        )
    return {key: _plain(value) for key, value in raw.items()}


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(
            f"{path}: not a readable .npz model file (truncated or corrupt?): {exc}"
        ) from exc


def _array(raw: dict[str, Any], key: str, path: Path, ndim: int, dtype: type) -> np.ndarray:
    try:
        arr: np.ndarray = np.asarray(raw[key], dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: key '{key}' is not a numeric array: {exc}") from exc
    if arr.ndim != ndim:
        raise ModelFileError(
            f"{path}: key '{key}' has shape {arr.shape}, expected {ndim} dimensions"
        )
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ModelFileError(f"{path}: key '{key}' contains NaN or inf")
    return arr


def model_data_from_arrays(
    raw: dict[str, Any], source: str | Path = "<arrays>", landmark_vertex_ids: Any = None
) -> BodyModelData:
    """Validate a dict of SMPL-format arrays and build a :class:`BodyModelData`.

    ``landmark_vertex_ids`` overrides the landmarks; otherwise a ``landmark_vertex_ids``
    key in ``raw`` is used, else SMPL's ids when the mesh has SMPL's 6,890 vertices.
    """
    path = Path(str(source))
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    if missing:
        raise ModelFileError(f"{path}: not a SMPL-format model, missing keys {missing}")
    v_template = _array(raw, "v_template", path, 2, np.float64)
    num_vertices = v_template.shape[0]
    if v_template.shape[1] != 3:
        raise ModelFileError(f"{path}: v_template has shape {v_template.shape}, expected (V, 3)")
    shapedirs = _array(raw, "shapedirs", path, 3, np.float64)
    if shapedirs.shape[:2] != (num_vertices, 3):
        raise ModelFileError(
            f"{path}: shapedirs has shape {shapedirs.shape}, expected ({num_vertices}, 3, L)"
        )
    posedirs = _array(raw, "posedirs", path, 3, np.float64)
    if posedirs.shape != (num_vertices, 3, POSE_FEATURES):
        raise ModelFileError(
            f"{path}: posedirs has shape {posedirs.shape}, expected ({num_vertices}, 3, {POSE_FEATURES})"
        )
    regressor = _array(raw, "J_regressor", path, 2, np.float64)
    if regressor.shape != (NUM_JOINTS, num_vertices):
        raise ModelFileError(
            f"{path}: J_regressor has shape {regressor.shape}, expected ({NUM_JOINTS}, {num_vertices})"
        )
    weights = _array(raw, "weights", path, 2, np.float64)
    if weights.shape != (num_vertices, NUM_JOINTS):
        raise ModelFileError(
            f"{path}: weights has shape {weights.shape}, expected ({num_vertices}, {NUM_JOINTS})"
        )
    kintree = _array(raw, "kintree_table", path, 2, np.int64)
    if kintree.shape != (2, NUM_JOINTS):
        raise ModelFileError(
            f"{path}: kintree_table has shape {kintree.shape}, expected (2, {NUM_JOINTS})"
        )
    parents = kintree[0].copy()
    parents[0] = -1  # SMPL files store 2**32-1 (or -1) as the root's parent
    if tuple(parents.tolist()) != PARENTS:
        raise ModelFileError(
            f"{path}: kintree_table is not SMPL's 24-joint tree: parents {parents.tolist()}"
        )
    faces = _array(raw, "f", path, 2, np.int64)
    if faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= num_vertices:
        raise ModelFileError(f"{path}: f must be (F, 3) vertex indices below {num_vertices}")

    if landmark_vertex_ids is None and "landmark_vertex_ids" in raw:
        landmark_vertex_ids = raw["landmark_vertex_ids"]
    if landmark_vertex_ids is None and num_vertices == SMPL_NUM_VERTICES:
        landmark_vertex_ids = SMPL_LANDMARK_VERTEX_IDS
    landmarks = None
    if landmark_vertex_ids is not None:
        landmarks = np.asarray(landmark_vertex_ids, dtype=np.int64).reshape(-1)
        if (
            landmarks.shape != (NUM_LANDMARKS,)
            or landmarks.min() < 0
            or landmarks.max() >= num_vertices
        ):
            raise ModelFileError(
                f"{path}: landmark_vertex_ids must be {NUM_LANDMARKS} vertex indices below {num_vertices}"
            )
    metadata: dict[str, str] = {
        key: str(np.asarray(raw[key])) for key in ("gender", "source", "licence") if key in raw
    }
    return BodyModelData(
        v_template=v_template,
        shapedirs=shapedirs,
        posedirs=posedirs,
        J_regressor=regressor,
        weights=weights,
        parents=parents,
        faces=faces,
        landmark_vertex_ids=landmarks,
        metadata=metadata,
    )


def load_model_data(path: str | Path, landmark_vertex_ids: Any = None) -> BodyModelData:
    """Read a SMPL-format model from ``.pkl`` (official, chumpy-free) or ``.npz``."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: body model file not found")
    suffix = path.suffix.lower()
    if suffix == ".pkl":
        raw = _read_pkl(path)
    elif suffix == ".npz":
        raw = _read_npz(path)
    else:
        raise ModelFileError(f"{path}: unknown body model format '{suffix}', expected .pkl or .npz")
    return model_data_from_arrays(raw, path, landmark_vertex_ids)


def model_data_arrays(data: BodyModelData) -> dict[str, np.ndarray]:
    """The SMPL file keys of ``data`` as plain numpy arrays (float32 geometry)."""
    arrays: dict[str, np.ndarray] = {
        "v_template": data.v_template.astype(np.float32),
        "shapedirs": data.shapedirs.astype(np.float32),
        "posedirs": data.posedirs.astype(np.float32),
        "J_regressor": data.J_regressor.astype(np.float32),
        "weights": data.weights.astype(np.float32),
        "kintree_table": np.stack(
            [np.where(data.parents < 0, 4294967295, data.parents), np.arange(NUM_JOINTS)]
        ).astype(np.int64),
        "f": data.faces.astype(np.uint32),
    }
    if data.landmark_vertex_ids is not None:
        arrays["landmark_vertex_ids"] = data.landmark_vertex_ids.astype(np.int64)
    for key, value in data.metadata.items():
        arrays[key] = np.array(value)
    return arrays


def save_model_data(data: BodyModelData, path: str | Path) -> Path:
    """Write ``data`` as a SMPL-format ``.npz`` (compressed) or ``.pkl``.

    The pickle holds only numpy arrays and a ``scipy.sparse.csc_matrix`` joint
    regressor (as the official files do), so SMPL tools load it without chumpy.
    """
    path = Path(path)
    arrays = model_data_arrays(data)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npz":
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy stub: **kwds may bind allow_pickle
    elif suffix == ".pkl":
        import scipy.sparse

        payload: dict[str, Any] = dict(arrays)
        payload["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"].astype(np.float64))
        payload["bs_type"] = "lrotmin"
        payload["bs_style"] = "lbs"
        with path.open("wb") as fh:
            pickle.dump(payload, fh, protocol=2)
    else:
        raise ModelFileError(f"{path}: unknown body model format '{suffix}', expected .pkl or .npz")
    return path
