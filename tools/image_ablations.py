"""Collect Table 1 image ablation runs into the small JSON the reproduction report reads.

The run folder holds, per variant, ``<stage>/`` (``smplr train image``: checkpoint,
curves.csv, image_model.pt) and ``eval_<stage>.json`` (``smplr evaluate images --json``),
plus ``run_all.log``: for each variant a line ``=== HH:MM:SS smplr train image ARGS`` and
one ``=== HH:MM:SS done in N s: VARIANT`` (the shell script that trained them).

Usage::

    python tools/image_ablations.py /work/runs/ablation --out docs/results/image_ablations.json
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

from smplr.atomic_io import write_text_atomic

PAPER_ROWS = {  # stage -> (paper's image-model row, paper's DAE row)
    "image_shn": ("SHN", "DAE_SHN"),
    "image_shn_nl": ("SHN_nL", None),
    "image_shn_limbs": ("SHN^final", None),
    "image_alexnet_nl": ("Alexnet", "DAE_Alexnet"),
    "image_alexnet": (None, None),
}
BASELINES = ("mean training JL", "mean body (rest pose, mean shape)")


def _method(name: str, stage_name: str) -> str:
    if name == stage_name:
        return "points"
    return "dae" if "DAE" in name else "no-dae"


def _compact(summary: dict) -> dict:
    """A summary without per-joint lists and the loaded model's record (kept small)."""
    out = {k: v for k, v in summary.items() if k != "image_model"}
    for key in ("protocol_1", "protocol_2"):
        out[key] = {k: v for k, v in summary[key].items() if k != "per_joint"}
    return out


def _training_log(path: Path) -> dict[str, tuple[str, float]]:
    """Variant flags -> (command, wall seconds) from the training script's log."""
    found: dict[str, tuple[str, float]] = {}
    command = None
    for line in path.read_text().splitlines():
        if m := re.match(r"=== \S+ (smplr train image .*)$", line):
            command = m.group(1).strip()
        elif (m := re.match(r"=== \S+ done in (\d+) s: ?(.*)$", line)) and command:
            found[m.group(2).strip()] = (command, float(m.group(1)))
    return found


def _stage(flags: str) -> str:
    arch = "alexnet" if "alexnet" in flags else "shn"
    return (
        f"image_{arch}"
        + ("_nl" if "--no-landmarks" in flags else "")
        + ("_limbs" if "--limbs" in flags else "")
    )


def collect(folder: Path) -> dict:
    runs, baselines = [], []
    for flags, (command, wall) in _training_log(folder / "run_all.log").items():
        stage = _stage(flags)
        evaluation = folder / f"eval_{stage}.json"
        if not evaluation.is_file():
            continue
        summaries = json.loads(evaluation.read_text())
        meta = summaries[0]["image_model"]
        evaluations = {}
        for s in summaries:
            if s["method"] in BASELINES:
                baselines.append(_compact(s))
            else:
                evaluations[_method(s["method"], stage)] = _compact(s)
        with open(folder / stage / "curves.csv") as f:
            last = [row for row in csv.DictReader(f) if row.get("val_joints_mm")][-1]
        paper_row, paper_dae_row = PAPER_ROWS[stage]
        runs.append(
            {
                "stage": stage,
                "paper_row": paper_row,
                "paper_dae_row": paper_dae_row,
                "command": command,
                "steps": meta["steps"],
                "batch_size": meta["batch_size"],
                "wall_s": wall,
                "config": meta["record"]["image_config"],
                "final_validation": {k: float(v) for k, v in last.items() if v},
                "evaluations": evaluations,
            }
        )
    return {"runs": runs, "baselines": baselines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/results/image_ablations.json"))
    parser.add_argument("--description", default="")
    parser.add_argument("--test", default="the first 500 crops of the synthetic test split")
    parser.add_argument("--train", default="24,000 crops of `smplr data synth --split train`")
    parser.add_argument("--machine", default="")
    parser.add_argument("--note", action="append", default=[])
    args = parser.parse_args()
    results = {
        "description": args.description,
        "data": {"train": args.train, "test": args.test},
        "machine": args.machine,
        "commands": [
            "tools: " + " ".join(["python tools/image_ablations.py", str(args.folder)]),
        ],
        **collect(args.folder),
        "notes": args.note,
    }
    print(f"wrote {write_text_atomic(args.out, json.dumps(results, indent=1) + chr(10))}")


if __name__ == "__main__":
    main()
