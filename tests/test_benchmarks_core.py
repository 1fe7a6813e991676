"""The core benchmarks measure real fits: their rows come from the shipped weights run on
held-out bodies, so refining lowers the error, noise raises it, the DAE removes part of
it, and a corrupted or untrained network scores worse."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch

from helpers.bundles import write_tiny_open_bundle
from smplr.benchmarks import core, core_accuracy
from smplr.datasets.test_sets import TEST_SETS
from smplr.weights import load_bundle, save_bundle, shipped_path


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory) -> tuple[dict[str, dict[str, float]], str, list[dict]]:
    """The accuracy benchmark's rows, its printed text and its JSON, with the test sets."""
    json_out = tmp_path_factory.mktemp("accuracy") / "rows.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rows = core_accuracy.run(None, num=16, refine=2, threads=1, json_out=json_out, ood_num=4)
    return dict(rows), printed.getvalue(), json.loads(json_out.read_text())


@pytest.fixture(scope="module")
def shipped_rows(shipped_run) -> dict[str, dict[str, float]]:
    return shipped_run[0]


@pytest.fixture(scope="module")
def corrupted_weights(tmp_path_factory) -> Path:
    """The shipped bundle with noise on Ω's weights (Ψ and the DAEs untouched)."""
    bundle = load_bundle(shipped_path())
    generator = torch.Generator().manual_seed(0)
    for key, value in bundle.networks["pose"].items():
        if value.is_floating_point() and key.endswith("weight"):
            value += 0.5 * value.std() * torch.randn(value.shape, generator=generator)
    return save_bundle(bundle, tmp_path_factory.mktemp("w") / "corrupted.pt")


def test_speed_benchmark_rows_come_from_real_fits(tmp_path, capsys) -> None:
    numbers = core.run(None, threads=1, batch=8, refine=3, baseline_steps=5)
    out = capsys.readouterr().out
    assert "bodies/s" in out and "(baseline)" in out
    assert numbers["b8_mesh_bodies_per_s"] > 0
    one_shot = numbers["SMPLR one-shot_joints_mm"]
    assert 1.0 < one_shot < 60.0  # trained weights on clean joints: tens of mm, not zero
    assert numbers["SMPLR + refine 3_joints_mm"] < 0.5 * one_shot
    assert numbers["SMPLR + refine 3_vertices_mm"] < numbers["SMPLR one-shot_vertices_mm"]
    # five LM steps from the rest pose are far from SMPLR's one shot
    assert numbers["baseline_joints_mm"] > one_shot
    untrained = core.run(
        write_tiny_open_bundle(tmp_path / "tiny.pt"), threads=1, batch=8, refine=0, baseline_steps=1
    )
    assert untrained["SMPLR one-shot_joints_mm"] > 3 * one_shot


def test_accuracy_rows_follow_the_measured_behaviour(shipped_rows, capsys) -> None:
    rows = shipped_rows
    assert "3D clean, DAE" in rows and "2D (perspective, clean)" in rows
    assert any("structured" in label for label in rows)
    joints = {label: row["joints_p1"] for label, row in rows.items()}
    assert all(0.0 < v < 500.0 for v in joints.values()), joints
    assert joints["3D clean, DAE + refine 2"] < 0.5 * joints["3D clean, DAE"]
    assert joints["3D gaussian noise, DAE"] > joints["3D clean, DAE"]
    assert joints["3D gaussian noise, DAE"] < joints["3D gaussian noise, no DAE"]
    assert joints["3D uniform noise, DAE"] < joints["3D uniform noise, no DAE"]
    for row in rows.values():  # Procrustes aligns: Protocol 2 never exceeds Protocol 1
        assert row["joints_p2"] <= row["joints_p1"] + 1e-6
        assert 0.0 <= row["gender_acc"] <= 1.0


def test_accuracy_with_ood_num_prints_every_test_set_after_its_conditions(shipped_run) -> None:
    rows, printed, records = shipped_run
    conditions, test_sets = printed.split("SMPLR on clean JL of the named test sets")
    assert all(label in conditions for label in rows)
    assert [r["condition"] for r in records[: len(rows)]] == list(rows)
    table = records[len(rows) :]
    expected = [(name, c) for name in TEST_SETS for c in ("no DAE", "DAE", "DAE + refine 2")]
    assert [(r["set"], r["condition"]) for r in table] == expected
    assert all(r["bodies"] == 4 for r in table)
    for name in TEST_SETS:
        lines = [line for line in test_sets.splitlines() if line.startswith(name + " ")]
        assert len(lines) == 3 and TEST_SETS[name].label in lines[0], name
    in_distribution = {r["condition"]: r["joints_p1"] for r in table[:3]}
    assert in_distribution["DAE + refine 2"] < in_distribution["DAE"]


def test_accuracy_refuses_a_negative_ood_num() -> None:
    with pytest.raises(ValueError, match="ood_num must be >= 0"):
        core_accuracy.run(None, num=2, ood_num=-1)


def test_a_corrupted_pose_network_scores_worse(shipped_rows, corrupted_weights) -> None:
    corrupted = dict(core_accuracy.run(corrupted_weights, num=16, refine=2, threads=1))
    for label in ("3D clean, no DAE", "3D clean, DAE", "3D gaussian noise, DAE"):
        assert corrupted[label]["joints_p1"] > 1.5 * shipped_rows[label]["joints_p1"], label
    # Ψ reads the same (denoised) points and was left alone: the same genders
    for label in ("3D clean, DAE", "3D gaussian noise, DAE"):
        assert corrupted[label]["gender_acc"] == shipped_rows[label]["gender_acc"], label
