"""SMPLR's accuracy on a given set of SMPL poses (smplr.evaluation.pose_sets)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smplr.datasets.real_mocap import RealPoses
from smplr.evaluation import pose_sets
from smplr.pipeline import SMPLR


@pytest.fixture(scope="module")
def model() -> SMPLR:
    return SMPLR.pretrained()


def test_random_bodies_follow_the_given_poses(model) -> None:
    turned = torch.zeros(4, 3)
    turned[:, 1] = torch.pi / 2  # facing +X instead of +Z
    batch = pose_sets.random_bodies(model, turned, torch.zeros(4, 69), seed=1)
    again = pose_sets.random_bodies(model, turned, torch.zeros(4, 69), seed=1)
    torch.testing.assert_close(batch.jl, again.jl)
    assert set(batch.gender.tolist()) <= {-1.0, 1.0}
    torch.testing.assert_close(batch.jl[:, 0], torch.zeros(4, 3), atol=1e-6, rtol=0)
    # The left hip (SMPL +X at rest) now points to world -Z.
    assert bool((batch.jl[:, 1, 2] < -0.03).all())


def test_evaluate_pose_set_scores_both_conditions(model) -> None:
    rows = pose_sets.evaluate_pose_set(model, np.zeros((6, 3)), np.zeros((6, 69)), seed=0)
    assert set(rows) == set(pose_sets.CONDITIONS)
    for row in rows.values():
        assert 0.0 < row["joints_p1"] < 200.0 and 0.0 < row["vertices_p1"] < 300.0
        assert 0.0 <= row["gender_acc"] <= 1.0


def test_bad_pose_shapes_are_named(model) -> None:
    with pytest.raises(ValueError, match=r"body_pose has shape \(2, 72\)"):
        pose_sets.random_bodies(model, torch.zeros(2, 3), torch.zeros(2, 72))
    with pytest.raises(ValueError, match=r"global_orient has shape \(2, 3, 3\)"):
        pose_sets.random_bodies(model, torch.zeros(2, 3, 3), torch.zeros(2, 69))


def test_pooled_means_weight_sets_by_size() -> None:
    def part(value: float, n: int) -> tuple[int, pose_sets.Scores]:
        return n, {label: {"joints_p1": value} for label in pose_sets.CONDITIONS}

    count, scores = pose_sets.pooled([part(10.0, 1), part(40.0, 2)])
    assert count == 3
    assert scores["one-shot, DAE"]["joints_p1"] == pytest.approx(30.0)


def test_real_pose_results_pool_sources_per_split(model) -> None:
    poses = RealPoses(
        global_orient=np.zeros((5, 3), np.float32),
        body_pose=np.zeros((5, 69), np.float32),
        source=np.array(["a", "a", "b", "b", "b"]),
        clip=np.array(["x", "y", "z", "z", "w"]),
        split=np.array(["train", "test", "train", "train", "test"]),
        frame=np.arange(5, dtype=np.int32),
        error_degrees=np.zeros(5, np.float32),
    )
    results = pose_sets.real_pose_results(model, poses)
    assert {k: n for k, (n, _) in results.items()} == {
        "a, train": 1,
        "a, test": 1,
        "b, train": 2,
        "b, test": 1,
        "real, train": 3,
        "real, test": 2,
    }
    table = pose_sets.format_table(results)
    assert table.count("\n") == 2 + 2 * len(results) - 1
