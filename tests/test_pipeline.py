"""SMPLR.fit end to end (untrained tiny networks on a fake body model) and weight bundles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.bundles import tiny_fake_bundle
from helpers.fakes import fake_gendered, random_params
from smplr import SMPLR
from smplr.networks import NetworkConfig
from smplr.refine import FitPrior
from smplr.weights import load_bundle, save_bundle


@pytest.fixture(scope="module")
def model() -> SMPLR:
    return SMPLR.from_bundle(tiny_fake_bundle(), fake_gendered())


@pytest.fixture(scope="module")
def truth():
    body = fake_gendered()
    p = random_params(5, torch.Generator().manual_seed(11))
    out = body(p["gender"], p["betas"], p["rotations"][:, :1], p["rotations"][:, 1:])
    return out


def test_fit_returns_every_field_with_its_shape(model: SMPLR, truth) -> None:
    result = model.fit(truth.jl.numpy())
    n, v = 5, model.body.female.num_vertices
    expected = {
        "betas": (n, 10),
        "gender": (n,),
        "global_orient": (n, 3),
        "body_pose": (n, 69),
        "transl": (n, 3),
        "joints": (n, 24, 3),
        "landmarks": (n, 18, 3),
        "vertices": (n, v, 3),
        "scale": (n,),
        "denoised": (n, 42, 3),
    }
    assert {k: tuple(a.shape) for k, a in result.numpy().items()} == expected
    assert bool((result.gender.abs() <= 1).all())


def test_output_parameters_reproduce_the_output_mesh(model: SMPLR, truth) -> None:
    result = model.fit(truth.jl, refine=2)
    again = model.body(
        result.gender, result.betas, result.global_orient, result.body_pose, result.transl
    )
    torch.testing.assert_close(again.vertices, result.vertices, atol=1e-5, rtol=0)
    torch.testing.assert_close(again.joints, result.joints, atol=1e-5, rtol=0)


def test_output_follows_the_input_root(model: SMPLR, truth) -> None:
    result = model.fit(truth.jl)
    torch.testing.assert_close(result.joints[:, 0], truth.jl[:, 0], atol=1e-5, rtol=0)
    shift = torch.tensor([0.3, -1.0, 2.5])
    moved = model.fit(truth.jl + shift)
    torch.testing.assert_close(moved.vertices, result.vertices + shift, atol=1e-5, rtol=0)
    torch.testing.assert_close(moved.body_pose, result.body_pose)


def test_single_body_and_batching_agree(model: SMPLR, truth) -> None:
    whole = model.fit(truth.jl)
    one = model.fit(truth.jl[2].numpy())
    torch.testing.assert_close(one.vertices[0], whole.vertices[2], atol=1e-5, rtol=0)
    chunked = model.fit(truth.jl, batch_size=2)
    torch.testing.assert_close(chunked.joints, whole.joints, atol=1e-5, rtol=0)


@pytest.mark.parametrize("input_format", ["jl42", "joints24", "2d"])
def test_refine_moves_the_body_onto_the_input(model: SMPLR, truth, input_format: str) -> None:
    points = {"jl42": truth.jl, "joints24": truth.joints, "2d": truth.jl[..., :2]}[input_format]
    count = 24 if input_format == "joints24" else 42
    dims = 2 if input_format == "2d" else 3

    def error(result):
        pred = torch.cat([result.joints, result.landmarks], 1)[:, :count, :dims]
        return float((pred - points).norm(dim=-1).mean())

    # the fake poses ignore the joint limits: refine without that prior
    no_limits = FitPrior(limit_weight=0.0)
    assert error(model.fit(points, input_format, refine=8, prior=no_limits)) < 0.5 * error(
        model.fit(points, input_format)
    )


def test_procrustes_aligns_onto_the_input_and_keeps_the_parameters_consistent(
    model: SMPLR, truth
) -> None:
    plain = model.fit(truth.jl)
    aligned = model.fit(truth.jl, procrustes=True)
    err = lambda r: float((torch.cat([r.joints, r.landmarks], 1) - truth.jl).norm(dim=-1).mean())  # noqa: E731
    assert err(aligned) < err(plain)
    assert not torch.allclose(aligned.scale, torch.ones(5))
    body = model.body(
        aligned.gender, aligned.betas, aligned.global_orient, aligned.body_pose, aligned.transl
    )
    root = body.joints[:, :1]
    rebuilt = aligned.scale[:, None, None] * (body.vertices - root) + root
    torch.testing.assert_close(rebuilt, aligned.vertices, atol=1e-5, rtol=0)


def test_without_vertices_and_without_dae(model: SMPLR, truth) -> None:
    lean = model.fit(truth.jl, return_vertices=False, use_dae=False)
    assert lean.vertices is None and "vertices" not in lean.numpy()
    torch.testing.assert_close(lean.denoised, truth.jl - truth.jl[:, :1])
    full = model.fit(truth.jl, use_dae=False)
    torch.testing.assert_close(lean.joints, full.joints, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("points", "kwargs", "message"),
    [
        (np.zeros((2, 41, 3)), {}, r"jl42 input must have shape \(N, 42, 3\)"),
        (np.zeros((2, 42, 3)), {"input_format": "2d"}, r"2d input must have shape \(N, 42, 2\)"),
        (np.zeros((2, 42, 2)), {}, r"jl42 input must have shape"),
        (np.zeros((2, 42, 3)), {}, "all points are identical"),
        (np.zeros((0, 42, 3)), {}, "no bodies"),
        (np.zeros((2, 42, 3)), {"input_format": "smpl"}, "unknown input format 'smpl'"),
        (np.zeros((2, 24, 3)), {"input_format": "joints24", "use_dae": False}, "needs the DAE"),
        (np.zeros((2, 42, 3)), {"refine": -1}, "refine must be"),
    ],
)
def test_bad_input_is_refused(model: SMPLR, points, kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model.fit(points, **kwargs)


def test_nan_input_names_the_body(model: SMPLR, truth) -> None:
    points = truth.jl.clone()
    points[3, 7, 1] = float("nan")
    with pytest.raises(ValueError, match="body 3 of the input contains NaN"):
        model.fit(points)


def test_bundle_round_trip_in_half_precision(tmp_path, truth) -> None:
    bundle = tiny_fake_bundle(1)
    path = save_bundle(bundle, tmp_path / "w.pt", half=True)
    loaded = load_bundle(path)
    for name, state in bundle.networks.items():
        for key, value in state.items():
            assert loaded.networks[name][key].dtype == value.dtype
            if value.is_floating_point():
                torch.testing.assert_close(loaded.networks[name][key], value, atol=2e-3, rtol=1e-3)
    full = SMPLR.from_bundle(bundle, fake_gendered()).fit(truth.jl)
    half = SMPLR.from_bundle(path, fake_gendered()).fit(truth.jl)
    assert float((full.vertices - half.vertices).norm(dim=-1).mean()) < 5e-3


def test_damaged_bundles_give_one_line_errors(tmp_path) -> None:
    path = save_bundle(tiny_fake_bundle(), tmp_path / "w.pt")
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable SMPLR weight file"):
        load_bundle(tmp_path / "cut.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a SMPLR weight file"):
        load_bundle(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="not found"):
        load_bundle(tmp_path / "missing.pt")
    bundle = tiny_fake_bundle()
    bundle.network_config = NetworkConfig((32, 32, 16), (64, 64, 16), 8)
    with pytest.raises(ValueError, match="does not match its own config"):
        SMPLR.from_bundle(bundle, fake_gendered())
    save_bundle(bundle, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match=r"mismatch\.pt: network 'pose' does not match its config"):
        load_bundle(tmp_path / "mismatch.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["head_width"] = "wide"
    torch.save(payload, tmp_path / "badconfig.pt")
    with pytest.raises(ValueError, match=r"badconfig\.pt: network widths must be positive"):
        load_bundle(tmp_path / "badconfig.pt")
    payload = torch.load(path, weights_only=True)
    payload["template_lengths"] = payload["template_lengths"][:40]
    torch.save(payload, tmp_path / "lengths.pt")
    with pytest.raises(ValueError, match=r"lengths\.pt: template_lengths must be a \(41,\) tensor"):
        load_bundle(tmp_path / "lengths.pt")


def test_shipped_bundle_loads_with_its_typed_config() -> None:
    from smplr.weights import shipped_path

    bundle = load_bundle(shipped_path())
    assert bundle.network_config == NetworkConfig()
    assert bundle.body_model == "open"


def test_results_plug_into_the_evaluation_harness(model: SMPLR, truth) -> None:
    from smplr.evaluation.predictor import FitPredictor, PredictorInputs

    prediction = FitPredictor(model).predict(
        PredictorInputs(samples=[], jl=truth.jl.double().numpy())
    )
    assert prediction.joints.shape == (5, 24, 3) and prediction.vertices.shape == (5, 240, 3)
    result = model.fit(truth.jl, return_vertices=False)
    assert "joints" in result and "vertices" not in result and result.get("faces") is None
    with pytest.raises(KeyError):
        result["faces"]
