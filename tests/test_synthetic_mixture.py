"""smplr.synthetic.mixture: the training mixture of pose sources."""

from __future__ import annotations

import pytest
import torch

from smplr.body.model import GenderedBodyModel
from smplr.synthetic.joint_limits import limit_violation
from smplr.synthetic.mixture import COMPONENTS, MixtureBodies
from smplr.synthetic.pose_sources import Poses, mirror, uniform_limits
from smplr.synthetic.seeds import HELD_OUT_SEED, TEST_SEED_BLOCK
from smplr.training.data import draw_pool


@pytest.fixture(scope="module")
def body() -> GenderedBodyModel:
    return GenderedBodyModel.open().float()


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _mocap(n: int = 16) -> Poses:
    return uniform_limits(n, torch.Generator().manual_seed(9))


def test_draws_valid_bodies_deterministically(body):
    a = MixtureBodies(body, seed=3, mocap=_mocap(), block_size=256).sample(300)
    b = MixtureBodies(body, seed=3, mocap=_mocap(), block_size=256).sample(300)
    c = MixtureBodies(body, seed=4, mocap=_mocap(), block_size=256).sample(300)
    assert a.jl.shape == (300, 42, 3) and a.body_pose.shape == (300, 23, 3, 3)
    assert torch.equal(a.jl, b.jl) and not torch.equal(a.jl, c.jl)
    assert float(limit_violation(a.body_pose.double()).max()) < 1e-3
    assert torch.allclose(a.jl[:, 0], torch.zeros(300, 3))
    assert float(a.betas.abs().max()) > 3.0  # some wide shapes


@pytest.mark.parametrize("device", DEVICES)
def test_draws_on_the_sampler_device(body, device):
    batch = MixtureBodies(body, seed=3, device=device, mocap=_mocap(), block_size=128).sample(64)
    assert batch.jl.device.type == device and bool(torch.isfinite(batch.jl).all())


def test_mocap_component_serves_mocap_poses_or_their_mirror(body):
    mocap = _mocap()
    bodies = MixtureBodies(body, seed=1, weights={"mocap": 1.0}, mocap=mocap, block_size=64)
    batch = bodies.sample(64)
    drawn = Poses.from_matrices(batch.global_orient, batch.body_pose).body_pose.double()
    known = torch.cat([mocap.body_pose, mirror(mocap).body_pose]).double()
    distance = (drawn[:, None] - known[None]).abs().amax(-1).amin(1)
    assert float(distance.max()) < 1e-4


def test_without_mocap_the_component_is_off(body):
    bodies = MixtureBodies(body, seed=1)
    assert bodies.weights["mocap"] == 0.0 and set(bodies.weights) == set(COMPONENTS)
    with pytest.raises(ValueError, match="not all zero"):
        MixtureBodies(body, seed=1, weights={"mocap": 1.0})


def test_is_a_body_sampler_for_draw_pool(body):
    pool = draw_pool(MixtureBodies(body, seed=2, block_size=128), 200, chunk=64)
    assert len(pool) == 200 and pool.rotations.shape == (200, 24, 3, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": HELD_OUT_SEED}, "kept for test sets"),
        ({"seed": TEST_SEED_BLOCK[7]}, "kept for test sets"),
        ({"weights": {"extreme": 1.0}}, "unknown components"),
        ({"weights": {"prior": -1.0}}, "non-negative"),
        ({"wide_shape_share": 2.0}, "wide_shape_share"),
    ],
)
def test_bad_settings_raise(body, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixtureBodies(body, **kwargs)
