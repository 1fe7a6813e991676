"""Readers for the paper's datasets in their released formats (paper section 4.2).

Every reader yields :class:`~smplr.datasets.record.Sample` records with one set of
conventions (metres, SMPL joint order, OpenCV camera); see :mod:`smplr.datasets.record`.

- :class:`~smplr.datasets.surreal.SurrealReader`     SURREAL ``_info.mat`` / ``_segm.mat`` / ``.mp4``
- :class:`~smplr.datasets.human36m.Human36mReader`   Human3.6M, VideoPose3D or SPIN ``.npz`` layouts
- :class:`~smplr.datasets.up3d.Up3dReader`           UP-3D ``_body.pkl`` / ``_joints.npy`` / splits
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from smplr.datasets.human36m import Human36mReader
from smplr.datasets.record import Camera, MaskRef, Sample
from smplr.datasets.surreal import SurrealReader
from smplr.datasets.up3d import Up3dReader

READERS: dict[str, type] = {"surreal": SurrealReader, "h36m": Human36mReader, "up3d": Up3dReader}


def open_dataset(
    name: str, root: str | Path, split: str = "test", **options: Any
) -> Iterable[Sample]:
    """The reader of dataset ``name`` (surreal, h36m, up3d) over ``root``/``split``."""
    if name not in READERS:
        raise ValueError(f"unknown dataset '{name}': expected one of {', '.join(READERS)}")
    return READERS[name](root, split=split, **options)


__all__ = [
    "READERS",
    "Camera",
    "Human36mReader",
    "MaskRef",
    "Sample",
    "SurrealReader",
    "Up3dReader",
    "open_dataset",
]
