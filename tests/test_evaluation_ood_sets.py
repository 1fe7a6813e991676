"""smplr.synthetic.test_sets and smplr.evaluation.ood_sets: named OOD test sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smplr.body.model import GenderedBodyModel
from smplr.evaluation import ood_sets
from smplr.pipeline import SMPLR
from smplr.synthetic import test_sets
from smplr.synthetic.bodies import held_out_set
from smplr.synthetic.joint_limits import limit_violation
from smplr.synthetic.pose_sources import mirror, perturbed


@pytest.fixture
def no_mocap(monkeypatch, tmp_path):
    monkeypatch.setattr(test_sets, "MOCAP_PATH", tmp_path / "missing.npz")


def _mocap_file(path, n=40):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        global_orient=(0.3 * rng.standard_normal((n, 3))).astype(np.float32),
        body_pose=(0.2 * rng.standard_normal((n, 69))).astype(np.float32),
        split=np.array(["train"] * (n // 2) + ["test"] * (n - n // 2)),
    )
    return path


def test_seeds_are_distinct_and_far_from_training_seeds():
    seeds = [s.seed for s in test_sets.TEST_SETS.values()]
    assert len(set(seeds)) == len(seeds)
    assert all(s >= 10_000 for s in seeds)  # training: seed, seed + 1_000_003 for small seeds


def test_labels_are_honest():
    held = {n for n, s in test_sets.TEST_SETS.items() if s.held_out}
    assert held == {"extreme", "real_mocap_test"}
    assert test_sets.TEST_SETS["extreme"].label == "held-out source"
    assert "other seed" in test_sets.TEST_SETS["uniform_limits"].label


@pytest.mark.parametrize("name", [n for n in test_sets.TEST_SETS if n != "real_mocap_test"])
def test_sets_are_deterministic_and_valid(name):
    a = test_sets.draw_test_set(name, size=24)
    b = test_sets.draw_test_set(name, size=24)
    assert a is not None and b is not None
    for x, y in zip(
        (a[0].body_pose, a[0].global_orient, a[1], a[2]),
        (b[0].body_pose, b[0].global_orient, b[1], b[2]),
        strict=True,
    ):
        assert torch.equal(x, y)
    poses, betas, gender = a
    assert betas.shape == (24, 10) and gender.shape == (24,)
    assert float(limit_violation(poses.matrices()[1]).max()) < 1e-4


def test_in_distribution_is_the_model_cards_held_out_draw():
    body = GenderedBodyModel.open()
    truth = held_out_set(body, num=12, seed=test_sets.IN_DISTRIBUTION_SEED)
    poses, betas, gender = test_sets.draw_test_set("in_distribution", size=12)
    go, bp = poses.matrices()
    assert torch.allclose(bp.to(truth.body_pose), truth.body_pose, atol=1e-5)
    assert torch.allclose(go.to(truth.global_orient), truth.global_orient, atol=1e-5)
    assert torch.equal(gender.to(truth.gender), truth.gender)
    assert torch.allclose(betas.to(truth.betas), truth.betas)


def test_mirrored_set_is_the_mirror_of_its_source():
    spec = test_sets.TEST_SETS["mirrored"]
    poses = test_sets.draw_test_set("mirrored", size=8)[0]
    source = perturbed(8, torch.Generator().manual_seed(spec.seed), "families", dtype=torch.float64)
    assert torch.equal(mirror(poses).body_pose, source.body_pose)


def test_mocap_set_missing_file_is_skipped(no_mocap):
    assert test_sets.draw_test_set("real_mocap_test") is None
    assert test_sets.load_mocap_poses("train") is None


def test_mocap_file_is_read_by_split(monkeypatch, tmp_path):
    path = _mocap_file(tmp_path / "mocap.npz")
    monkeypatch.setattr(test_sets, "MOCAP_PATH", path)
    train = test_sets.load_mocap_poses("train")
    assert train is not None and len(train) == 20 and train.body_pose.dtype == torch.float64
    poses, betas, _ = test_sets.draw_test_set("real_mocap_test", size=5)
    assert len(poses) == 5 and betas.shape == (5, 10)
    with np.load(path) as data:
        test_rows = data["body_pose"][data["split"] == "test"].astype(np.float64)
    assert all(np.isclose(test_rows, row).all(1).any() for row in poses.body_pose.numpy())
    assert len(test_sets.draw_test_set("real_mocap_test")[0]) == 20  # all of a small split


def test_bad_mocap_file_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(
        path,
        global_orient=np.zeros((3, 3)),
        body_pose=np.zeros((3, 60)),
        split=np.array(["test"] * 3),
    )
    with pytest.raises(ValueError, match="expected global_orient"):
        test_sets.load_mocap_poses("test", path)
    np.savez(path, global_orient=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="missing arrays"):
        test_sets.load_mocap_poses("test", path)
    with pytest.raises(ValueError, match="unknown split"):
        test_sets.load_mocap_poses("val", path)


def test_unknown_set_and_bad_size():
    with pytest.raises(ValueError, match="unknown test set"):
        test_sets.draw_test_set("nope")
    with pytest.raises(ValueError, match="size"):
        test_sets.draw_test_set("extreme", size=0)


def test_evaluate_pose_sets_rows(no_mocap):
    model = SMPLR.pretrained()
    rows = list(
        ood_sets.evaluate_pose_sets(
            model, ["in_distribution", "extreme", "real_mocap_test"], num=32
        )
    )
    assert [r["set"] for r in rows] == ["in_distribution"] * 2 + ["extreme"] * 2 + [
        "real_mocap_test"
    ]
    assert "skipped" in rows[-1]
    first = rows[0]
    assert first["condition"] == "no DAE" and first["bodies"] == 32
    assert first["source"] == "source seen in training (other seed)"
    assert rows[2]["source"] == "held-out source"
    assert 0 < first["joints_p1"] < 25 and 0 < first["vertices_p1"] < 35
    assert rows[2]["joints_p1"] > first["joints_p1"]  # the shipped model is worse off-prior
    assert 0.9 <= first["gender_acc"] <= 1.0
    assert all(ood_sets.format_row(r) for r in rows)
