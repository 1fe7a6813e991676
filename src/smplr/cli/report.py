"""``smplr report``: regenerate the reproduction report (docs/reproduction.md)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from smplr.evaluation.reproduction import Settings

DEFAULTS = Settings()


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Markdown file to write.")] = Path(
        "docs/reproduction.md"
    ),
    num: Annotated[
        int,
        typer.Option(
            "--num",
            "-n",
            help="Synthetic held-out bodies to measure (>= 2000 for the shipped report).",
        ),
    ] = DEFAULTS.num,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the synthetic set (its cameras use seed + 1).")
    ] = DEFAULTS.seed,
    noise_seed: Annotated[
        int, typer.Option("--noise-seed", help="Seed of the first noise model (then + 1, + 2).")
    ] = DEFAULTS.noise_seed,
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            help="A weight bundle from `smplr train` instead of the shipped weights (the report says so).",
        ),
    ] = None,
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            help="torch CPU threads (2 helps on an idle 2-core machine; 1 is faster when "
            "other jobs share the cores).",
        ),
    ] = DEFAULTS.threads,
    iou: Annotated[
        bool,
        typer.Option(
            "--iou/--no-iou", help="Render silhouettes for Table 4 (most of the run time)."
        ),
    ] = DEFAULTS.iou,
    ood_num: Annotated[
        int,
        typer.Option(
            "--ood-num",
            help="Bodies per named test set (out-of-distribution, real motion capture) of "
            "the last section.",
        ),
    ] = DEFAULTS.ood_num,
    image_ablations: Annotated[
        Path,
        typer.Option(
            "--image-ablations",
            help="Stored image-model ablation results (JSON of tools/image_ablations.py) "
            "shown as 'Table 1 (image ablations)'; read, not retrained.",
        ),
    ] = DEFAULTS.image_ablations or Path("docs/results/image_ablations.json"),
) -> None:
    """Measure smplr's shipped models on the synthetic benchmark and write the paper's
    Tables 1, 3, 4 and gender accuracy beside the published numbers.

    Every measured number goes through smplr.metrics; the only typed-in numbers are the
    paper's (smplr.evaluation.paper_results). The report states what is and is not
    comparable (synthetic keypoints vs images, open body model vs SMPL, no image backbone,
    noise models as stand-ins for CNN error) and records the command, date, seeds,
    software versions and machine.

    A last section scores every named test set (smplr bench ood: in-distribution,
    out-of-distribution, real motion capture) one-shot and refined.

    Takes about 7 minutes for the default 2,000 bodies on one CPU thread, plus about
    1.5 minutes for the test sets (300 bodies each).

    Example: smplr report --out docs/reproduction.md
    """
    from smplr.evaluation.reproduction import generate

    settings = Settings(
        num=num,
        seed=seed,
        noise_seed=noise_seed,
        threads=threads,
        weights=weights,
        iou=iou,
        ood_num=ood_num,
        image_ablations=image_ablations,
    )
    command = "smplr report " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    typer.echo(f"wrote {generate(out, settings, command.strip(), progress=True)}")
