"""The input-format registry and the network config / factory."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from smplr.input_formats import INPUT_FORMATS, JL_FORMATS, check_points_shape, dae_input
from smplr.networks import NETWORK_NAMES, NetworkConfig, build_networks
from smplr.training.stages import RECIPE, STAGES

TINY = NetworkConfig(dae_widths=(16, 16, 8), widths=(16, 8), head_width=4)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(JL_FORMATS)), batch=st.integers(1, 4))
def test_dae_input_keeps_the_points_and_zero_fills_the_rest(name: str, batch: int) -> None:
    fmt = INPUT_FORMATS[name]
    points = torch.randn(batch, *fmt.shape)
    check_points_shape(tuple(points.shape), name)
    check_points_shape(tuple(points.shape[1:]), name)
    full = dae_input(points, name)
    assert full.shape == (batch, 42, 3)
    torch.testing.assert_close(full[:, : fmt.points, : fmt.dims], points, rtol=0, atol=0)
    assert float(full.abs().sum()) == pytest.approx(float(points.abs().sum()))


def test_wrong_shapes_name_the_formats_that_fit() -> None:
    with pytest.raises(ValueError, match=r"got \(5, 24, 3\); use input format joints24 or smpl24$"):
        check_points_shape((5, 24, 3), "jl42")
    with pytest.raises(ValueError, match=r"got \(42, 3\); use input format jl42$"):
        check_points_shape((42, 3), "2d")
    with pytest.raises(ValueError, match=r"got \(7, 3\)$"):
        check_points_shape((7, 3), "jl42")


def test_every_format_has_a_network_and_a_stage_in_the_recipe() -> None:
    for fmt in INPUT_FORMATS.values():
        assert fmt.network in NETWORK_NAMES and fmt.network in RECIPE and fmt.network in STAGES
    assert set(build_networks(TINY)) == set(NETWORK_NAMES)


def test_config_round_trips_and_rejects_bad_dicts() -> None:
    assert NetworkConfig.from_dict(TINY.to_dict()) == TINY
    assert (
        NetworkConfig.from_dict(
            {k: list(v) if isinstance(v, tuple) else v for k, v in TINY.to_dict().items()}
        )
        == TINY
    )
    with pytest.raises(ValueError, match=r"unknown keys \['depth'\]"):
        NetworkConfig.from_dict({**TINY.to_dict(), "depth": 3})
    with pytest.raises(ValueError, match=r"lacks \['head_width'\]"):
        NetworkConfig.from_dict({"dae_widths": (1, 1, 1), "widths": (1,)})
    with pytest.raises(ValueError, match="three DAE widths"):
        NetworkConfig(dae_widths=(8, 8), widths=(8,), head_width=4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown network 'dae_3d'"):
        build_networks(TINY, ("dae_3d",))
