"""``smplr data``: build the data files smplr ships."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer

from smplr.body.model import BodyModel
from smplr.datasets.real_mocap import (
    SHIPPED_PATH,
    bone_errors,
    build_real_mocap_poses,
    installed_clips,
    load_real_mocap_poses,
    save_real_mocap_poses,
)
from smplr.datasets.retarget import RetargetPrior
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.synthetic.joint_limits import limit_violation

app = typer.Typer(help="Build the data files smplr ships.", no_args_is_help=True)


@app.callback()
def data() -> None:
    """Build the data files smplr ships."""


@app.command("retarget-mocap")
def retarget_mocap(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .npz file.")] = SHIPPED_PATH,
    min_change: Annotated[
        float, typer.Option(help="Keep a frame once some bone turned this many degrees.")
    ] = 5.0,
    steps: Annotated[int, typer.Option(help="Optimiser steps of the retargeting.")] = 400,
) -> None:
    """Retarget the real motion capture of the `mocap` extra's packages to SMPL poses.

    Reads holosoma-retargeting's climbing sequences and pybullet's DeepMimic clips where
    pip installed them (`pip install 'smplr[mocap]'`), and writes the pose file that
    :func:`smplr.datasets.real_mocap.load_real_mocap_poses` reads.
    """
    if min_change <= 0 or steps < 1:
        raise ValueError("--min-change must be > 0 and --steps >= 1")
    clips = installed_clips()
    poses = build_real_mocap_poses(
        clips, BodyModel.open("neutral"), min_change, RetargetPrior(steps=steps), log=typer.echo
    )
    save_real_mocap_poses(poses, out)
    for source in np.unique(poses.source):
        rows = poses.source == source
        typer.echo(f"{source}: {rows.sum()} poses ({(poses.split[rows] == 'test').sum()} test)")
    typer.echo(f"wrote {len(poses)} poses to {out}")


@app.command("mocap-residuals")
def mocap_residuals(
    poses_file: Annotated[
        Path, typer.Option("--poses", help="Pose file from retarget-mocap.")
    ] = SHIPPED_PATH,
) -> None:
    """Bone-direction errors of a pose file against the installed mocap, per source and bone."""
    poses = load_real_mocap_poses(poses_file)
    clips = installed_clips()
    bones = {clip.source: clip.bones for clip in clips}
    rotations = axis_angle_to_matrix(torch.as_tensor(poses.body_pose).double().view(-1, 23, 3))
    outside = np.degrees(limit_violation(rotations).numpy()).max(axis=1)  # (N,)
    for source, errors in bone_errors(poses, clips, BodyModel.open("neutral")).items():
        typer.echo(
            f"{source}: {errors.shape[0]} poses x {errors.shape[1]} bones: mean "
            f"{errors.mean():.2f} deg, median {np.median(errors):.2f}, "
            f"p95 {np.percentile(errors, 95):.2f}, max {errors.max():.1f}; poses with a "
            f"joint > 5 deg outside its limits: {(outside[poses.source == source] > 5).mean():.1%}"
        )
        for bone, column in zip(bones[source], errors.T, strict=True):
            typer.echo(
                f"  {bone.name:15s} mean {column.mean():5.2f}  median {np.median(column):5.2f}"
                f"  p95 {np.percentile(column, 95):5.2f}"
            )


@app.command("mocap-figure")
def mocap_figure(
    out: Annotated[Path, typer.Option("--out", "-o", help="Picture to write (.png).")] = Path(
        "docs/images/real_mocap_retargeted.png"
    ),
    poses_file: Annotated[
        Path, typer.Option("--poses", help="Pose file from retarget-mocap.")
    ] = SHIPPED_PATH,
) -> None:
    """Draw retargeted real poses next to the mocap skeletons they came from.

    Needs the `mocap` extra's packages (the original frames).
    Example: smplr data mocap-figure --out docs/images/real_mocap_retargeted.png
    """
    from smplr.datasets.mocap_figure import save_figure

    typer.echo(f"wrote {save_figure(out, load_real_mocap_poses(poses_file), installed_clips())}")


@app.command("synth")
def synth(
    num: Annotated[int, typer.Option("--num", "-n", help="Images to make.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumed if it exists).")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed and settings, the same data.")] = 0,
    workers: Annotated[int, typer.Option(help="Processes rendering shards in parallel.")] = 1,
    size: Annotated[
        int, typer.Option(help="Crop side in pixels (--mode crop) or frame width (full).")
    ] = 256,
    mode: Annotated[
        str, typer.Option(help="crop: the paper's 2.5 m crop; full: person anywhere, with a box.")
    ] = "crop",
    backgrounds: Annotated[
        Path | None,
        typer.Option(
            "--backgrounds",
            help="Folder of background photos (default: procedural + photos of installed packages).",
        ),
    ] = None,
    split: Annotated[
        str, typer.Option(help="train, or test: held-out background photos, other seeds.")
    ] = "train",
    shard_size: Annotated[int, typer.Option(help="Images per shard.")] = 256,
    image_format: Annotated[
        str, typer.Option("--format", help="jpg (random quality 70-95) or png.")
    ] = "jpg",
    occluders: Annotated[float, typer.Option(help="Probability of occluders per image.")] = 0.3,
    contact_sheet: Annotated[
        bool, typer.Option(help="Write DIR/contact_sheet.png (first 64 images).")
    ] = True,
) -> None:
    """Render synthetic people with exact annotations into sharded files (docs/image_data.md).

    Example: smplr data synth --num 1000 --out out/images --workers 2
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from smplr.image_data.contact_sheet import save_contact_sheet
    from smplr.image_data.dataset import ImageShards
    from smplr.image_data.scene import SynthConfig
    from smplr.image_data.shards import BackgroundSpec, ShardJob, write_dataset

    if num < 1:
        raise ValueError(f"--num must be at least 1, got {num}")
    job = ShardJob(
        out=str(out),
        num=num,
        seed=seed,
        shard_size=shard_size,
        split=split,
        config=SynthConfig(mode=mode, size=size, occluders=occluders),
        backgrounds=BackgroundSpec(None if backgrounds is None else str(backgrounds)),
        image_format=image_format,
    )

    def warn(message: str) -> None:
        print(f"smplr: warning: {message}", file=sys.stderr)

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with ExitStack() as stack:
        bars: list[Progress] = []

        # The bar appears once the inputs are checked, so a bad input prints one line only.
        def start(count: int) -> None:
            bars.append(stack.enter_context(Progress(*columns)))
            bars[0].add_task("rendering", total=count)

        def advance(count: int) -> None:
            bars[0].advance(bars[0].task_ids[0], count)

        made = write_dataset(job, workers, warn, on_shard=advance, on_start=start)
    typer.echo(f"{out}: {num} images ({made} rendered now, {num - made} already there)")
    if contact_sheet:
        data = ImageShards(out)
        sheet = save_contact_sheet(
            out / "contact_sheet.png", [data.record(i) for i in range(min(64, len(data)))]
        )
        typer.echo(f"wrote {sheet}")
