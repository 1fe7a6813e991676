"""``smplr train``: every command takes the shared options and hands them on as one object."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import run_smplr
from smplr.cli.train import TrainOptions
from smplr.training.stages import SMPL_WEIGHT


@pytest.fixture
def calls(monkeypatch) -> list[tuple]:
    """Record ``TrainOptions.train`` instead of training."""
    seen: list[tuple] = []

    def train(self, stage, steps, smpl_weight=SMPL_WEIGHT):
        seen.append((self, stage, steps, smpl_weight))

    monkeypatch.setattr(TrainOptions, "train", train)
    return seen


@pytest.mark.parametrize(
    ("args", "stage", "steps", "weight"),
    [
        (["dae", "--input-format", "2d"], "dae_2d", 6000, SMPL_WEIGHT),
        (["shape", "--no-landmarks", "--steps", "7"], "shape_nolm", 7, SMPL_WEIGHT),
        (["pose"], "pose", 6000, SMPL_WEIGHT),
        (["pose-smpl", "--smpl-weight", "3"], "pose_smpl", 3000, 3.0),
    ],
)
def test_stage_commands_gather_the_shared_options(
    monkeypatch, capsys, calls, args, stage, steps, weight
) -> None:
    code, _, err = run_smplr(
        monkeypatch, capsys, "train", *args, "--run-dir", "r", "--lr", "0.5", "--fresh"
    )
    assert code == 0, err
    [(options, got_stage, got_steps, got_weight)] = calls
    assert (got_stage, got_steps, got_weight) == (stage, steps, weight)
    assert options == TrainOptions(run_dir=Path("r"), lr=0.5, fresh=True)


def test_bad_train_options_give_one_line_errors(monkeypatch, capsys) -> None:
    code, _, err = run_smplr(monkeypatch, capsys, "train", "dae", "--input-format", "3d")
    assert code == 2 and "unknown input format '3d'" in err
    code, _, err = run_smplr(monkeypatch, capsys, "train", "pose", "--female", "f.pkl")
    assert code == 2 and "give both --female and --male" in err
    with pytest.raises(ValueError, match="must be positive"):
        TrainOptions(batch_size=0).settings(10)
