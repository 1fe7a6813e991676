"""smplr.geometry.rotations on float32 and float64, CPU and CUDA: every output is a
rotation, the conversions invert each other, and pose layouts agree."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from smplr.geometry.rotations import (
    axis_angle_to_matrix,
    axis_rotation,
    matrix_to_axis_angle,
    pose_to_matrices,
    project_to_so3,
    sixd_to_matrix,
)

seeds = st.integers(0, 2**31 - 1)


def _tolerance(dtype: torch.dtype) -> float:
    return 1e-5 if dtype == torch.float32 else 1e-12


def _random(shape: tuple[int, ...], seed: int, dtype, device) -> torch.Tensor:
    values = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return values.to(device, dtype)


def _assert_rotations(r: torch.Tensor, dtype: torch.dtype) -> None:
    eye = torch.eye(3, dtype=dtype, device=r.device).expand_as(r)
    tol = 10 * _tolerance(dtype)
    torch.testing.assert_close(r @ r.transpose(-1, -2), eye, atol=tol, rtol=0)
    torch.testing.assert_close(
        torch.linalg.det(r),
        torch.ones(r.shape[:-2], dtype=dtype, device=r.device),
        atol=tol,
        rtol=0,
    )


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_every_constructor_gives_rotations_of_the_input_dtype_and_device(
    seed: int, dtype: torch.dtype, device: torch.device
) -> None:
    made = {
        "axis-angle": axis_angle_to_matrix(3 * _random((6, 3), seed, dtype, device)),
        "SVD": project_to_so3(_random((6, 3, 3), seed, dtype, device)),
        "6D": sixd_to_matrix(_random((6, 6), seed, dtype, device)),
        "axis": axis_rotation(_random((6,), seed, dtype, device), seed % 3),
    }
    for name, r in made.items():
        assert r.shape == (6, 3, 3) and r.dtype == dtype and r.device.type == device.type, name
        _assert_rotations(r, dtype)


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_axis_angle_round_trip_below_a_half_turn(
    seed: int, dtype: torch.dtype, device: torch.device
) -> None:
    direction = torch.nn.functional.normalize(_random((8, 3), seed, dtype, device), dim=-1)
    angle = torch.linspace(0.0, 3.0, 8, dtype=dtype, device=device)[:, None]  # below π
    rotvec = direction * angle
    back = matrix_to_axis_angle(axis_angle_to_matrix(rotvec))
    torch.testing.assert_close(back, rotvec, atol=100 * _tolerance(dtype), rtol=0)


def test_project_to_so3_keeps_rotations_and_is_nearest(dtype, device) -> None:
    rotations = axis_angle_to_matrix(_random((5, 3), 1, dtype, device))
    tol = 10 * _tolerance(dtype)
    torch.testing.assert_close(project_to_so3(rotations), rotations, atol=tol, rtol=0)
    noisy = rotations + 0.05 * _random((5, 3, 3), 2, dtype, device)
    nearest = project_to_so3(noisy)
    others = axis_angle_to_matrix(matrix_to_axis_angle(nearest) * 1.05)
    closest = (nearest - noisy).flatten(1).norm(dim=1)
    assert bool((closest <= (others - noisy).flatten(1).norm(dim=1) + tol).all())


def test_axis_rotation_is_right_handed(dtype, device) -> None:
    quarter = torch.tensor(math.pi / 2, dtype=dtype, device=device)
    unit = torch.eye(3, dtype=dtype, device=device)
    for axis in range(3):  # X: y -> z, Y: z -> x, Z: x -> y
        turned = axis_rotation(quarter, axis) @ unit[(axis + 1) % 3]
        torch.testing.assert_close(turned, unit[(axis + 2) % 3], atol=1e-6, rtol=0)


def test_pose_layouts_agree(dtype, device) -> None:
    rotvec = _random((2, 23, 3), 3, dtype, device)
    as_matrices = pose_to_matrices(rotvec.reshape(2, 69), 23, "body_pose")
    assert as_matrices.shape == (2, 23, 3, 3) and as_matrices.dtype == dtype
    torch.testing.assert_close(pose_to_matrices(rotvec, 23, "body_pose"), as_matrices)
    assert pose_to_matrices(as_matrices, 23, "body_pose") is as_matrices
    single = pose_to_matrices(as_matrices[:, 0], 1, "global_orient")
    assert single.shape == (2, 1, 3, 3)
    with pytest.raises(ValueError, match=r"body_pose has shape \(2, 68\); expected axis-angle"):
        pose_to_matrices(rotvec.reshape(2, 69)[:, :68], 23, "body_pose")
