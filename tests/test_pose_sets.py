"""SMPLR's accuracy on a given set of SMPL poses (smplr.evaluation.pose_sets)."""

from __future__ import annotations

import pytest
import torch

from smplr.datasets.test_sets import TEST_SETS, draw_test_set
from smplr.evaluation import pose_sets
from smplr.pipeline import SMPLR
from smplr.synthetic.pose_sources import Poses


@pytest.fixture(scope="module")
def model() -> SMPLR:
    return SMPLR.pretrained()


def _rest(count: int) -> Poses:
    return Poses(torch.zeros(count, 3, dtype=torch.float64), torch.zeros(count, 69).double())


def test_truth_follows_the_given_poses(model) -> None:
    poses = _rest(4)
    poses.global_orient[:, 1] = torch.pi / 2  # facing +X instead of +Z
    betas, gender = torch.zeros(4, 10), torch.tensor([-1.0, 1.0, -1.0, 1.0])
    truth = pose_sets.pose_set_truth(model, poses, betas, gender)
    torch.testing.assert_close(truth.jl[:, 0], torch.zeros(4, 3), atol=1e-6, rtol=0)
    # The left hip (SMPL +X at rest) now points to world -Z.
    assert bool((truth.jl[:, 1, 2] < -0.03).all())
    torch.testing.assert_close(truth.jl[0], truth.jl[2])  # same body twice
    assert not torch.allclose(truth.jl[0], truth.jl[1])  # female vs male


def test_evaluate_pose_set_scores_both_conditions(model) -> None:
    rows = pose_sets.evaluate_pose_set(model, _rest(6), seed=0)
    assert [r["condition"] for r in rows] == list(pose_sets.CONDITIONS)
    for row in rows:
        assert row["bodies"] == 6
        assert 0.0 < row["joints_p1"] < 200.0 and 0.0 < row["vertices_p1"] < 300.0
        assert 0.0 <= row["gender_acc"] <= 1.0
    assert pose_sets.evaluate_pose_set(model, _rest(6), seed=0)[0]["joints_p1"] == pytest.approx(
        rows[0]["joints_p1"]
    )


def test_a_test_set_is_its_poses_on_its_shapes(model) -> None:
    poses, betas, gender = draw_test_set("extreme", size=8)
    rows = pose_sets.evaluate_pose_set(model, poses, betas, gender)
    walked = list(pose_sets.evaluate_test_sets(model, ["extreme"], num=8))
    for row, named in zip(rows, walked, strict=True):
        assert named == {"set": "extreme", "source": "held-out source", **row} | {
            "ms_per_body": named["ms_per_body"]
        }


def test_bad_shapes_are_named(model) -> None:
    with pytest.raises(ValueError, match="give both betas and gender"):
        pose_sets.evaluate_pose_set(model, _rest(2), betas=torch.zeros(2, 10))
    with pytest.raises(ValueError, match=r"betas \(2, 9\).*2 poses and 10 betas"):
        pose_sets.evaluate_pose_set(model, _rest(2), torch.zeros(2, 9), torch.ones(2))


def _errors(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "ms_per_body"}


@pytest.mark.parametrize("name", ["in_distribution", "extreme"])
def test_refine_adds_a_row_that_fits_the_clean_keypoints_better(model, name) -> None:
    poses, betas, gender = draw_test_set(name, size=12)
    one_shot = pose_sets.evaluate_pose_set(model, poses, betas, gender)
    rows = pose_sets.evaluate_pose_set(model, poses, betas, gender, refine=10)
    assert [r["condition"] for r in rows] == [*pose_sets.CONDITIONS, "DAE + refine 10"]
    assert [_errors(r) for r in rows[:2]] == [_errors(r) for r in one_shot]
    dae, refined = rows[1], rows[2]
    assert refined["joints_p1"] < 0.7 * dae["joints_p1"], (dae, refined)
    assert refined["joints_p2"] < dae["joints_p2"]
    assert refined["vertices_p1"] < dae["vertices_p1"]
    walked = list(pose_sets.evaluate_test_sets(model, [name], num=12, refine=10))
    source = TEST_SETS[name].label
    assert [_errors(r) for r in walked] == [
        {"set": name, "source": source, **_errors(r)} for r in rows
    ]
    assert all(pose_sets.format_row(r).startswith(name) for r in walked)


@pytest.mark.parametrize("refine", [-1, True, 2.5])
def test_a_bad_refine_is_named(model, refine) -> None:
    with pytest.raises(ValueError, match="refine must be a non-negative number of steps"):
        pose_sets.evaluate_pose_set(model, _rest(2), refine=refine)
    with pytest.raises(ValueError, match="refine must be a non-negative number of steps"):
        next(pose_sets.evaluate_test_sets(model, ["extreme"], num=2, refine=refine))
