"""Keypoints in the wrong units, frame or sides are reported, normal ones are not."""

from __future__ import annotations

import warnings

import pytest
import torch

from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JL_MIRROR, NUM_JOINTS
from smplr.geometry.projection import random_view_2d
from smplr.keypoint_checks import KeypointWarning, check_keypoints
from smplr.pipeline import SMPLR
from smplr.reverse.features import template_bone_lengths
from smplr.synthetic.bodies import held_out_set
from smplr.synthetic.noise import bounded_uniform_noise, gaussian_noise, structured_noise


@pytest.fixture(scope="module")
def body() -> GenderedBodyModel:
    return GenderedBodyModel.open()


@pytest.fixture(scope="module")
def template(body) -> torch.Tensor:
    return template_bone_lengths(body).double()


@pytest.fixture(scope="module")
def jl(body) -> torch.Tensor:
    return held_out_set(body, num=300, seed=8).jl.double()


def _inputs(jl: torch.Tensor) -> dict[str, tuple[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    out = {}
    for name, noise in (
        ("gaussian", gaussian_noise),
        ("uniform", bounded_uniform_noise),
        ("structured", structured_noise),
    ):
        noisy = noise(jl, generator)
        out[f"jl42/{name}"] = ("jl42", noisy)
        out[f"joints24/{name}"] = ("joints24", noisy[:, :NUM_JOINTS])
        out[f"2d/{name}"] = ("2d", random_view_2d(noisy, generator)[1][..., :2])
    return out


def test_normal_noisy_inputs_are_not_flagged(jl, template) -> None:
    for name, (fmt, points) in _inputs(jl).items():
        with warnings.catch_warnings():
            warnings.simplefilter("error", KeypointWarning)
            check_keypoints(
                points + torch.tensor([3.0, -1.0, 2.0])[: points.shape[2]], fmt, template
            )
        assert name


@pytest.mark.parametrize("fmt", ["jl42", "joints24", "2d"])
def test_millimetres_raise_naming_the_body_and_the_fix(jl, template, fmt) -> None:
    points = _inputs(jl[:4])[f"{fmt}/gaussian"][1].clone()
    points[2] *= 1000
    with pytest.raises(ValueError, match=r"^body 2: .*looks like millimetres; divide by 1000"):
        check_keypoints(points, fmt, template)


@pytest.mark.parametrize("factor", [1e-4, 1e-9])
def test_collapsed_or_scaled_down_points_raise(jl, template, factor) -> None:
    points = jl[:3].clone()
    points[1] *= factor
    with pytest.raises(ValueError, match=r"^body 1: .*scaled down or collapsed"):
        check_keypoints(points, "jl42", template)


def test_z_up_frame_warns_with_the_rotation(jl, template) -> None:
    standing = jl[:50]
    z_up = torch.stack([standing[..., 0], -standing[..., 2], standing[..., 1]], -1)
    with pytest.warns(KeypointWarning, match=r"standing along \+z.*z-up frame.*\(x, z, -y\)"):
        check_keypoints(z_up, "jl42", template)
    with pytest.warns(KeypointWarning, match="upside down"):
        check_keypoints(-standing[..., :2], "2d", template)


def test_mirrored_skeleton_warns_naming_the_body(jl, template) -> None:
    points = jl[:6].clone()
    points[4] = points[4, list(JL_MIRROR)]
    with pytest.warns(KeypointWarning, match=r"^body 4: left and right look swapped"):
        check_keypoints(points, "jl42", template)


def test_far_away_points_are_fitted_root_relative_and_warned() -> None:
    model = SMPLR.pretrained()
    points = held_out_set(model.body, num=2, seed=5).jl.double()
    near = model.fit(points, return_vertices=False)
    with pytest.warns(KeypointWarning, match=r"bodies 0, 1: up to 1e\+06 m from the origin"):
        far = model.fit(points + 1e6, return_vertices=False)
    torch.testing.assert_close(far.betas, near.betas)
    torch.testing.assert_close(far.body_pose, near.body_pose)
    with pytest.raises(ValueError, match="millimetres"):
        model.fit(points * 1000)
