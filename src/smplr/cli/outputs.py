"""The files a ``smplr`` command writes (``fit``, ``body pose``, ``evaluate``), in one place.

- **checked before any work**: the ``.npz`` name, the mesh format, and folders reused
  from an earlier run: a ``--mesh-dir`` / ``--render`` folder that already holds smplr's
  own files (``body_00000.obj``, ``body_00000.png``, ...) is refused, saying what it
  holds, unless ``--overwrite`` (then those files are removed first, so no stale mesh
  stays beside the new ones; other files in the folder are left alone);
- **streamed**: meshes and pictures are made and written a chunk of bodies at a time
  (:data:`CHUNK`), so memory does not grow with the number of bodies;
- **whole or nothing**: every file is written atomically (:mod:`smplr.atomic_io`), the
  ``.npz`` last; a run that fails (bad input found late, full disk, Ctrl-C) removes the
  files and folders it had written, so no half-written output is left behind.

Example (``smplr fit``)::

    outputs = Outputs(out, mesh_dir=mesh_dir, mesh_format="obj", render_dir=None)
    with outputs.writing():
        result = model.fit(points, return_vertices=False)
        outputs.write_bodies(len(points), lambda rows: model.vertices(result, rows), faces)
        outputs.save_npz(arrays)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import typer

from smplr.atomic_io import npz_writer, save_npz_atomic
from smplr.body.mesh_io import MESH_FORMATS, write_meshes
from smplr.render import write_pictures

CHUNK = 256
"""Bodies meshed (and rendered) at a time: ~42 MB of float32 vertices for the open model."""
STEM = "body"
"""Output files are named ``body_{i:05d}.{obj,ply,png}``."""
_OWN_FILE = re.compile(rf"{STEM}_\d{{5,}}\.(obj|ply|png)")

VertexSource = Callable[[slice], torch.Tensor]
"""``rows -> vertices (n, V, 3)`` of those bodies."""


def earlier_output(folder: Path) -> list[Path]:
    """smplr's own output files in ``folder`` (meshes and pictures), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _OWN_FILE.fullmatch(p.name))


def check_npz_name(path: Path) -> Path:
    if path.suffix != ".npz":
        raise ValueError(f"{path}: the output file must end in .npz")
    return path


def check_mesh_format(fmt: str) -> str:
    if fmt not in MESH_FORMATS:
        raise ValueError(f"unknown mesh format '{fmt}': expected one of {', '.join(MESH_FORMATS)}")
    return fmt


class Outputs:
    """The output files of one run: ``npz`` (the parameter file), ``mesh_dir`` (one mesh
    per body, ``mesh_format``), ``render_dir`` (one picture per body); any may be None.
    Constructing it checks them (ValueError naming the option); :meth:`writing` removes
    what the run wrote when it fails."""

    def __init__(
        self,
        npz: Path | None = None,
        mesh_dir: Path | None = None,
        mesh_format: str = "obj",
        render_dir: Path | None = None,
        overwrite: bool = False,
    ) -> None:
        self.npz = None if npz is None else check_npz_name(npz)
        if npz is not None and npz.is_dir():
            raise ValueError(f"--out {npz}: is a folder, not an .npz file name")
        self.mesh_dir = mesh_dir
        self.mesh_format = check_mesh_format(mesh_format)
        self.render_dir = render_dir
        self.overwrite = overwrite
        for option, folder in (("--mesh-dir", mesh_dir), ("--render", render_dir)):
            if folder is None:
                continue
            if folder.exists() and not folder.is_dir():
                raise ValueError(f"{option} {folder}: exists and is not a folder")
            old = earlier_output(folder)
            if old and not overwrite:
                raise ValueError(
                    f"{option} {folder}: holds {len(old)} files of an earlier smplr run "
                    f"({old[0].name} ... {old[-1].name}); pass --overwrite to replace them, "
                    "or choose another folder"
                )
        self._written: list[Path] = []  # whole files: the .npz, plots, JSON
        self._rows = 0  # bodies whose meshes / pictures were (being) written
        self._created: list[Path] = []

    @property
    def needs_vertices(self) -> bool:
        """Whether meshes or pictures are asked for."""
        return self.mesh_dir is not None or self.render_dir is not None

    def _make_folder(self, folder: Path) -> None:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        self._created.extend(reversed(missing))

    @contextmanager
    def writing(self) -> Iterator[Outputs]:
        """Create the folders (clearing smplr's earlier files under ``--overwrite``); on
        any exception remove the files and folders written so far, then re-raise."""
        try:
            for folder in (self.mesh_dir, self.render_dir):
                if folder is not None:
                    for old in earlier_output(folder):
                        old.unlink()
                    self._make_folder(folder)
            if self.npz is not None:
                self._make_folder(self.npz.parent)
            yield self
        except BaseException:
            self._remove_written()
            raise

    def _remove_written(self) -> None:
        for folder, suffix in ((self.mesh_dir, self.mesh_format), (self.render_dir, "png")):
            if folder is not None:
                for row in range(self._rows):
                    (folder / f"{STEM}_{row:05d}.{suffix}").unlink(missing_ok=True)
        for path in self._written:
            path.unlink(missing_ok=True)
        for folder in reversed(self._created):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    def write_chunk(self, vertices: torch.Tensor, faces: torch.Tensor, first_index: int) -> None:
        """Meshes and pictures of bodies ``first_index ...``: ``vertices (n, V, 3)``, ``faces (F, 3)``."""
        self._rows = max(self._rows, first_index + vertices.shape[0])
        if self.mesh_dir is not None:
            write_meshes(
                vertices.detach().cpu().numpy(),
                faces.cpu().numpy(),
                self.mesh_dir,
                self.mesh_format,
                STEM,
                first_index,
            )
        if self.render_dir is not None:
            write_pictures(
                vertices.detach().cpu(),
                faces.cpu(),
                self.render_dir,
                stem=STEM,
                first_index=first_index,
            )

    def write_bodies(self, count: int, vertices_of: VertexSource, faces: torch.Tensor) -> None:
        """Meshes and pictures of ``count`` bodies, :data:`CHUNK` at a time:
        ``vertices_of(rows)`` gives ``(n, V, 3)`` for a slice of the bodies."""
        if not self.needs_vertices:
            return
        for start in range(0, count, CHUNK):
            self.write_chunk(vertices_of(slice(start, start + CHUNK)), faces, start)

    def save_npz(self, arrays: Mapping[str, np.ndarray]) -> None:
        """The parameter file, whole or not at all (write it last)."""
        if self.npz is None:
            raise ValueError("this run has no .npz output")
        self._written.append(save_npz_atomic(self.npz, arrays))

    @contextmanager
    def npz_stream(self) -> Iterator:
        """The parameter file as a :class:`smplr.atomic_io.NpzWriter` (large arrays chunk
        by chunk); it appears, whole, when the ``with`` block ends."""
        if self.npz is None:
            raise ValueError("this run has no .npz output")
        with npz_writer(self.npz) as npz:
            yield npz
        self._written.append(self.npz)

    def record(self, paths: list[Path]) -> None:
        """Files written by another writer (plots, JSON), removed too if the run fails."""
        self._written += paths

    def report(self, count: int) -> None:
        """Say what was written for ``count`` bodies."""
        if self.mesh_dir is not None:
            typer.echo(f"wrote {count} meshes to {self.mesh_dir}")
        if self.render_dir is not None:
            typer.echo(f"wrote {count} pictures to {self.render_dir}")
        if self.npz is not None:
            typer.echo(f"wrote {self.npz} ({count} bodies)")
