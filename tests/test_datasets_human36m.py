"""Human3.6M reader: VideoPose3D and SPIN layouts written as those projects write them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.dataset_files import (
    H36M_CAMERAS,
    write_h36m_cameras,
    write_spin_h36m,
    write_videopose3d,
)
from smplr.body.skeleton import JOINT_NAMES
from smplr.datasets import Human36mReader
from smplr.datasets.human36m import H36M17_TO_SMPL, H36M32_TO_SMPL, SPIN24_TO_SMPL

# Human3.6M 32-joint names of the mapped joints (3d-pose-baseline's naming)
H36M_NAMES = {0: "Hip", 1: "RHip", 2: "RKnee", 3: "RFoot", 6: "LHip", 7: "LKnee", 8: "LFoot", 12: "Spine",
              13: "Thorax", 15: "Head", 17: "LShoulder", 18: "LElbow", 19: "LWrist", 25: "RShoulder",
              26: "RElbow", 27: "RWrist"}  # fmt: skip


def test_mapping_tables_are_consistent():
    mapped = {i: s for i, s in enumerate(H36M32_TO_SMPL) if s >= 0}
    assert set(mapped) == set(H36M_NAMES)
    assert len(set(mapped.values())) == 16
    for h36m, smpl in mapped.items():
        name, smpl_name = H36M_NAMES[h36m], JOINT_NAMES[smpl]
        if name[0] in "LR" and name not in ("LFoot", "RFoot"):
            assert smpl_name.startswith("left" if name[0] == "L" else "right")
    assert JOINT_NAMES[H36M32_TO_SMPL[3]] == "right_ankle"
    assert sorted(s for s in H36M17_TO_SMPL if s >= 0) == sorted(mapped.values())
    assert sorted(s for s in SPIN24_TO_SMPL if s >= 0) == sorted(mapped.values())


def test_videopose3d_world_frame(tmp_path):
    positions = write_videopose3d(tmp_path, frames=12)
    samples = list(Human36mReader(tmp_path, split="test"))
    # 2 subjects x 1 action x 4 cameras x frames 0, 5, 10
    assert len(samples) == 2 * 4 * 3
    s = samples[4]
    assert s.source["subject"] == "S9" and s.source["camera_id"] == H36M_CAMERAS[1] and s.frame == 5
    assert s.coordinates == "world" and s.camera is None
    world = positions["S9"]["Walking 1"][5].astype(np.float64)
    np.testing.assert_allclose(s.joints3d[2], world[1])  # right hip
    np.testing.assert_allclose(s.joints3d[16], world[17])  # left shoulder
    assert s.joint_mask.sum() == 16 and np.isnan(s.joints3d[~s.joint_mask]).all()
    assert s.joints2d.shape == (24, 2) and np.isfinite(s.joints2d[s.joint_mask]).all()
    assert len({x.key for x in samples}) == len(samples)
    with pytest.raises(
        ValueError, match=r"subjects \['S1', 'S5', 'S6', 'S7', 'S8'\] of the train split"
    ):
        list(Human36mReader(tmp_path, split="train"))


def test_videopose3d_with_cameras_and_2d(tmp_path):
    positions = write_videopose3d(tmp_path, frames=7, with_2d=True)
    cams = write_h36m_cameras(tmp_path / "h36m_cameras.json")
    samples = list(Human36mReader(tmp_path / "data_3d_h36m.npz", split="test", every=1))
    assert len(samples) == 2 * 4 * 7
    s = next(x for x in samples if x.key == f"S11/Walking 1/{H36M_CAMERAS[2]}#3")
    cam = cams["S11"][H36M_CAMERAS[2]]
    world = positions["S11"]["Walking 1"][3].astype(np.float64)
    expected = world @ np.array(cam["R"]).T + np.array(cam["t"])
    np.testing.assert_allclose(s.joints3d[0], expected[0])
    np.testing.assert_allclose(s.joints3d[21], expected[27])  # right wrist
    assert s.coordinates == "camera" and s.camera.width == 1000
    pos2d = np.load(tmp_path / "data_2d_h36m_gt.npz", allow_pickle=True)["positions_2d"].item()
    np.testing.assert_allclose(
        s.joints2d[15], pos2d["S11"]["Walking 1"][2][3][10]
    )  # head = 17-joint #10


def test_spin_layout(tmp_path):
    rows = [
        ("S9", "Directions_1", "54138969", 0),
        ("S11", "Eating", "60457274", 5),
        ("S1", "Walking", "54138969", 0),
    ]
    s24 = write_spin_h36m(tmp_path / "h36m_valid_protocol1.npz", rows)
    samples = list(Human36mReader(tmp_path, split="test"))
    assert len(samples) == 2  # S1 is not a test subject
    s = samples[1]
    assert s.source["subject"] == "S11" and s.source["action"] == "Eating" and s.frame == 5
    assert s.coordinates == "camera_root_relative"
    np.testing.assert_allclose(s.joints3d[0], 0.0, atol=1e-12)  # pelvis at the origin
    np.testing.assert_allclose(s.joints3d[8], s24[1, 0, :3])  # SPIN slot 0 = right ankle
    assert s.joint_mask.sum() == 16
    assert s.image_path.name == "S11_Eating.60457274_000006.jpg"
    only_train = tmp_path / "train_only.npz"
    write_spin_h36m(only_train, rows[2:])
    with pytest.raises(ValueError, match="no images of the test split"):
        list(Human36mReader(only_train, split="test"))


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no Human3\.6M files found"):
        Human36mReader(tmp_path)
    bad = tmp_path / "other.npz"
    np.savez(bad, foo=np.zeros(3))
    with pytest.raises(ValueError, match=r"other.npz: neither VideoPose3D"):
        Human36mReader(bad)
    folder = tmp_path / "vp"
    write_videopose3d(folder, frames=3, with_2d=False)
    (folder / "h36m_cameras.json").write_text(
        json.dumps({"S9": {"54138969": {"R": np.eye(3).tolist()}}})
    )
    with pytest.raises(ValueError, match=r"h36m_cameras\.json: S9/54138969: needs R"):
        Human36mReader(folder)
    cam = {
        "R": (2 * np.eye(3)).tolist(),
        "t": [0, 0, 0],
        "f": [1, 1],
        "c": [0, 0],
        "width": 2,
        "height": 2,
    }
    (folder / "h36m_cameras.json").write_text(json.dumps({"S9": {"54138969": cam}}))
    with pytest.raises(ValueError, match="R is not a rotation matrix"):
        Human36mReader(folder)
    (folder / "h36m_cameras.json").unlink()
    np.savez_compressed(
        folder / "data_3d_h36m.npz", positions_3d={"S9": {"A": np.zeros((4, 17, 3))}, "S11": {}}
    )
    with pytest.raises(ValueError, match=r"S9/A has shape \(4, 17, 3\); expected \(T, 32, 3\)"):
        list(Human36mReader(folder))
    (folder / "data_3d_h36m.npz").write_bytes(b"corrupt")
    with pytest.raises(ValueError, match=r"data_3d_h36m\.npz: not a readable \.npz file"):
        list(Human36mReader(folder))
    with pytest.raises(FileNotFoundError, match="camera file not found"):
        Human36mReader(folder, cameras=folder / "missing.json")
