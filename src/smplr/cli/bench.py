"""``smplr bench``: the benchmarks of :mod:`smplr.benchmarks`, each printing measured numbers.

``smplr bench all`` (``make bench``) runs the body, synthetic-data, render, image-data, core
and image-model speed benchmarks one after another; ``smplr bench accuracy`` (minutes) is
run on its own.
Numbers on shared machines are noisy: compare ratios measured in the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smplr.body.keypoints import KEYPOINT_FORMATS
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
    """Bodies per second of the body model with its mesh, against a dense-matrix LBS
    (smplfitter-style) and the plain reference LBS, at batch 1, 64, 256 and 1024."""
    from smplr.benchmarks import body as benchmark

    benchmark.run(gender=gender, threads=threads)


@app.command("synthetic")
def synthetic(
    batch: Annotated[int, typer.Option("--batch", help="Samples per call.", min=1)] = 256,
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


@app.command("images")
def images(
    size: Annotated[int, typer.Option("--size", help="Crop side, pixels.")] = 256,
    threads: Threads = 1,
    batches: Annotated[int, typer.Option("--batches", help="Batches of 16 per timing.")] = 4,
) -> None:
    """Synthetic RGB images (with annotations) per second, against silhouettes alone."""
    from smplr.benchmarks import images as benchmark

    benchmark.run(size, threads, batches)


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
    ] = ",".join(KEYPOINT_FORMATS),
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


@app.command("image-model")
def image_model(
    configs: Annotated[
        str,
        typer.Option(
            "--configs",
            help="Comma-separated image configs: small (CPU SHN), shn64 (the small SHN at "
            "64 features), mobilenet (MobileNetV2 + volumetric decoder), paper (the paper's "
            "SHN), alexnet (the AlexNet-like baseline).",
        ),
    ] = "shn64,mobilenet,small,paper",
    batch: Annotated[int, typer.Option("--batch", help="Batch size (paper: 6).")] = 6,
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            help="CPU threads for torch (1: on a shared machine two threads of small "
            "convolutions ran ~10x slower than one).",
        ),
    ] = 1,
    device: Device = "cpu",
    repeats: Annotated[int, typer.Option("--repeats", help="Timed rounds (median).")] = 3,
) -> None:
    """Seconds per training step and per inference call of the image backbones, as the
    paper's Table 5 (batch 6 and 1), for the small CPU configuration and the paper's.

    Example: smplr bench image-model --configs small,paper,alexnet --threads 2
    """
    from smplr.benchmarks import image_model as benchmark

    names = tuple(name.strip() for name in configs.split(",") if name.strip())
    benchmark.run(names, batch, threads, device, repeats)


@app.command("all")
def run_all() -> None:
    """Every speed benchmark with its defaults: body, synthetic, render, images, core,
    image-model (``make bench``)."""
    body()
    synthetic()
    render()
    images()
    core()
    image_model()
