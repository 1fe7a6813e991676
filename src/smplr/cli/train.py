"""``smplr train``: train SMPLR's networks on synthetic bodies, stage by stage or all at once.

Every stage checkpoints into RUN_DIR/<stage>/ (with curves.csv and curves.png) and
resumes from there: re-run the same command after an interruption.  Multi-process
data-parallel training: ``torchrun --nproc-per-node K -m smplr train ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import torch
import typer

from smplr.body.model import GenderedBodyModel
from smplr.synthetic.bodies import SyntheticBodies
from smplr.training.data import default_corruption
from smplr.training.loop import DistributedEnv, TrainSettings, init_distributed
from smplr.training.recipe import Recipe, export_bundle, run_all, run_stage
from smplr.training.stages import RECIPE

app = typer.Typer(
    help="Train SMPLR (DAE, Ψ, Ω, then Ω+Ψ through the body model) on synthetic bodies.",
    no_args_is_help=True,
)

RunDir = Annotated[
    Path, typer.Option("--run-dir", "-r", help="Run folder: pool, checkpoints, curves, bundle.")
]
Steps = Annotated[int, typer.Option("--steps", help="Optimisation steps of the stage.")]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Bodies per step and process.")]
LearningRate = Annotated[float, typer.Option("--lr", help="Adam learning rate (paper: 1e-3).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of weights, data and noise.")]
Device = Annotated[str, typer.Option("--device", help="torch device: cpu, cuda, cuda:1, ...")]
PoolSize = Annotated[
    int, typer.Option("--pool-size", help="Synthetic training bodies drawn once per run.")
]
CheckpointEvery = Annotated[
    int, typer.Option("--checkpoint-every", help="Steps between checkpoints (and validations).")
]
Fresh = Annotated[
    bool, typer.Option("--fresh", help="Ignore an existing checkpoint and start the stage over.")
]
Threads = Annotated[
    int | None, typer.Option("--threads", help="CPU threads for torch (default: torch's choice).")
]
Female = Annotated[
    Path | None,
    typer.Option("--female", help="Female SMPL-format model file (default: the open model)."),
]
Male = Annotated[
    Path | None,
    typer.Option("--male", help="Male SMPL-format model file (default: the open model)."),
]
SmplWeight = Annotated[
    float,
    typer.Option("--smpl-weight", help="Weight of L_SMPL (L1 in metres) against L_R + L_β."),
]


def _recipe(
    run_dir: Path,
    device: str,
    seed: int,
    pool_size: int,
    female: Path | None,
    male: Path | None,
    smpl_weight: float,
    threads: int | None,
) -> tuple[Recipe, DistributedEnv]:
    if threads is not None:
        torch.set_num_threads(threads)
    if (female is None) != (male is None):
        raise ValueError("give both --female and --male model files, or neither")
    env, target = init_distributed(device)
    if female is not None and male is not None:
        body = GenderedBodyModel.from_files(female, male)
        name = f"files:{female.name},{male.name}"
    else:
        body = GenderedBodyModel.open()
        name = "open"
    body = body.float().to(target)
    recipe = Recipe(
        body=body,
        body_name=name,
        sampler=lambda s: SyntheticBodies(body, seed=s, device=target),
        corruption=default_corruption(),
        run_dir=run_dir,
        pool_size=pool_size,
        seed=seed,
        smpl_weight=smpl_weight,
        device=target,
    )
    return recipe, env


def _settings(
    steps: int, batch_size: int, lr: float, seed: int, checkpoint_every: int
) -> TrainSettings:
    if steps < 1 or batch_size < 1 or checkpoint_every < 1:
        raise ValueError("--steps, --batch-size and --checkpoint-every must be positive")
    return TrainSettings(
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        checkpoint_every=checkpoint_every,
        val_every=checkpoint_every,
        log_every=max(1, min(20, checkpoint_every)),
    )


def _report(recipe: Recipe, stage: str, env: DistributedEnv) -> None:
    if env.is_main:
        typer.echo(f"{stage}: done; curves in {recipe.run_dir / stage}/curves.csv, curves.png")


@app.command("dae")
def dae(
    input_format: Annotated[
        str,
        typer.Option("--input-format", help="jl42 (denoise), joints24 (complete), 2d (lift)."),
    ] = "jl42",
    run_dir: RunDir = Path("runs/smplr"),
    steps: Steps = 6000,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    seed: Seed = 0,
    device: Device = "cpu",
    pool_size: PoolSize = 100_000,
    checkpoint_every: CheckpointEvery = 250,
    fresh: Fresh = False,
    threads: Threads = None,
    female: Female = None,
    male: Male = None,
) -> None:
    """Train a DAE (L1 on JL) on synthetic ground truth plus noise models.

    Example: smplr train dae --input-format 2d --steps 4000 --run-dir runs/smplr
    """
    name = f"dae_{input_format}"
    if name not in RECIPE:
        raise ValueError(f"unknown input format '{input_format}': expected jl42, joints24 or 2d")
    recipe, env = _recipe(run_dir, device, seed, pool_size, female, male, 10.0, threads)
    run_stage(recipe, name, _settings(steps, batch_size, lr, seed, checkpoint_every), fresh, env)
    _report(recipe, name, env)


@app.command("shape")
def shape(
    no_landmarks: Annotated[
        bool,
        typer.Option(
            "--no-landmarks", help="Ablation: Ψ sees joint bones only (stage shape_nolm)."
        ),
    ] = False,
    run_dir: RunDir = Path("runs/smplr"),
    steps: Steps = 6000,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    seed: Seed = 0,
    device: Device = "cpu",
    pool_size: PoolSize = 100_000,
    checkpoint_every: CheckpointEvery = 250,
    fresh: Fresh = False,
    threads: Threads = None,
    female: Female = None,
    male: Male = None,
) -> None:
    """Train Ψ (bone-length offsets B -> 10 betas + gender) with L_β.

    Example: smplr train shape --steps 4000
    """
    name = "shape_nolm" if no_landmarks else "shape"
    recipe, env = _recipe(run_dir, device, seed, pool_size, female, male, 10.0, threads)
    run_stage(recipe, name, _settings(steps, batch_size, lr, seed, checkpoint_every), fresh, env)
    _report(recipe, name, env)


@app.command("pose")
def pose(
    run_dir: RunDir = Path("runs/smplr"),
    steps: Steps = 6000,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    seed: Seed = 0,
    device: Device = "cpu",
    pool_size: PoolSize = 100_000,
    checkpoint_every: CheckpointEvery = 250,
    fresh: Fresh = False,
    threads: Threads = None,
    female: Female = None,
    male: Male = None,
) -> None:
    """Train Ω (bone directions N -> 24 rotations) with L_R on rotation matrices.

    Example: smplr train pose --steps 6000
    """
    recipe, env = _recipe(run_dir, device, seed, pool_size, female, male, 10.0, threads)
    run_stage(recipe, "pose", _settings(steps, batch_size, lr, seed, checkpoint_every), fresh, env)
    _report(recipe, "pose", env)


@app.command("pose-smpl")
def pose_smpl(
    run_dir: RunDir = Path("runs/smplr"),
    steps: Steps = 3000,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    seed: Seed = 0,
    device: Device = "cpu",
    pool_size: PoolSize = 100_000,
    checkpoint_every: CheckpointEvery = 250,
    fresh: Fresh = False,
    threads: Threads = None,
    female: Female = None,
    male: Male = None,
    smpl_weight: SmplWeight = 10.0,
) -> None:
    """Fine-tune Ω and Ψ (from the pose and shape stages) with L_R + L_β + L_SMPL.

    Example: smplr train pose-smpl --steps 3000
    """
    recipe, env = _recipe(run_dir, device, seed, pool_size, female, male, smpl_weight, threads)
    settings = _settings(steps, batch_size, lr, seed, checkpoint_every)
    run_stage(recipe, "pose_smpl", settings, fresh, env)
    _report(recipe, "pose_smpl", env)


@app.command("all")
def train_all(
    run_dir: RunDir = Path("runs/smplr"),
    dae_steps: Annotated[int, typer.Option(help="Steps of each of the three DAEs.")] = 6000,
    shape_steps: Annotated[int, typer.Option(help="Steps of Ψ.")] = 6000,
    pose_steps: Annotated[int, typer.Option(help="Steps of Ω.")] = 6000,
    pose_smpl_steps: Annotated[int, typer.Option(help="Steps of Ω + Ψ with L_SMPL.")] = 3000,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    seed: Seed = 0,
    device: Device = "cpu",
    pool_size: PoolSize = 100_000,
    checkpoint_every: CheckpointEvery = 250,
    fresh: Fresh = False,
    threads: Threads = None,
    female: Female = None,
    male: Male = None,
    smpl_weight: SmplWeight = 10.0,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also copy the weight bundle here (e.g. for SMPLR.load)."),
    ] = None,
) -> None:
    """The whole recipe: the three DAEs, Ψ, Ω, Ω+Ψ with L_SMPL, then the weight bundle.

    Example: smplr train all --run-dir runs/smplr --dae-steps 4000 --out my_weights.pt
    """
    recipe, env = _recipe(run_dir, device, seed, pool_size, female, male, smpl_weight, threads)
    steps = {
        "dae_jl42": dae_steps,
        "dae_joints24": dae_steps,
        "dae_2d": dae_steps,
        "shape": shape_steps,
        "pose": pose_steps,
        "pose_smpl": pose_smpl_steps,
    }
    settings = {
        name: _settings(steps[name], batch_size, lr, seed, checkpoint_every) for name in RECIPE
    }
    path = run_all(recipe, settings, fresh, env)
    if env.is_main:
        typer.echo(f"wrote {path}")
        if out is not None:
            typer.echo(f"wrote {export_bundle(recipe, out)}")


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Weight bundle to write (.pt).")],
    run_dir: RunDir = Path("runs/smplr"),
    female: Female = None,
    male: Male = None,
    full_precision: Annotated[
        bool, typer.Option("--float32", help="Store float32 instead of float16.")
    ] = False,
) -> None:
    """Collect a run's finished stages into one weight bundle.

    Example: smplr train export --run-dir runs/smplr --out src/smplr/weights/smplr_open.pt
    """
    recipe, _ = _recipe(run_dir, "cpu", 0, 0, female, male, 10.0, None)
    typer.echo(f"wrote {export_bundle(recipe, out, half=not full_precision)}")
