"""SMPL parameter files: ``.npz`` with the field's names, validated.

Keys: ``betas (N, L)``, ``global_orient (N, 3)``, ``body_pose (N, 69)``, optional
``transl (N, 3)`` and optional per-sample ``gender (N,)`` (g ∈ [−1, 1]: −1 female,
+1 male; strings ``"female"``/``"male"`` are accepted too).  A single body may be
given without the leading N axis.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

PARAM_SHAPES: dict[str, tuple[int, ...]] = {
    "betas": (-1,),
    "global_orient": (3,),
    "body_pose": (69,),
    "transl": (3,),
}
REQUIRED = ("betas", "global_orient", "body_pose")


def _gender_values(raw: np.ndarray, path: Path) -> np.ndarray:
    if raw.dtype.kind in "US":
        lookup = {"female": -1.0, "f": -1.0, "male": 1.0, "m": 1.0}
        try:
            return np.array([lookup[str(v).lower()] for v in raw.reshape(-1)], dtype=np.float64)
        except KeyError as exc:
            raise ValueError(
                f"{path}: unknown gender {exc.args[0]!r}; expected female/male or a value in [-1, 1]"
            ) from exc
    values = raw.astype(np.float64).reshape(-1)
    bad = np.flatnonzero(~(np.abs(values) <= 1))  # NaN and inf too
    if bad.size:
        raise ValueError(
            f"{path}: gender of body {bad[0]} is {values[bad[0]]:g}; gender values must be "
            "finite and in [-1, 1] (-1 female, +1 male)"
        )
    return values


def load_body_params(path: str | Path) -> dict[str, np.ndarray]:
    """Read and validate a parameter file; returns float64 arrays with a leading N axis."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: parameter file not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            raw = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz parameter file: {exc}") from exc
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise ValueError(
            f"{path}: missing keys {missing}; expected betas, global_orient, body_pose [, transl, gender]"
        )
    params: dict[str, np.ndarray] = {}
    for key, tail in PARAM_SHAPES.items():
        if key not in raw:
            continue
        try:
            value = np.asarray(raw[key], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{path}: {key} is not numeric (dtype {raw[key].dtype}); expected numbers"
            ) from exc
        if value.ndim == 1:
            value = value[None]
        if value.ndim != 2 or (tail[0] != -1 and value.shape[1] != tail[0]):
            expected = "(N, L)" if tail[0] == -1 else f"(N, {tail[0]})"
            raise ValueError(f"{path}: {key} has shape {raw[key].shape}, expected {expected}")
        bad = np.flatnonzero(~np.isfinite(value).all(axis=1))
        if bad.size:
            raise ValueError(f"{path}: {key} of body {bad[0]} contains NaN or inf")
        params[key] = value
    if "gender" in raw:
        params["gender"] = _gender_values(np.asarray(raw["gender"]), path)
    counts = {key: value.shape[0] for key, value in params.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"{path}: parameter arrays disagree on the number of bodies: {counts}")
    if counts["betas"] == 0:
        raise ValueError(f"{path}: the parameter file holds no bodies (betas has 0 rows)")
    return params
