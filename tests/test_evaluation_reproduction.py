"""The reproduction report generator: file structure on a tiny run (not its values), the
``smplr report`` command, and the paper's numbers against the paper's text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.bundles import write_tiny_open_bundle
from helpers.cli import run_smplr
from smplr.datasets.test_sets import TEST_SETS
from smplr.evaluation import paper_results as paper
from smplr.evaluation.reproduction import Settings, conditions, generate

# The lines of the paper's text that hold its numbers (shipped, so this always runs).
PAPER_TEXT = Path(__file__).parent / "data" / "paper_numbers.txt"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("report")
    weights = write_tiny_open_bundle(folder / "tiny.pt")
    settings = Settings(
        num=6, threads=1, weights=weights, ood_num=3, ood_refine=2, image_ablations=None
    )
    out = generate(folder / "docs" / "reproduction.md", settings)
    return out.read_text(), weights


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of ``text`` as rows of cells (header first, rule dropped)."""
    found, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(c and set(c) <= {"-"} for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def test_report_has_every_section_in_order(report) -> None:
    text, _ = report
    headings = [line for line in text.splitlines() if line.startswith("#")]
    expected = [
        "# Reproduction report",
        "## What is and is not comparable",
        "## Setup",
        "## Table 1",
        "### Input error",
        "### DAE",
        "### SMPLR components",
        "### The whole pipeline",
        "## Table 3",
        "## Table 4",
        "## Gender accuracy",
        "## Both protocols",
        "## Beyond the training distribution: out-of-distribution and real motion-capture",
        "## Table 1 (image ablations)",
        "## Definitions",
    ]
    assert len(headings) == len(expected)
    for heading, start in zip(headings, expected, strict=True):
        assert heading.startswith(start), (heading, start)


def test_tables_are_rectangular_and_measured_cells_are_numbers(report) -> None:
    text, _ = report
    found = tables(text)
    assert len(found) == 1 + 4 + 5  # setup, Table 1 blocks, Tables 3, 4, gender, both, sets
    for table in found:
        assert len({len(row) for row in table}) == 1, table[0]
    for table in found[1:5]:  # Table 1 blocks: every measured cell is a finite number
        for row in table[1:]:
            if row[0] == "smplr":
                values = [float(cell) for cell in row[3:]]
                assert all(v == v and v >= 0 for v in values), row
    assert all(cell.lower() != "nan" for table in found for row in table for cell in row)


def test_every_condition_and_every_published_number_is_shown(report) -> None:
    text, _ = report
    table1 = tables(text)[1:5]
    rows = {(row[0], row[1]): row for table in table1 for row in table[1:]}
    for condition in conditions():
        assert ("smplr", condition.label) in rows, condition.label
    for published in paper.TABLE1:
        cells = rows[("paper", published.model)]
        shown = ["–" if v is None else f"{v:.1f}" for v in published.values]
        assert cells[3:] == shown
    assert "| paper | ALL_Proc | 0.75 | 0.71 | 0.77 | – |" in text
    assert "| paper | Ψ | SURREAL image (SHN estimates) | 89.5 |" in text
    iou_rows = [c for c in conditions() if c.iou]
    table4_rows = next(t for t in tables(text) if "synthetic (smplr)" in t[0])
    measured = [row for row in table4_rows[1:] if row[0] == "smplr"]
    assert len(measured) == len(iou_rows)
    assert all(0.0 <= float(row[-1]) <= 1.0 for row in measured)


def test_every_test_set_is_shown_next_to_the_in_distribution_one(report) -> None:
    text, _ = report
    table = next(t for t in tables(text) if t[0][:4] == ["Set", "Source", "Bodies", "Input"])
    assert table[0][4:] == ["Jt P1", "Vertices P1", "Jt P2", "Gender (%)"]
    inputs = ["no DAE", "DAE", "DAE + refine 2"]
    expected = [(name, spec.label, "3", c) for name, spec in TEST_SETS.items() for c in inputs]
    assert [tuple(row[:4]) for row in table[1:]] == expected
    assert table[1][0] == "in_distribution"
    for row in table[1:]:
        values = [float(cell) for cell in row[4:]]
        assert all(v >= 0 for v in values[:3]) and 0 <= values[3] <= 100, row
    section = text.split("## Beyond the training distribution")[1].split("## Definitions")[0]
    assert "**3 bodies per set**" in section and "2 Levenberg–Marquardt steps" in section
    held_out = [name for name, spec in TEST_SETS.items() if spec.held_out]
    assert held_out and "Only " + " and ".join(f"`{n}`" for n in held_out) in section
    assert "not recorded in the weights" in dict(tables(text)[0][1:])["training poses"]


def test_setup_records_provenance(report) -> None:
    text, weights = report
    setup = dict(tables(text)[0][1:])
    for key in (
        "command",
        "date",
        "source",
        "benchmark",
        "noise",
        "weights",
        "software",
        "machine",
        "test sets",
    ):
        assert setup.get(key), key
    assert "num=6, seed=12345" in setup["benchmark"]
    assert "torch" in setup["software"] and "numpy" in setup["software"]
    assert str(weights) in setup["weights"]
    assert "**not the shipped weights**" in text
    assert "they are not SHN outputs" in text


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return run_smplr(monkeypatch, capsys, "report", *args)


def test_cli_writes_the_report_and_refuses_bad_input(monkeypatch, capsys, tmp_path) -> None:
    weights = write_tiny_open_bundle(tmp_path / "tiny.pt")
    out = tmp_path / "r.md"
    args = ["--num", "3", "--threads", "1", "--weights", str(weights), "--no-iou", "--ood-num", "1"]
    code, stdout, err = run_cli(monkeypatch, capsys, "--out", str(out), *args)
    assert code == 0 and f"wrote {out}" in stdout, err
    text = out.read_text()
    assert f"`smplr report --out {out} --num 3" in text
    assert "Silhouettes were not measured in this run" in text
    assert "**1 body per set**" in text
    for bad, message in (
        (["--out", str(tmp_path / "r.txt"), *args], "give a path ending in .md"),
        (["--out", str(out), "--num", "0", "--weights", str(weights)], "num must be a positive"),
        (["--out", str(out), "--weights", str(tmp_path / "none.pt")], "weight file not found"),
    ):
        code, _, err = run_cli(monkeypatch, capsys, *bad)
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_published_numbers_match_the_paper_text() -> None:
    text = PAPER_TEXT.read_text()
    table1 = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 13 and re.fullmatch(r"\d+\.\d", cells[2]):
            table1.append(cells[2:])
    assert table1 == [["-" if v is None else f"{v:.1f}" for v in r.values] for r in paper.TABLE1]
    assert f"achieve {paper.GENDER_ACCURACY_PERCENT}% accuracy" in text
    assert "| <i>ALL_{Proc}</i> | 0.75 | 0.71 | 0.77 |" in text
    assert "| Varol (multi-task) [31] | - | - | 0.73 |" in text
    for name, surface, joints, starred in paper.TABLE3:
        shown = f"{'-' if surface is None else surface} | {joints}{'*' if starred else ''} |"
        assert shown in text, name
    assert f"average error of {paper.DAE_NOISE_AVG_JT}mm" in text
    for name, p1, p2 in paper.TABLE2_SMPLR:
        assert f"| {p1} | {p2} |" in text, name
