"""The JL-only body model and the Levenberg-Marquardt fitter (refine, baseline)."""

from __future__ import annotations

import itertools

import pytest
import torch

from helpers.fakes import fake_gendered, random_params
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.refine import (
    BodyParams,
    FitPrior,
    fit_bodies,
    fit_from_rest,
    point_weights,
)

# The fake model's random poses ignore the joint limits: test the LM machinery itself.
LM_ONLY = FitPrior(0.0005, 0.0005, limit_weight=0.0, robust_scale=None)


@pytest.fixture(scope="module")
def bodies():
    full = fake_gendered(torch.float64)
    return full, full.jl_model()


def _truth(full, batch: int, seed: int):
    p = random_params(batch, torch.Generator().manual_seed(seed), torch.float64)
    out = full(p["gender"], p["betas"], p["rotations"][:, :1], p["rotations"][:, 1:])
    return p, out


def jl_error_mm(jl_body, gender, params: BodyParams, target: torch.Tensor) -> torch.Tensor:
    rot = params.rotations
    out = jl_body(gender, params.betas, rot[:, :1], rot[:, 1:], params.transl)
    return (out.jl - target).norm(dim=-1).mean(dim=1) * 1000


def test_jl_only_model_equals_the_full_model(bodies) -> None:
    full, jl_body = bodies
    p, out = _truth(full, 6, 0)
    small = jl_body(p["gender"], p["betas"], p["rotations"][:, :1], p["rotations"][:, 1:])
    torch.testing.assert_close(small.jl, out.jl)
    assert full.female.v_template.shape[0] == 240  # the source model is untouched


def test_refine_converges_from_a_perturbed_start(bodies) -> None:
    full, jl_body = bodies
    p, out = _truth(full, 8, 1)
    g = torch.Generator().manual_seed(2)
    noise = 0.15 * torch.randn(8, 24, 3, generator=g, dtype=torch.float64)
    start = BodyParams(
        p["rotations"] @ axis_angle_to_matrix(noise),
        p["betas"] + 0.5 * torch.randn(8, 10, generator=g, dtype=torch.float64),
        0.05 * torch.randn(8, 3, generator=g, dtype=torch.float64),
    )
    before = jl_error_mm(jl_body, p["gender"], start, out.jl)
    fitted = fit_bodies(jl_body, out.jl, p["gender"], start, steps=15, prior=LM_ONLY)
    after = jl_error_mm(jl_body, p["gender"], fitted.params, out.jl)
    assert before.mean() > 30
    assert after.max() < 1.0
    rot = fitted.params.rotations
    eye = torch.eye(3, dtype=torch.float64).expand_as(rot)
    torch.testing.assert_close(rot.transpose(-1, -2) @ rot, eye)


def test_refine_converges_on_every_dtype_and_device(bodies, dtype, device) -> None:
    full, _ = bodies
    p, out = _truth(full, 4, 11)
    jl_body = fake_gendered(dtype).jl_model().to(device)
    cast = lambda t: t.to(device, dtype)  # noqa: E731
    g = torch.Generator().manual_seed(12)
    noise = 0.15 * torch.randn(4, 24, 3, generator=g, dtype=torch.float64)
    start = BodyParams(
        cast(p["rotations"] @ axis_angle_to_matrix(noise)),
        cast(p["betas"] + 0.5 * torch.randn(4, 10, generator=g, dtype=torch.float64)),
        cast(torch.zeros(4, 3, dtype=torch.float64)),
    )
    gender, target = cast(p["gender"]), cast(out.jl)
    before = jl_error_mm(jl_body, gender, start, target)
    fitted = fit_bodies(
        jl_body,
        target,
        gender,
        start,
        steps=15,
        prior=FitPrior(0.0005, 0.0005, limit_weight=0.0, robust_scale=None),
    )
    after = jl_error_mm(jl_body, gender, fitted.params, target)
    assert fitted.params.rotations.dtype == dtype
    assert fitted.params.rotations.device.type == device.type
    assert before.mean() > 30
    assert after.max() < (2.0 if dtype == torch.float32 else 1.0), after


def test_zero_steps_return_the_start(bodies) -> None:
    full, jl_body = bodies
    p, out = _truth(full, 3, 3)
    start = BodyParams(p["rotations"], p["betas"], torch.zeros(3, 3, dtype=torch.float64))
    fitted = fit_bodies(jl_body, out.jl, p["gender"], start, steps=0)
    torch.testing.assert_close(fitted.params.rotations, start.rotations)


def test_cost_never_increases(bodies) -> None:
    full, jl_body = bodies
    p, out = _truth(full, 4, 4)
    start = BodyParams(
        torch.eye(3, dtype=torch.float64).expand(4, 24, 3, 3).clone(),
        torch.zeros(4, 10, dtype=torch.float64),
        torch.zeros(4, 3, dtype=torch.float64),
    )
    costs = [fit_bodies(jl_body, out.jl, p["gender"], start, steps=k).cost for k in (0, 1, 3, 6)]
    for a, b in itertools.pairwise(costs):
        assert bool((b <= a + 1e-15).all())


def test_bodies_in_a_batch_do_not_interact(bodies) -> None:
    full, jl_body = bodies
    p, out = _truth(full, 4, 5)
    start = BodyParams(
        p["rotations"] @ axis_angle_to_matrix(0.1 * torch.ones(4, 24, 3, dtype=torch.float64)),
        torch.zeros(4, 10, dtype=torch.float64),
        torch.zeros(4, 3, dtype=torch.float64),
    )
    together = fit_bodies(jl_body, out.jl, p["gender"], start, steps=4).params
    alone = fit_bodies(
        jl_body,
        out.jl[2:3],
        p["gender"][2:3],
        BodyParams(*(t[2:3] for t in vars(start).values())),
        steps=4,
    ).params
    torch.testing.assert_close(together.rotations[2:3], alone.rotations)
    torch.testing.assert_close(together.betas[2:3], alone.betas)


def test_masked_points_are_ignored(bodies) -> None:
    full, jl_body = bodies
    p, out = _truth(full, 3, 6)
    start = BodyParams(
        p["rotations"] @ axis_angle_to_matrix(0.1 * torch.ones(3, 24, 3, dtype=torch.float64)),
        torch.zeros(3, 10, dtype=torch.float64),
        torch.zeros(3, 3, dtype=torch.float64),
    )
    weights = point_weights(out.jl, "joints24")
    garbage = out.jl.clone()
    garbage[:, 24:] += 5.0
    a = fit_bodies(jl_body, out.jl, p["gender"], start, 3, weights).params
    b = fit_bodies(jl_body, garbage, p["gender"], start, 3, weights).params
    torch.testing.assert_close(a.rotations, b.rotations)
    flat = point_weights(out.jl, "2d")
    assert bool((flat[..., 2] == 0).all()) and bool((flat[..., :2] == 1).all())
    with pytest.raises(ValueError, match="unknown observation"):
        point_weights(out.jl, "3d")


def test_baseline_from_rest_fits_and_picks_the_gender(bodies) -> None:
    full, jl_body = bodies
    p = random_params(6, torch.Generator().manual_seed(7), torch.float64)
    # the baseline starts from the rest pose: keep poses moderate so LM can get there
    rotations = axis_angle_to_matrix(
        0.3 * torch.randn(6, 24, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    )
    out = full(p["gender"], p["betas"], rotations[:, :1], rotations[:, 1:])
    fitted, gender = fit_from_rest(jl_body, out.jl, steps=25, prior=LM_ONLY)
    error = jl_error_mm(jl_body, gender, fitted.params, out.jl)
    assert float(error.median()) < 2.0
    assert float((gender == p["gender"]).double().mean()) >= 5 / 6
    # Its own priors (the default) must not stall it far from the targets.
    fitted, gender = fit_from_rest(jl_body, out.jl, steps=25)
    error = jl_error_mm(jl_body, gender, fitted.params, out.jl)
    assert float(error.median()) < 10.0


def test_bad_arguments(bodies) -> None:
    _, jl_body = bodies
    start = BodyParams(torch.eye(3).expand(1, 24, 3, 3), torch.zeros(1, 10), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="targets have shape"):
        fit_bodies(jl_body, torch.zeros(1, 24, 3), torch.ones(1), start, 1)
    for steps in (-1, 1001, 99999999999999999999, 2.5, True):
        with pytest.raises(ValueError, match=r"steps must be an integer in 0\.\.1000"):
            fit_bodies(jl_body, torch.zeros(1, 42, 3), torch.ones(1), start, steps)
