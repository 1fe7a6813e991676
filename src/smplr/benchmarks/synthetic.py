"""Synthetic training data per second: pose prior alone, and poses + shapes + JL.

Run: ``smplr bench synthetic`` (part of ``make bench``).  Uses the
open body model when it is installed, otherwise a random stand-in model of the
same size (JL costs the same: only the landmark vertices are skinned).
"""

from __future__ import annotations

import numpy as np
import torch

from smplr.benchmarks import median_seconds
from smplr.body.model import BodyModel, GenderedBodyModel
from smplr.body.model_file import ModelFileError, model_data_from_arrays
from smplr.body.skeleton import NUM_JOINTS, PARENTS
from smplr.synthetic.bodies import SyntheticBodies
from smplr.synthetic.poses import PosePrior


def _stand_in_body(num_vertices: int = 13718) -> GenderedBodyModel:
    """Random SMPL-format arrays of the open model's size (for timing only)."""
    rng = np.random.default_rng(0)
    weights = rng.random((num_vertices, NUM_JOINTS))
    arrays = {
        "v_template": rng.normal(0, 0.3, (num_vertices, 3)),
        "shapedirs": rng.normal(0, 0.01, (num_vertices, 3, 10)),
        "posedirs": np.zeros((num_vertices, 3, 207)),
        "J_regressor": rng.dirichlet(np.ones(num_vertices), NUM_JOINTS),
        "weights": weights / weights.sum(1, keepdims=True),
        "kintree_table": np.stack([np.array([-1, *PARENTS[1:]]), np.arange(NUM_JOINTS)]),
        "f": rng.integers(0, num_vertices, (2 * num_vertices, 3)),
        "landmark_vertex_ids": rng.choice(num_vertices, 18, replace=False),
    }
    model = BodyModel(model_data_from_arrays(arrays), dtype=torch.float32)
    return GenderedBodyModel(model, model)


def run(batch: int = 256, threads: int = 1, device: str = "cpu") -> dict[str, float]:
    """Print and return samples/s of the pose prior and of :class:`SyntheticBodies`."""
    torch.set_num_threads(threads)
    try:
        body, name = GenderedBodyModel.open(torch.float32), "open model"
    except ModelFileError:
        body, name = _stand_in_body(), "stand-in model (open model not installed)"
    prior = PosePrior(device, dtype=torch.float32)
    generator = torch.Generator(device=device).manual_seed(0)
    bodies = SyntheticBodies(body, seed=0, device=device, pose_prior=prior)
    block = bodies.block_size
    with torch.no_grad():
        poses_at_batch = median_seconds(lambda: prior.sample(batch, generator), repeats=3)
        poses_at_block = median_seconds(lambda: prior.sample(block, generator), repeats=3)
        # Sustained: enough calls that block draws are included in their true share.
        calls = 4 * block // batch
        jl = median_seconds(lambda: [bodies.sample(batch) for _ in range(calls)], repeats=3)
        # Baseline: the same stream through the full model (every vertex skinned).
        mesh = median_seconds(lambda: bodies.sample(batch, with_vertices=True), repeats=3)
    row = {
        "prior_per_call": batch / poses_at_batch,
        "prior_per_block": block / poses_at_block,
        "bodies_jl": calls * batch / jl,
        "bodies_mesh": batch / mesh,
    }
    print(f"synthetic data: {name}, {device}, float32, {threads} thread(s)")
    print(f"  pose prior, one call of {batch:>5}:   {row['prior_per_call']:>9,.0f} poses/s")
    print(f"  pose prior, one call of {block:>5}:   {row['prior_per_block']:>9,.0f} poses/s")
    print(f"  SyntheticBodies.sample({batch}) -> JL: {row['bodies_jl']:>9,.0f} samples/s")
    print(
        f"  same with every vertex skinned:      {row['bodies_mesh']:>9,.0f} samples/s"
        f" (JL path {row['bodies_jl'] / row['bodies_mesh']:.0f}x faster)"
    )
    return row
