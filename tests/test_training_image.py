"""Training the image backbone with the shared loop: data contract, loss going down,
resume equivalence, the image weight file, ``smplr train image``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.cli import run_smplr
from helpers.crops import write_crops
from helpers.threads import one_thread  # noqa: F401  (autouse: one torch thread)
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.training.checkpoint import load_checkpoint
from smplr.training.image import (
    WEIGHTS_NAME,
    ImageBatches,
    ImageContext,
    ImageStage,
    TensorImageDataset,
    collate,
    load_samples,
    split_validation,
    stage_name,
    train_image_model,
)
from smplr.training.loop import TrainSettings
from smplr.weights import (
    ImageModelWeights,
    WeightBundle,
    load_bundle,
    load_image_weights,
    save_bundle,
    save_image_weights,
    shipped_path,
)

TINY = ImageModelConfig(stacks=2, features=16, input_size=32, depth_bins=4, hourglass_depth=1)


def _data(n: int = 8, size: int = 32, seed: int = 0) -> TensorImageDataset:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 3, size, size, generator=g)
    points = (torch.rand(n, 41, 3, generator=g) - 0.5) * 0.8
    return TensorImageDataset(images, points)


def _settings(steps: int, every: int = 4) -> TrainSettings:
    return TrainSettings(
        steps=steps, batch_size=4, lr=3e-3, checkpoint_every=every, val_every=every, log_every=every
    )


def _train(run_dir: Path, steps: int, config: ImageModelConfig = TINY, every: int = 4) -> Path:
    data = _data(size=config.input_size)
    return train_image_model(
        ImageContext(config, coordinate_weight=1.0, val_size=4),
        data,
        data,
        run_dir,
        _settings(steps, every),
        show_progress=False,
    )


# ----------------------------------------------------------------------------- data contract
def test_collate_converts_resizes_and_selects_points() -> None:
    sample = {
        "image": torch.full((3, 64, 64), 255, dtype=torch.uint8),
        "points": np.zeros((41, 3), np.float32),
        "visible": np.ones(41, bool),
    }
    batch = collate([sample, sample], ImageModelConfig(**{**TINY.to_dict(), "landmarks": False}))
    assert batch.images.shape == (2, 3, 32, 32) and torch.allclose(batch.images, torch.ones(1))
    assert batch.points.shape == (2, 23, 3) and bool(batch.valid.all())


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"image": torch.rand(3, 32, 32)}, "with 'image' and 'points'"),
        ({"image": torch.rand(32, 32, 3), "points": torch.zeros(41, 3)}, "image must be"),
        ({"image": torch.rand(3, 32, 32), "points": torch.zeros(42, 3)}, "points must be"),
        ({"image": torch.rand(3, 32, 32), "jl3d": torch.zeros(24, 3)}, "jl3d must be"),
        (
            {"image": torch.rand(3, 32, 32), "points": torch.zeros(41, 3), "valid": torch.ones(3)},
            "valid must be",
        ),
    ],
)
def test_collate_refuses_samples_off_the_contract(sample: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        collate([sample], TINY)


def test_npz_data_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((5, 32, 32, 3), np.uint8), points=np.zeros((5, 41, 3)))
    data = TensorImageDataset.from_npz(path)
    assert len(data) == 5 and data[0]["image"].shape == (3, 32, 32)
    train, val = split_validation(data, 2)
    assert (len(train), len(val)) == (3, 2)
    np.savez(tmp_path / "bad.npz", images=np.zeros((5, 32, 32, 3)), points=np.zeros((4, 41, 3)))
    with pytest.raises(ValueError, match="image data must hold"):
        TensorImageDataset.from_npz(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        TensorImageDataset.from_npz(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="cannot hold out"):
        split_validation(data, 5)


def test_shards_of_smplr_data_synth_are_training_data(tmp_path: Path) -> None:
    out = tmp_path / "images"
    write_crops(out, 4, 1, 4)
    for augment in (False, True):
        data = load_samples(out, augment=augment)
        sample = data[0]  # augmented samples differ at every draw
        batch = collate([sample, data[3]], TINY)
        jl = sample["jl3d"]
        assert torch.allclose(batch.points[0], jl[1:] - jl[:1])
        assert batch.images.shape == (2, 3, 32, 32) and bool(batch.valid.all())
    path = train_image_model(
        ImageContext(TINY, val_size=2),
        data,
        data,
        tmp_path / "run",
        _settings(2, 2),
        show_progress=False,
    )
    assert load_image_weights(path).meta["steps"] == 2


def test_minibatches_follow_the_generator() -> None:
    batches = ImageBatches(_data(), TINY)
    a = batches.minibatch(4, torch.Generator().manual_seed(3))
    b = batches.minibatch(4, torch.Generator().manual_seed(3))
    assert torch.equal(a.images, b.images) and torch.equal(a.points, b.points)
    assert [len(c) for c in batches.chunks(3)] == [3, 3, 2]


# ----------------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_writes_loadable_weights(tmp_path: Path) -> None:
    path = _train(tmp_path, 24, every=12)
    assert path == tmp_path / "image_shn" / WEIGHTS_NAME
    rows = load_checkpoint(tmp_path / "image_shn" / "checkpoint.pt")["curves"]
    assert rows[-1]["l_ce"] < rows[0]["l_ce"] and rows[-1]["mpjpe_mm"] < rows[0]["mpjpe_mm"]
    assert {"val_loss", "val_joints_mm", "val_landmarks_mm"} <= rows[-1].keys()
    weights = load_image_weights(path)
    assert weights.config == TINY and weights.meta["steps"] == 24
    model = build_image_model(weights.config).eval()
    model.load_state_dict(weights.state)
    assert model.predict(torch.rand(1, 3, 32, 32)).shape == (1, 41, 3)


def test_resume_after_an_interruption_equals_an_uninterrupted_run(
    tmp_path: Path, monkeypatch
) -> None:
    _train(tmp_path / "a", 6, every=3)
    real_loss = ImageStage.loss
    calls = {"n": 0}

    def dying_loss(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # dies inside step 5: the last checkpoint is step 3
            raise KeyboardInterrupt
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(ImageStage, "loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "b", 6, every=3)
    assert load_checkpoint(tmp_path / "b" / "image_shn" / "checkpoint.pt")["step"] == 3
    monkeypatch.setattr(ImageStage, "loss", real_loss)
    _train(tmp_path / "b", 6, every=3)
    a = load_image_weights(tmp_path / "a" / "image_shn" / WEIGHTS_NAME).state
    b = load_image_weights(tmp_path / "b" / "image_shn" / WEIGHTS_NAME).state
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_every_validation_gets_a_curve_row(tmp_path: Path) -> None:
    data = _data()
    settings = TrainSettings(
        steps=6, batch_size=2, checkpoint_every=3, val_every=3, log_every=4, lr=1e-3
    )
    ctx = ImageContext(TINY, val_size=2)
    train_image_model(ctx, data, data, tmp_path, settings, show_progress=False)
    rows = load_checkpoint(tmp_path / "image_shn" / "checkpoint.pt")["curves"]
    assert [(r["step"], "val_loss" in r) for r in rows] == [(3, True), (4, False), (6, True)]


def test_a_run_folder_refuses_another_model_config(tmp_path: Path) -> None:
    _train(tmp_path, 4)
    with pytest.raises(ValueError, match="made for another set-up"):
        _train(tmp_path, 8, ImageModelConfig(**{**TINY.to_dict(), "features": 8}))


def test_variants_train_in_their_own_folders() -> None:
    names = [
        stage_name(ImageModelConfig(**changes))
        for changes in ({}, {"landmarks": False}, {"limbs": True}, {"architecture": "alexnet"})
    ]
    assert names == ["image_shn", "image_shn_nl", "image_shn_limbs", "image_alexnet"]


# ----------------------------------------------------------------------------- weight files
def test_a_bundle_can_hold_the_image_model(tmp_path: Path) -> None:
    model = build_image_model(TINY)
    weights = ImageModelWeights(TINY, model.state_dict(), {"note": "x"})
    bundle = load_bundle(shipped_path())
    bundle = WeightBundle(
        bundle.network_config,
        bundle.body_model,
        bundle.template_lengths,
        bundle.networks,
        bundle.meta,
        image_model=weights,
    )
    save_bundle(bundle, tmp_path / "both.pt", half=True)
    loaded = load_bundle(tmp_path / "both.pt")
    assert loaded.image_model is not None and loaded.image_model.config == TINY
    assert load_image_weights(tmp_path / "both.pt").meta == {"note": "x"}
    with pytest.raises(ValueError, match="holds no image model"):
        load_image_weights(shipped_path())


def test_damaged_image_weights_are_refused_in_one_line(tmp_path: Path) -> None:
    state = build_image_model(TINY).state_dict()
    key = next(iter(state))
    state[key] = torch.zeros(3)
    save_image_weights(ImageModelWeights(TINY, state), tmp_path / "w.pt")
    with pytest.raises(ValueError, match="does not match its config") as info:
        load_image_weights(tmp_path / "w.pt")
    assert "\n" not in str(info.value)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable SMPLR weight file"):
        load_image_weights(tmp_path / "junk.pt")


# ----------------------------------------------------------------------------- command line
def _npz(path: Path) -> Path:
    """12 random 32² images with random points, as ``smplr train image --data`` reads."""
    rng = np.random.default_rng(0)
    np.savez(
        path,
        images=(rng.random((12, 32, 32, 3)) * 255).astype(np.uint8),
        points=(rng.random((12, 41, 3)) - 0.5).astype(np.float32),
    )
    return path


def test_train_image_command_trains_and_resumes(monkeypatch, capsys, tmp_path: Path) -> None:
    data = _npz(tmp_path / "d.npz")
    common = ["train", "image", "--data", str(data), "--run-dir", str(tmp_path / "run")]
    tiny = ["--stacks", "1", "--features", "16", "--input-size", "64", "--depth-bins", "4"]
    args = [*common, *tiny, "--batch-size", "2", "--checkpoint-every", "2", "--val-size", "2"]
    code, out, err = run_smplr(
        monkeypatch, capsys, *args, "--steps", "2", "--out", str(tmp_path / "w.pt")
    )
    assert code == 0, err
    assert "image_model.pt" in out and load_image_weights(tmp_path / "w.pt").config.stacks == 1
    code, _, err = run_smplr(monkeypatch, capsys, *args, "--steps", "4")
    assert code == 0, err
    assert load_checkpoint(tmp_path / "run" / "image_shn" / "checkpoint.pt")["step"] == 4


def test_train_image_crop_frame_from_npz_cameras_then_fine_tune(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    """An .npz with the crops' cameras trains a crop-frame model; --init FILE then starts a
    new run from it, with its config (the command line's sizes are replaced)."""
    rng = np.random.default_rng(1)
    jl3d = rng.normal(0.0, 0.3, (12, 42, 3))
    jl3d[..., 2] += 4.0
    K = np.tile(np.array([[60.0, 0, 15.5], [0, 60.0, 15.5], [0, 0, 1]]), (12, 1, 1))
    data = tmp_path / "d.npz"
    np.savez(
        data,
        images=(rng.random((12, 32, 32, 3)) * 255).astype(np.uint8),
        points=(jl3d[:, 1:] - jl3d[:, :1]).astype(np.float32),
        jl3d=jl3d,
        K=K,
    )
    tiny = ["--stacks", "1", "--features", "16", "--input-size", "64", "--depth-bins", "4"]
    common = ["train", "image", "--data", str(data), "--batch-size", "2", "--val-size", "2"]
    first = [*common, *tiny, "--frame", "crop", "--steps", "2", "--run-dir", str(tmp_path / "a")]
    code, _, err = run_smplr(monkeypatch, capsys, *first, "--out", str(tmp_path / "a.pt"))
    assert code == 0, err
    trained = load_image_weights(tmp_path / "a.pt")
    assert trained.config.frame == "crop" and trained.config.num_maps == 42
    second = [*common, "--init", str(tmp_path / "a.pt"), "--steps", "1", "--lr", "0"]
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *second,
        "--run-dir",
        str(tmp_path / "b"),
        "--out",
        str(tmp_path / "b.pt"),
    )
    assert code == 0, err
    tuned = load_image_weights(tmp_path / "b.pt")
    assert tuned.config == trained.config
    for name, tensor in trained.state.items():  # lr 0: the start is the file's network
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(tensor, tuned.state[name]), name
    code, _, err = run_smplr(
        monkeypatch, capsys, *common, "--init", str(data), "--run-dir", str(tmp_path / "c")
    )
    assert code == 2 and "--init" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--config", "huge"], "unknown --config 'huge'"),
        (["--stacks", "0"], "stacks must be a positive integer"),
        (["--architecture", "vgg"], "unknown image architecture 'vgg'"),
        (["--input-size", "100"], "must be a multiple of 64"),
        (["--threads", "0"], "--threads must be positive"),
    ],
)
def test_train_image_refuses_bad_options(monkeypatch, capsys, tmp_path, extra, message) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, images=np.zeros((4, 32, 32, 3), np.uint8), points=np.zeros((4, 41, 3)))
    code, _, err = run_smplr(monkeypatch, capsys, "train", "image", "--data", str(data), *extra)
    assert code == 2 and message in err and err.count("\n") == 1
    code, _, err = run_smplr(monkeypatch, capsys, "train", "image", "--data", "missing.npz")
    assert code == 2 and "image data file not found" in err


@pytest.mark.slow
def test_train_image_under_torchrun_data_parallel_on_cpu(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    data = _npz(tmp_path / "d.npz")
    torchrun = Path(sys.executable).with_name("torchrun")
    tiny = ["--stacks", "1", "--features", "16", "--input-size", "64", "--depth-bins", "4"]
    launch = [str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "smplr"]
    run = ["--data", str(data), "--run-dir", str(tmp_path / "run"), "--steps", "4"]
    every = ["--batch-size", "2", "--checkpoint-every", "2", "--val-size", "2"]
    proc = subprocess.run(
        [*launch, "train", "image", *run, *tiny, *every],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = load_checkpoint(tmp_path / "run" / "image_shn" / "checkpoint.pt")
    assert state["step"] == 4 and len(state["rng"]["data"]) == 2  # one generator per process
    assert not torch.equal(state["rng"]["data"][0], state["rng"]["data"][1])
