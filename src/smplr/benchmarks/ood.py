"""SMPLR's accuracy on the named test sets, in-distribution next to out-of-distribution.

Run: ``smplr bench ood [--weights W.pt] [--num 400] [--sets a,b] [--refine 10]`` (see
:mod:`smplr.evaluation.pose_sets` for what is measured and :mod:`smplr.datasets.test_sets`
for the sets); ``smplr bench accuracy --ood-num N`` prints the same table after its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from smplr.atomic_io import write_text_atomic
from smplr.datasets.test_sets import TEST_SETS
from smplr.evaluation.pose_sets import evaluate_test_sets, format_header, format_row
from smplr.pipeline import SMPLR
from smplr.weights import shipped_path


def set_names(sets: str | None) -> list[str]:
    """Comma-separated set names (None: every set), checked against the registry."""
    names = [n for n in (sets or ",".join(TEST_SETS)).split(",") if n]
    unknown = sorted(set(names) - set(TEST_SETS))
    if unknown:
        raise ValueError(f"unknown test sets {unknown}; expected names from {list(TEST_SETS)}")
    return names


def print_table(
    model: SMPLR, names: list[str], num: int | None = None, refine: int = 0
) -> list[dict]:
    """Print the test-set table of ``model`` row by row (``num`` bodies per set, ``refine``
    steps for the refined row, 0: none) and return its rows."""
    print("SMPLR on clean JL of the named test sets, errors in mm")
    print("(source labels are relative to the training mixture of smplr.synthetic.mixture)")
    print(format_header(), flush=True)
    rows = []
    for row in evaluate_test_sets(model, names, num, refine=refine):
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def run(
    weights: Path | None = None,
    num: int | None = None,
    sets: str | None = None,
    device: str = "cpu",
    threads: int | None = 1,
    json_out: Path | None = None,
    refine: int = 0,
) -> list[dict]:
    """Print one row per set and condition; return the rows (and write them to ``json_out``).
    ``threads``: CPU threads for torch (None: leave torch's setting)."""
    names = set_names(sets)
    if threads is not None:
        torch.set_num_threads(threads)
    model = SMPLR.load(weights or shipped_path(), device)
    print(f"weights: {weights or 'shipped'}")
    rows = print_table(model, names, num, refine)
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(rows, indent=1))
    return rows
