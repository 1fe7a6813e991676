"""The training recipe on a fake body model: every stage, resume equivalence, checkpoints,
curves, the exported bundle."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers.train_fake_run import tiny_recipe, tiny_settings
from smplr import SMPLR
from smplr.training.checkpoint import load_checkpoint
from smplr.training.loop import TrainSettings
from smplr.training.recipe import BUNDLE_NAME, export_bundle, run_all, run_stage
from smplr.training.stages import RECIPE, STAGES

HERE = Path(__file__).parent


def _states_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}.{key}"


@pytest.mark.parametrize("name", ["dae_jl42", "dae_2d", "shape", "pose"])
def test_stage_loss_goes_down(tmp_path: Path, name: str) -> None:
    recipe = tiny_recipe(tmp_path)
    run_stage(
        recipe,
        name,
        TrainSettings(
            steps=60, batch_size=64, checkpoint_every=60, val_every=30, log_every=10, lr=3e-3
        ),
        show_progress=False,
    )
    rows = load_checkpoint(tmp_path / name / "checkpoint.pt")["curves"]
    loss_key = next(k for k in rows[0] if k.startswith("l_"))
    assert rows[-1][loss_key] < 0.9 * rows[0][loss_key]


def test_resume_after_an_interruption_equals_an_uninterrupted_run(
    tmp_path: Path, monkeypatch
) -> None:
    settings = tiny_settings(12)
    straight = run_stage(tiny_recipe(tmp_path / "a"), "dae_jl42", settings, show_progress=False)

    stage = STAGES["dae_jl42"]
    real_loss = stage.loss
    calls = {"n": 0}

    def dying_loss(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:  # dies inside step 7: the last checkpoint is step 4
            raise KeyboardInterrupt
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(stage, "loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        run_stage(tiny_recipe(tmp_path / "b"), "dae_jl42", settings, show_progress=False)
    assert load_checkpoint(tmp_path / "b" / "dae_jl42" / "checkpoint.pt")["step"] == 4
    monkeypatch.setattr(stage, "loss", real_loss)
    resumed = run_stage(tiny_recipe(tmp_path / "b"), "dae_jl42", settings, show_progress=False)
    _states_equal(straight, resumed)
    a = load_checkpoint(tmp_path / "a" / "dae_jl42" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "b" / "dae_jl42" / "checkpoint.pt")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]  # noqa: E731
    assert strip(a["curves"]) == strip(b["curves"])
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])


def test_more_steps_continue_a_finished_stage(tmp_path: Path) -> None:
    recipe = tiny_recipe(tmp_path)
    run_stage(recipe, "shape", tiny_settings(4), show_progress=False)
    run_stage(recipe, "shape", tiny_settings(8), show_progress=False)
    assert load_checkpoint(tmp_path / "shape" / "checkpoint.pt")["step"] == 8


def test_corrupt_checkpoint_and_changed_settings_are_clear_errors(tmp_path: Path) -> None:
    recipe = tiny_recipe(tmp_path)
    run_stage(recipe, "pose", tiny_settings(4), show_progress=False)
    path = tmp_path / "pose" / "checkpoint.pt"
    with pytest.raises(ValueError, match=r"made with other settings \(seed\)"):
        run_stage(
            recipe, "pose", TrainSettings(steps=8, batch_size=32, seed=3), show_progress=False
        )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"checkpoint.pt: corrupt or unreadable checkpoint"):
        run_stage(recipe, "pose", tiny_settings(8), show_progress=False)
    run_stage(recipe, "pose", tiny_settings(4), fresh=True, show_progress=False)
    assert load_checkpoint(path)["step"] == 4
    with pytest.raises(ValueError, match="stage 'pose', expected 'shape'"):
        load_checkpoint(path, "shape")


def test_pose_smpl_needs_its_inputs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="stage 'pose' has not been trained"):
        run_stage(tiny_recipe(tmp_path), "pose_smpl", tiny_settings(4), show_progress=False)


def test_full_recipe_writes_curves_and_a_usable_bundle(tmp_path: Path) -> None:
    recipe = tiny_recipe(tmp_path)
    path = run_all(recipe, {name: tiny_settings(4) for name in RECIPE}, show_progress=False)
    assert path == tmp_path / BUNDLE_NAME
    # The fake body model names no keypoint vertices: its keypoint DAE is not trained.
    assert not (tmp_path / "dae_keypoints").exists()
    for name in (n for n in RECIPE if n != "dae_keypoints"):
        with (tmp_path / name / "curves.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert rows[0].keys() >= {"step", "lr", "elapsed_s"} and int(rows[-1]["step"]) == 4
        assert (tmp_path / name / "curves.png").stat().st_size > 1000
    assert "val_jl_mm" in rows[-1]
    model = SMPLR.from_bundle(path, recipe.body)
    assert model.fit(0.1 * torch.randn(3, 42, 3)).vertices.shape[0] == 3
    assert export_bundle(recipe, tmp_path / "again.pt").is_file()


def _run_script(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE)}
    return subprocess.Popen(
        [sys.executable, *args], env=env, stderr=subprocess.PIPE, text=True, **kwargs
    )


@pytest.mark.slow
def test_killed_process_resumes_to_the_same_weights(tmp_path: Path) -> None:
    script = str(HERE / "helpers" / "train_fake_run.py")
    straight = _run_script(script, str(tmp_path / "a"), "dae_jl42", "16")
    assert straight.wait(timeout=300) == 0, straight.stderr.read()
    victim = _run_script(script, str(tmp_path / "b"), "dae_jl42", "16", "--slow", "0.3")
    checkpoint = tmp_path / "b" / "dae_jl42" / "checkpoint.pt"
    deadline = time.time() + 240
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    stopped_at = load_checkpoint(checkpoint)["step"]
    assert 4 <= stopped_at < 16
    resumed = _run_script(script, str(tmp_path / "b"), "dae_jl42", "16")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    a = load_checkpoint(tmp_path / "a" / "dae_jl42" / "checkpoint.pt")
    b = load_checkpoint(checkpoint)
    _states_equal(a["networks"], b["networks"])


@pytest.mark.slow
def test_torchrun_data_parallel_on_cpu(tmp_path: Path) -> None:
    torchrun = Path(sys.executable).with_name("torchrun")
    proc = subprocess.run(
        [
            str(torchrun),
            "--standalone",
            "--nproc-per-node",
            "2",
            str(HERE / "helpers" / "train_fake_run.py"),
            str(tmp_path),
            "pose",
            "8",
        ],
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = load_checkpoint(tmp_path / "pose" / "checkpoint.pt")
    assert state["step"] == 8
    assert len(state["rng"]["data"]) == 2  # one generator state per process
    # both replicas drew different data but hold identical weights (DDP averages gradients)
    assert not torch.equal(state["rng"]["data"][0], state["rng"]["data"][1])
