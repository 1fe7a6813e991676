"""The training loop shared by every stage: Adam, checkpoints, resume, curves, DDP.

One process trains on CPU or one GPU.  Under ``torchrun --nproc-per-node K`` each process
trains a data-parallel replica (PyTorch DDP; gloo on CPU, NCCL on GPUs), draws its own
minibatches (seed + rank) and rank 0 alone writes checkpoints and curves.

Resume: a stage folder's ``checkpoint.pt`` holds the networks, Adam's state, the step and
every random generator's state, so re-running the same command after a kill continues
exactly where the last checkpoint left off (and gives the same weights as a run that was
never interrupted).  Raising ``--steps`` later continues a finished stage.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from torch import nn

from smplr.training.checkpoint import load_checkpoint, save_checkpoint
from smplr.training.curves import plot_curves, write_csv
from smplr.training.data import Batches
from smplr.training.stages import Stage

ContextT = TypeVar("ContextT")
BatchT = TypeVar("BatchT")

VAL_SEED = 4321  # the validation inputs are the same at every validation


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings of one stage (paper 4.1: Adam, lr 1e-3, batch 256).

    The learning rate stays at ``lr`` for the first ``decay_from`` fraction of the steps,
    then follows a cosine down to ``lr * final_lr_fraction`` (not in the paper; it buys
    a lot on short CPU runs).
    """

    steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    decay_from: float = 0.6
    final_lr_fraction: float = 0.02
    seed: int = 0
    checkpoint_every: int = 200
    val_every: int = 200
    log_every: int = 20

    def lr_at(self, step: int) -> float:
        start = int(self.decay_from * self.steps)
        if step < start or self.steps <= start:
            return self.lr
        progress = (step - start) / (self.steps - start)
        floor = self.lr * self.final_lr_fraction
        return floor + 0.5 * (self.lr - floor) * (1 + math.cos(math.pi * progress))


# Settings a resumed run must share with its checkpoint (others may change, e.g. steps).
RESUME_KEYS = ("batch_size", "lr", "seed", "decay_from", "final_lr_fraction")


@dataclass(frozen=True)
class DistributedEnv:
    """This process's place in a torchrun job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> tuple[DistributedEnv, torch.device]:
    """Join the torchrun process group when launched by torchrun; pick this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistributedEnv(), torch.device(device)
    env = DistributedEnv(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    target = torch.device(device)
    if target.type == "cuda":
        target = torch.device("cuda", env.local_rank)
        torch.cuda.set_device(target)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if target.type == "cuda" else "gloo")
    return env, target


def _gather(obj: object, env: DistributedEnv) -> list:
    if env.world_size == 1:
        return [obj]
    out: list = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def stage_dir(run_dir: str | Path, stage: str) -> Path:
    return Path(run_dir) / stage


def finished_state(run_dir: str | Path, stage: str) -> dict:
    """The checkpoint of a finished stage (one that reached its last step)."""
    path = stage_dir(run_dir, stage) / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: stage '{stage}' has not been trained in this run folder")
    state = load_checkpoint(path, stage)
    if state["step"] < state["settings"]["steps"]:
        raise ValueError(
            f"{path}: stage '{stage}' stopped at step {state['step']} of "
            f"{state['settings']['steps']}; run it to the end first"
        )
    return state


@contextmanager
def _progress(enabled: bool, label: str, total: int, done: int) -> Iterator:
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    )
    with Progress(*columns, disable=not enabled) as progress:
        task = progress.add_task(label, total=total, completed=done, info="")
        yield lambda info: progress.update(task, advance=1, info=info)


def _unwrap(nets: dict[str, nn.Module]) -> dict[str, nn.Module]:
    return {k: getattr(v, "module", v) for k, v in nets.items()}


def train_stage(
    stage: Stage[ContextT, BatchT],
    ctx: ContextT,
    pool: Batches[BatchT],
    val: Any,
    run_dir: str | Path,
    settings: TrainSettings,
    device: torch.device | str = "cpu",
    init: dict[str, dict[str, torch.Tensor]] | None = None,
    fresh: bool = False,
    env: DistributedEnv | None = None,
    show_progress: bool = True,
    record: dict | None = None,
) -> dict[str, dict[str, torch.Tensor]]:
    """Train ``stage`` to ``settings.steps`` (resuming its checkpoint unless ``fresh``).

    ``pool`` gives the minibatches (a :class:`~smplr.training.data.PoolBatch` of bodies,
    or the image data of :mod:`smplr.training.image`); ``val`` is what ``stage.validate``
    takes.
    ``init`` gives starting state dicts by network name (e.g. Ω and Ψ for ``pose_smpl``).
    ``record`` (plain values: data, body model, network sizes) is stored in the
    checkpoint; resuming with a different record is refused.
    Returns the final state dicts by network name.
    """
    record = dict(record or {})
    env = env or DistributedEnv()
    device = torch.device(device)
    folder = stage_dir(run_dir, stage.name)
    checkpoint = folder / "checkpoint.pt"
    torch.manual_seed(settings.seed)  # same initial weights on every rank; dropout reseeded below
    nets = {name: net.to(device) for name, net in stage.build(ctx).items()}
    for name, weights in (init or {}).items():
        nets[name].load_state_dict(weights)
    params = [p for net in nets.values() for p in net.parameters()]
    optimizer = torch.optim.Adam(params, lr=settings.lr)
    rng = torch.Generator(device=device).manual_seed(settings.seed * 7919 + env.rank)
    torch.manual_seed(settings.seed * 7919 + env.rank + 1)
    step, rows = 0, []
    if checkpoint.is_file() and not fresh:
        state = load_checkpoint(checkpoint, stage.name)
        changed = [k for k in RESUME_KEYS if state["settings"].get(k) != asdict(settings)[k]]
        if changed:
            raise ValueError(
                f"{checkpoint}: made with other settings ({', '.join(changed)}); "
                "use the same ones, or --fresh to start the stage again"
            )
        if state.get("record", {}) != record:
            changed = sorted(
                k
                for k in {*record, *state.get("record", {})}
                if record.get(k) != state.get("record", {}).get(k)
            )
            raise ValueError(
                f"{checkpoint}: made for another set-up ({', '.join(changed)}); "
                "use the same one, or --fresh to start the stage again"
            )
        if len(state["rng"]["data"]) != env.world_size:
            raise ValueError(
                f"{checkpoint}: made by {len(state['rng']['data'])} processes, resumed by {env.world_size}"
            )
        for name, net in nets.items():
            net.load_state_dict(state["networks"][name])
        optimizer.load_state_dict(state["optimizer"])
        rng.set_state(state["rng"]["data"][env.rank])
        torch.set_rng_state(state["rng"]["torch"][env.rank])
        step, rows = int(state["step"]), list(state["curves"])
    if step >= settings.steps:
        return {k: v.state_dict() for k, v in nets.items()}
    if env.world_size > 1:
        nets = {k: nn.parallel.DistributedDataParallel(v) for k, v in nets.items()}

    def save(at_step: int) -> None:
        rng_state = {
            "data": _gather(rng.get_state(), env),
            "torch": _gather(torch.get_rng_state(), env),
        }
        if not env.is_main:
            return
        save_checkpoint(
            checkpoint,
            {
                "stage": stage.name,
                "step": at_step,
                "settings": asdict(settings),
                "networks": {k: v.state_dict() for k, v in _unwrap(nets).items()},
                "optimizer": optimizer.state_dict(),
                "rng": rng_state,
                "curves": rows,
                "record": record,
            },
        )
        write_csv(rows, folder / "curves.csv")
        plot_curves(rows, folder / "curves.png", title=stage.name)

    def validate(at_step: int) -> dict[str, float]:
        plain = _unwrap(nets)
        for net in plain.values():
            net.eval()
        with torch.no_grad():
            val_rng = torch.Generator(device=device).manual_seed(VAL_SEED)
            numbers = stage.validate(plain, val, ctx, val_rng)
        return {"step": at_step, **numbers}

    folder.mkdir(parents=True, exist_ok=True)
    elapsed = rows[-1]["elapsed_s"] if rows else 0.0
    started = time.perf_counter() - elapsed
    sums: dict[str, float] = {}
    count = 0
    with _progress(show_progress and env.is_main, stage.name, settings.steps, step) as advance:
        while step < settings.steps:
            lr = settings.lr_at(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            for net in nets.values():
                net.train()
            batch = pool.minibatch(settings.batch_size, rng)
            loss, parts = stage.loss(nets, batch, ctx, rng)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            count += 1
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value
            advance(" ".join(f"{k}={v:.4g}" for k, v in parts.items()))
            validating = step % settings.val_every == 0 or step == settings.steps
            if validating or step % settings.log_every == 0:  # a row at every validation
                row = {"step": step, "lr": lr, "elapsed_s": time.perf_counter() - started}
                row.update({k: v / count for k, v in sums.items()})
                if validating:
                    row.update(validate(step))
                rows.append(row)
                sums, count = {}, 0
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                save(step)
    return {k: v.state_dict() for k, v in _unwrap(nets).items()}
