"""Writing posed meshes as ``.obj`` / ``.ply`` files (through trimesh), each whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from smplr.atomic_io import write_bytes_atomic

MESH_FORMATS = ("obj", "ply")


def write_meshes(
    vertices: np.ndarray,
    faces: np.ndarray,
    out_dir: str | Path,
    fmt: str = "obj",
    stem: str = "body",
    first_index: int = 0,
) -> list[Path]:
    """Write one mesh file per body: ``vertices (N, V, 3)``, ``faces (F, 3)``.

    Files are named ``{stem}_{i:05d}.{fmt}`` in ``out_dir`` (created if needed), ``i``
    counting from ``first_index`` (to write a large batch chunk by chunk).
    """
    if fmt not in MESH_FORMATS:
        raise ValueError(f"unknown mesh format '{fmt}': expected one of {', '.join(MESH_FORMATS)}")
    vertices = np.asarray(vertices)
    if vertices.ndim != 3 or vertices.shape[2] != 3:
        raise ValueError(f"vertices have shape {vertices.shape}, expected (N, V, 3)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, verts in enumerate(vertices):
        mesh = trimesh.Trimesh(vertices=verts, faces=faces, process=False)
        data = mesh.export(file_type=fmt)
        encoded = data.encode() if isinstance(data, str) else data
        if not isinstance(encoded, bytes):
            raise TypeError(f"trimesh exported {type(data).__name__} for .{fmt}, not file bytes")
        path = write_bytes_atomic(out / f"{stem}_{first_index + i:05d}.{fmt}", encoded)
        paths.append(path)
    return paths
