"""Collect Table 1 image ablation runs into the small JSON the reproduction report reads.

The run folder holds, per variant, ``<stage>/`` (``smplr train image``: checkpoint,
curves.csv, image_model.pt) and ``eval_<stage>.json`` (``smplr evaluate images --json``),
plus ``run_all.log``: for each variant a line ``=== HH:MM:SS smplr train image ARGS`` (the
shell scripts that trained them).  Wall times are the training loop's own (``elapsed_s`` of
the last row of curves.csv).

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


def _training_commands(path: Path) -> dict[str, str]:
    """Stage -> its ``smplr train image`` command, from the training scripts' log."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if m := re.search(r"=== \S+ (smplr train image .*)$", line):
            found[_stage(m.group(1))] = m.group(1).strip()
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
    for stage, command in _training_commands(folder / "run_all.log").items():
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
            rows = list(csv.DictReader(f))
        last = [row for row in rows if row.get("val_joints_mm")][-1]
        paper_row, paper_dae_row = PAPER_ROWS[stage]
        runs.append(
            {
                "stage": stage,
                "paper_row": paper_row,
                "paper_dae_row": paper_dae_row,
                "command": command,
                "steps": meta["steps"],
                "batch_size": meta["batch_size"],
                "wall_s": float(rows[-1]["elapsed_s"]),
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
