"""Writing output files whole or not at all.

Every writer here writes to a temporary file in the destination's folder, flushes it
to disk (``fsync``) and renames it over the destination (``os.replace``, atomic on
POSIX and Windows): a crash, a kill or a full disk leaves either the old file or the
new one, never a half-written one.  A failed write removes its temporary file;
a killed process may leave one behind, named ``.{name}.*.tmp`` (see
:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import glob
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import numpy as np


class FileWriteError(OSError):
    """An output file could not be written (disk full, no permission...); names the file."""


def _not_written(path: Path, exc: OSError) -> FileWriteError:
    return FileWriteError(exc.errno, f"{path}: not written: {exc.strerror or exc}")


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file to write ``path`` through; it replaces ``path`` only when
    the ``with`` block ends without an exception.  ``mode``: ``"wb"`` or ``"w"``.

    An ``OSError`` while writing is raised again as :class:`FileWriteError` naming ``path``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _not_written(path, exc) from exc
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileWriteError):
            raise _not_written(path, exc) from exc
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all."""
    with atomic_write(path) as handle:
        handle.write(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def save_npz_atomic(
    path: str | Path, arrays: Mapping[str, np.ndarray], compress: bool = True
) -> Path:
    """``np.savez_compressed`` (or ``np.savez``) of ``arrays`` (name -> array) to ``path``,
    whole or not at all; the name is kept as given (numpy would append ``.npz``)."""
    save = np.savez_compressed if compress else np.savez
    with atomic_write(path) as handle:
        save(handle, **dict(arrays))  # type: ignore[arg-type]  # numpy stub: **kwds may bind allow_pickle
    return Path(path)


class NpzWriter:
    """An ``.npz`` written array by array into an open binary file, a large array chunk
    by chunk (memory: one chunk), readable by ``np.load`` like ``np.savez[_compressed]``'s.
    Use it inside :func:`atomic_write` (see :func:`npz_writer`)."""

    def __init__(self, handle: IO[bytes], compress: bool = True) -> None:
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._zip = zipfile.ZipFile(handle, "w", compression=method, allowZip64=True)

    def add(self, name: str, array: np.ndarray) -> None:
        """Store ``array`` whole under ``name``."""
        array = np.asarray(array, order="C")
        self.add_chunks(name, array.shape, array.dtype, [array])

    def add_chunks(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype | type,
        chunks: Iterable[np.ndarray],
    ) -> None:
        """Store an array of ``shape`` and ``dtype`` under ``name`` from ``chunks``, its
        consecutive row blocks ``(n_i, *shape[1:])``; their rows must add up to
        ``shape[0]`` (else ValueError and the file is not valid)."""
        dtype = np.dtype(dtype)
        header = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": tuple(shape),
        }
        rows = 0
        with self._zip.open(f"{name}.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_2_0(member, header)
            for chunk in chunks:
                chunk = np.asarray(chunk, dtype=dtype, order="C")
                if chunk.shape[1:] != tuple(shape[1:]):
                    raise ValueError(
                        f"{name}: chunk of shape {chunk.shape} in an array of shape {tuple(shape)}"
                    )
                rows += chunk.shape[0] if chunk.ndim else 1
                member.write(chunk.tobytes())
        if rows != (shape[0] if shape else 1):
            raise ValueError(
                f"{name}: chunks gave {rows} rows for an array of shape {tuple(shape)}"
            )

    def close(self) -> None:
        self._zip.close()


@contextmanager
def npz_writer(path: str | Path, compress: bool = True) -> Iterator[NpzWriter]:
    """An :class:`NpzWriter` onto ``path``, whole or not at all: the file appears when
    the ``with`` block ends without an exception.

    Example::

        with npz_writer("bodies.npz") as npz:
            npz.add_chunks("vertices", (n, v, 3), np.float32, chunks_of_vertices)
            npz.add("joints", joints)
    """
    with atomic_write(path) as handle:
        writer = NpzWriter(handle, compress)
        try:
            yield writer
        except BaseException:
            with suppress(Exception):  # the file is discarded; keep the first error
                writer.close()
            raise
        writer.close()


def save_figure_atomic(figure: Any, path: str | Path, **savefig_kwargs: Any) -> Path:
    """A matplotlib ``figure.savefig`` to ``path`` whole or not at all; the format
    follows the suffix (``.png``, ``.pdf``...)."""
    path = Path(path)
    with atomic_write(path) as handle:
        figure.savefig(handle, format=path.suffix.lstrip(".").lower() or None, **savefig_kwargs)
    return path


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Delete the temporary files a killed writer of ``path`` left behind
    (``.{name}.*.tmp`` beside it); returns what was removed.  Call it only where no
    other process is writing ``path``."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed
