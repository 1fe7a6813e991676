"""The image backbone: config validation, shapes, soft-argmax, heatmap targets and loss,
and a few optimisation steps on a tiny fixed batch."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.threads import one_thread  # noqa: F401  (autouse: one torch thread)
from smplr.body.skeleton import NUM_JL
from smplr.image_model import (
    ImageModelConfig,
    build_image_model,
    heatmap_loss,
    jl_from_points,
    points_from_jl,
    soft_argmax,
)
from smplr.image_model.mobilenet import imagenet_encoder_state, mobilenet_v2_features
from smplr.image_model.model import imagenet_start
from smplr.image_model.points import limb_segments
from smplr.image_model.targets import (
    axis_gaussians,
    limb_samples,
    point_factors,
    separable_cross_entropy,
)
from smplr.image_model.volume import cell_centres, inside_volume, volume_logits

TINY = ImageModelConfig(stacks=2, features=16, input_size=32, depth_bins=4, hourglass_depth=1)


def _points(batch: int, count: int, seed: int = 0, scale: float = 0.4) -> torch.Tensor:
    return (torch.rand(batch, count, 3, generator=torch.Generator().manual_seed(seed)) - 0.5) * (
        2 * scale
    )


# ----------------------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"architecture": "resnet"}, "unknown image architecture 'resnet'"),
        ({"stacks": 0}, "stacks must be a positive integer"),
        ({"features": 15}, "features must be even"),
        ({"depth_bins": 1}, "depth_bins must be at least 2"),
        ({"input_size": 100}, "must be a multiple of 64"),
        ({"half_range_m": 0.0}, "must be positive"),
        ({"landmarks": 1}, "landmarks must be true or false"),
        ({"architecture": "alexnet", "limbs": True}, "limb heatmaps need"),
        ({"stacks": 2.0}, "stacks must be a positive integer"),
        ({"architecture": "mobilenet", "input_size": 48}, "multiple of 32"),
    ],
)
def test_bad_configs_are_refused_in_one_line(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        ImageModelConfig(**changes)
    assert "\n" not in str(info.value)


def test_config_round_trips_and_refuses_foreign_dicts() -> None:
    config = ImageModelConfig.paper(limbs=True)
    assert ImageModelConfig.from_dict(config.to_dict()) == config
    assert (config.stacks, config.features, config.input_size, config.heatmap_size) == (
        5,
        256,
        256,
        64,
    )
    assert config.num_points == 41 and config.num_maps == 45
    with pytest.raises(ValueError, match="unknown keys"):
        ImageModelConfig.from_dict({"stacks": 2, "colour": "red"})
    with pytest.raises(ValueError, match="must be a mapping"):
        ImageModelConfig.from_dict([1, 2])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- shapes
@pytest.mark.parametrize(
    ("changes", "maps"), [({}, 41), ({"landmarks": False}, 23), ({"limbs": True}, 45)]
)
def test_hourglass_outputs_one_volume_per_stack(changes: dict, maps: int) -> None:
    config = ImageModelConfig(**{**TINY.to_dict(), **changes})
    model = build_image_model(config)
    outputs = model(torch.rand(3, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(3, maps, 4, 8, 8)] * 2
    points = model.points(outputs)
    assert points.shape == (3, config.num_points, 3)
    assert bool((points.abs() < config.half_range_m).all())


def test_alexnet_regresses_points_directly_and_starts_at_the_root() -> None:
    config = ImageModelConfig(architecture="alexnet", features=16, input_size=64, landmarks=False)
    model = build_image_model(config).eval()
    outputs = model(torch.rand(2, 3, 64, 64))
    assert len(outputs) == 1 and outputs[0].shape == (2, 23, 3)
    assert torch.equal(model.predict(torch.rand(2, 3, 64, 64)), torch.zeros(2, 23, 3))


@pytest.mark.parametrize(
    "images",
    [
        torch.rand(2, 3, 64, 64),
        torch.rand(2, 1, 32, 32),
        torch.rand(3, 32, 32),
        torch.zeros(1, 3, 32, 32, dtype=torch.uint8),
    ],
)
def test_wrong_images_are_refused(images: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="images must be"):
        build_image_model(TINY)(images)


def test_points_and_jl_convert_both_ways() -> None:
    jl = torch.randn(2, NUM_JL, 3)
    points = points_from_jl(jl)
    assert points.shape == (2, 41, 3) and points_from_jl(jl, landmarks=False).shape == (2, 23, 3)
    back = jl_from_points(points)
    assert torch.allclose(back, jl - jl[:, :1])
    with pytest.raises(ValueError, match="jl must be"):
        points_from_jl(torch.zeros(2, 24, 3))


# ----------------------------------------------------------------------------- soft-argmax
@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 3),
    st.integers(0, 5),
    st.integers(0, 6),
    st.floats(0.3, 2.0),
)
def test_soft_argmax_is_exact_on_a_one_cell_heatmap(d: int, h: int, w: int, r: float) -> None:
    logits = torch.full((1, 1, 4, 6, 7), -1e4, dtype=torch.float64)
    logits[0, 0, d, h, w] = 0.0
    point = soft_argmax(logits, r)[0, 0]
    expected = torch.stack(
        [
            cell_centres(7, r, torch.float64)[w],
            cell_centres(6, r, torch.float64)[h],
            cell_centres(4, r, torch.float64)[d],
        ]
    )
    assert torch.allclose(point, expected, atol=1e-12, rtol=0)


def test_soft_argmax_of_a_uniform_volume_is_the_root_and_has_exact_gradients() -> None:
    assert torch.allclose(
        soft_argmax(torch.zeros(2, 3, 4, 5, 6), 1.25), torch.zeros(2, 3, 3), atol=1e-6
    )
    logits = torch.randn(2, 2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: soft_argmax(x, 1.25), (logits,))
    with pytest.raises(ValueError, match="logits must be"):
        soft_argmax(torch.zeros(2, 3, 4, 5), 1.0)


def test_cell_centres_tile_the_range() -> None:
    centres = cell_centres(16, 1.25)
    assert torch.allclose(centres[1:] - centres[:-1], torch.full((15,), 2.5 / 16))
    assert float(centres[0]) == pytest.approx(-1.25 + 2.5 / 32)
    assert float(centres[-1]) == pytest.approx(1.25 - 2.5 / 32)


# ----------------------------------------------------------------------------- targets, loss
@settings(max_examples=30, deadline=None)
@given(st.floats(-0.7, 0.7), st.floats(0.6, 2.0))  # >= 3.5 sigma inside the range
def test_axis_gaussians_are_distributions_centred_on_the_point(coord: float, sigma: float) -> None:
    g = axis_gaussians(torch.tensor([coord], dtype=torch.float64), 32, 1.25, sigma)[0]
    assert float(g.sum()) == pytest.approx(1.0)
    mean = float((g * cell_centres(32, 1.25, torch.float64)).sum())
    assert mean == pytest.approx(coord, abs=1e-3)


def test_separable_cross_entropy_equals_the_materialised_one() -> None:
    config = ImageModelConfig(**{**TINY.to_dict(), "limbs": True})
    logits = torch.randn(2, 45, 4, 8, 8, dtype=torch.float64)
    points = _points(2, 41).double()
    gz, gy, gx = point_factors(points, config)
    target = torch.einsum("bpsd,bpsh,bpsw->bpdhw", gz, gy, gx) / gz.shape[2]
    assert torch.allclose(target.sum(dim=(2, 3, 4)), torch.ones(2, 41, dtype=torch.float64))
    brute = -(target * logits[:, :41].flatten(2).log_softmax(-1).view_as(target)).sum(dim=(2, 3, 4))
    fast = separable_cross_entropy(logits[:, :41], gz, gy, gx)
    assert torch.allclose(fast, brute)
    # the loss is smallest (the target's entropy) when the softmax is the target
    perfect = separable_cross_entropy(target.log(), gz, gy, gx)
    entropy = -(target * target.log()).sum(dim=(2, 3, 4))
    assert torch.allclose(perfect, entropy)
    assert bool((fast > perfect).all())


def test_limb_targets_follow_the_segments() -> None:
    points = _points(2, 41)
    samples = limb_samples(points)
    assert samples.shape == (2, 4, 15, 3)
    first, last = limb_segments()[0][0][0], limb_segments()[0][-1][1]
    assert torch.allclose(samples[:, 0, 0], points[:, first])
    assert torch.allclose(samples[:, 0, -1], points[:, last])


def test_points_outside_the_volume_or_not_valid_are_left_out() -> None:
    points = _points(1, 41)
    logits = torch.randn(1, 41, 4, 8, 8)
    valid = torch.ones(1, 41, dtype=torch.bool)
    base = heatmap_loss(logits, points, valid, TINY)
    far = points.clone()
    far[0, 5] = torch.tensor([3.0, 0.0, 0.0])
    assert not bool(inside_volume(far, 1.25)[0, 5])
    masked = valid.clone()
    masked[0, 5] = False
    assert torch.allclose(
        heatmap_loss(logits, far, valid, TINY), heatmap_loss(logits, points, masked, TINY)
    )
    assert not torch.allclose(base, heatmap_loss(logits, points, masked, TINY))


def test_loss_refuses_targets_of_the_wrong_shape() -> None:
    model = build_image_model(TINY)
    outputs = model(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="targets must be"):
        model.loss(outputs, torch.zeros(2, 23, 3), torch.ones(2, 23, dtype=torch.bool))


# ----------------------------------------------------------------------------- optimisation
@pytest.mark.parametrize(
    "config",
    [
        TINY,
        ImageModelConfig(**{**TINY.to_dict(), "limbs": True}),
        ImageModelConfig(architecture="alexnet", features=16, input_size=64, landmarks=False),
        ImageModelConfig(architecture="mobilenet", features=16, input_size=32, depth_bins=4),
    ],
    ids=["shn", "shn_limbs", "alexnet", "mobilenet"],
)
def test_a_few_steps_reduce_the_loss_on_a_fixed_batch(config: ImageModelConfig) -> None:
    torch.manual_seed(0)
    model = build_image_model(config)
    size = config.input_size
    images = torch.rand(4, 3, size, size, generator=torch.Generator().manual_seed(1))
    points = _points(4, config.num_points, seed=2)
    valid = torch.ones(4, config.num_points, dtype=torch.bool)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, errors = [], []
    for _ in range(12):
        loss, parts = model.loss(model(images), points, valid, coordinate_weight=1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        errors.append(parts["mpjpe_mm"])
    # the cross-entropy's floor is the targets' entropy, not 0: compare against the start
    assert losses[-1] < losses[0] - 0.02 * abs(losses[0])
    assert errors[-1] < errors[0]


def test_the_table5_benchmark_times_a_config() -> None:
    from smplr.benchmarks.image_model import run, time_config

    row = time_config(TINY, batch=2, repeats=1)
    assert row.keys() == {
        "params_m",
        "train",
        "test",
        "test1",
        "train_cpu",
        "test_cpu",
        "test1_cpu",
    }
    assert all(value > 0 for value in row.values())
    with pytest.raises(ValueError, match="unknown image configs"):
        run(("huge",))


# ----------------------------------------------------------------------------- MobileNetV2
MOBILE = ImageModelConfig(architecture="mobilenet", features=16, input_size=64, depth_bins=4)


def test_mobilenet_outputs_the_shn_volume_and_takes_limbs() -> None:
    model = build_image_model(ImageModelConfig(**{**MOBILE.to_dict(), "limbs": True})).eval()
    outputs = model(torch.rand(2, 3, 64, 64))
    assert len(outputs) == 1 and outputs[0].shape == (2, 45, 4, 16, 16)
    assert model.points(outputs).shape == (2, 41, 3)


def _torchvision_like_file(path, corrupt: bool = False) -> dict[str, torch.Tensor]:
    """A file laid out as torchvision's MobileNetV2 ImageNet weights (random values)."""
    torch.manual_seed(3)
    features = mobilenet_v2_features().state_dict()
    state = {f"features.{k}": torch.randn_like(v.float()).to(v.dtype) for k, v in features.items()}
    state["features.18.0.weight"] = torch.zeros(1280, 320, 1, 1)
    state["classifier.1.weight"] = torch.zeros(1000, 1280)
    if corrupt:
        state["features.3.conv.0.0.weight"] = torch.zeros(5, 5)
    torch.save(state, path)
    return state


def test_imagenet_initialisation_loads_the_encoder_only(tmp_path) -> None:
    state = _torchvision_like_file(tmp_path / "mobilenet_v2.pth")
    start = imagenet_start(MOBILE, tmp_path / "mobilenet_v2.pth")
    fresh = build_image_model(MOBILE).state_dict()
    assert set(start) == set(fresh)
    for name, tensor in state.items():
        if name.startswith("features.") and not name.startswith("features.18."):
            assert torch.equal(
                start[f"backbone.{name}"], tensor.to(start[f"backbone.{name}"].dtype)
            )
    model = build_image_model(MOBILE)
    model.load_state_dict(start)  # loads whole: the decoder keeps its fresh initialisation
    assert start["backbone.head.weight"].shape == fresh["backbone.head.weight"].shape


def test_imagenet_initialisation_refuses_other_files(tmp_path) -> None:
    _torchvision_like_file(tmp_path / "bad.pth", corrupt=True)
    with pytest.raises(ValueError, match="not torchvision's MobileNetV2"):
        imagenet_encoder_state(tmp_path / "bad.pth")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(ValueError, match="not a readable weights file"):
        imagenet_encoder_state(tmp_path / "text.pth")
    with pytest.raises(ValueError, match="not found"):
        imagenet_encoder_state(tmp_path / "missing.pth")


# ----------------------------------------------------------------------------- factorised heads
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 5), h=st.integers(1, 4), w=st.integers(1, 4))
def test_factorised_volumes_are_distributions_and_reach_any_volume(seed, d, h, w) -> None:
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(1, 1, d, h, w, generator=g, dtype=torch.float64) + 0.01
    target = target / target.sum()
    plane = target.sum(dim=2)  # p(h, w)
    depth = target / plane[:, :, None]  # p(d | h, w)
    raw = torch.cat([plane.log()[:, :, None], depth.log()], dim=2).reshape(1, d + 1, h, w)
    logits = volume_logits(raw, d, factorised=True)
    assert torch.allclose(logits.exp(), target, atol=1e-12)  # exactly that volume
    noise = torch.randn(2, 3 * (d + 1), h, w, generator=g, dtype=torch.float64)
    sums = volume_logits(noise, d, factorised=True).exp().sum(dim=(2, 3, 4))
    assert torch.allclose(sums, torch.ones_like(sums))


def test_factorised_heads_give_the_same_volumes_to_the_loss() -> None:
    for architecture in ("shn", "mobilenet"):
        config = ImageModelConfig(
            architecture=architecture, stacks=2, features=16, input_size=64, depth_bins=4,
            hourglass_depth=2, factorised=True, limbs=True,
        )  # fmt: skip
        model = build_image_model(config).eval()
        outputs = model(torch.rand(2, 3, 64, 64))
        assert outputs[-1].shape == (2, 45, 4, 16, 16)
        assert config.head_channels == 45 * 5
        loss, _ = model.loss(outputs, _points(2, 41), torch.ones(2, 41, dtype=torch.bool))
        assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="not a multiple of 5"):
        volume_logits(torch.zeros(1, 7, 2, 2), 4, factorised=True)
