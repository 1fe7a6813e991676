"""``smplr evaluate`` end to end on tiny datasets written in their released formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.cli import run_smplr
from helpers.dataset_files import fake_bodies, write_fake_smpl_dir, write_surreal_clip, write_up3d
from smplr.datasets import SurrealReader, Up3dReader
from smplr.evaluation import GroundTruthBodies, Prediction, ground_truth_batch, save_predictions


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return run_smplr(monkeypatch, capsys, "evaluate", *args)


@pytest.fixture
def up3d_case(tmp_path):
    root = tmp_path / "up-3d"
    write_up3d(root, {"test": [1, 2, 3]})
    smpl_dir = write_fake_smpl_dir(tmp_path / "smpl")
    samples = list(Up3dReader(root, split="test"))
    truth = ground_truth_batch(samples, GroundTruthBodies.from_directory(smpl_dir))
    rng = np.random.default_rng(0)
    pred = Prediction(
        joints=truth.joints + rng.normal(0, 0.01, truth.joints.shape), vertices=truth.vertices
    )
    preds = save_predictions(tmp_path / "preds.npz", [s.key for s in samples], pred)
    return root, smpl_dir, preds, truth, pred


def test_up3d_predictions_with_json_and_plots(monkeypatch, capsys, tmp_path, up3d_case):
    root, smpl_dir, preds, truth, pred = up3d_case
    code, out, err = run_cli(
        monkeypatch, capsys, "-d", "up3d", "-r", str(root), "-p", str(preds), "--gt-body", str(smpl_dir),
        "--json", str(tmp_path / "eval.json"), "--plots", str(tmp_path / "plots"),
    )  # fmt: skip
    assert code == 0, err
    assert "Table 1 layout" in out and "Table 3 layout" in out
    summary = json.loads((tmp_path / "eval.json").read_text())[0]
    expected = np.linalg.norm(
        (pred.joints - pred.joints[:, :1]) - (truth.joints - truth.joints[:, :1]), axis=-1
    )
    all_joints = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 18, 19, 20, 21]
    assert summary["protocol_1"]["joints"] == pytest.approx(1000 * expected[:, all_joints].mean())
    assert summary["protocol_1"]["surface"] > 0  # vertices exact, but the root joint moved
    assert summary["protocol_2"]["surface"] == pytest.approx(0, abs=1e-6)
    assert summary["dataset"] == "up3d" and summary["num_samples"] == 3
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "preds_up3d_test_distribution.png",
        "preds_up3d_test_per_joint.png",
    ]


def test_refusals_are_one_line_exit_2(monkeypatch, capsys, tmp_path, up3d_case):
    root, smpl_dir, preds, _, _ = up3d_case
    cases = {
        "unknown model 'hmr'": ["-d", "up3d", "-r", str(root), "-m", "hmr"],
        "give exactly one of --predictions": ["-d", "up3d", "-r", str(root)],
        "unknown dataset 'coco'": ["-d", "coco", "-p", str(preds)],
        "UP-3D has no 3D joint annotation": ["-d", "up3d", "-r", str(root), "-p", str(preds)],
        "--root is required": ["-d", "up3d", "-p", str(preds), "--gt-body", str(smpl_dir)],
        "cannot be used with a predictions file": [
            "-d", "up3d", "-r", str(root), "-p", str(preds), "--gt-body", str(smpl_dir), "--limit", "1",
        ],
    }  # fmt: skip
    for message, args in cases.items():
        code, out, err = run_cli(monkeypatch, capsys, *args)
        assert code == 2, (message, out, err)
        assert message in err and err.count("\n") == 1, err


def test_mismatched_counts_refuse(monkeypatch, capsys, tmp_path):
    bodies = fake_bodies()
    write_surreal_clip(tmp_path / "surreal", bodies, frames=5, step=0.06)
    samples = list(SurrealReader(tmp_path / "surreal", split="test"))
    keys = [s.key for s in samples]
    joints = np.stack([s.joints3d for s in samples])
    fewer = save_predictions(tmp_path / "fewer.npz", keys[:-2], Prediction(joints=joints[:-2]))
    code, _, err = run_cli(
        monkeypatch, capsys, "-d", "surreal", "-r", str(tmp_path / "surreal"), "-p", str(fewer)
    )
    assert code == 2 and "no prediction for sample" in err
    more = save_predictions(
        tmp_path / "more.npz",
        [*keys, "x#1"],
        Prediction(joints=np.concatenate([joints, joints[:1]])),
    )
    code, _, err = run_cli(
        monkeypatch, capsys, "-d", "surreal", "-r", str(tmp_path / "surreal"), "-p", str(more)
    )
    assert code == 2 and "6 predictions but 5 ground-truth samples: counts must match" in err
    exact = save_predictions(tmp_path / "exact.npz", keys, Prediction(joints=joints))
    code, out, err = run_cli(
        monkeypatch, capsys, "-d", "surreal", "-r", str(tmp_path / "surreal"), "-p", str(exact)
    )
    assert code == 0, err
    assert "Table 1 layout" in out and "5 samples" in out
