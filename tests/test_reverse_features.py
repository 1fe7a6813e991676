"""Features N (Eq. 1) and B (Eqs. 2-3): properties, gradients, degenerate input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.fakes import fake_body, fake_gendered
from smplr.body.skeleton import JL_PARENTS
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.reverse.features import (
    bone_lengths,
    bone_vectors,
    relative_directions,
    relative_distances,
    template_bone_lengths,
)


def _random_jl(
    seed: int,
    batch: int = 3,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 42, 3, generator=g, dtype=torch.float64).to(device, dtype)


def _close(dtype: torch.dtype) -> dict[str, float]:
    return {"atol": 1e-4 if dtype == torch.float32 else 1e-10, "rtol": 0.0}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.05, 5.0))
def test_directions_are_unit_vectors_along_the_bones(
    seed: int, scale: float, dtype: torch.dtype, device: torch.device
) -> None:
    jl = scale * _random_jl(seed, dtype=dtype, device=device)
    n = relative_directions(jl)
    assert n.shape == (3, 41, 3) and n.dtype == dtype and n.device.type == device.type
    ones = torch.ones(3, 41, dtype=dtype, device=device)
    torch.testing.assert_close(n.norm(dim=-1), ones, **_close(dtype))
    # each direction is parallel to its bone JL_i - JL_kappa(i), pointing the same way
    for i in (1, 7, 24, 41):
        bone = jl[:, i] - jl[:, JL_PARENTS[i]]
        torch.testing.assert_close(
            n[:, i - 1] * bone.norm(dim=-1, keepdim=True), bone, **_close(dtype)
        )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.lists(st.floats(-10, 10), min_size=3, max_size=3))
def test_features_ignore_translation(
    seed: int, shift: list[float], dtype: torch.dtype, device: torch.device
) -> None:
    jl = _random_jl(seed, dtype=dtype, device=device)
    moved = jl + torch.tensor(shift, dtype=dtype, device=device)
    template = 0.5 + torch.rand(41, dtype=dtype).to(device)
    # float32 loses ~1e-6 of the shift; bones of random JL are rarely shorter than 1e-2
    close = {"atol": 1e-2, "rtol": 0.0} if dtype == torch.float32 else _close(dtype)
    torch.testing.assert_close(relative_directions(moved), relative_directions(jl), **close)
    torch.testing.assert_close(
        relative_distances(moved, template), relative_distances(jl, template), **_close(dtype)
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_distances_ignore_rotation_and_directions_rotate_with_the_body(seed: int) -> None:
    jl = _random_jl(seed)
    rot = axis_angle_to_matrix(
        torch.randn(3, 3, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    )
    turned = jl @ rot.transpose(1, 2)
    torch.testing.assert_close(bone_lengths(turned), bone_lengths(jl))
    torch.testing.assert_close(
        relative_directions(turned), relative_directions(jl) @ rot.transpose(1, 2)
    )


def test_distances_are_zero_on_the_template_and_not_elsewhere() -> None:
    body = fake_body(1, "female", torch.float64)
    template = template_bone_lengths(body)
    rest = body(betas=torch.zeros(1, 10, dtype=torch.float64)).jl
    torch.testing.assert_close(
        relative_distances(rest, template), torch.zeros(1, 41, dtype=torch.float64)
    )
    # posing moves no joint-to-joint length (rigid bones), reshaping does
    posed = body(body_pose=0.4 * torch.ones(1, 69, dtype=torch.float64)).jl
    assert relative_distances(posed, template)[0, :23].abs().max() < 1e-9
    shaped = body(betas=torch.ones(1, 10, dtype=torch.float64)).jl
    assert relative_distances(shaped, template).abs().max() > 1e-3


def test_gendered_template_averages_both_genders() -> None:
    pair = fake_gendered(torch.float64)
    expected = (template_bone_lengths(pair.female) + template_bone_lengths(pair.male)) / 2
    torch.testing.assert_close(template_bone_lengths(pair), expected)


def test_feature_gradients_match_finite_differences() -> None:
    jl = _random_jl(3, batch=2).requires_grad_(True)
    template = torch.rand(41, dtype=torch.float64)
    assert torch.autograd.gradcheck(relative_directions, (jl,))
    assert torch.autograd.gradcheck(lambda x: relative_distances(x, template), (jl,))


def test_all_zero_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="all-zero"):
        relative_directions(torch.zeros(2, 42, 3))


def test_coincident_points_name_the_bone() -> None:
    jl = _random_jl(0)
    jl[1, 20] = jl[1, 18]  # left wrist on the left elbow
    with pytest.raises(
        ValueError, match=r"sample 1: points 20 \(left_wrist\) and 18 \(left_elbow\)"
    ):
        relative_directions(jl)


@pytest.mark.parametrize("shape", [(42, 3), (2, 41, 3), (2, 42, 2)])
def test_wrong_shapes_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="expected"):
        bone_vectors(torch.ones(shape))
    with pytest.raises(ValueError, match="template_lengths"):
        relative_distances(_random_jl(0), torch.ones(40, dtype=torch.float64))
