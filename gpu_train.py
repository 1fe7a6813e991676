"""Train the whole SMPLR recipe on the pose-source mixture within a wall-clock budget.

    python gpu_train.py --out $OUT/run --minutes 8 --device cuda
    python gpu_train.py --out /tmp/run --minutes 1 --device cpu      # smoke test

1. draws the training pool from :class:`smplr.synthetic.mixture.MixtureBodies` (with
   the motion-capture train clips when ``real_mocap_poses.npz`` exists), sized to fit
   ``--pool-share`` of the budget;
2. times a few optimisation steps and one validation of every stage of the recipe;
3. runs the stages in ``RECIPE`` order with step counts that fit the time left
   (re-planned after every stage from the measured pace; each stage checkpoints, so a
   re-run with the same ``--run-dir`` resumes; on the device machine keep ``--run-dir``
   out of $OUT, the cached pool is large);
4. exports the weight bundle to ``OUT/smplr_weights.pt``, loads it with ``smplr.SMPLR``
   and prints the final validation numbers and the out-of-distribution table
   (:mod:`smplr.evaluation.ood_sets`, also written to ``OUT/ood_eval.json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import threading
import time
from pathlib import Path

import numpy as np
import torch

from smplr.body.model import GenderedBodyModel
from smplr.evaluation.ood_sets import evaluate_pose_sets, format_header, format_row
from smplr.pipeline import SMPLR
from smplr.synthetic.mixture import MixtureBodies
from smplr.synthetic.test_sets import TEST_SETS, load_mocap_poses
from smplr.training.data import default_corruption, minibatch
from smplr.training.loop import TrainSettings, finished_state
from smplr.training.recipe import BUNDLE_NAME, Recipe, export_bundle, run_stage
from smplr.training.stages import RECIPE, STAGES

# Share of the training time each stage gets (L_SMPL fine-tuning gains the most).
SHARES = {
    "dae_jl42": 0.12,
    "dae_joints24": 0.08,
    "dae_2d": 0.10,
    "shape": 0.12,
    "pose": 0.20,
    "pose_smpl": 0.38,
}
MAX_CHECKPOINTS = 6  # per stage, each with a validation and its curves.png
CHECKPOINT_EVERY_S = 20.0  # fewer checkpoints on short stages
CHECKPOINT_S = 1.0  # rough cost of writing one checkpoint with its plot
SAFETY = 0.9  # plan this share of the time left (timing noise)


def log(start: float, message: str) -> None:
    print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_stage(recipe: Recipe, name: str, pool, val, batch_size: int, steps: int = 8):
    """Seconds per optimisation step and per validation of stage ``name`` (fresh networks)."""
    stage, ctx, device = STAGES[name], recipe.context(), recipe.device
    nets = {k: v.to(device) for k, v in stage.build(ctx).items()}
    params = [p for net in nets.values() for p in net.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
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
    per_step = (time.perf_counter() - started) / steps
    for net in nets.values():
        net.eval()
    started = time.perf_counter()
    with torch.no_grad():
        stage.validate(nets, val, ctx, torch.Generator(device=device).manual_seed(1))
    sync(device)
    return per_step, time.perf_counter() - started


class CurveWatcher:
    """Prints a stage's newest curves.csv row whenever a checkpoint writes one."""

    def __init__(self, folder: Path, start: float, every: float = 15.0) -> None:
        self.path, self.start, self.every = folder / "curves.csv", start, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CurveWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        seen = 0.0
        while not self._stop.wait(self.every):
            try:
                mtime = self.path.stat().st_mtime
                if mtime == seen:
                    continue
                seen = mtime
                with self.path.open() as handle:
                    rows = list(csv.DictReader(handle))
            except (OSError, csv.Error):
                continue
            if rows:
                last = rows[-1]
                cells = " ".join(f"{k}={last[k]}" for k in last if last[k] and k != "lr")
                log(self.start, f"  {self.path.parent.name}: {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="bundle and OOD table")
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="pool and checkpoints (default: --out)"
    )
    parser.add_argument("--minutes", type=float, required=True, help="wall-clock budget")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--pool-size", type=int, default=1_000_000, help="upper bound")
    parser.add_argument("--pool-share", type=float, default=0.12, help="budget for the pool")
    parser.add_argument("--batch-size", type=int, default=None, help="cuda 1024, cpu 256")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-num", type=int, default=300, help="bodies per OOD set (0: skip)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-mocap", action="store_true", help="leave motion capture out")
    args = parser.parse_args()
    start = time.perf_counter()
    deadline = start + 60 * args.minutes
    if args.minutes <= 0 or args.pool_size < 1024:
        parser.error("--minutes must be > 0 and --pool-size >= 1024")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    batch_size = args.batch_size or (1024 if device.type == "cuda" else 256)
    args.out.mkdir(parents=True, exist_ok=True)
    run_dir = args.run_dir or args.out

    body = GenderedBodyModel.open().float().to(device)
    mocap = None if args.no_mocap else load_mocap_poses("train")
    log(start, f"device {device}; motion capture: {len(mocap) if mocap else 'none'} train poses")

    def sampler(seed: int) -> MixtureBodies:
        return MixtureBodies(body, seed, device, mocap=mocap, block_size=16_384)

    cached = run_dir / "pool.npz"
    if cached.is_file():  # a re-run resumes: the stages' checkpoints record the pool size
        with np.load(cached, allow_pickle=False) as data:
            pool_size = int(str(data["key_size"]))
        log(start, f"resuming with the cached pool of {pool_size:,} bodies")
    else:  # what the measured drawing pace allows within --pool-share of the budget
        probe = sampler(args.seed + 77)
        probe.sample(1024)  # warm-up
        sync(device)
        t = time.perf_counter()
        probe.sample(16_384)
        sync(device)
        rate = 16_384 / (time.perf_counter() - t)
        budget = rate * args.pool_share * 60 * args.minutes
        pool_size = int(min(args.pool_size, max(4096, budget)))
        pool_size -= pool_size % 1024
        log(start, f"drawing pace {rate:,.0f} bodies/s -> pool of {pool_size:,} bodies")
    recipe = Recipe(
        body=body,
        body_name="open",
        sampler=sampler,
        corruption=default_corruption(),
        run_dir=run_dir,
        pool_size=pool_size,
        seed=args.seed,
        device=device,
    )
    pool, val = recipe.data()
    log(start, f"pool {len(pool):,} + validation {len(val):,} bodies ready")

    pace = {
        name: time_stage(recipe, name, pool, val, batch_size) for name in RECIPE
    }  # (s/step, s/validation)
    for name, (per_step, per_val) in pace.items():
        log(start, f"timed {name}: {1000 * per_step:.1f} ms/step, {per_val:.2f} s/validation")

    # Export, loading and the final table (about 0.02 s per body and set on one CPU thread).
    reserve = min(0.25 * 60 * args.minutes, 10.0 + 0.02 * args.eval_num * len(TEST_SETS))
    for i, name in enumerate(RECIPE):
        left = deadline - time.perf_counter() - reserve
        share = SHARES[name] / sum(SHARES[n] for n in RECIPE[i:])
        per_step, per_val = pace[name]
        stage_time = SAFETY * left * share
        checkpoints = min(MAX_CHECKPOINTS, max(1, int(stage_time / CHECKPOINT_EVERY_S)))
        budget = stage_time - checkpoints * (per_val + CHECKPOINT_S)
        steps = max(10, int(budget / per_step))
        every = -(-steps // checkpoints)
        settings = TrainSettings(
            steps=steps,
            batch_size=batch_size,
            lr=args.lr,
            seed=args.seed,
            checkpoint_every=every,
            val_every=every,
            log_every=max(1, min(50, every)),
        )
        log(start, f"{name}: {steps} steps of {batch_size} (planned {budget:.0f} s)")
        started = time.perf_counter()
        with CurveWatcher(run_dir / name, start):
            run_stage(recipe, name, settings, show_progress=False, data=(pool, val))
        took = time.perf_counter() - started
        state = finished_state(run_dir, name)
        final = {k: round(v, 2) for k, v in state["curves"][-1].items() if k.startswith("val_")}
        log(start, f"{name}: done in {took:.0f} s; {final}")

    path = export_bundle(recipe, args.out / BUNDLE_NAME)  # written whole (atomic save)
    model = SMPLR.load(path, str(device))
    log(start, f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); loads with smplr.SMPLR")
    meta = torch.load(path, weights_only=True)["meta"]["stages"]
    for name, info in meta.items():
        log(start, f"final {name}: {info['steps']} steps, {info['final']}")
    if args.eval_num:
        print(format_header(), flush=True)
        rows = []
        for row in evaluate_pose_sets(model, TEST_SETS, args.eval_num):
            rows.append(row)
            print(format_row(row), flush=True)
        tmp = args.out / "ood_eval.json.tmp"
        tmp.write_text(json.dumps(rows, indent=1))
        tmp.replace(args.out / "ood_eval.json")
    log(start, f"finished; budget was {60 * args.minutes:.0f} s")


if __name__ == "__main__":
    main()
