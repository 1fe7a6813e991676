"""``smplr bench``: the benchmarks of :mod:`smplr.benchmarks`, each printing measured numbers.

``smplr bench all`` (``make bench``) runs the body, synthetic-data, render and core speed
benchmarks one after another; ``smplr bench accuracy`` (minutes) is run on its own.
Numbers on shared machines are noisy: compare ratios measured in the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smplr.cli.options import Device, Weights

app = typer.Typer(
    help="Benchmarks: speed and accuracy numbers of the body model, data, renderer and SMPLR.",
    no_args_is_help=True,
)

Threads = Annotated[int, typer.Option("--threads", help="CPU threads for torch.")]
Refine = Annotated[
    int, typer.Option("--refine", help="Levenberg-Marquardt steps of the refined rows.")
]


@app.command("body")
def body(
    threads: Threads = 2,
    gender: Annotated[
        str, typer.Option("--gender", help="Open model to time: neutral, female or male.")
    ] = "neutral",
) -> None:
    """Bodies per second of the SMPL-format body model against a plain reference LBS."""
    from smplr.benchmarks import body as benchmark

    benchmark.run(gender=gender, threads=threads)


@app.command("synthetic")
def synthetic(
    batch: Annotated[int, typer.Option("--batch", help="Samples per call.")] = 256,
    threads: Threads = 1,
    device: Device = "cpu",
) -> None:
    """Samples per second of the pose prior and of the synthetic training bodies."""
    from smplr.benchmarks import synthetic as benchmark

    benchmark.run(batch, threads, device)


@app.command("render")
def render(
    size: Annotated[int, typer.Option("--size", help="Image width and height, pixels.")] = 256,
    threads: Threads = 1,
    device: Device = "cpu",
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Skip the slow brute-force rasteriser.")
    ] = False,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Time this SMPL-format model file's mesh instead."),
    ] = None,
) -> None:
    """Milliseconds per frame of silhouette and shaded rendering, against brute force."""
    from smplr.benchmarks import render as benchmark

    benchmark.run(size, threads, device, not no_baseline, model)


@app.command("core")
def core(
    weights: Weights = None,
    threads: Threads = 2,
    refine: Refine = 10,
    baseline_steps: Annotated[
        int, typer.Option("--baseline-steps", help="LM steps of the optimisation-only baseline.")
    ] = 30,
) -> None:
    """Speed of SMPLR (DAE + Ω/Ψ + body model) and of the optimisation-only baseline,
    with both methods' errors on the same held-out bodies."""
    from smplr.benchmarks import core as benchmark

    benchmark.run(weights, threads, refine=refine, baseline_steps=baseline_steps)


@app.command("accuracy")
def accuracy(
    weights: Weights = None,
    num: Annotated[int, typer.Option("--num", help="Held-out synthetic bodies.")] = 2000,
    refine: Refine = 10,
    run_dir: Annotated[
        Path | None,
        typer.Option("--run-dir", help="Training run: adds the paper's ablations (4.4.3)."),
    ] = None,
    threads: Threads = 2,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the rows as JSON here.")
    ] = None,
    skip_conditions: Annotated[
        bool, typer.Option("--skip-conditions", help="Only the ablations of --run-dir.")
    ] = False,
    ood_num: Annotated[
        int,
        typer.Option(
            "--ood-num",
            help="Then the `smplr bench ood` table (no DAE, DAE, DAE + --refine) on this many "
            "bodies per named test set; 0: skip.",
        ),
    ] = 0,
) -> None:
    """Errors (mm) of SMPLR on the synthetic held-out set, condition by condition:
    clean and noisy 3D, 2D and joint-only input, with and without DAE, Procrustes, refine;
    with --ood-num, every named test set (out-of-distribution, real motion capture) next
    to the in-distribution one.

    Example: smplr bench accuracy --run-dir runs/mine --num 500 --ood-num 300
    """
    from smplr.benchmarks import core_accuracy as benchmark

    benchmark.run(
        weights, num, refine, run_dir, threads, json_out, not skip_conditions, ood_num=ood_num
    )


@app.command("ood")
def ood(
    weights: Weights = None,
    num: Annotated[
        int | None, typer.Option("--num", help="Bodies per set (default: each set's size).")
    ] = None,
    sets: Annotated[
        str | None,
        typer.Option("--sets", help="Comma-separated set names (default: every set)."),
    ] = None,
    device: Device = "cpu",
    threads: Threads = 1,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the rows as JSON here.")
    ] = None,
    refine: Annotated[
        int,
        typer.Option("--refine", help="Also a row refined this many LM steps on the DAE's output."),
    ] = 0,
) -> None:
    """Errors (mm) and gender accuracy of SMPLR, one shot on clean 24 joints + 18 landmarks,
    on every named test set: the in-distribution held-out draw next to poses from sources
    independent of the pose prior (uniform within joint limits, perturbations, mirrored,
    extreme-but-valid poses, wide shapes) and real motion capture (test clips, and the
    train clips the training mixture draws from).

    Example: smplr bench ood --num 400 --sets in_distribution,real_mocap_test
    """
    from smplr.benchmarks import ood as benchmark

    benchmark.run(weights, num, sets, device, threads, json_out, refine)


@app.command("formats")
def formats(
    weights: Weights = None,
    num: Annotated[int, typer.Option("--num", help="Bodies per set.")] = 200,
    sets: Annotated[
        str,
        typer.Option("--sets", help="Comma-separated test-set names."),
    ] = "in_distribution,real_mocap_test",
    formats: Annotated[
        str,
        typer.Option("--formats", help="Comma-separated detector formats (3D and 2D of each)."),
    ] = "coco17,h36m17,blazepose33,openpose25,smpl24",
    refine: Annotated[
        int, typer.Option("--refine", help="LM steps of the refined rows (0: one shot only).")
    ] = 10,
    device: Device = "cpu",
    threads: Threads = 1,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the rows as JSON here.")
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the markdown tables here.")
    ] = None,
    figure: Annotated[
        Path | None,
        typer.Option("--figure", help="Only draw the formats' definitions on the body (PNG)."),
    ] = None,
    checks: Annotated[
        bool,
        typer.Option(
            "--checks",
            help="Only measure the keypoint-order check (false alarms, COCO/H36M caught) "
            "on --num noisy synthetic bodies.",
        ),
    ] = False,
) -> None:
    """MPJPE Protocols 1 and 2 and vertex error (mm) of SMPLR from each detector keypoint
    format, 3D and 2D, with 0, 20 and 40 % of the keypoints missing, one shot and refined,
    on test sets (default: the in-distribution held-out draw and the real motion-capture
    test clips).

    Example: smplr bench formats --num 200 --refine 10 --markdown formats.md
    """
    from smplr.benchmarks import formats as benchmark

    if figure is not None:
        benchmark.figure(figure)
        return
    if checks:
        benchmark.measure_checks(num, threads=threads)
        return
    benchmark.run(weights, num, sets, formats, refine, device, threads, json_out, markdown)


@app.command("refine")
def refine(
    num: Annotated[int, typer.Option("--num", help="Bodies per refinement row.")] = 300,
    checks: Annotated[
        bool,
        typer.Option(
            "--checks", help="Also the keypoint checks' detection and false-positive rates."
        ),
    ] = False,
    threads: Threads = 1,
) -> None:
    """Refinement with priors against the old prior-free refinement, on exact keypoints and on
    keypoints of a mismatched skeleton: errors (mm), max |beta|, joints outside their limits.

    Example: smplr bench refine --num 300 --checks
    """
    from smplr.benchmarks import refine_priors as benchmark

    benchmark.run(num, checks, threads)


@app.command("all")
def run_all() -> None:
    """Every speed benchmark with its defaults: body, synthetic, render, core (``make bench``)."""
    body()
    synthetic()
    render()
    core()
