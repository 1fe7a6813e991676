"""``smplr evaluate``: the paper's metrics and tables for a method on a dataset split."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import torch
import typer

from smplr.cli.options import Device, Weights, batch_size_option
from smplr.cli.outputs import Outputs
from smplr.datasets.ground_truth import GroundTruthBodies
from smplr.evaluation.predictor import FitPredictor, PrecomputedPredictions, Predictor

DATASETS = ("synthetic", "surreal", "h36m", "up3d")
MODELS = ("smplr",)


def _ground_truth_bodies(choice: str) -> GroundTruthBodies | None:
    if choice == "none":
        return None
    if choice == "open":
        return GroundTruthBodies.open_models()
    return GroundTruthBodies.from_directory(choice)


def _model_predictor(name: str, weights: Path | None, device: str) -> Predictor:
    """The predictor behind ``--model``: SMPLR fed ground-truth JL (paper: SMPLR rows)."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}': expected one of {', '.join(MODELS)}")
    from smplr.pipeline import SMPLR

    model = SMPLR.pretrained(device) if weights is None else SMPLR.load(weights, device=device)
    return FitPredictor(model, name="SMPLR", faces=model.body.faces.cpu().numpy())


def _samples(dataset: str, root: Path | None, split: str, options: dict, gt_body: str):
    """The dataset's samples and the ground-truth bodies to use with them."""
    if dataset == "synthetic":
        from smplr.body.model import GenderedBodyModel
        from smplr.datasets.synthetic import SyntheticSet

        if gt_body in ("none", "open"):
            body = GenderedBodyModel.open()
        else:
            found = GroundTruthBodies.from_directory(gt_body).models
            if not {"female", "male"} <= set(found):
                raise ValueError(f"{gt_body}: the synthetic set needs female and male SMPL files")
            body = GenderedBodyModel(found["female"], found["male"])
        seed = {} if options["seed"] is None else {"seed": options["seed"]}
        synthetic = SyntheticSet(body, num=options["num"], split=split, **seed)
        return synthetic, synthetic.ground_truth_bodies()
    from smplr.datasets import open_dataset

    if root is None:
        raise ValueError(f"--root is required for the {dataset} dataset")
    kwargs: dict = {}
    if dataset == "surreal":
        kwargs["min_displacement"] = options["min_displacement"]
    elif dataset == "h36m":
        kwargs["every"] = options["every"]
        kwargs["cameras"] = options["h36m_cameras"]
    bodies = _ground_truth_bodies(gt_body)
    if dataset == "up3d" and bodies is None:
        raise ValueError(
            "UP-3D has no 3D joint annotation: pass --gt-body open or --gt-body SMPL_DIR to pose its SMPL fits"
        )
    return open_dataset(dataset, root, split, **kwargs), bodies


Plots = Annotated[
    Path | None, typer.Option("--plots", help="Write per-joint and distribution PNGs here.")
]

app = typer.Typer(
    name="evaluate",
    invoke_without_command=True,
    no_args_is_help=False,
    help="Score a method on a benchmark (the paper's Tables 1-4); `smplr evaluate images`: "
    "an image model on rendered test crops.",
)


@app.callback()
def evaluate(
    ctx: typer.Context,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", "-d", help=f"Benchmark: {', '.join(DATASETS)} (required)."),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            "-r",
            help="Dataset folder (SURREAL's data/cmu, UP-3D's up-3d, Human3.6M files).",
        ),
    ] = None,
    split: Annotated[
        str, typer.Option("--split", "-s", help="Split to evaluate (test, val, train).")
    ] = "test",
    predictions: Annotated[
        Path | None,
        typer.Option(
            "--predictions",
            "-p",
            help="Saved predictions (.npz: keys, joints (N,24,3) metres [, landmarks, vertices, faces, gender, masks]).",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Run a model instead: smplr.")
    ] = None,
    weights: Weights = None,
    name: Annotated[str | None, typer.Option("--name", help="Method name in the tables.")] = None,
    gt_body: Annotated[
        str,
        typer.Option(
            "--gt-body",
            help="Body model for ground-truth landmarks/vertices: 'none' (joints only), 'open' (not SMPL: "
            "surface numbers not comparable to published ones) or a folder with official SMPL files.",
        ),
    ] = "none",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the summary as JSON here.")
    ] = None,
    plots: Plots = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Evaluate only the first N samples (models only).")
    ] = None,
    batch_size: Annotated[int, batch_size_option("Samples per batch.")] = 64,
    min_displacement: Annotated[
        float,
        typer.Option(
            "--min-displacement", help="SURREAL: skip frames moving less than this (m; paper 0.05)."
        ),
    ] = 0.05,
    every: Annotated[
        int, typer.Option("--every", help="Human3.6M (VideoPose3D layout): keep 1 frame in N.")
    ] = 5,
    h36m_cameras: Annotated[
        Path | None,
        typer.Option("--h36m-cameras", help="Human3.6M camera JSON (see smplr.datasets.human36m)."),
    ] = None,
    num: Annotated[int, typer.Option("--num", help="Synthetic: number of held-out bodies.")] = 2000,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="Synthetic: seed of the held-out set (default: the held-out set's own)."
        ),
    ] = None,
    device: Device = "cpu",
    iou: Annotated[
        bool,
        typer.Option(
            "--iou/--no-iou",
            help="Silhouette IoU (Table 4): render each predicted mesh with the sample's camera "
            "(smplr.render) and compare it with the dataset's mask (SURREAL segm, UP-3D "
            "render_light.png, the synthetic set's rendered ground truth). Needs predicted "
            "vertices and faces, or masks in the predictions file.",
        ),
    ] = True,
) -> None:
    """Score a method on a benchmark with the paper's protocols and print Tables 1-4.

    Protocol 1 is root-relative (pelvis); Protocol 2 follows a similarity Procrustes alignment to the ground truth. The report states the joints, coordinate frame and ground-truth body used.

    Table 4 (silhouette IoU) appears where the samples have a camera and a ground-truth mask and the method gives meshes (or masks): the predicted mesh is rendered with the sample's camera. The synthetic set (-d synthetic) has both: each body is seen by a random camera through the paper's 2.5 m crop at 256x256 pixels.

    The method is either saved predictions (--predictions, matched to the samples by key; the counts must match exactly) or a model (--model).

    Examples:

    smplr evaluate -d surreal -r SURREAL/data/cmu -p mine.npz --json out.json --plots figs

    smplr evaluate -d up3d -r up-3d --gt-body ~/smpl -p mine.npz

    smplr evaluate -d synthetic --model smplr --num 500

    smplr evaluate images --image-model runs/image/image_shn/image_model.pt --data out/images_test
    """
    if ctx.invoked_subcommand is not None:
        return
    if dataset is None:
        raise ValueError("give --dataset (or use `smplr evaluate images`)")
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset '{dataset}': expected one of {', '.join(DATASETS)}")
    if (predictions is None) == (model is None):
        raise ValueError("give exactly one of --predictions FILE.npz or --model NAME")
    from smplr.evaluation.plots import write_plots
    from smplr.evaluation.run import evaluate as run_evaluation
    from smplr.evaluation.tables import format_report, write_json

    predictor: Predictor
    if predictions is not None:
        predictor = PrecomputedPredictions(predictions, name=name)
    else:
        predictor = _model_predictor(model, weights, device)  # type: ignore[arg-type]
        if name:
            predictor.name = name
    samples, bodies = _samples(
        dataset,
        root,
        split,
        {
            "num": num,
            "seed": seed,
            "min_displacement": min_displacement,
            "every": every,
            "h36m_cameras": h36m_cameras,
        },
        gt_body,
    )
    renderer = None
    if iou:
        from smplr.render import render_camera_silhouettes

        renderer = render_camera_silhouettes
    result = run_evaluation(
        samples,
        predictor,
        bodies=bodies,
        renderer=renderer,
        batch_size=batch_size,
        limit=limit,
        progress=True,
    )
    summary = result.summary()
    typer.echo(format_report([summary]))
    outputs = Outputs()
    with outputs.writing():  # plots first, the JSON summary last; a failure removes both
        written = write_plots(result, plots) if plots is not None else []
        outputs.record(written)
        if json_out is not None:
            written.append(write_json([summary], json_out))
    for path in written:
        typer.echo(f"wrote {path}")


IMAGE_METHODS = ("points", "dae", "image-dae", "no-dae", "baselines")


def load_image_model(path: Path, device: str = "cpu") -> tuple[Any, dict, Any]:
    """An image model from a weights file (``smplr.weights.load_image_weights``) or a
    training checkpoint of ``smplr train image`` (its config from the checkpoint's
    record), what is known of it (stage, step) and its own DAE (DAE_SHN, ``None`` when
    the file holds none).  The checkpoint is copied first, so
    reading one that a running training writes never touches its folder."""
    from smplr.image_model import ImageModelConfig, build_image_model
    from smplr.training.checkpoint import load_checkpoint
    from smplr.weights import load_image_weights

    if not path.is_file():
        raise FileNotFoundError(f"{path}: image model file not found")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / path.name
        shutil.copyfile(path, copy)
        try:
            state = load_checkpoint(copy)
        except ValueError:
            state = None
        dae = None
        if state is None:
            weights = load_image_weights(copy)
            config, networks, meta = weights.config, weights.state, dict(weights.meta)
            dae = None if weights.dae is None else weights.dae.build().to(device)
        else:
            record = state.get("record", {})
            if "image_config" not in record or "image" not in state["networks"]:
                raise ValueError(f"{path}: a checkpoint, but not one of `smplr train image`")
            config = ImageModelConfig.from_dict(record["image_config"])
            networks = state["networks"]["image"]
            meta = {"stage": state["stage"], "steps": int(state["step"]), "record": record}
    model = build_image_model(config)
    model.load_state_dict(networks)
    return (
        model.to(device).eval(),
        {"path": str(path), "config": config.to_dict(), **meta},
        dae,
    )


def _training_jl3d(folder: Path, num: int) -> Any:
    """``(n, 42, 3)`` camera-frame JL of the first ``num`` crops of a shard folder."""
    import numpy as np

    from smplr.image_data.dataset import ImageShards

    shards = ImageShards(folder)
    return np.stack([shards.record(i)["jl3d"] for i in range(min(num, len(shards)))])


@app.command("images")
def images(
    image_model: Annotated[
        Path,
        typer.Option(
            "--image-model",
            help="Image weights (image_model.pt of `smplr train image`) or its checkpoint.pt.",
        ),
    ],
    data: Annotated[
        Path,
        typer.Option("--data", help="Test crops: a folder of `smplr data synth --split test`."),
    ],
    num: Annotated[int, typer.Option("--num", min=1, help="Evaluate the first NUM crops.")] = 500,
    methods: Annotated[
        str,
        typer.Option(
            "--methods",
            help="Comma-separated: points (the image model alone), dae (points -> SMPLR's "
            "noise-trained DAE -> SMPLR), image-dae (points -> the image model's own DAE, "
            "DAE_SHN of `smplr train image-dae`, -> SMPLR; skipped when its file holds "
            "none), no-dae (points -> SMPLR), baselines (mean training JL; mean-shape "
            "rest-pose body).",
        ),
    ] = ",".join(IMAGE_METHODS),
    baseline_data: Annotated[
        Path | None,
        typer.Option(
            "--baseline-data",
            help="Training crops whose mean JL defines the baselines (needed for 'baselines').",
        ),
    ] = None,
    baseline_num: Annotated[
        int, typer.Option("--baseline-num", min=1, help="Training crops averaged.")
    ] = 2000,
    weights: Weights = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Image model's name in the tables.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write every method's summary as JSON here.")
    ] = None,
    plots: Plots = None,
    batch_size: Annotated[int, batch_size_option("Crops per batch.")] = 32,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="CPU threads for torch.")
    ] = None,
    refine: Annotated[
        int,
        typer.Option(
            "--refine",
            min=0,
            help="Also score points -> DAE -> SMPLR -> REFINE steps of the refinement with "
            "priors fitting the body to the (denoised) points, as `smplr predict --refine`: "
            "with the image model's own DAE when it has one and image-dae is chosen, else "
            "SMPLR's; 0: not scored.",
        ),
    ] = 0,
    iou: Annotated[
        bool,
        typer.Option(
            "--iou/--no-iou",
            help="Silhouette IoU: the predicted mesh rendered with the crop's K at the true "
            "root against the stored silhouette.",
        ),
    ] = True,
    device: Device = "cpu",
) -> None:
    """An image model on rendered test crops: (a) its points alone, (b) points -> DAE ->
    SMPLR body, with SMPLR's noise-trained DAE and with the image model's own DAE_SHN
    when its file holds one (with --refine N, also refined N steps), (c) points -> SMPLR
    without a DAE, (d) trivial baselines; Protocol 1
    and 2 joint errors, landmarks, surface against the true mesh (open body model),
    silhouette IoU and gender accuracy, next to the paper's SURREAL rows.

    Every method's body is put with its root on the true root (the model predicts
    root-relative points); the ground truth is the crop's SMPL parameters posed by the
    open body model of its gender.

    Example: smplr evaluate images --image-model runs/image/image_shn/image_model.pt
    --data out/images_test --baseline-data out/images --json eval.json --plots figs
    """
    from smplr.evaluation import images as image_eval
    from smplr.evaluation.plots import write_plots
    from smplr.evaluation.run import evaluate as run_evaluation
    from smplr.evaluation.tables import format_report, write_json
    from smplr.image_data.dataset import ImageShards

    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(IMAGE_METHODS))
    if unknown or not chosen:
        raise ValueError(
            f"unknown --methods {unknown}: expected some of {', '.join(IMAGE_METHODS)}"
        )
    if "baselines" in chosen and baseline_data is None:
        raise ValueError("the baselines need --baseline-data (training crops for the mean JL)")
    if threads is not None:
        torch.set_num_threads(threads)
    model, meta, reading_dae = load_image_model(image_model, device)
    points = image_eval.ImagePointsPredictor(model, name or meta.get("stage", image_model.stem))
    predictors: list[Predictor] = []
    if "points" in chosen:
        predictors.append(points)
    own_dae = reading_dae if "image-dae" in chosen else None
    if refine and "dae" not in chosen and own_dae is None:
        raise ValueError(
            "--refine scores a refined 'dae' or 'image-dae' row: keep one in --methods"
        )
    if {"dae", "image-dae", "no-dae"} & set(chosen):
        from smplr.pipeline import SMPLR

        smplr = SMPLR.pretrained(device) if weights is None else SMPLR.load(weights, device=device)
    if "dae" in chosen:
        predictors.append(image_eval.ImageBodyPredictor(points, smplr, use_dae=True))
    if own_dae is not None:
        predictors.append(image_eval.ImageBodyPredictor(points, smplr, reading_dae=own_dae))
    if refine:
        predictors.append(
            image_eval.ImageBodyPredictor(points, smplr, refine=refine, reading_dae=own_dae)
        )
    if "no-dae" in chosen and model.config.landmarks:
        predictors.append(image_eval.ImageBodyPredictor(points, smplr, use_dae=False))
    if "baselines" in chosen:
        assert baseline_data is not None
        train_jl = _training_jl3d(baseline_data, baseline_num)
        predictors.append(image_eval.mean_jl_baseline(train_jl))
        from smplr.body.model import BodyModel

        neutral = BodyModel.open("neutral", dtype=torch.float64)
        predictors.append(image_eval.mean_body_baseline(train_jl, neutral))
    shards = ImageShards(data)
    samples = [
        image_eval.image_sample(shards.record(i), f"{i:07d}") for i in range(min(num, len(shards)))
    ]
    bodies = GroundTruthBodies.open_models()
    renderer = None
    if iou:
        from smplr.render import render_camera_silhouettes

        renderer = render_camera_silhouettes
    summaries, results = [], []
    for predictor in predictors:
        result = run_evaluation(
            samples,
            predictor,
            bodies=bodies,
            renderer=renderer,
            batch_size=batch_size,
            progress=True,
        )
        results.append(result)
        summaries.append({**result.summary(), "image_model": meta})
    typer.echo(format_report(summaries))
    typer.echo("")
    typer.echo(image_eval.compact_table(summaries))
    outputs = Outputs()
    with outputs.writing():
        written = []
        if plots is not None:
            for result in results:
                written.extend(write_plots(result, plots))
        outputs.record(written)
        if json_out is not None:
            written.append(write_json(summaries, json_out))
    for path in written:
        typer.echo(f"wrote {path}")
