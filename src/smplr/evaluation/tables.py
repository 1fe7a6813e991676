"""The paper's result tables, as text, from evaluation summaries (``Evaluation.summary()``).

- Table 1 layout: per-part errors Hd Ts Sr Ew Wt Hp Kn Ft, Avg. Jt, Avg. Lm, Avg. Bn (mm);
- Table 2 layout: joints (and surface) under Protocol 1 and Protocol 2 (mm);
- Table 3 layout: SMPL surface and 3D joints, Protocol 1 (mm);
- Table 4 layout: silhouette IoU per dataset;
- gender accuracy.

A missing measurement prints as "-".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from smplr.atomic_io import write_text_atomic
from smplr.metrics import PART_ABBREVIATIONS, PART_GROUPS


def format_cell(value: float | None, digits: int = 1, missing: str = "-") -> str:
    """One table cell: ``value`` with ``digits`` decimals, or ``missing`` when there is none."""
    return missing if value is None else f"{value:.{digits}f}"


def dash_cell(value: float | None, digits: int = 1) -> str:
    """A Markdown report cell: ``value`` with ``digits`` decimals, or an en dash where
    there is none."""
    return format_cell(value, digits, missing="–")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of string cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def table1_cells(summary: dict) -> list[str]:
    """A summary's Table 1 cells (Protocol 1): the part groups, joints, landmarks, bones."""
    p1 = summary["protocol_1"]
    parts = [dash_cell(p1["parts"].get(name)) for name in PART_GROUPS]
    return [
        *parts,
        dash_cell(p1["joints"]),
        dash_cell(p1.get("landmarks")),
        dash_cell(summary.get("bones")),
    ]


def _render(header: Sequence[str], rows: Sequence[Sequence[str]], title: str) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    rule = "-" * len(line(header))
    return "\n".join([title, rule, line(header), rule, *(line(r) for r in rows), rule])


def _label(summary: dict, many_datasets: bool) -> str:
    name = summary["method"]
    return f"{name} [{summary['dataset']}/{summary['split']}]" if many_datasets else name


def _many(summaries: Sequence[dict]) -> bool:
    return len({(s["dataset"], s["split"]) for s in summaries}) > 1


def table1(summaries: Sequence[dict], protocol: int = 1) -> str:
    """Per-part errors, as the paper's Table 1 (Protocol 1 by default)."""
    header = ["Model", *PART_ABBREVIATIONS.values(), "Avg. Jt", "Avg. Lm", "Avg. Bn"]
    many = _many(summaries)
    rows = []
    for s in summaries:
        p = s[f"protocol_{protocol}"]
        parts = [format_cell(p["parts"].get(name)) for name in PART_GROUPS]
        rows.append(
            [
                _label(s, many),
                *parts,
                format_cell(p["joints"]),
                format_cell(p.get("landmarks")),
                format_cell(s.get("bones")),
            ]
        )
    return _render(header, rows, f"Table 1 layout: errors per part, protocol {protocol} (mm)")


def table2(summaries: Sequence[dict]) -> str:
    """Joints and surface under both protocols (the paper's Table 2 layout)."""
    header = ["Model", "Jt P1", "Jt P2", "Surf P1", "Surf P2"]
    many = _many(summaries)
    rows = [
        [
            _label(s, many),
            format_cell(s["protocol_1"]["joints"]),
            format_cell(s["protocol_2"]["joints"]),
            format_cell(s["protocol_1"].get("surface")),
            format_cell(s["protocol_2"].get("surface")),
        ]
        for s in summaries
    ]
    return _render(
        header, rows, "Table 2 layout: protocol 1 (root-relative) and 2 (Procrustes) (mm)"
    )


def table3(summaries: Sequence[dict]) -> str:
    """SMPL surface and 3D joint errors, Protocol 1 (the paper's Table 3 layout)."""
    header = ["Model", "SMPL surface", "3D joints"]
    many = _many(summaries)
    rows = [
        [
            _label(s, many),
            format_cell(s["protocol_1"].get("surface")),
            format_cell(s["protocol_1"]["joints"]),
        ]
        for s in summaries
    ]
    return _render(header, rows, "Table 3 layout: protocol 1 (mm)")


def table4(summaries: Sequence[dict]) -> str:
    """Silhouette IoU, one column per dataset (the paper's Table 4 layout)."""
    datasets = sorted({s["dataset"] for s in summaries})
    methods = list(dict.fromkeys(s["method"] for s in summaries))
    value = {(s["method"], s["dataset"]): s.get("silhouette_iou") for s in summaries}
    rows = [[m, *(format_cell(value.get((m, d)), 2) for d in datasets)] for m in methods]
    return _render(["Model", *datasets], rows, "Table 4 layout: silhouette IoU")


def gender_table(summaries: Sequence[dict]) -> str:
    many = _many(summaries)
    rows = [
        [
            _label(s, many),
            format_cell(100 * s["gender_accuracy"] if "gender_accuracy" in s else None),
        ]
        for s in summaries
    ]
    return _render(["Model", "Gender acc. (%)"], rows, "Gender accuracy")


def format_report(summaries: Sequence[dict]) -> str:
    """Every table that has data, then the definitions that make the numbers reproducible."""
    if not summaries:
        raise ValueError("no evaluation summaries to report")
    blocks = [table1(summaries), table2(summaries), table3(summaries)]
    if any(s.get("silhouette_iou") is not None for s in summaries):
        blocks.append(table4(summaries))
    if any("gender_accuracy" in s for s in summaries):
        blocks.append(gender_table(summaries))
    first = summaries[0]
    notes = [
        f"Protocol 1: {first['protocols']['1']}.",
        f"Protocol 2: {first['protocols']['2']}.",
        f"Avg. Jt averages SMPL joints {first['joints_averaged']}; evaluated joints {first['joints_evaluated']}.",
    ]
    for s in summaries:
        notes.append(
            f"{s['method']} on {s['dataset']}/{s['split']}: {s['num_samples']} samples, "
            f"{s['coordinates']} coordinates, ground-truth body: {s['ground_truth_body'] or 'none (joints only)'}."
        )
        notes.extend(f"{s['method']}: {n}" for n in s.get("notes", []))
    return "\n\n".join([*blocks, "\n".join(notes)])


def write_json(summaries: Sequence[dict], path: str | Path) -> Path:
    """Write the summaries as JSON (a list, one entry per method and dataset)."""
    return write_text_atomic(path, json.dumps(list(summaries), indent=2) + "\n")
