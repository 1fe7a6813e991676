"""End-to-end training (paper 4.5): ground truth in the points' frame, frozen vs naive
modes, gradients through the chain, resume equivalence, ``smplr train e2e``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from helpers.cli import run_smplr
from helpers.crops import write_crops
from helpers.threads import one_thread  # noqa: F401  (autouse: one torch thread)
from smplr.body.model import GenderedBodyModel
from smplr.geometry.rotations import matrix_to_axis_angle
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.training.checkpoint import load_checkpoint
from smplr.training.end_to_end import (
    BUNDLE_NAME,
    DAE,
    SMPLR_NETWORKS,
    EndToEndStage,
    end_to_end_batches,
    end_to_end_context,
    run_chain,
    start_image_weights,
    train_end_to_end,
    truth_from_samples,
)
from smplr.training.image import WEIGHTS_NAME, collate
from smplr.training.loop import TrainSettings
from smplr.training.stages import decode_jl
from smplr.weights import (
    ImageModelWeights,
    WeightBundle,
    load_bundle,
    load_image_weights,
    save_image_weights,
    shipped_path,
)

TINY = ImageModelConfig(stacks=1, features=16, input_size=32, depth_bins=4, hourglass_depth=1)


@pytest.fixture(scope="module")
def body() -> GenderedBodyModel:
    return GenderedBodyModel.open().float()


@pytest.fixture(scope="module")
def bundle() -> WeightBundle:
    return load_bundle(shipped_path())


@pytest.fixture(scope="module")
def samples(body: GenderedBodyModel) -> list[dict[str, torch.Tensor]]:
    """Six bodies posed by the body model, 3 m in front of the camera, random images."""
    g = torch.Generator().manual_seed(0)
    n = 6
    betas = torch.randn(n, 10, generator=g) * 0.5
    orient = torch.randn(n, 3, generator=g) * 0.5
    pose = torch.randn(n, 69, generator=g) * 0.2
    gender = torch.tensor([-1.0, 1.0] * (n // 2))
    with torch.no_grad():
        jl = body(gender, betas, orient, pose).jl + torch.tensor([0.1, -0.2, 3.0])
    return [
        {
            "image": torch.rand(3, 32, 32, generator=g),
            "jl3d": jl[i],
            "betas": betas[i],
            "gender": gender[i].to(torch.int8),
            "global_orient": orient[i],
            "body_pose": pose[i],
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def start() -> ImageModelWeights:
    torch.manual_seed(1)
    return ImageModelWeights(TINY, build_image_model(TINY).state_dict())


def _settings(steps: int, every: int = 2) -> TrainSettings:
    return TrainSettings(
        steps=steps, batch_size=2, lr=1e-3, checkpoint_every=every, val_every=every, log_every=1
    )


def _train(run_dir, mode, samples, body, bundle, start, steps=2, every=2) -> Path:
    ctx = end_to_end_context(TINY, bundle, body, mode, val_size=2, val_batch=2)
    return train_end_to_end(
        ctx, start, bundle, samples, samples, run_dir, _settings(steps, every), show_progress=False
    )


def _changed(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(a[k].float(), b[k].float()) for k in a)


def test_the_true_rotations_pose_the_true_points(samples, body) -> None:
    """Targets and points share one frame: root-relative camera frame."""
    truth = truth_from_samples(samples)
    jl = decode_jl(body.jl_model(), truth.gender, truth.betas, truth.rotations)
    assert torch.allclose(jl, truth.jl, atol=1e-5)
    assert torch.allclose(collate(samples, TINY).points, truth.jl[:, 1:])
    assert torch.allclose(
        matrix_to_axis_angle(truth.rotations[:, 0]),
        torch.stack([s["global_orient"] for s in samples]),
        atol=1e-5,
    )


def test_frozen_mode_trains_only_the_image_model(tmp_path, samples, body, bundle, start) -> None:
    path = _train(tmp_path, "frozen", samples, body, bundle, start)
    state = load_checkpoint(tmp_path / "e2e_frozen" / "checkpoint.pt")
    assert set(state["networks"]) == {"image"} and state["step"] == 2
    assert _changed(start.state, load_image_weights(path).state)
    assert not (tmp_path / "e2e_frozen" / BUNDLE_NAME).exists()
    # the frozen networks kept their weights and BatchNorm statistics through training
    ctx = end_to_end_context(TINY, bundle, body, "frozen")
    nets = {"image": build_image_model(TINY).train()}
    run_chain(nets, collate(samples[:2], TINY), ctx)
    for name in SMPLR_NETWORKS:
        assert not ctx.frozen[name].training
        assert not _changed(bundle.networks[name], ctx.frozen[name].state_dict())
    rows = state["curves"]
    assert {"l_dae", "l_r", "l_beta", "l_smpl", "l_v", "l_shn"} <= rows[0].keys()
    assert {"val_shn_joints_mm", "val_body_mpjpe_p1", "val_body_mpjpe_p2"} <= rows[-1].keys()


def test_naive_mode_trains_every_network(tmp_path, samples, body, bundle, start) -> None:
    path = _train(tmp_path, "naive", samples, body, bundle, start)
    assert _changed(start.state, load_image_weights(path).state)
    tuned = load_bundle(tmp_path / "e2e_naive" / BUNDLE_NAME)
    for name in SMPLR_NETWORKS:
        assert _changed(bundle.networks[name], tuned.networks[name]), name
    for name in set(bundle.networks) - set(SMPLR_NETWORKS):
        assert not _changed(bundle.networks[name], tuned.networks[name]), name
    assert tuned.image_model is not None
    assert not _changed(load_image_weights(path).state, tuned.image_model.state)


def test_gradients_reach_the_image_model_through_the_chain(samples, body, bundle) -> None:
    ctx = end_to_end_context(TINY, bundle, body, "frozen", shn_weight=0.0)
    stage = EndToEndStage("frozen")
    nets = stage.build(ctx)
    batch = end_to_end_batches(samples, TINY).take(range(4))
    loss, _ = stage.loss(nets, batch, ctx, torch.Generator())
    loss.backward()
    grads = [p.grad for p in nets["image"].parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0
    assert all(p.grad is None for net in ctx.frozen.values() for p in net.parameters())


def test_resume_after_an_interruption_equals_an_uninterrupted_run(
    tmp_path, monkeypatch, samples, body, bundle, start
) -> None:
    _train(tmp_path / "a", "naive", samples, body, bundle, start, steps=4)
    real_loss = EndToEndStage.loss
    calls = {"n": 0}

    def dying_loss(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # dies inside step 4: the last checkpoint is step 2
            raise KeyboardInterrupt
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(EndToEndStage, "loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "b", "naive", samples, body, bundle, start, steps=4)
    assert load_checkpoint(tmp_path / "b" / "e2e_naive" / "checkpoint.pt")["step"] == 2
    monkeypatch.setattr(EndToEndStage, "loss", real_loss)
    _train(tmp_path / "b", "naive", samples, body, bundle, start, steps=4)
    a = load_bundle(tmp_path / "a" / "e2e_naive" / BUNDLE_NAME)
    b = load_bundle(tmp_path / "b" / "e2e_naive" / BUNDLE_NAME)
    assert a.image_model is not None and b.image_model is not None
    for one, two in [(a.networks[n], b.networks[n]) for n in SMPLR_NETWORKS] + [
        (a.image_model.state, b.image_model.state)
    ]:
        assert one.keys() == two.keys() and all(torch.equal(one[k], two[k]) for k in one)


def test_the_start_is_image_weights_or_an_image_checkpoint(tmp_path, start) -> None:
    from smplr.training.image import ImageContext, TensorImageDataset, train_image_model

    data = TensorImageDataset(torch.rand(4, 3, 32, 32), torch.rand(4, 41, 3) - 0.5)
    settings = TrainSettings(steps=1, batch_size=2, checkpoint_every=1, val_every=1, log_every=1)
    path = train_image_model(
        ImageContext(TINY, val_size=2), data, data, tmp_path, settings, show_progress=False
    )
    from_weights = start_image_weights(path)
    from_checkpoint = start_image_weights(path.parent / "checkpoint.pt")
    assert from_weights.config == from_checkpoint.config == TINY
    assert not _changed(from_weights.state, from_checkpoint.state)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="neither image weights nor an image training checkpoint"):
        start_image_weights(tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="unknown mode 'eager'"):
        EndToEndStage("eager")


def test_train_e2e_command(monkeypatch, capsys, tmp_path: Path, start) -> None:
    out = tmp_path / "images"
    write_crops(out, 4, 1, 4)
    save_image_weights(start, tmp_path / "start.pt")
    args = ["train", "e2e", "--image", str(tmp_path / "start.pt"), "--data", str(out)]
    args += ["--val-data", str(out), "--val-size", "2", "--batch-size", "2", "--steps", "2"]
    args += ["--run-dir", str(tmp_path / "run"), "--checkpoint-every", "2", "--threads", "1"]
    code, stdout, err = run_smplr(monkeypatch, capsys, *args, "--mode", "naive")
    assert code == 0, err
    assert "e2e_naive/image_model.pt" in stdout
    assert load_image_weights(tmp_path / "run" / "e2e_naive" / WEIGHTS_NAME).config == TINY
    assert DAE in load_bundle(tmp_path / "run" / "e2e_naive" / BUNDLE_NAME).networks
    code, _, err = run_smplr(monkeypatch, capsys, *args, "--mode", "eager")
    assert code == 2 and "unknown mode 'eager'" in err and err.count("\n") == 1
