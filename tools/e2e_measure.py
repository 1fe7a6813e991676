"""Measure end-to-end training against the image model alone (issue 14, paper 4.5).

Two commands:

``shn-alone``: continue an image model from the same start as ``smplr train e2e`` for as
many steps, with its own loss only (the image stage of ``smplr train image``, Adam started
afresh at the same learning rate) — the control the paper ran ("SHN alone for more than
10 additional epochs").

``evaluate``: an image model (and optionally a fine-tuned SMPLR bundle) on the first
``--limit`` samples of a ``smplr data synth`` folder: the image model's joint error and
the body's through DAE, Ω, Ψ (:func:`smplr.training.end_to_end.evaluate`); one JSON line.

Example::

    python tools/e2e_measure.py shn-alone --start runs/e2e_start/checkpoint.pt \\
        --data data/img128 --val-data data/img128_test --run-dir runs/e2e --steps 200
    python tools/e2e_measure.py evaluate --image runs/e2e/e2e_frozen/image_model.pt \\
        --data data/img128_test --limit 500
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from smplr.body.model import GenderedBodyModel
from smplr.image_model import build_image_model
from smplr.training.end_to_end import (
    end_to_end_batches,
    end_to_end_context,
    evaluate,
    start_image_weights,
)
from smplr.training.image import ImageBatches, ImageContext, ImageStage, load_samples
from smplr.training.loop import TrainSettings, train_stage
from smplr.weights import ImageModelWeights, load_bundle, save_image_weights, shipped_path

STAGE = "image_shn_alone"


def shn_alone(args: argparse.Namespace) -> None:
    start = start_image_weights(args.start)
    ctx = ImageContext(start.config, args.coordinate_weight, val_size=args.val_size)
    settings = TrainSettings(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        checkpoint_every=args.checkpoint_every,
        val_every=args.checkpoint_every,
        log_every=min(20, args.checkpoint_every),
    )
    states = train_stage(
        ImageStage(STAGE),
        ctx,
        ImageBatches(load_samples(args.data, augment=args.augment), start.config),
        ImageBatches(load_samples(args.val_data), start.config),
        args.run_dir,
        settings,
        init={"image": start.state},
        record={"image_config": start.config.to_dict(), "start": str(args.start)},
    )
    path = Path(args.run_dir) / STAGE / "image_model.pt"
    meta = {"stage": STAGE, "steps": args.steps, "start": str(args.start)}
    print(
        f"wrote {save_image_weights(ImageModelWeights(start.config, states['image'], meta), path)}"
    )


def evaluate_command(args: argparse.Namespace) -> None:
    start = start_image_weights(args.image)
    model = build_image_model(start.config).eval()
    model.load_state_dict(start.state)
    bundle = load_bundle(args.bundle or shipped_path())
    ctx = end_to_end_context(start.config, bundle, GenderedBodyModel.open(), "frozen")
    batches = end_to_end_batches(load_samples(args.data), start.config)
    numbers = evaluate({"image": model}, batches, ctx, args.limit)
    print(json.dumps({"image": str(args.image), "limit": args.limit, **numbers}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    alone = sub.add_parser("shn-alone", help="continue the image model on its own loss")
    alone.add_argument("--start", type=Path, required=True)
    alone.add_argument("--data", type=Path, required=True)
    alone.add_argument("--val-data", type=Path, required=True)
    alone.add_argument("--run-dir", type=Path, required=True)
    alone.add_argument("--steps", type=int, required=True)
    alone.add_argument("--batch-size", type=int, default=16)
    alone.add_argument("--lr", type=float, default=1e-4)
    alone.add_argument("--coordinate-weight", type=float, default=10.0)
    alone.add_argument("--checkpoint-every", type=int, default=100)
    alone.add_argument("--val-size", type=int, default=32)
    alone.add_argument("--no-augment", dest="augment", action="store_false")
    alone.set_defaults(run=shn_alone)
    ev = sub.add_parser("evaluate", help="errors of an image model through DAE + SMPLR")
    ev.add_argument("--image", type=Path, required=True)
    ev.add_argument("--bundle", type=Path, default=None, help="default: the shipped bundle")
    ev.add_argument("--data", type=Path, required=True)
    ev.add_argument("--limit", type=int, default=500)
    ev.set_defaults(run=evaluate_command)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.run(args)


if __name__ == "__main__":
    main()
