"""smplr.synthetic.pose_sources: independent pose and shape sources."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from smplr.body.skeleton import JOINT_MIRROR
from smplr.synthetic import pose_sources as ps
from smplr.synthetic.joint_limits import limit_violation
from smplr.synthetic.reference_skeleton import pose_reference_skeleton

SOURCES = {
    "uniform_limits": lambda b, g: ps.uniform_limits(b, g, dtype=torch.float64),
    "uniform_limits_any": lambda b, g: ps.uniform_limits(b, g, "any", dtype=torch.float64),
    "perturbed_rest": lambda b, g: ps.perturbed(b, g, "rest", dtype=torch.float64),
    "perturbed_families": lambda b, g: ps.perturbed(b, g, "families", dtype=torch.float64),
    "extreme": lambda b, g: ps.extreme(b, g, dtype=torch.float64),
    "mirrored_uniform": ps.mirrored(lambda b, g: ps.uniform_limits(b, g, dtype=torch.float64)),
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _is_rotation(r: torch.Tensor) -> bool:
    eye = torch.eye(3, dtype=r.dtype).expand_as(r)
    return torch.allclose(r @ r.transpose(-1, -2), eye, atol=1e-9) and torch.allclose(
        torch.linalg.det(r), torch.ones((), dtype=r.dtype), atol=1e-9
    )


@pytest.mark.parametrize("name", SOURCES)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_every_source_respects_the_joint_limits(name, seed):
    poses = SOURCES[name](64, _gen(seed))
    global_orient, body_pose = poses.matrices()
    assert float(limit_violation(body_pose).max()) < math.radians(1e-3)
    assert _is_rotation(global_orient)


@pytest.mark.parametrize("name", SOURCES)
def test_sources_are_deterministic_and_shaped(name):
    a, b = SOURCES[name](32, _gen(5)), SOURCES[name](32, _gen(5))
    c = SOURCES[name](32, _gen(6))
    assert a.global_orient.shape == (32, 3) and a.body_pose.shape == (32, 69)
    assert a.body_pose.dtype == torch.float64
    assert torch.equal(a.body_pose, b.body_pose) and torch.equal(a.global_orient, b.global_orient)
    assert not torch.equal(a.body_pose, c.body_pose)


def test_default_dtype_is_torch_default():
    poses = ps.uniform_limits(4, _gen(0))
    assert poses.body_pose.dtype == torch.get_default_dtype()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_mirroring_twice_is_identity_and_keeps_limits(seed):
    poses = ps.uniform_limits(32, _gen(seed), "any", dtype=torch.float64)
    once = ps.mirror(poses)
    twice = ps.mirror(once)
    assert torch.equal(twice.body_pose, poses.body_pose)
    assert torch.equal(twice.global_orient, poses.global_orient)
    assert not torch.allclose(once.body_pose, poses.body_pose)
    assert float(limit_violation(once.matrices()[1]).max()) < math.radians(1e-3)


def test_mirror_reflects_the_skeleton():
    """On the (left/right symmetric) reference skeleton, the mirrored pose puts every joint
    at the reflection of its twin."""
    poses = ps.perturbed(16, _gen(3), "families", dtype=torch.float64)
    joints, _ = pose_reference_skeleton(*poses.matrices())
    mirrored, _ = pose_reference_skeleton(*ps.mirror(poses).matrices())
    reflected = joints[:, list(JOINT_MIRROR)] * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert torch.allclose(mirrored - mirrored[:, :1], reflected - reflected[:, :1], atol=1e-9)


def test_mirrored_share_zero_and_one():
    source = lambda b, g: ps.uniform_limits(b, g, dtype=torch.float64)  # noqa: E731
    plain = source(8, _gen(1))
    assert torch.equal(ps.mirrored(source, 0.0)(8, _gen(1)).body_pose, plain.body_pose)
    assert torch.equal(ps.mirrored(source, 1.0)(8, _gen(1)).body_pose, ps.mirror(plain).body_pose)
    with pytest.raises(ValueError, match="share"):
        ps.mirrored(source, 1.5)


def test_uniform_limits_covers_the_range():
    """Uniform in the box: knee flexion spans 0..150° with a mean near 75°."""
    from smplr.synthetic.joint_limits import body_joint, body_pose_to_angles

    poses = ps.uniform_limits(4000, _gen(2), dtype=torch.float64)
    knee = torch.rad2deg(body_pose_to_angles(poses.matrices()[1])[:, body_joint("left_knee"), 0])
    assert float(knee.min()) < 5 and float(knee.max()) > 145
    assert abs(float(knee.mean()) - 75) < 4


def test_perturbation_spread_grows_with_spread():
    small = ps.perturbed(500, _gen(0), spread=0.05, dtype=torch.float64)
    large = ps.perturbed(500, _gen(0), spread=0.3, dtype=torch.float64)
    assert float(small.body_pose.abs().mean()) < 0.5 * float(large.body_pose.abs().mean())


def _extreme_joints(kind: str) -> torch.Tensor:
    poses = ps.extreme(200, _gen(4), kinds=(kind,), dtype=torch.float64)
    joints, _ = pose_reference_skeleton(*poses.matrices())
    return joints - joints[:, :1]


def test_extreme_poses_look_like_their_names():
    handstand = _extreme_joints("handstand")
    assert bool((handstand[:, 15, 1] < -0.3).all())  # head below the pelvis
    assert bool((handstand[:, [20, 21], 1] < handstand[:, [15], 1]).all())  # hands lower still
    squat = _extreme_joints("deep_squat")
    assert float(squat[:, [4, 5], 1].mean()) > float(squat[:, [7, 8], 1].mean()) + 0.1
    crossed = _extreme_joints("crossed_arms")
    assert float((crossed[:, 20] - crossed[:, 21]).norm(dim=-1).mean()) < 0.3
    overhead = _extreme_joints("arms_overhead")
    assert bool((overhead[:, [18, 19], 1] > overhead[:, [16, 17], 1]).all())  # elbows up


def test_extreme_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown extreme poses"):
        ps.extreme(4, _gen(0), kinds=("moonwalk",))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_orientations_are_rotations(seed):
    for mode in ps.ORIENTATIONS:
        assert _is_rotation(ps.random_orientation(64, _gen(seed), mode, dtype=torch.float64))
    upright = ps.random_orientation(64, _gen(seed), "upright", 20.0, dtype=torch.float64)
    tilt = torch.rad2deg(torch.acos(upright[:, 1, 1].clamp(-1, 1)))
    assert float(tilt.max()) <= 20.0 + 1e-6


def test_any_orientation_turns_upside_down():
    r = ps.random_orientation(2000, _gen(0), "any", dtype=torch.float64)
    assert float((r[:, 1, 1] < 0).double().mean()) == pytest.approx(0.5, abs=0.05)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_wide_shapes(seed):
    betas, gender = ps.wide_shapes(500, _gen(seed), num_betas=10, dtype=torch.float64)
    assert betas.shape == (500, 10) and gender.shape == (500,)
    assert float(betas.abs().max()) <= 4.0
    assert float((betas.abs() > 2.0).double().mean()) > 0.08  # N(0,1) gives 0.046
    assert set(gender.tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ps.uniform_limits(0, _gen(0)), "batch"),
        (lambda: ps.random_orientation(4, _gen(0), "sideways"), "orientation mode"),
        (lambda: ps.perturbed(4, _gen(0), "nowhere"), "unknown centre"),
        (lambda: ps.perturbed(4, _gen(0), spread=-1.0), "spread"),
        (lambda: ps.wide_shapes(4, _gen(0), spread=(2.0, 1.0)), "spread"),
        (lambda: ps.Poses(torch.zeros(2, 3), torch.zeros(2, 60)), "expected"),
    ],
)
def test_bad_inputs_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
