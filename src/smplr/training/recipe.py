"""The whole training recipe: data, the stages in order, the exported weight bundle.

    pool of synthetic bodies ─► dae_jl42, dae_joints24, dae_2d      (independent; one per input format)
                             ─► shape (Ψ, L_β), pose (Ω, L_R)       (independent)
                             ─► pose_smpl (Ω + Ψ, + L_SMPL)          (from shape and pose)
                             ─► smplr_weights.pt                     (bundle for SMPLR)

The pool's bodies come from one pose source (:data:`POSE_SOURCES`: the pose prior, or
the mixture of :mod:`smplr.synthetic.mixture`); a run folder keeps to the source its
pool was drawn from.  A run folder holds the cached pool, one folder per stage (checkpoint, curves.csv,
curves.png) and the exported bundle.  Every stage resumes from its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from smplr.body.keypoints import SiteBody
from smplr.body.model import GenderedBodyModel
from smplr.datasets.real_mocap import load_real_mocap_poses
from smplr.networks import DAE_NAMES, OPTIONAL_NETWORKS, NetworkConfig
from smplr.reverse.features import template_bone_lengths
from smplr.synthetic.bodies import SyntheticBodies
from smplr.synthetic.mixture import MixtureBodies
from smplr.training.data import BodySampler, Corruption, PoolBatch, cached_pool, draw_pool
from smplr.training.loop import DistributedEnv, TrainSettings, finished_state, train_stage
from smplr.training.stages import RECIPE, SMPL_WEIGHT, STAGES, StageContext
from smplr.weights import WeightBundle, check_networks, load_bundle, save_bundle

BUNDLE_NAME = "smplr_weights.pt"
VAL_SEED_OFFSET = 1_000_003


@dataclass
class Recipe:
    """Everything a run needs besides per-stage optimisation settings.

    ``sampler(seed)`` builds a body sampler (e.g. :func:`pose_sampler`'s); ``poses``
    names its pose source and ``body_name`` the body model, both recorded with the
    cached pool and every checkpoint.
    """

    body: GenderedBodyModel
    body_name: str
    sampler: Callable[[int], BodySampler]
    corruption: Corruption
    run_dir: Path
    pool_size: int = 100_000
    val_size: int = 1024
    seed: int = 0
    sizes: NetworkConfig = field(default_factory=NetworkConfig)
    input_jitter: float = 0.01
    smpl_weight: float = SMPL_WEIGHT
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    poses: str = "prior"

    @property
    def pool_path(self) -> Path:
        return self.run_dir / "pool.npz"

    def data(self, env: DistributedEnv | None = None) -> tuple[PoolBatch, PoolBatch]:
        """The training pool and the validation bodies (cached in the run folder; under
        torchrun, rank 0 draws them while the others wait, then everyone reads the cache)."""
        env = env or DistributedEnv()
        if env.world_size > 1:
            if env.is_main:
                self._cached_data()
            torch.distributed.barrier()
        pool, val = self._cached_data()
        return pool.to(self.device), val.to(self.device)

    def _cached_data(self) -> tuple[PoolBatch, PoolBatch]:
        key = {"seed": self.seed, "body": self.body_name, "poses": self.poses}
        pool = cached_pool(
            self.pool_path,
            lambda: draw_pool(self.sampler(self.seed), self.pool_size, label="training bodies"),
            {**key, "size": self.pool_size},
            fixed=("poses",),
        )
        val = cached_pool(
            self.run_dir / "val.npz",
            lambda: draw_pool(
                self.sampler(self.seed + VAL_SEED_OFFSET), self.val_size, label="validation bodies"
            ),
            {**key, "size": self.val_size},
            fixed=("poses",),
        )
        return pool, val

    def record(self) -> dict:
        """What a stage's checkpoint remembers of this recipe (see ``train_stage``)."""
        return {
            "body_model": self.body_name,
            "poses": self.poses,
            "seed": self.seed,
            "pool_size": self.pool_size,
            "sizes": self.sizes.to_dict(),
            "input_jitter": self.input_jitter,
            "smpl_weight": self.smpl_weight,
            "clean_fraction": self.corruption.clean_fraction,
            "view_fraction": self.corruption.view_fraction,
        }

    def context(self) -> StageContext:
        body = self.body.float().to(self.device)
        return StageContext(
            corruption=self.corruption,
            template_lengths=template_bone_lengths(body).to(self.device),
            jl_body=body.jl_model(),
            sizes=self.sizes,
            site_body=_site_body(body),
            input_jitter=self.input_jitter,
            smpl_weight=self.smpl_weight,
        )


def _site_body(body: GenderedBodyModel) -> SiteBody | None:
    """The keypoint sites' model, or None where the topology lacks keypoint vertices
    (then the keypoint DAE is not trained: ``dae_keypoints`` is optional in a bundle)."""
    try:
        return SiteBody(body)
    except ValueError:
        return None


POSE_SOURCES: dict[str, str] = {
    "prior": "the pose prior alone (smplr.synthetic.bodies.SyntheticBodies)",
    "mixture": "the pose-source mixture with the real motion-capture train clips "
    "(smplr.synthetic.mixture.MixtureBodies)",
}


def pose_sampler(
    poses: str, body: GenderedBodyModel, device: torch.device | str
) -> Callable[[int], BodySampler]:
    """``seed -> sampler`` of training bodies from pose source ``poses`` (see
    :data:`POSE_SOURCES`; the mixture reads the shipped motion-capture train split)."""
    if poses == "prior":
        return lambda seed: SyntheticBodies(body, seed=seed, device=device)
    if poses == "mixture":
        mocap = load_real_mocap_poses(split="train").poses()
        return lambda seed: MixtureBodies(body, seed, device, mocap=mocap, block_size=16_384)
    raise ValueError(f"unknown pose source '{poses}': expected one of {', '.join(POSE_SOURCES)}")


def run_stage(
    recipe: Recipe,
    name: str,
    settings: TrainSettings,
    fresh: bool = False,
    env: DistributedEnv | None = None,
    show_progress: bool = True,
    data: tuple[PoolBatch, PoolBatch] | None = None,
) -> dict[str, dict[str, torch.Tensor]]:
    """Train one stage of the recipe (its dependencies must have finished)."""
    if name not in STAGES:
        raise ValueError(f"unknown stage '{name}': expected one of {', '.join(STAGES)}")
    stage = STAGES[name]
    init = {}
    for dependency in stage.depends_on:
        init.update(finished_state(recipe.run_dir, dependency)["networks"])
    pool, val = data or recipe.data(env)
    return train_stage(
        stage,
        recipe.context(),
        pool,
        val,
        recipe.run_dir,
        settings,
        recipe.device,
        init=init,
        fresh=fresh,
        env=env,
        show_progress=show_progress,
        record=recipe.record(),
    )


def _finished(run_dir: Path, name: str) -> bool:
    try:
        finished_state(run_dir, name)
    except FileNotFoundError:
        return False
    return True


def export_bundle(recipe: Recipe, out: Path | None = None, half: bool = True) -> Path:
    """Collect the finished stages into one weight bundle (default: in the run folder)."""
    names = [n for n in RECIPE if n not in OPTIONAL_NETWORKS or _finished(recipe.run_dir, n)]
    states = {name: finished_state(recipe.run_dir, name) for name in names}
    networks = {name: states[name]["networks"][name] for name in DAE_NAMES if name in states}
    networks.update(states["pose_smpl"]["networks"])
    stages = {
        name: {
            "steps": state["step"],
            "batch_size": state["settings"]["batch_size"],
            "wall_s": round(state["curves"][-1]["elapsed_s"], 1) if state["curves"] else None,
            "final": {k: v for k, v in state["curves"][-1].items() if k.startswith("val_")}
            if state["curves"]
            else {},
        }
        for name, state in states.items()
    }
    record = states["pose_smpl"].get("record", {})
    if record.get("body_model", recipe.body_name) != recipe.body_name:
        raise ValueError(
            f"{recipe.run_dir}: trained for body model '{record['body_model']}', not '{recipe.body_name}'"
        )
    sizes = record.get("sizes")
    bundle = WeightBundle(
        network_config=recipe.sizes if sizes is None else NetworkConfig.from_dict(sizes),
        body_model=recipe.body_name,
        template_lengths=template_bone_lengths(recipe.body.float()).cpu(),
        networks=networks,
        meta={"recipe": record, "stages": stages},
    )
    return save_bundle(bundle, out or recipe.run_dir / BUNDLE_NAME, half=half)


def merge_stage(run_dir: Path, stage: str, bundle_path: Path, out: Path, half: bool = True) -> Path:
    """Write ``out``: the bundle at ``bundle_path`` with the networks of a finished
    ``stage`` of ``run_dir`` added or replaced (e.g. a keypoint DAE trained later);
    the stage's record joins the bundle's ``meta["stages"]``."""
    state = finished_state(run_dir, stage)
    bundle = load_bundle(bundle_path)
    for name, weights in state["networks"].items():
        bundle.networks[name] = weights
    check_networks(bundle.network_config, bundle.networks)
    curves = state["curves"]
    bundle.meta.setdefault("stages", {})[stage] = {
        "steps": state["step"],
        "batch_size": state["settings"]["batch_size"],
        "wall_s": round(curves[-1]["elapsed_s"], 1) if curves else None,
        "final": {k: v for k, v in curves[-1].items() if k.startswith("val_")} if curves else {},
        "record": state.get("record", {}),
    }
    return save_bundle(bundle, out, half=half)


def stages_to_train(recipe: Recipe) -> list[str]:
    """:data:`RECIPE` without the keypoint DAE where the body model names no keypoint
    vertices (``dae_keypoints`` is optional in a bundle)."""
    trainable = recipe.context().site_body is not None
    return [n for n in RECIPE if n not in OPTIONAL_NETWORKS or trainable]


def run_all(
    recipe: Recipe,
    settings: dict[str, TrainSettings],
    fresh: bool = False,
    env: DistributedEnv | None = None,
    show_progress: bool = True,
) -> Path:
    """Every stage of :data:`RECIPE` in order, then the bundle; returns its path."""
    data = recipe.data(env)
    for name in stages_to_train(recipe):
        run_stage(recipe, name, settings[name], fresh, env, show_progress, data)
    env = env or DistributedEnv()
    path = recipe.run_dir / BUNDLE_NAME
    if env.is_main:
        export_bundle(recipe, path)
    return path
