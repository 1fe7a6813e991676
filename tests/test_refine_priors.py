"""The refinement's priors, robust loss, confidence weights, convergence stop and limits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.fakes import fake_gendered, random_params
from smplr.benchmarks.refine_priors import OLD_REFINE, mismatched_skeleton
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.input_formats import dae_input
from smplr.keypoint_checks import KeypointWarning
from smplr.pipeline import SMPLR
from smplr.refine import (
    NUM_PARAMS,
    BodyParams,
    FitPrior,
    _Problem,
    fit_bodies,
    point_confidence,
    point_weights,
    robust_residual,
)
from smplr.synthetic.bodies import held_out_set

vectors = st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=3, max_size=3).map(
    lambda v: torch.tensor(v, dtype=torch.float64)
)


@given(error=vectors, scale=st.floats(0.01, 1.0))
def test_robust_residual_is_huber(error: torch.Tensor, scale: float) -> None:
    norm = float(error.norm())
    huber = norm**2 if norm <= scale else 2 * scale * norm - scale**2
    value = float(robust_residual(error, scale).square().sum())
    assert math.isclose(value, huber, rel_tol=1e-9, abs_tol=1e-15)
    assert torch.equal(robust_residual(error, None), error)


@settings(deadline=None, max_examples=25)
@given(error=vectors, tangent=vectors, scale=st.floats(0.05, 1.0))
def test_robust_residual_derivative_matches_finite_differences(error, tangent, scale) -> None:
    if abs(float(error.norm()) - scale) < 1e-3:  # the kink of Huber's second derivative
        return
    _, exact = torch.func.jvp(lambda e: robust_residual(e, scale), (error,), (tangent,))
    step = 1e-6
    numeric = (
        robust_residual(error + step * tangent, scale)
        - robust_residual(error - step * tangent, scale)
    ) / (2 * step)
    torch.testing.assert_close(exact, numeric, atol=1e-6, rtol=1e-5)
    assert bool(torch.isfinite(exact).all())


def test_jacobian_of_every_term_matches_finite_differences() -> None:
    body = fake_gendered(torch.float64).jl_model()
    p = random_params(3, torch.Generator().manual_seed(3), torch.float64)
    rotations = p["rotations"]
    out = body(p["gender"], p["betas"], rotations[:, :1], rotations[:, 1:])
    targets = out.jl + 0.08 * torch.randn(
        out.jl.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    confidence = torch.rand(3, 42, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    prior = FitPrior(pose_weight=0.05, shape_weight=0.02, limit_weight=1.0, robust_scale=0.05)
    start = rotations @ axis_angle_to_matrix(0.2 * torch.ones(3, 24, 3, dtype=torch.float64))
    problem = _Problem(body.female, targets, torch.ones_like(targets), confidence, rotations, prior)
    params = torch.cat(
        [
            torch.zeros(3, 72, dtype=torch.float64),
            p["betas"],
            torch.zeros(3, 3, dtype=torch.float64),
        ],
        1,
    )
    jac = problem.jacobian(start, params)
    residual = problem.residuals(start, params)
    assert residual.shape[1] == 42 * 3 + 23 * 9 + 10 + 23
    assert float(problem.residuals(start, params)[:, -23:].abs().sum()) > 0  # limits active
    step = 1e-6
    for column in range(0, NUM_PARAMS, 7):
        delta = torch.zeros_like(params)
        delta[:, column] = step
        numeric = (
            problem.residuals(start, params + delta) - problem.residuals(start, params - delta)
        ) / (2 * step)
        torch.testing.assert_close(jac[..., column], numeric, atol=2e-5, rtol=1e-4)


@pytest.fixture(scope="module")
def smplr_model() -> SMPLR:
    return SMPLR.pretrained()


@pytest.fixture(scope="module")
def mismatched(smplr_model):
    batch = held_out_set(smplr_model.body, num=12, seed=31)
    rotations = torch.cat([batch.global_orient[:, None], batch.body_pose], 1).double()
    return mismatched_skeleton(batch.jl.double(), rotations)[:, :24]


def _refine(model: SMPLR, points: torch.Tensor, prior: FitPrior, steps: int = 10):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KeypointWarning)
        shot = model.fit(points, "joints24", return_vertices=False)
    rotations = axis_angle_to_matrix(
        torch.cat([shot.global_orient[:, None], shot.body_pose.reshape(len(points), -1, 3)], 1)
    )
    observed = dae_input(points.float(), "joints24").double()
    start = BodyParams(rotations, shot.betas, shot.transl)
    weights = point_weights(observed, "joints24")
    return fit_bodies(model.jl_body.double(), observed, shot.gender, start, steps, weights, prior)


def test_priors_keep_betas_bounded_on_mismatched_keypoints(smplr_model, mismatched) -> None:
    old = _refine(smplr_model, mismatched, OLD_REFINE)
    new = _refine(smplr_model, mismatched, FitPrior())
    assert float(old.params.betas.abs().amax()) > 6  # issue 11: monsters that match the points
    assert float(new.params.betas.abs().amax()) < 4


def test_refine_stops_once_converged(smplr_model, mismatched) -> None:
    fitted = _refine(smplr_model, mismatched[:6], FitPrior(), steps=200)
    assert int(fitted.iterations.max()) < 200
    again = _refine(smplr_model, mismatched[:6], FitPrior(), steps=int(fitted.iterations.max()))
    torch.testing.assert_close(again.params.betas, fitted.params.betas)
    never = _refine(smplr_model, mismatched[:6], FitPrior(tolerance=0.0), steps=15)
    assert int(never.iterations.min()) == 15  # tolerance 0 runs every step while it improves


def test_zero_confidence_points_are_ignored(smplr_model, mismatched) -> None:
    """From one start, a keypoint of confidence 0 has no influence on the fit at all (moving
    it half a metre changes nothing), while with confidence 1 it pulls the body towards it."""
    points = mismatched[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KeypointWarning)
        shot = smplr_model.fit(points, "joints24", return_vertices=False)
    rotations = axis_angle_to_matrix(
        torch.cat([shot.global_orient[:, None], shot.body_pose.reshape(len(points), -1, 3)], 1)
    )
    start = BodyParams(rotations, shot.betas, shot.transl)
    clean = dae_input(points.float(), "joints24").double()
    moved = clean.clone()
    moved[:, 20] += 0.5  # the left wrist half a metre off
    weights = point_weights(clean, "joints24")
    body = smplr_model.jl_body.double()
    zero = torch.ones(3, 42, dtype=torch.float64)
    zero[:, 20] = 0.0

    def fit(targets: torch.Tensor, confidence: torch.Tensor | None):
        result = fit_bodies(body, targets, shot.gender, start, 5, weights, confidence=confidence)
        return body(shot.gender, result.params.betas, *_split(result.params.rotations)).joints

    torch.testing.assert_close(fit(moved, zero), fit(clean, zero))
    reach = lambda joints: (joints[:, 20] - moved[:, 20]).norm(dim=-1)  # noqa: E731
    assert bool((reach(fit(moved, None)) < reach(fit(moved, zero)) - 0.005).all())


def _split(rotations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return rotations[:, :1], rotations[:, 1:]


def test_confidence_is_checked(smplr_model) -> None:
    assert point_confidence(np.ones(24), (1, 24)).shape == (1, 42)
    with pytest.raises(ValueError, match="confidence has shape"):
        point_confidence(np.ones((2, 23)), (2, 24))
    with pytest.raises(ValueError, match="finite and >= 0"):
        point_confidence(-np.ones((1, 42)), (1, 42))
    points = held_out_set(smplr_model.body, num=1, seed=3).jl
    with pytest.raises(ValueError, match="only the refinement"):
        smplr_model.fit(points, confidence=np.ones((1, 42)))


@pytest.mark.parametrize("refine", [-1, 1001, 99999999999999999999, 2.5, True])
def test_refine_out_of_range_is_a_one_line_error(smplr_model, refine) -> None:
    points = held_out_set(smplr_model.body, num=1, seed=3).jl
    with pytest.raises(ValueError, match=r"refine must be an integer in 0\.\.1000") as info:
        smplr_model.fit(points, refine=refine)
    assert "\n" not in str(info.value)
