"""smplr.training.budget and ``smplr train all --minutes``: the recipe within a time budget."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from helpers.cli import run_smplr
from helpers.train_fake_run import tiny_recipe
from smplr import SMPLR
from smplr.benchmarks import ood
from smplr.training import budget
from smplr.training.checkpoint import load_checkpoint
from smplr.training.loop import TrainSettings
from smplr.training.recipe import BUNDLE_NAME, stages_to_train
from smplr.training.stages import RECIPE
from smplr.weights import load_bundle

PACE = budget.Pace(step_s=0.01, validation_s=0.5)


def test_stage_plans_share_the_time_left() -> None:
    base = TrainSettings(batch_size=64, lr=3e-4, seed=2)
    first = budget.plan_stage("dae_jl42", RECIPE, 1000.0, PACE, base)
    # 0.9 of the time, the stage's share 0.12 of 1.0: 108 s, 5 checkpoints of 1.5 s.
    assert first.steps == int((108.0 - 5 * 1.5) / 0.01)
    assert first.checkpoint_every == first.val_every == -(-first.steps // 5)
    assert (first.batch_size, first.lr, first.seed) == (64, 3e-4, 2)
    last = budget.plan_stage("pose_smpl", RECIPE[-1:], 100.0, PACE, base)  # all that is left
    assert last.steps == int((90.0 - 4 * 1.5) / 0.01)
    assert budget.plan_stage("pose", RECIPE, 0.1, PACE, base).steps == budget.MIN_STEPS
    assert abs(sum(budget.SHARES[n] for n in RECIPE) - 1.0) < 1e-9
    assert budget.reserve_s(600.0, 400 * 8) == pytest.approx(74.0)
    assert budget.reserve_s(6.0, 0) == 1.5


def test_pool_size_follows_the_drawing_pace_and_the_cache(tmp_path) -> None:
    recipe = replace(tiny_recipe(tmp_path), pool_size=5 * 1024 + 7)
    assert budget.plan_pool_size(recipe, 1e-9, print) == budget.MIN_POOL  # no time: the floor
    assert budget.plan_pool_size(recipe, 1e9, print) == 5 * 1024  # the cap, in 1024s
    small = replace(recipe, pool_size=300)
    assert budget.plan_pool_size(small, 1e9, print) == 300
    small.data()  # caches a pool of 300
    assert budget.plan_pool_size(recipe, 1e9, print) == 300  # a re-run keeps its pool


def test_a_run_folder_keeps_its_pose_source(tmp_path) -> None:
    tiny_recipe(tmp_path).data()
    with pytest.raises(ValueError, match=r"pool.npz: drawn with poses 'prior', not 'mixture'"):
        replace(tiny_recipe(tmp_path), poses="mixture").data()


def test_train_within_times_every_stage_and_exports(tmp_path) -> None:
    recipe = replace(tiny_recipe(tmp_path), pool_size=256)
    started = time.perf_counter()
    lines: list[str] = []
    base = TrainSettings(batch_size=16, steps=budget.MIN_STEPS)
    path = budget.train_within(recipe, started + 4.0, base, log=lines.append)
    stages = stages_to_train(recipe)  # the fake body model has no keypoint DAE
    assert path.is_file() and sum(line.startswith("timed ") for line in lines) == len(stages)
    for name in stages:
        state = load_checkpoint(tmp_path / name / "checkpoint.pt", name)
        assert state["step"] >= budget.MIN_STEPS and state["record"]["poses"] == "prior"


def test_train_all_within_minutes_on_the_mixture(monkeypatch, capsys, tmp_path) -> None:
    tables: list[tuple] = []
    monkeypatch.setattr(ood, "run", lambda *a, **k: tables.append((a, k)))
    run = tmp_path / "run"
    code, out, err = run_smplr(
        monkeypatch, capsys, "train", "all", "--poses", "mixture", "--minutes", "0.1",
        "--device", "cpu", "--pool-size", "2048", "--batch-size", "16", "--run-dir", str(run),
        "--out", str(tmp_path / "w.pt"), "--ood-num", "2", "--threads", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "pose_smpl: done" in out and "finished in" in out
    assert tables == [
        (
            (run / BUNDLE_NAME, 2),
            {"device": "cpu", "threads": None, "json_out": run / "ood_eval.json"},
        )
    ]
    SMPLR.load(tmp_path / "w.pt")
    assert load_bundle(tmp_path / "w.pt").meta["recipe"]["poses"] == "mixture"
    code, _, err = run_smplr(
        monkeypatch, capsys, "train", "pose", "--poses", "prior", "--run-dir", str(run),
        "--pool-size", "2048",
    )  # fmt: skip
    assert code == 2 and "drawn with poses 'mixture', not 'prior'" in err


def test_bad_budget_options_give_one_line_errors(monkeypatch, capsys, tmp_path) -> None:
    for args, message in (
        (["--minutes", "0"], "--minutes must be > 0"),
        (["--ood-num", "-1"], "--ood-num must be >= 0"),
        (["--poses", "nope"], "unknown pose source 'nope'"),
    ):
        code, _, err = run_smplr(
            monkeypatch, capsys, "train", "all", "--run-dir", str(tmp_path), *args
        )
        assert code == 2 and message in err
