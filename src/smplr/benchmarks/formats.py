"""SMPLR from each detector keypoint format: ``smplr bench formats`` (what is measured:
:mod:`smplr.evaluation.keypoint_formats`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from smplr.atomic_io import write_text_atomic
from smplr.benchmarks.ood import set_names
from smplr.body.model import GenderedBodyModel
from smplr.evaluation.keypoint_formats import (
    definitions_figure,
    evaluate_formats,
    format_header,
    format_row,
    markdown_table,
)
from smplr.pipeline import SMPLR
from smplr.weights import shipped_path


def run(
    weights: Path | None = None,
    num: int = 200,
    sets: str = "in_distribution,real_mocap_test",
    formats: str = "coco17,h36m17,blazepose33,openpose25,smpl24",
    refine: int = 10,
    device: str = "cpu",
    threads: int | None = 1,
    json_out: Path | None = None,
    markdown: Path | None = None,
) -> list[dict]:
    """Print one row per set, format, missing fraction and condition; return the rows."""
    if threads is not None:
        torch.set_num_threads(threads)
    names = set_names(sets)
    model = SMPLR.load(weights or shipped_path(), device)
    print("SMPLR from detector keypoints (exact on the body; NaN = missing), errors in mm")
    print(format_header(), flush=True)
    rows = []
    started = time.perf_counter()
    for row in evaluate_formats(
        model, names, num, [f for f in formats.split(",") if f], refine=refine
    ):
        rows.append(row)
        print(format_row(row), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(rows, indent=1))
    if markdown is not None:
        write_text_atomic(markdown, markdown_table(rows))
    return rows


def figure(path: Path) -> Path:
    """Draw the detector formats on the open body model (``docs/images/keypoint_formats.png``)."""
    written = definitions_figure(GenderedBodyModel.open(), path)
    print(f"wrote {written}")
    return written
