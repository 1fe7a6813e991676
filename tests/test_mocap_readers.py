"""Readers of holosoma joint-position .npy files and DeepMimic motion .txt files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smplr.datasets.mocap import (
    DEEPMIMIC_FRAME_LENGTH,
    DEEPMIMIC_POINTS,
    HOLOSOMA_JOINTS,
    HUMANOID_SCALE,
    MocapFormatError,
    deepmimic_joint_positions,
    quaternion_to_matrix,
    read_deepmimic_motion,
    read_holosoma_joints,
    z_up_to_y_up,
)

IDENTITY = [1.0, 0.0, 0.0, 0.0]


def _frame(knee: float = 0.0, root_height: float = 0.85) -> list[float]:
    """One DeepMimic frame: rest pose but the right knee bent by ``knee`` radians."""
    joints = IDENTITY * 3 + [knee] + IDENTITY * 2 + [0.0] + IDENTITY + [0.0] + IDENTITY * 2 + [0.0]
    return [0.0333, 0.0, root_height, 0.0, *IDENTITY, *joints]


def _write_motion(path, frames, **extra) -> None:
    path.write_text(json.dumps({"Loop": "wrap", "Frames": frames, **extra}))


def test_frame_layout_has_44_numbers() -> None:
    assert DEEPMIMIC_FRAME_LENGTH == 44 == len(_frame())


def test_holosoma_reader_returns_float64_positions(tmp_path) -> None:
    data = np.random.default_rng(0).normal(size=(7, 53, 3)).astype(np.float32)
    np.save(tmp_path / "clip.npy", data)
    joints = read_holosoma_joints(tmp_path / "clip.npy")
    assert joints.dtype == np.float64 and joints.shape == (7, 53, 3)
    np.testing.assert_allclose(joints, data)
    assert len(HOLOSOMA_JOINTS) == 53 and HOLOSOMA_JOINTS[0] == "Hips"


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 52, 3)), "expected (T, 53, 3)"),
        (np.zeros((53, 3)), "expected (T, 53, 3)"),
        (np.zeros((2, 53, 3), dtype=np.int32), "expected a float array"),
        (np.full((2, 53, 3), np.nan), "NaN"),
    ],
)
def test_holosoma_reader_rejects_bad_arrays(tmp_path, array, message) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(MocapFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_holosoma_joints(tmp_path / "bad.npy")


def test_holosoma_reader_rejects_non_npy_and_pickles(tmp_path) -> None:
    (tmp_path / "text.npy").write_text("not an array")
    with pytest.raises(MocapFormatError, match=r"not a readable \.npy"):
        read_holosoma_joints(tmp_path / "text.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(MocapFormatError, match=r"not a readable \.npy"):
        read_holosoma_joints(tmp_path / "objects.npy")


def test_z_up_to_y_up_turns_up_onto_y_and_keeps_handedness() -> None:
    frame = np.eye(3)
    turned = z_up_to_y_up(frame)
    np.testing.assert_allclose(turned[2], [0.0, 1.0, 0.0])  # old up (z) is now y
    assert np.linalg.det(turned) == pytest.approx(1.0)


def test_deepmimic_reader_parses_rest_frame(tmp_path) -> None:
    _write_motion(tmp_path / "m.txt", [_frame(), _frame(-0.5)])
    motion = read_deepmimic_motion(tmp_path / "m.txt")
    assert motion.num_frames == 2 and motion.loop == "wrap"
    assert motion.rotations["right_knee"][:, 0].tolist() == [0.0, -0.5]
    np.testing.assert_allclose(motion.rotations["chest"], [IDENTITY, IDENTITY])
    np.testing.assert_allclose(motion.root_position[0], [0.0, 0.85, 0.0])


def test_deepmimic_rest_pose_forward_kinematics(tmp_path) -> None:
    _write_motion(tmp_path / "m.txt", [_frame()])
    points = deepmimic_joint_positions(read_deepmimic_motion(tmp_path / "m.txt"))[0]
    index = DEEPMIMIC_POINTS.index
    head = points[index("head")] - points[index("root")]
    np.testing.assert_allclose(head, [0.0, HUMANOID_SCALE * (0.944604 + 0.895576 + 0.7), 0.0])
    # Right is +Z on this humanoid; the legs hang straight down at rest.
    assert points[index("right_hip"), 2] > 0 > points[index("left_hip"), 2]
    shin = points[index("right_ankle")] - points[index("right_knee")]
    np.testing.assert_allclose(shin, [0.0, -HUMANOID_SCALE * 1.639480, 0.0], atol=1e-12)


def test_deepmimic_knee_bends_backwards_for_negative_angles(tmp_path) -> None:
    _write_motion(tmp_path / "m.txt", [_frame(-math.pi / 2)])
    points = deepmimic_joint_positions(read_deepmimic_motion(tmp_path / "m.txt"))[0]
    shin = (
        points[DEEPMIMIC_POINTS.index("right_ankle")] - points[DEEPMIMIC_POINTS.index("right_knee")]
    )
    # The knee's limit is [-pi, 0]: a negative angle about Z swings the shin to -X (back).
    np.testing.assert_allclose(shin / np.linalg.norm(shin), [-1.0, 0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON"),
        (json.dumps({"Loop": "wrap"}), "no 'Frames'"),
        (json.dumps({"Frames": [[0.0] * 43]}), r"expected \(T, 44\)"),
        (json.dumps({"Frames": [[0.0] * 44, [0.0] * 43]}), "equal-length"),
        (json.dumps({"Frames": [_frame()[:4] + [0.0] * 4 + _frame()[8:]]}), "root quaternions"),
        (json.dumps({"Frames": []}), r"expected \(T, 44\)"),
    ],
)
def test_deepmimic_reader_rejects_malformed_files(tmp_path, content, message) -> None:
    (tmp_path / "bad.txt").write_text(content)
    with pytest.raises(MocapFormatError, match=message):
        read_deepmimic_motion(tmp_path / "bad.txt")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(lambda q: np.linalg.norm(q) > 0.1)
)
def test_quaternion_to_matrix_gives_rotations(q) -> None:
    q = np.asarray(q) / np.linalg.norm(q)
    matrix = quaternion_to_matrix(q)
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(matrix) == pytest.approx(1.0)
    # The axis (x, y, z) is fixed by the rotation.
    np.testing.assert_allclose(matrix @ q[1:], q[1:], atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_deepmimic_forward_kinematics_keeps_bone_lengths(tmp_path_factory, seed) -> None:
    rng = np.random.default_rng(seed)
    frames = np.asarray([_frame() for _ in range(3)])
    frames[:, 1:4] = rng.normal(size=(3, 3))
    # Random quaternions (normalised by the reader) and random knee/elbow angles.
    frames[:, 4:] = rng.normal(size=(3, DEEPMIMIC_FRAME_LENGTH - 4)) + 0.5
    path = tmp_path_factory.mktemp("fk") / "m.txt"
    _write_motion(path, frames.tolist())
    points = deepmimic_joint_positions(read_deepmimic_motion(path))
    index = DEEPMIMIC_POINTS.index
    for a, b, length in (
        ("right_knee", "right_ankle", 1.639480),
        ("left_shoulder", "left_elbow", 1.099152),
        ("chest", "neck", 0.895576),
    ):
        distance = np.linalg.norm(points[:, index(b)] - points[:, index(a)], axis=-1)
        np.testing.assert_allclose(distance, HUMANOID_SCALE * length, rtol=1e-9)
