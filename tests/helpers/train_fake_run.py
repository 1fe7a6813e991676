"""A tiny training run on the fake body model, as a script: the kill-and-resume and the
torchrun (DDP) tests launch it in subprocesses.

    python tests/helpers/train_fake_run.py RUN_DIR STAGE STEPS [--slow SECONDS_PER_STEP]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/, for ``helpers``

from helpers.bundles import TINY_SIZES
from helpers.fakes import FakeSampler, fake_corruption, fake_gendered
from smplr.training.loop import TrainSettings, init_distributed
from smplr.training.recipe import Recipe, run_stage
from smplr.training.stages import STAGES


def tiny_recipe(run_dir: Path, device: torch.device | str = "cpu") -> Recipe:
    body = fake_gendered()
    return Recipe(
        body=body,
        body_name="fake",
        sampler=lambda seed: FakeSampler(body, seed),
        corruption=fake_corruption(),
        run_dir=Path(run_dir),
        pool_size=512,
        val_size=64,
        sizes=TINY_SIZES,
        device=torch.device(device),
    )


def tiny_settings(steps: int) -> TrainSettings:
    return TrainSettings(steps=steps, batch_size=32, checkpoint_every=4, val_every=4, log_every=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("stage")
    parser.add_argument("steps", type=int)
    parser.add_argument("--slow", type=float, default=0.0, help="sleep this long in every step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env, device = init_distributed("cpu")
    if args.slow:
        stage = STAGES[args.stage]
        loss = stage.loss

        def slow_loss(*a, **k):
            time.sleep(args.slow)
            return loss(*a, **k)

        stage.loss = slow_loss
    run_stage(
        tiny_recipe(args.run_dir, device),
        args.stage,
        tiny_settings(args.steps),
        env=env,
        show_progress=False,
    )
    if env.world_size > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
