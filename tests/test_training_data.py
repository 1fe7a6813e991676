"""Training data: pool caching, minibatches, DAE training pairs, random views."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from helpers.fakes import FakeSampler, fake_corruption, fake_gendered
from smplr.training.data import (
    Corruption,
    PoolBatch,
    cached_pool,
    default_corruption,
    draw_pool,
    minibatch,
    rotate,
    view_rotations,
)


def _pool(size: int = 64, seed: int = 0) -> PoolBatch:
    return draw_pool(FakeSampler(fake_gendered(), seed), size, chunk=24)


def test_pool_is_cached_by_key(tmp_path: Path) -> None:
    calls = []

    def make() -> PoolBatch:
        calls.append(1)
        return _pool(40)

    path = tmp_path / "pool.npz"
    first = cached_pool(path, make, {"seed": 0})
    again = cached_pool(path, make, {"seed": 0})
    assert len(calls) == 1 and torch.equal(first.jl, again.jl)
    cached_pool(path, make, {"seed": 1})  # another key draws again
    assert len(calls) == 2
    whole = path.read_bytes()
    for count, damaged in enumerate((b"garbage", b"", whole[: len(whole) // 2], whole[:-30])):
        path.write_bytes(damaged)
        with pytest.warns(UserWarning, match="unreadable pool cache"):
            cached_pool(path, make, {"seed": 1})  # an unreadable cache is drawn again
        cached_pool(path, make, {"seed": 1})  # ... and stored whole
        assert len(calls) == 3 + count
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.npz"]  # no temporaries


def test_minibatches_follow_the_generator() -> None:
    pool = _pool()
    a = minibatch(pool, 16, torch.Generator().manual_seed(5))
    b = minibatch(pool, 16, torch.Generator().manual_seed(5))
    assert torch.equal(a.jl, b.jl) and len(a) == 16


def test_rotating_a_body_rotates_its_jl_and_global_orientation() -> None:
    body = fake_gendered()
    pool = _pool(8)
    turned = rotate(pool, view_rotations(pool, torch.Generator().manual_seed(1), fraction=1.0))
    out = body(turned.gender, turned.betas, turned.rotations[:, :1], turned.rotations[:, 1:])
    torch.testing.assert_close(out.jl - out.joints[:, :1], turned.jl, atol=1e-5, rtol=0)
    same = view_rotations(pool, torch.Generator().manual_seed(1), fraction=0.0)
    torch.testing.assert_close(same, torch.eye(3).expand(8, 3, 3))


def test_dae_examples_have_the_input_formats_shapes() -> None:
    pool = _pool(32)
    corruption = fake_corruption()
    g = torch.Generator().manual_seed(2)
    for fmt, shape in (("jl42", (32, 42, 3)), ("joints24", (32, 24, 3)), ("2d", (32, 42, 2))):
        inputs, target = corruption.dae_example(pool, fmt, g)
        assert inputs.shape == shape and target.shape == (32, 42, 3)
        assert bool((inputs[:, 0] == 0).all()) and bool((target[:, 0].abs() < 1e-6).all())


def test_clean_2d_input_is_the_view_of_its_target() -> None:
    pool = _pool(32)
    clean = Corruption(noise_models=(lambda jl, g: jl,), clean_fraction=1.0)
    flat, target = clean.dae_example(pool, "2d", torch.Generator().manual_seed(3))
    # perspective: the root-plane form differs from the view-frame x, y only by the
    # depth ratio (bodies are ~1 m deep, cameras 3-8 m away)
    gap = (flat - target[..., :2]).norm(dim=-1)
    assert float(gap.max()) < 0.35 and float(gap.mean()) < 0.06
    assert float(target[..., 2].abs().max()) > 0.1  # the depth the DAE must recover


def test_2d_noise_is_drawn_in_the_cameras_frame() -> None:
    """Depth-only error (depth offsets from the root scaled, as the structured noise
    does) barely moves the 2D input; drawn in the body's frame it would move it sideways."""
    pool = _pool(32)

    def depth_error(jl: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        out = jl.clone()
        out[..., 2] = 1.5 * (out[..., 2] - out[:, :1, 2])
        return out

    g = torch.Generator().manual_seed(3)
    clean = Corruption(noise_models=(lambda jl, g: jl,), clean_fraction=1.0)
    deep = Corruption(noise_models=(depth_error,), clean_fraction=0.0)
    flat_clean, _ = clean.dae_example(pool, "2d", torch.Generator().manual_seed(3))
    flat_deep, _ = deep.dae_example(pool, "2d", g)
    shift = (flat_deep - flat_clean).norm(dim=-1)
    assert float(shift.mean()) < 0.02  # perspective only (body frame: ~0.06 m)


def test_default_noise_models_corrupt_but_keep_the_root() -> None:
    pool = _pool(64)
    noisy = default_corruption().noisy(pool.jl, torch.Generator().manual_seed(4))
    moved = (noisy - pool.jl).norm(dim=-1)
    assert bool((moved[:, 0] == 0).all())
    assert 0.005 < float(moved[:, 1:].mean()) < 0.2
