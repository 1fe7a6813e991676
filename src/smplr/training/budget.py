"""Training the whole recipe within a wall-clock budget (``smplr train all --minutes M``).

1. :func:`plan_pool_size`: the training pool is as large as drawing it within
   :data:`POOL_SHARE` of the budget allows (measured drawing pace), capped by the
   recipe's ``pool_size``; a re-run reuses the size of the pool cached in the run folder;
2. :func:`time_stage`: a few optimisation steps and one validation of every stage, on
   fresh networks, give each stage's pace;
3. :func:`train_within`: before each stage of :data:`~smplr.training.stages.RECIPE`,
   :func:`plan_stage` gives it its share (:data:`SHARES`, among the stages still to run)
   of the time left, less the time of its checkpoints and validations; so the plan
   follows the measured pace.  Every stage checkpoints, so a re-run with the same run
   folder resumes; then the weight bundle is exported.

The pool and the validation bodies stay on the training device.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from smplr.training.data import PoolBatch, minibatch, pool_key
from smplr.training.loop import DistributedEnv, TrainSettings, finished_state
from smplr.training.recipe import (
    BUNDLE_NAME,
    Recipe,
    export_bundle,
    run_stage,
    stages_to_train,
)
from smplr.training.stages import STAGES

SHARES: dict[str, float] = {
    "dae_jl42": 0.12,
    "dae_joints24": 0.08,
    "dae_2d": 0.10,
    "dae_keypoints": 0.10,
    "shape": 0.12,
    "pose": 0.18,
    "pose_smpl": 0.30,  # fine-tuning with L_SMPL gains the most
}
"""Share of the training time of each stage of the recipe."""

POOL_SHARE = 0.12  # of the budget, for drawing the pool
MIN_POOL = 4096  # bodies, unless the recipe's pool_size is smaller
PROBE = 16_384  # bodies drawn to measure the drawing pace
MAX_CHECKPOINTS = 6  # per stage, each with a validation and its curves.png
CHECKPOINT_EVERY_S = 20.0  # fewer checkpoints on short stages
CHECKPOINT_S = 1.0  # rough cost of writing one checkpoint with its plot
SAFETY = 0.9  # plan this share of the time left (timing noise)
MIN_STEPS = 10


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (so that wall-clock times mean something)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plan_pool_size(recipe: Recipe, seconds: float, log: Callable[[str], None] = print) -> int:
    """Bodies of the training pool: the cached pool's size, else what the measured drawing
    pace gives in ``seconds`` (at least :data:`MIN_POOL`, at most ``recipe.pool_size``,
    a multiple of 1024 when above it)."""
    stored = pool_key(recipe.pool_path)
    if stored is not None and "size" in stored:
        log(f"resuming with the cached pool of {int(stored['size']):,} bodies")
        return int(stored["size"])
    if recipe.pool_size <= MIN_POOL:
        return recipe.pool_size
    probe = min(PROBE, recipe.pool_size)
    sampler = recipe.sampler(recipe.seed + 77)
    sampler.sample(min(1024, probe))  # warm-up
    sync(recipe.device)
    started = time.perf_counter()
    sampler.sample(probe)
    sync(recipe.device)
    rate = probe / (time.perf_counter() - started)
    size = int(min(recipe.pool_size, max(MIN_POOL, rate * seconds)))
    size -= size % 1024
    log(f"drawing pace {rate:,.0f} bodies/s -> pool of {size:,} bodies")
    return size


def reserve_s(seconds: float, table_bodies: int) -> float:
    """Seconds of a ``seconds`` budget kept for the export, loading and a final table of
    ``table_bodies`` bodies (about 0.02 s each on one CPU thread): at most a quarter."""
    return min(0.25 * seconds, 10.0 + 0.02 * table_bodies)


@dataclass(frozen=True)
class Pace:
    """Seconds per optimisation step and per validation of one stage."""

    step_s: float
    validation_s: float


def time_stage(
    recipe: Recipe, name: str, pool: PoolBatch, val: PoolBatch, batch_size: int, steps: int = 8
) -> Pace:
    """The pace of stage ``name`` on fresh networks (after one warm-up step)."""
    stage, ctx, device = STAGES[name], recipe.context(), recipe.device
    nets = {k: v.to(device) for k, v in stage.build(ctx).items()}
    optimizer = torch.optim.Adam([p for net in nets.values() for p in net.parameters()], lr=1e-3)
    rng = torch.Generator(device=device).manual_seed(0)

    def step() -> None:
        loss, _ = stage.loss(nets, minibatch(pool, batch_size, rng), ctx, rng)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for net in nets.values():
        net.train()
    step()  # warm-up (kernels, allocator)
    sync(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    step_s = (time.perf_counter() - started) / steps
    for net in nets.values():
        net.eval()
    started = time.perf_counter()
    with torch.no_grad():
        stage.validate(nets, val, ctx, torch.Generator(device=device).manual_seed(1))
    sync(device)
    return Pace(step_s, time.perf_counter() - started)


def plan_stage(
    name: str, remaining: Sequence[str], seconds: float, pace: Pace, base: TrainSettings
) -> TrainSettings:
    """``base`` with the steps and checkpoint spacing that fit stage ``name`` (one of the
    ``remaining`` stages) into its share of ``seconds`` left (at least :data:`MIN_STEPS`)."""
    share = SHARES[name] / sum(SHARES[n] for n in remaining)
    stage_s = SAFETY * seconds * share
    checkpoints = min(MAX_CHECKPOINTS, max(1, int(stage_s / CHECKPOINT_EVERY_S)))
    training_s = stage_s - checkpoints * (pace.validation_s + CHECKPOINT_S)
    steps = max(MIN_STEPS, int(training_s / pace.step_s))
    every = -(-steps // checkpoints)
    return replace(
        base, steps=steps, checkpoint_every=every, val_every=every, log_every=max(1, min(50, every))
    )


def train_within(
    recipe: Recipe,
    deadline: float,
    base: TrainSettings,
    fresh: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Every stage of the recipe, each planned to end by ``deadline`` (a
    :func:`time.perf_counter` time), then the bundle in the run folder; returns its path.
    One process only (the plan follows this process's clock)."""
    pool, val = recipe.data()
    log(f"pool {len(pool):,} + validation {len(val):,} bodies ready on {recipe.device}")
    stages = stages_to_train(recipe)
    pace = {name: time_stage(recipe, name, pool, val, base.batch_size) for name in stages}
    for name, p in pace.items():
        log(f"timed {name}: {1000 * p.step_s:.1f} ms/step, {p.validation_s:.2f} s/validation")
    for i, name in enumerate(stages):
        seconds = deadline - time.perf_counter()
        settings = plan_stage(name, stages[i:], seconds, pace[name], base)
        log(f"{name}: {settings.steps} steps of {settings.batch_size} ({seconds:.0f} s left)")
        started = time.perf_counter()
        run_stage(recipe, name, settings, fresh, DistributedEnv(), False, (pool, val))
        curves = finished_state(recipe.run_dir, name)["curves"]
        final = {k: round(v, 2) for k, v in curves[-1].items() if k.startswith("val_")}
        log(f"{name}: done in {time.perf_counter() - started:.0f} s; {final}")
    return export_bundle(recipe, recipe.run_dir / BUNDLE_NAME)
