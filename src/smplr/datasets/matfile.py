"""Reading MATLAB ``.mat`` files (v4 to v7.2, via scipy) with errors that name the file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import scipy.io


def load_mat(path: Path, keys: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
    """Load ``keys`` (required) and ``optional`` from ``path``, and only those, which keeps
    large files cheap.

    Raises FileNotFoundError for a missing file and ValueError for an unreadable file,
    a MATLAB v7.3 (HDF5) file, or missing keys — each naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        data = scipy.io.loadmat(path, variable_names=[*keys, *optional] or None)
    except NotImplementedError as exc:  # scipy's answer to v7.3 files
        raise ValueError(f"{path}: MATLAB v7.3 (HDF5) files are not supported: {exc}") from exc
    except (scipy.io.matlab.MatReadError, ValueError, TypeError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable MATLAB .mat file: {exc}") from exc
    missing = [key for key in keys if key not in data]
    if missing:
        raise ValueError(f"{path}: missing variables {missing}")
    return data
