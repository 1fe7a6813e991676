"""DAE_SHN (``smplr.training.image_dae``, ``smplr train image-dae``): pairs of an image
model's readings and the truth, mirrored consistently, cached, learnt, stored with the
image model and used by the evaluator and by ``smplr predict --keypoints shn``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.cli import run_smplr
from helpers.crops import write_crops
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JL_MIRROR, NUM_JL
from smplr.dae import DenoisingAutoencoder, denoise_array
from smplr.evaluation.images import ImageBodyPredictor, ImagePointsPredictor
from smplr.image_data.dataset import ImageShards
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.networks import build_networks
from smplr.pipeline import SMPLR
from smplr.predict import Predictor
from smplr.predict.image_route import ImageKeypoints
from smplr.synthetic.bodies import held_out_set
from smplr.training.image_dae import (
    ImageDAEContext,
    Readings,
    cached_readings,
    mirror_jl,
    mirror_some,
    read_crops,
    train_reading_dae,
)
from smplr.training.loop import TrainSettings
from smplr.weights import (
    ImageModelWeights,
    ReadingDAEWeights,
    load_bundle,
    load_image_weights,
    save_image_weights,
    shipped_path,
)

TINY = ImageModelConfig(stacks=1, features=8, input_size=32, depth_bins=4, hourglass_depth=1)
WIDTHS = (32, 32, 16)


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("data") / "crops"
    write_crops(out, 6, 5, 3)
    return out


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    return save_image_weights(ImageModelWeights(TINY, build_image_model(TINY).state_dict()), path)


def _jl(n: int, seed: int = 0) -> torch.Tensor:
    jl = torch.randn(n, NUM_JL, 3, generator=torch.Generator().manual_seed(seed)) * 0.3
    return jl - jl[:, :1]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000))
def test_mirroring_is_an_involution_that_keeps_distances(n, seed) -> None:
    jl = _jl(n, seed)
    mirrored = mirror_jl(jl)
    assert torch.equal(mirror_jl(mirrored), jl)
    order = list(JL_MIRROR)
    assert torch.allclose(
        torch.cdist(mirrored, mirrored), torch.cdist(jl, jl)[:, order][:, :, order]
    )
    assert torch.equal(mirrored[..., 1:], jl[:, order, 1:])


def test_a_minibatch_mirrors_input_and_target_together() -> None:
    targets = _jl(50, 1)
    readings = Readings(0.7 * targets, targets)  # a relation that commutes with mirroring
    batch = readings.minibatch(400, torch.Generator().manual_seed(2))
    torch.testing.assert_close(batch.inputs, 0.7 * batch.targets)
    mirrored = mirror_some(readings, torch.ones(50, dtype=torch.bool)).targets
    flat = batch.targets.flatten(1)
    is_mirrored = (flat[:, None] == mirrored.flatten(1)[None]).all(-1).any(-1).sum()
    is_original = (flat[:, None] == targets.flatten(1)[None]).all(-1).any(-1).sum()
    assert is_mirrored + is_original == 400
    assert 140 < int(is_mirrored) < 260  # about half


@pytest.mark.parametrize(
    ("inputs", "targets", "message"),
    [
        (torch.zeros(3, 41, 3), torch.zeros(3, 41, 3), "inputs and targets"),
        (torch.zeros(0, 42, 3), torch.zeros(0, 42, 3), "no crop"),
        (torch.full((2, 42, 3), float("nan")), torch.zeros(2, 42, 3), "NaN"),
    ],
)
def test_bad_readings_are_refused(inputs, targets, message) -> None:
    with pytest.raises(ValueError, match=message):
        Readings(inputs, targets)


def test_crops_are_read_as_pairs_in_the_view_frame(shards, tiny_weights) -> None:
    model = build_image_model(TINY)
    model.load_state_dict(load_image_weights(tiny_weights).state)
    data = ImageShards(shards)
    readings = read_crops(model, data, num=5, batch_size=2)
    assert readings.inputs.shape == readings.targets.shape == (5, NUM_JL, 3)
    jl3d = np.asarray(data.record(4)["jl3d"], dtype=np.float64)
    expected = (jl3d - jl3d[0]) * np.array([1.0, -1.0, -1.0])  # OpenCV -> view frame
    np.testing.assert_allclose(readings.targets[4].numpy(), expected, atol=1e-6)
    assert float(readings.inputs[:, 0].abs().max()) == 0.0  # root-relative readings


def test_readings_are_cached_by_key_and_a_damaged_cache_is_named(tmp_path) -> None:
    calls = []

    def make() -> Readings:
        calls.append(1)
        return Readings(_jl(4), _jl(4, 1))

    path = tmp_path / "readings.npz"
    first = cached_readings(path, "a", make)
    again = cached_readings(path, "a", make)
    assert len(calls) == 1 and torch.equal(first.inputs, again.inputs)
    cached_readings(path, "b", make)
    assert len(calls) == 2
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"readings\.npz: unreadable readings file"):
        cached_readings(path, "b", make)


def test_training_learns_the_readings_error_and_stores_the_dae(tmp_path, tiny_weights) -> None:
    """Readings drawn in towards the root (0.8×, as the shipped model's): the DAE learns to
    undo it, and the image weights file then carries it."""
    torch.manual_seed(0)
    truth = _jl(2048, 4)
    train = Readings(0.8 * truth, truth)
    val_truth = _jl(256, 5)
    val = Readings(0.8 * val_truth, val_truth)
    settings_ = TrainSettings(steps=400, batch_size=128, lr=3e-3, checkpoint_every=200)
    image = load_image_weights(tiny_weights)
    path = train_reading_dae(image, train, val, tmp_path, settings_, ImageDAEContext(WIDTHS))
    stored = load_image_weights(path)
    assert stored.dae is not None and stored.dae.widths == WIDTHS
    assert stored.dae.meta["steps"] == 400
    dae = stored.dae.build()
    with torch.no_grad():
        after = (dae(val.inputs) - val.targets).norm(dim=-1).mean()
    before = (val.inputs - val.targets).norm(dim=-1).mean()
    assert after < 0.7 * before
    rows = (tmp_path / "dae_image" / "curves.csv").read_text().splitlines()
    assert "val_jl_mm" in rows[0]


def test_a_damaged_dae_entry_is_refused_with_its_name(tmp_path, tiny_weights) -> None:
    image = load_image_weights(tiny_weights)
    state = DenoisingAutoencoder(WIDTHS).state_dict()
    good = tmp_path / "good.pt"
    save_image_weights(
        ImageModelWeights(image.config, image.state, dae=ReadingDAEWeights(WIDTHS, state)), good
    )
    assert load_image_weights(good).dae is not None
    raw = torch.load(good, weights_only=True)
    raw["dae"]["widths"] = [32, 32]
    torch.save(raw, tmp_path / "widths.pt")
    with pytest.raises(ValueError, match="three positive widths"):
        load_image_weights(tmp_path / "widths.pt")
    raw["dae"]["widths"] = [64, 32, 16]
    torch.save(raw, tmp_path / "shapes.pt")
    with pytest.raises(ValueError, match="image DAE"):
        load_image_weights(tmp_path / "shapes.pt")


class CountingDAE(DenoisingAutoencoder):
    """A DAE that counts its calls and moves every point 1 cm along x."""

    def __init__(self) -> None:
        super().__init__(WIDTHS)
        self.calls = 0

    def forward(self, jl: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return jl + jl.new_tensor([0.01, 0.0, 0.0])


class RecordingSMPLR:
    """Stands in for SMPLR: records what fit receives, returns the input as joints."""

    def __init__(self, smplr: SMPLR) -> None:
        self.body = smplr.body
        self.calls: list[tuple[np.ndarray, bool]] = []

    def fit(self, points, input_format, use_dae, refine, checks):
        self.calls.append((np.asarray(points), use_dae))
        return {"joints": np.asarray(points)[:, :24]}


def test_the_evaluator_fits_the_denoised_reading_without_smplrs_dae() -> None:
    smplr = RecordingSMPLR(SMPLR.pretrained())
    dae = CountingDAE()
    points = ImagePointsPredictor(build_image_model(TINY))
    predictor = ImageBodyPredictor(points, smplr, reading_dae=dae)
    assert "DAE_SHN" in predictor.name
    jl = _jl(3).double().numpy()
    predictor.fit.fit(jl)
    ((seen, use_dae),) = smplr.calls
    assert dae.calls == 1 and use_dae is False
    np.testing.assert_allclose(seen - jl, np.broadcast_to([0.01, 0, 0], jl.shape), atol=1e-6)
    ImageBodyPredictor(points, smplr).fit.fit(jl)
    assert smplr.calls[-1][1] is True and dae.calls == 1


def test_the_shn_route_uses_the_image_models_own_dae() -> None:
    torch.manual_seed(0)
    dae = CountingDAE()
    keypoints = ImageKeypoints(build_image_model(TINY), dae=dae)
    predictor = Predictor("shn", SMPLR.pretrained(), refine=0, image_model=keypoints)
    row = predictor.predict([np.zeros((48, 64, 3), np.uint8)], [None])[0]
    assert row is not None and np.isfinite(row["vertices"]).all()
    assert dae.calls == 1


def test_cli_trains_and_the_evaluator_scores_it(
    shards, tiny_weights, tmp_path, monkeypatch, capsys
) -> None:
    run = tmp_path / "run"
    out = tmp_path / "with_dae.pt"
    args = [
        "train", "image-dae", "--image", str(tiny_weights), "--data", str(shards),
        "--val-data", str(shards), "--val-num", "3", "--steps", "3", "--batch-size", "4",
        "--run-dir", str(run), "--checkpoint-every", "3", "--out", str(out), "--scratch",
    ]  # fmt: skip
    code, stdout, stderr = run_smplr(monkeypatch, capsys, *args)
    assert code == 0, stderr
    assert load_image_weights(out).dae is not None
    assert (run / "dae_image" / "readings_train.npz").is_file()
    code, stdout, stderr = run_smplr(
        monkeypatch, capsys, "evaluate", "images", "--image-model", str(out), "--data",
        str(shards), "--num", "3", "--methods", "points,dae,image-dae", "--no-iou",
    )  # fmt: skip
    assert code == 0, stderr
    assert "DAE_SHN → SMPLR" in stdout and "→ DAE → SMPLR" in stdout
    code, _, stderr = run_smplr(
        monkeypatch, capsys, "train", "image-dae", "--data", str(tmp_path / "none"),
        "--val-data", str(shards), "--run-dir", str(tmp_path / "r2"),
    )  # fmt: skip
    assert code != 0 and "none" in stderr


def test_the_dae_reads_points_relative_to_their_root_wherever_they_are() -> None:
    """The evaluator hands SMPLR points on the true root (metres from the camera): the
    DAE, trained on root-relative JL, must see them root-relative."""
    torch.manual_seed(0)
    dae = DenoisingAutoencoder(WIDTHS).eval()
    torch.nn.init.normal_(dae.out.weight, std=0.05)  # not the identity
    jl = _jl(4).double().numpy()
    offset = np.array([0.3, -1.2, 4.5])
    relative = denoise_array(dae, jl)
    assert np.abs(relative - jl).max() > 1e-3
    np.testing.assert_allclose(denoise_array(dae, jl + offset), relative + offset, atol=1e-5)


def _reverse_context(body_weight: float) -> ImageDAEContext:
    bundle = load_bundle(shipped_path())
    reverse = build_networks(bundle.network_config, ("pose", "shape"))
    for name, net in reverse.items():
        net.load_state_dict(bundle.networks[name])
        net.eval().requires_grad_(False)
    return ImageDAEContext(
        WIDTHS,
        reverse=reverse,
        template_lengths=bundle.template_lengths,
        jl_body=GenderedBodyModel.open().jl_model().float(),
        body_weight=body_weight,
    )


def test_the_body_term_scores_the_body_smplr_makes_of_the_output(tmp_path, tiny_weights) -> None:
    with pytest.raises(ValueError, match="needs Ω and Ψ"):
        ImageDAEContext(WIDTHS, body_weight=1.0)
    with pytest.raises(ValueError, match="body_weight"):
        ImageDAEContext(WIDTHS, body_weight=-1.0)
    ctx = _reverse_context(body_weight=1.0)
    truth = held_out_set(GenderedBodyModel.open(), num=64)
    jl = (truth.jl - truth.jl[:, :1]).float()
    with torch.no_grad():
        body = ctx.body_jl(jl)
    assert body.shape == jl.shape and float(body[:, 0].abs().max()) == 0.0
    assert (body - jl).norm(dim=-1).mean() < 0.04  # SMPLR's body of clean JL: centimetres
    readings = Readings(jl, jl)
    settings_ = TrainSettings(steps=4, batch_size=16, checkpoint_every=4)
    train_reading_dae(
        load_image_weights(tiny_weights), readings, readings, tmp_path, settings_, ctx
    )
    header, *_, last = (tmp_path / "dae_image" / "curves.csv").read_text().splitlines()
    row = dict(zip(header.split(","), last.split(","), strict=True))
    assert float(row["loss_body"]) > 0 and float(row["val_body_jl_mm"]) < 40.0
