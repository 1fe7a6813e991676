"""Retargeting by bone directions, and the real-pose file built from it."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from smplr.body.kinematics import forward_kinematics
from smplr.body.model import BodyModel
from smplr.body.skeleton import JOINT_NAMES, PARENTS
from smplr.datasets import real_mocap
from smplr.datasets.mocap import DEEPMIMIC_POINTS, HOLOSOMA_JOINTS
from smplr.datasets.retarget import (
    DEEPMIMIC_BONES,
    HOLOSOMA_BONES,
    Bone,
    RetargetPrior,
    bone_directions,
    retarget,
    source_directions,
)
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.synthetic.poses import PosePrior

# SMPL onto itself: every tree bone, plus the two lines across the hips and shoulders.
SELF_BONES = (
    Bone("hip line", ("right_hip", "left_hip"), ("right_hip", "left_hip"), torso=True),
    Bone("trunk", ("pelvis", "spine3"), ("pelvis", "spine3"), torso=True),
    Bone("shoulders", ("right_shoulder", "left_shoulder"), ("right_shoulder", "left_shoulder")),
    *(
        Bone(name, (JOINT_NAMES[parent], name), (JOINT_NAMES[parent], name))
        for name, parent in zip(JOINT_NAMES[1:], PARENTS[1:], strict=True)
    ),
)


@functools.cache
def _neutral() -> BodyModel:
    return BodyModel.open("neutral", dtype=torch.float64)


@pytest.fixture
def body() -> BodyModel:
    return _neutral()


def _smpl_points(body: BodyModel, rotations: torch.Tensor) -> np.ndarray:
    _, joints = forward_kinematics(rotations, body.rest_joints()[0])
    return joints.numpy()


def test_retargeting_the_body_model_recovers_its_bone_directions(body) -> None:
    global_orient, body_pose = PosePrior("cpu", dtype=torch.float64).sample(
        6, torch.Generator().manual_seed(3)
    )
    rotations = torch.cat([global_orient[:, None], body_pose], dim=1)
    points = _smpl_points(body, rotations)
    result = retarget(points, JOINT_NAMES, SELF_BONES, body, RetargetPrior(steps=250))
    fitted = torch.cat(
        [
            torch.as_tensor(result.global_orient)[:, None],
            torch.as_tensor(result.body_pose).view(6, 23, 3),
        ],
        dim=1,
    )
    refit = _smpl_points(body, axis_angle_to_matrix(fitted))
    truth = source_directions(points, JOINT_NAMES, SELF_BONES)
    again = source_directions(refit, JOINT_NAMES, SELF_BONES)
    angles = np.degrees(np.arccos(np.clip((truth * again).sum(-1), -1, 1)))
    assert angles.max() < 3.0, angles.max()
    assert result.error_degrees.shape == (6, len(SELF_BONES))
    np.testing.assert_allclose(result.error_degrees, angles, atol=1e-6)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_global_orientation_is_recovered_for_any_turn(seed) -> None:
    model = _neutral()
    turn = torch.as_tensor(np.random.default_rng(seed).normal(size=(1, 3)))
    rotations = torch.eye(3, dtype=torch.float64).repeat(1, 24, 1, 1)
    rotations[:, 0] = axis_angle_to_matrix(turn)
    points = _smpl_points(model, rotations)
    result = retarget(points, JOINT_NAMES, SELF_BONES, model, RetargetPrior(steps=20))
    fitted = axis_angle_to_matrix(torch.as_tensor(result.global_orient))
    cosine = ((torch.einsum("bij,bij->b", fitted, rotations[:, 0]) - 1) / 2).clamp(-1, 1)
    assert float(torch.rad2deg(torch.arccos(cosine))) < 2.0


def test_bone_maps_name_real_joints() -> None:
    for bones, names in ((HOLOSOMA_BONES, HOLOSOMA_JOINTS), (DEEPMIMIC_BONES, DEEPMIMIC_POINTS)):
        for bone in bones:
            assert set(bone.source) <= set(names) and set(bone.smpl) <= set(JOINT_NAMES)


def test_retarget_rejects_bad_input(body) -> None:
    with pytest.raises(ValueError, match=r"expected \(T, 24, 3\)"):
        retarget(np.zeros((2, 23, 3)), JOINT_NAMES, SELF_BONES, body)
    with pytest.raises(ValueError, match="no joint named nose"):
        retarget(
            np.ones((1, 24, 3)),
            JOINT_NAMES,
            (Bone("x", ("nose", "head"), ("neck", "head"), torso=True),) * 2,
            body,
        )
    with pytest.raises(ValueError, match="NaN"):
        retarget(np.full((1, 24, 3), np.nan), JOINT_NAMES, SELF_BONES, body)


def test_bone_directions_are_unit_vectors() -> None:
    points = torch.tensor([[[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [4.0, 3.0, 0.0]]])
    directions = bone_directions(points, torch.tensor([[0, 1], [1, 2], [0, 2]]))
    np.testing.assert_allclose(directions[0].numpy(), [[0, 1, 0], [1, 0, 0], [0.8, 0.6, 0]])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(1.0, 30.0))
def test_distinct_frames_drop_only_near_duplicates(seed, threshold) -> None:
    rng = np.random.default_rng(seed)
    angles = np.cumsum(rng.uniform(0, 0.15, size=40))
    directions = np.stack([np.cos(angles), np.sin(angles), 0 * angles], -1)[:, None]  # (T, 1, 3)
    kept = real_mocap.distinct_frames(directions, threshold)
    step = np.radians(threshold)
    assert kept[0] == 0
    assert (np.diff(angles[kept]) >= step - 1e-9).all()
    for index in range(40):  # every dropped frame lies within the threshold of a kept one before it
        last = kept[kept <= index][-1]
        assert index == last or angles[index] - angles[last] < step


def _fixture_clips() -> list[real_mocap.Clip]:
    rest = np.zeros((1, 24, 3))
    points = rest + BodyModel.open("neutral").rest_joints()[0].double().numpy()
    moved = points.copy()
    moved[:, JOINT_NAMES.index("left_elbow") :: 2] += 0.0  # same pose: a near-duplicate
    bent = points.copy()
    bent[0, JOINT_NAMES.index("left_wrist")] = bent[0, JOINT_NAMES.index("left_elbow")] + [
        0,
        0.25,
        0,
    ]
    frames = np.concatenate([points, moved, bent])
    return [
        real_mocap.Clip("smpl", "humanoid3d_backflip", frames, JOINT_NAMES, SELF_BONES),
        real_mocap.Clip("smpl", "walking", frames, JOINT_NAMES, SELF_BONES),
    ]


def test_cli_builds_writes_and_reloads_the_pose_file(tmp_path, monkeypatch) -> None:
    from smplr.cli import data

    monkeypatch.setattr(data, "installed_clips", _fixture_clips)
    out = tmp_path / "poses.npz"
    result = CliRunner().invoke(data.app, ["retarget-mocap", "--out", str(out), "--steps", "40"])
    assert result.exit_code == 0, result.output
    poses = real_mocap.load_real_mocap_poses(out)
    assert len(poses) == 4  # the duplicate frame of each clip is dropped
    assert poses.frame.tolist() == [0, 2, 0, 2]
    assert poses.global_orient.dtype == np.float32 and poses.body_pose.shape == (4, 69)
    test = real_mocap.load_real_mocap_poses(out, split="test")
    assert set(test.clip) == {"humanoid3d_backflip"} and len(test) == 2
    # The elbow turned up by 90 degrees in the last frame: the fit bends it.
    assert np.abs(poses.body_pose[1]).max() > 0.5


def test_cli_reports_residuals_per_bone(tmp_path, monkeypatch) -> None:
    from smplr.cli import data

    monkeypatch.setattr(data, "installed_clips", _fixture_clips)
    out = tmp_path / "poses.npz"
    runner = CliRunner()
    runner.invoke(data.app, ["retarget-mocap", "--out", str(out), "--steps", "40"])
    result = runner.invoke(data.app, ["mocap-residuals", "--poses", str(out)])
    assert result.exit_code == 0, result.output
    assert f"smpl: 4 poses x {len(SELF_BONES)} bones" in result.output
    assert "left_elbow" in result.output


def test_load_rejects_other_files(tmp_path) -> None:
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a real-pose file"):
        real_mocap.load_real_mocap_poses(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="unknown split"):
        real_mocap.load_real_mocap_poses(tmp_path / "other.npz", split="val")
