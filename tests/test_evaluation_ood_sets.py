"""smplr.datasets.test_sets and smplr.evaluation.pose_sets: the named (OOD) test sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smplr.body.model import GenderedBodyModel
from smplr.datasets import real_mocap, test_sets
from smplr.datasets.real_mocap import RealPoses, save_real_mocap_poses
from smplr.evaluation import pose_sets
from smplr.pipeline import SMPLR
from smplr.synthetic.bodies import held_out_set
from smplr.synthetic.joint_limits import limit_violation
from smplr.synthetic.pose_sources import mirror, perturbed
from smplr.synthetic.seeds import is_test_seed

# Drawn with smplr.synthetic.test_sets before the registry moved to smplr.datasets (the
# mocap train set was added then): size, sum of the first 4 bodies' body_pose, sums of
# |body_pose|, |global_orient| and |betas| over the set, sum of gender.
PINNED = {
    "in_distribution": (400, -4.839624637, 5223.025912503, 802.310768739, 3265.791933594, 0),
    "uniform_limits": (400, -13.163966924, 10146.433443142, 778.384708869, 3393.086452497, -44),
    "perturbed": (400, -0.513397301, 6317.103207201, 784.625331713, 3282.852141321, 0),
    "mirrored": (400, -7.300473299, 7645.832528537, 858.091511409, 3353.734798165, -2),
    "extreme": (400, 5.667121426, 6103.386264196, 917.845421739, 3367.312426188, -42),
    "wide_shapes": (400, -0.663782107, 5240.067097243, 841.156003214, 4836.428904245, 16),
    "real_mocap_test": (908, 0.153984845, 13646.476574881, 2874.724347287, 7623.875851862, 40),
    "real_mocap_train": (2196, 4.046569628, 29081.673425968, 4067.55393312, 18331.368674304, 58),
}


@pytest.fixture
def no_mocap(monkeypatch, tmp_path):
    monkeypatch.setattr(real_mocap, "SHIPPED_PATH", tmp_path / "missing.npz")


def _mocap_file(path, n=40):
    rng = np.random.default_rng(0)
    half = n // 2
    save_real_mocap_poses(
        RealPoses(
            global_orient=(0.3 * rng.standard_normal((n, 3))).astype(np.float32),
            body_pose=(0.2 * rng.standard_normal((n, 69))).astype(np.float32),
            source=np.array(["deepmimic"] * n),
            clip=np.array(["a"] * half + ["b"] * (n - half)),
            split=np.array(["train"] * half + ["test"] * (n - half)),
            frame=np.arange(n, dtype=np.int32),
            error_degrees=np.zeros(n, np.float32),
        ),
        path,
    )
    return path


@pytest.mark.parametrize("name", sorted(PINNED))
def test_sets_draw_the_pinned_bodies(name):
    assert sorted(PINNED) == sorted(test_sets.TEST_SETS)
    poses, betas, gender = test_sets.draw_test_set(name)
    got = (
        len(poses),
        float(poses.body_pose[:4].sum()),
        float(poses.body_pose.abs().sum()),
        float(poses.global_orient.abs().sum()),
        float(betas.abs().sum()),
        int(gender.sum()),
    )
    assert got == pytest.approx(PINNED[name], rel=1e-9, abs=1e-8)


def test_seeds_are_distinct_and_kept_for_test_sets():
    seeds = [s.seed for s in test_sets.TEST_SETS.values()]
    assert len(set(seeds)) == len(seeds)
    assert all(is_test_seed(s) for s in seeds)
    assert not is_test_seed(0) and not is_test_seed(1_000_003)  # a training run's seeds
    with pytest.raises(ValueError, match="not kept for test sets"):
        test_sets.TestSet("x", False, 5, 10, test_sets.TEST_SETS["extreme"].poses)


def test_labels_are_honest():
    held = {n for n, s in test_sets.TEST_SETS.items() if s.held_out}
    assert held == {"extreme", "real_mocap_test"}
    assert test_sets.TEST_SETS["extreme"].label == "held-out source"
    assert "other seed" in test_sets.TEST_SETS["uniform_limits"].label
    assert "same poses" in test_sets.TEST_SETS["real_mocap_train"].label


@pytest.mark.parametrize("name", [n for n in test_sets.TEST_SETS if not n.startswith("real_mocap")])
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


def test_mocap_sets_missing_file_are_skipped(no_mocap):
    assert test_sets.draw_test_set("real_mocap_test") is None
    assert test_sets.draw_test_set("real_mocap_train") is None
    assert test_sets.draw_test_set("extreme", size=2) is not None


def test_mocap_sets_read_their_split(monkeypatch, tmp_path):
    path = _mocap_file(tmp_path / "mocap.npz")
    monkeypatch.setattr(real_mocap, "SHIPPED_PATH", path)
    poses, betas, _ = test_sets.draw_test_set("real_mocap_test", size=5)
    assert len(poses) == 5 and betas.shape == (5, 10) and poses.body_pose.dtype == torch.float64
    with np.load(path) as data:
        rows = {
            s: data["body_pose"][data["split"] == s].astype(np.float64) for s in ("train", "test")
        }
    assert all(np.isclose(rows["test"], row).all(1).any() for row in poses.body_pose.numpy())
    assert len(test_sets.draw_test_set("real_mocap_test")[0]) == 20  # all of a small split
    train = test_sets.draw_test_set("real_mocap_train")[0]
    np.testing.assert_array_equal(train.body_pose.numpy(), rows["train"])


def test_unknown_set_and_bad_size():
    with pytest.raises(ValueError, match="unknown test set"):
        test_sets.draw_test_set("nope")
    with pytest.raises(ValueError, match="size"):
        test_sets.draw_test_set("extreme", size=0)


def test_evaluate_test_sets_rows(no_mocap):
    model = SMPLR.pretrained()
    rows = list(
        pose_sets.evaluate_test_sets(
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
    assert all(pose_sets.format_row(r) for r in rows)
