"""UP-3D reader against files written in the released layout."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers.dataset_files import fake_bodies, pose_world, write_up3d
from smplr.body.skeleton import JOINT_NAMES
from smplr.datasets import Up3dReader
from smplr.datasets.ground_truth import GroundTruthBodies, ground_truth_batch
from smplr.datasets.up3d import LSP_JOINT_NAMES, LSP_TO_SMPL


@pytest.fixture
def up3d(tmp_path):
    fits = write_up3d(tmp_path / "up-3d", {"train": [1, 2], "test": [7, 12, 30]}, size=(64, 48))
    return tmp_path / "up-3d", fits


def test_lsp_mapping_names_match():
    assert len(LSP_TO_SMPL) == len(LSP_JOINT_NAMES) == 14
    for lsp, smpl in zip(LSP_JOINT_NAMES, LSP_TO_SMPL, strict=True):
        if smpl >= 0:
            assert JOINT_NAMES[smpl].split("_")[-1] == lsp.split("_")[-1]  # hip/knee/ankle/...
            assert JOINT_NAMES[smpl].split("_")[0] == lsp.split("_")[0] or lsp == "neck"


def test_reads_split_fit_camera_joints_and_mask(up3d):
    root, fits = up3d
    reader = Up3dReader(root, split="test")
    assert len(reader) == 3
    samples = list(reader)
    assert [s.key for s in samples] == ["00007", "00012", "00030"]
    s, fit = samples[1], fits[12]
    np.testing.assert_allclose(s.global_orient, fit["pose"][:3])
    np.testing.assert_allclose(s.body_pose, fit["pose"][3:])
    np.testing.assert_allclose(s.betas, fit["betas"])
    np.testing.assert_allclose(s.transl, fit["trans"])
    assert s.gender == "neutral" and s.gender_value is None and s.joints3d is None
    np.testing.assert_allclose(s.camera.rotation, Rotation.from_rotvec(fit["rt"]).as_matrix())
    np.testing.assert_allclose(s.camera.translation, fit["t"])
    np.testing.assert_allclose(
        s.camera.intrinsics, [[fit["f"], 0, 32], [0, fit["f"], 24], [0, 0, 1]]
    )
    assert (s.camera.width, s.camera.height) == (64, 48)
    # LSP joint 0 (right ankle) -> SMPL 8; head top has no SMPL joint
    np.testing.assert_allclose(s.joints2d[8], fit["joints"][:2, 0])
    assert s.joints2d_visible[8] == bool(fit["joints"][2, 0])
    assert s.joint_mask.all()  # 3D ground truth is the posed fit: every joint
    annotated = ~np.isnan(s.joints2d).any(axis=1)
    assert annotated.sum() == 13 and not s.joints2d_visible[~annotated].any()
    np.testing.assert_allclose(s.source["lsp_joints2d"], fit["joints"].T)
    assert s.source["quality"] == "medium"
    mask = s.mask.load()
    assert mask.shape == (48, 64) and mask.sum() == 20 * 20 and mask[15, 25]


def test_ground_truth_is_the_fit_seen_by_the_camera(up3d):
    root, fits = up3d
    bodies = fake_bodies()
    samples = list(Up3dReader(root, split="train"))
    truth = ground_truth_batch(samples, GroundTruthBodies(bodies, "fake"))
    for s, joints in zip(samples, truth.joints, strict=True):
        fit = fits[int(s.key)]
        world, _, _ = pose_world(
            bodies["neutral"], fit["betas"], fit["pose"][:3], fit["pose"][3:], fit["trans"]
        )
        expected = world @ Rotation.from_rotvec(fit["rt"]).as_matrix().T + fit["t"]
        np.testing.assert_allclose(joints, expected, atol=1e-9)
    assert truth.gender is None  # neutral fits
    with pytest.raises(ValueError, match="needs a body model"):
        ground_truth_batch(samples)


def test_errors_name_the_file(up3d, tmp_path):
    root, _ = up3d
    with pytest.raises(ValueError, match="unknown UP-3D split"):
        Up3dReader(root, split="dev")
    with pytest.raises(FileNotFoundError, match=r"val\.txt: UP-3D split file not found"):
        Up3dReader(root, split="val")
    (root / "val.txt").write_text("/00001_image.png\nbogus line\n")
    with pytest.raises(ValueError, match=r"val.txt:2: expected '/<index>_image.png'"):
        Up3dReader(root, split="val")
    with open(root / "00007_body.pkl", "wb") as handle:
        pickle.dump({"pose": np.zeros(72), "betas": np.zeros(10)}, handle)
    with pytest.raises(
        ValueError, match=r"00007_body.pkl: missing keys \['trans', 'rt', 't', 'f'\]"
    ):
        list(Up3dReader(root, split="test"))
    (root / "00007_body.pkl").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"00007_body\.pkl: not a readable pickle"):
        list(Up3dReader(root, split="test"))
    reader = Up3dReader(root, split="test")
    np.save(root / "00012_joints.npy", np.zeros((2, 14)))
    with pytest.raises(ValueError, match=r"00012_joints.npy: joints have shape \(2, 14\)"):
        reader.read(12)
    (root / "00030_image.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"00030_image\.png: UP-3D image not found"):
        reader.read(30)
