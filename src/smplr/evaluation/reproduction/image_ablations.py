"""The report's 'Table 1 (image ablations)' section, from stored measurements.

Training the image models takes an hour or more, so the report does not retrain them: it
reads a small JSON of measured results (``docs/results/image_ablations.json``, written by
``tools/image_ablations.py`` from ``smplr train image`` runs and their
``smplr evaluate images`` summaries) and puts them beside the paper's Table 1 rows, with
each of the paper's ablation claims checked against the measured numbers.

The JSON: ``{"description", "commands", "data", "machine", "runs": [{"stage",
"paper_row", "paper_dae_row", "command", "steps", "batch_size", "wall_s",
"evaluations": {"points" | "dae" | "no-dae": summary}}], "baselines": [summary]}`` with
summaries as :meth:`smplr.evaluation.Evaluation.summary` writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

from smplr.evaluation import paper_results as paper
from smplr.evaluation.tables import dash_cell, markdown_table, table1_cells

TITLE = "## Table 1 (image ablations): image models trained at CPU scale\n"
JT = paper.TABLE1_COLUMNS.index("Avg. Jt")
CLAIMS: tuple[tuple[str, str, str], ...] = (
    ("SHN", "Alexnet", "the volumetric hourglass beats the direct AlexNet-like regressor"),
    ("SHN", "SHN_nL", "predicting landmarks too helps the joints"),
    ("SHN^final", "SHN", "limb heatmaps help the joints"),
    ("DAE_SHN", "SHN", "the DAE does not hurt (slightly improves) SHN estimates"),
    ("DAE_Alexnet", "Alexnet", "the DAE improves the poor AlexNet estimates"),
)
"""The paper's Table 1 claims as ``(better row, worse row, what it means)``, on Avg. Jt."""


def _measured_rows(results: dict) -> dict[str, dict]:
    """Paper row name -> the measured summary standing for it."""
    rows: dict[str, dict] = {}
    for run in results["runs"]:
        evaluations = run["evaluations"]
        if run.get("paper_row") and "points" in evaluations:
            rows[run["paper_row"]] = evaluations["points"]
        if run.get("paper_dae_row") and "dae" in evaluations:
            rows[run["paper_dae_row"]] = evaluations["dae"]
    return rows


def _claims(results: dict) -> str:
    paper_rows = {r.model: r.values for r in paper.TABLE1}
    measured = _measured_rows(results)
    rows = []
    for better, worse, meaning in CLAIMS:
        published = f"{paper_rows[better][JT]:.1f} < {paper_rows[worse][JT]:.1f}"
        if better in measured and worse in measured:
            a = measured[better]["protocol_1"]["joints"]
            b = measured[worse]["protocol_1"]["joints"]
            here, verdict = f"{a:.1f} vs {b:.1f}", ("holds" if a < b else "does not hold")
        else:
            here, verdict = "–", "not measured"
        rows.append([f"{better} < {worse}", meaning, published, here, verdict])
    return markdown_table(["claim (Avg. Jt)", "meaning", "paper (mm)", "smplr (mm)", "here"], rows)


def render_image_ablations(path: Path | None) -> str:
    """The section's Markdown: measured image ablations from ``path`` beside the paper."""
    if path is None or not Path(path).is_file():
        return TITLE + f"\nNo measured image ablations (looked for `{path}`).\n"
    results = json.loads(Path(path).read_text())
    out = [TITLE]
    out.append(
        f"{results['description']} Measured results are read from `{path}` (the report does "
        "not retrain). smplr: Protocol 1 (root-relative), mm, on "
        f"{results['data']['test']}; paper: {paper.TABLE1_SOURCE}. Every smplr body is put "
        "on the true root; landmark and surface ground truth are the crops' SMPL parameters "
        "posed by the open body model.\n"
    )
    header = ["Source", "Row", "Model / input", *paper.TABLE1_COLUMNS]
    rows = [
        ["paper", r.model, paper.TABLE1_INPUTS.get(r.model) or paper.TABLE1_INPUTS["CNN"]]
        + [dash_cell(v) for v in r.values]
        for r in paper.TABLE1
        if r.block in ("CNN", "DAE")
    ]
    labels = {"points": "image model", "dae": "→ DAE → SMPLR", "no-dae": "→ SMPLR (no DAE)"}
    for run in results["runs"]:
        for method, summary in run["evaluations"].items():
            row = run.get("paper_row") if method == "points" else run.get("paper_dae_row")
            name = f"{run['stage']} {labels[method]}"
            rows.append(["smplr", row or "–", name, *table1_cells(summary)])
    rows += [
        ["smplr", "–", f"baseline: {s['method']}", *table1_cells(s)]
        for s in results.get("baselines", [])
    ]
    out.append(markdown_table(header, rows) + "\n")
    out.append(
        "Surface, silhouette and gender of the same runs (smplr only; Protocol 2: Procrustes):\n"
    )
    extra = []
    for run in results["runs"]:
        for method, s in run["evaluations"].items():
            gender = s.get("gender_accuracy")
            extra.append(
                [
                    f"{run['stage']} {labels[method]}",
                    dash_cell(s["protocol_2"]["joints"]),
                    dash_cell(s["protocol_1"].get("surface")),
                    dash_cell(s.get("silhouette_iou"), 3),
                    dash_cell(None if gender is None else 100 * gender),
                ]
            )
    for s in results.get("baselines", []):
        extra.append(
            [
                f"baseline: {s['method']}",
                dash_cell(s["protocol_2"]["joints"]),
                dash_cell(s["protocol_1"].get("surface")),
                dash_cell(s.get("silhouette_iou"), 3),
                "–",
            ]
        )
    out.append(
        markdown_table(["model", "joints P2", "surface P1", "IoU", "gender (%)"], extra) + "\n"
    )
    out.append("The paper's Table 1 claims against these runs:\n")
    out.append(_claims(results) + "\n")
    out.append("Runs (same data, seed, steps and batch; wall time on the shared 2-core machine):\n")
    out.append(
        markdown_table(
            ["stage", "steps × batch", "wall (s)", "command"],
            [
                [
                    run["stage"],
                    f"{run['steps']} × {run['batch_size']}",
                    dash_cell(run.get("wall_s"), 0),
                    f"`{run['command']}`",
                ]
                for run in results["runs"]
            ],
        )
        + "\n"
    )
    for note in results.get("notes", []):
        out.append(f"- {note}")
    return "\n".join(out).rstrip() + "\n"
