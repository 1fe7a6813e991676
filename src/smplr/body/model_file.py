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
The unpickler admits nothing else but numpy arrays, dtypes and scalars, scipy's
csc/csr matrices and inert containers, so a model file cannot run code; any other
name is refused before it is imported.  Every failure to read a model file is one
:class:`ModelFileError` line naming the file and the cause.
"""

from __future__ import annotations

import _compat_pickle
import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smplr.atomic_io import atomic_write, save_npz_atomic
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
# No array of a body model (metres, blend shapes, weights) holds a value beyond this;
# larger ones are damage, and would overflow float32.
MAX_ABS_VALUE = 1e6
# Skinning weights must be >= 0 and sum to 1 per vertex, to within this.
WEIGHT_TOLERANCE = 1e-4


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


# What a SMPL pickle may name, and nothing else: numpy arrays, dtypes and scalars (under
# numpy 1's ``numpy.core`` and numpy 2's ``numpy._core`` module names), scipy sparse
# matrices (under the module names old and new scipy versions pickled them under), a
# few inert built-in containers, and bytes as Python 3 writes them at protocol 2.
# Every class of a ``chumpy`` module is read as :class:`_ChumpyStandIn`.
_NUMPY_NAMES: dict[str, tuple[str, ...]] = {
    "numpy": ("ndarray", "dtype"),
    "multiarray": ("_reconstruct", "scalar"),
    "numeric": ("_frombuffer",),
}
_SPARSE_MODULES = frozenset(
    f"scipy.sparse{suffix}"
    for suffix in ("", ".csc", ".csr", "._csc", "._csr", ".compressed", "._compressed")
)
_SPARSE_NAMES = frozenset(("csc_matrix", "csr_matrix", "csc_array", "csr_array"))
_BUILTINS: dict[str, type] = {
    "set": set,
    "frozenset": frozenset,
    "complex": complex,
    "bytearray": bytearray,
}


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for ``bytes``: latin-1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _numpy_global(module: str, name: str) -> Any:
    """The numpy object ``module.name`` names, if it is one a SMPL file may hold."""
    if module == "numpy" and name in _NUMPY_NAMES["numpy"]:
        return getattr(np, name)
    for prefix in ("numpy.core.", "numpy._core."):
        tail = module.removeprefix(prefix)
        if tail != module and name in _NUMPY_NAMES.get(tail, ()):
            core = np._core if hasattr(np, "_core") else np.core  # numpy 2 / numpy 1
            return getattr(getattr(core, tail), name)
    return None


class RefusedPickleGlobal(pickle.UnpicklingError):
    """A pickle names a class or function that a SMPL model file never holds."""


class _SmplUnpickler(pickle.Unpickler):
    """Unpickles only what SMPL model files contain (see the allow-list above); any
    other global is refused before it is imported, so a file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        # Python 2's names (``__builtin__``, ``copy_reg``...) as Python 3's, as the
        # default unpickler maps them.
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if module == "chumpy" or module.startswith("chumpy."):
            return _ChumpyStandIn
        found = _numpy_global(module, name)
        if found is not None:
            return found
        if module in _SPARSE_MODULES and name in _SPARSE_NAMES:
            import scipy.sparse

            return getattr(scipy.sparse, name)
        if module == "builtins" and name in _BUILTINS:
            return _BUILTINS[name]
        if module == "collections" and name == "OrderedDict":
            return dict
        if module == "_codecs" and name == "encode":
            return _latin1_encode
        raise RefusedPickleGlobal(f"{module}.{name}")


def _plain(value: Any) -> Any:
    """Turn chumpy stand-ins and scipy sparse matrices into dense numpy arrays."""
    if isinstance(value, _ChumpyStandIn):
        value = value.value
    if hasattr(value, "toarray"):
        value.check_format(full_check=True)  # damaged indices would write out of bounds
        value = value.toarray()
    return value


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the body model file: {exc.strerror}") from exc


def _read_pkl(path: Path) -> dict[str, Any]:
    """The pickled dict of a ``.pkl`` model file, chumpy and sparse values made dense.

    The whole file is read first, so a damaged length field cannot make the
    unpickler allocate more than the file holds.
    """
    blob = _read_bytes(path)
    try:
        raw = _SmplUnpickler(io.BytesIO(blob), encoding="latin1").load()
        if not isinstance(raw, dict):
            raise ModelFileError(
                f"{path}: not a SMPL model file: expected a pickled dict of model arrays, "
                f"got {type(raw).__name__}"
            )
        return {key: _plain(value) for key, value in raw.items()}
    except ModelFileError:
        raise
    except RefusedPickleGlobal as exc:
        raise ModelFileError(
            f"{path}: not a SMPL model file: it refers to '{exc}', which SMPL files never "
            "hold (refused without loading it)"
        ) from exc
    except EOFError as exc:
        raise ModelFileError(f"{path}: not a SMPL model file: truncated pickle") from exc
    except Exception as exc:  # a damaged pickle raises many types; each is a bad file
        cause = (
            "truncated pickle" if "truncated" in str(exc) else f"corrupt pickle ({_one_line(exc)})"
        )
        raise ModelFileError(f"{path}: not a SMPL model file: {cause}") from exc


def _read_npz(path: Path) -> dict[str, Any]:
    blob = _read_bytes(path)
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except Exception as exc:  # zip, zlib, header and size errors: each is a bad file
        raise ModelFileError(
            f"{path}: not a SMPL model file: truncated or corrupt .npz ({_one_line(exc)})"
        ) from exc


def _array(raw: dict[str, Any], key: str, path: Path, ndim: int, dtype: type) -> np.ndarray:
    try:
        arr: np.ndarray = np.asarray(raw[key], dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(
            f"{path}: key '{key}' is not a numeric array: {_one_line(exc)}"
        ) from exc
    if arr.ndim != ndim:
        raise ModelFileError(
            f"{path}: key '{key}' has shape {arr.shape}, expected {ndim} dimensions"
        )
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ModelFileError(f"{path}: key '{key}' contains NaN or inf")
        largest = float(np.abs(arr).max(initial=0.0))
        if largest > MAX_ABS_VALUE:
            raise ModelFileError(
                f"{path}: key '{key}' holds a value of magnitude {largest:.3g}, "
                f"beyond any body model's (at most {MAX_ABS_VALUE:.0e})"
            )
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
    bad_rows = np.flatnonzero(
        (weights < -WEIGHT_TOLERANCE).any(1) | (np.abs(weights.sum(1) - 1) > WEIGHT_TOLERANCE)
    )
    if bad_rows.size:
        raise ModelFileError(
            f"{path}: skinning weights of vertex {bad_rows[0]} ({bad_rows.size} vertices in all) "
            f"are not non-negative weights summing to 1"
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
    if faces.shape[1] != 3 or faces.size == 0 or faces.min() < 0 or faces.max() >= num_vertices:
        raise ModelFileError(f"{path}: f must be (F, 3) vertex indices below {num_vertices}")

    if landmark_vertex_ids is None and "landmark_vertex_ids" in raw:
        landmark_vertex_ids = raw["landmark_vertex_ids"]
    if landmark_vertex_ids is None and num_vertices == SMPL_NUM_VERTICES:
        landmark_vertex_ids = SMPL_LANDMARK_VERTEX_IDS
    landmarks = None
    if landmark_vertex_ids is not None:
        try:
            landmarks = np.asarray(landmark_vertex_ids, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ModelFileError(
                f"{path}: landmark_vertex_ids are not vertex indices: {_one_line(exc)}"
            ) from exc
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
    """Write ``data`` as a SMPL-format ``.npz`` (compressed) or ``.pkl``, whole or not at all.

    The pickle holds only numpy arrays and a ``scipy.sparse.csc_matrix`` joint
    regressor (as the official files do), so SMPL tools load it without chumpy.
    """
    path = Path(path)
    arrays = model_data_arrays(data)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        save_npz_atomic(path, arrays)
    elif suffix == ".pkl":
        import scipy.sparse

        payload: dict[str, Any] = dict(arrays)
        payload["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"].astype(np.float64))
        payload["bs_type"] = "lrotmin"
        payload["bs_style"] = "lbs"
        with atomic_write(path) as fh:
            pickle.dump(payload, fh, protocol=2)
    else:
        raise ModelFileError(f"{path}: unknown body model format '{suffix}', expected .pkl or .npz")
    return path
