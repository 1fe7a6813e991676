"""SURREAL reader against clips written in the released _info.mat / _segm.mat format."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from helpers.dataset_files import fake_bodies, write_surreal_clip
from smplr.datasets import SurrealReader
from smplr.datasets.ground_truth import GroundTruthBodies, ground_truth_batch, posed_bodies
from smplr.datasets.sampling import displacement_subsample, every_nth
from smplr.datasets.surreal import camera_from_location


@pytest.fixture(scope="module")
def bodies():
    return fake_bodies()


@pytest.fixture
def surreal_root(tmp_path, bodies):
    write_surreal_clip(
        tmp_path, bodies, run=0, seq="01_01", cam=1, frames=7, step=0.02, gender=1, seed=1
    )
    write_surreal_clip(
        tmp_path, bodies, run=1, seq="05_02", cam=3, frames=4, step=0.06, gender=0, seed=2
    )
    return tmp_path


def test_camera_matches_the_authors_worked_example():
    # datageneration/misc/3Dto2D/main.m: camLoc, extrinsic, and one joint with its pixel
    camera = camera_from_location(np.array([6.7456, -0.9839, -1.9293]))
    expected = np.array([[0, 0, -1, -1.9293], [0, 1, 0, 0.9839], [-1, 0, 0, 6.7456]])
    np.testing.assert_allclose(np.c_[camera.rotation, camera.translation], expected, atol=1e-12)
    np.testing.assert_allclose(camera.intrinsics, [[600, 0, 160], [0, 600, 120], [0, 0, 1]])
    pixel = camera.project(camera.world_to_camera(np.array([-0.8645, -1.0915, -1.0260])))
    np.testing.assert_array_equal(np.round(pixel), [89, 112])
    assert (camera.width, camera.height) == (320, 240)


def test_reads_clips_with_the_paper_sampling_rule(surreal_root):
    samples = list(SurrealReader(surreal_root, split="test"))
    first = [s for s in samples if "01_01" in s.key]
    second = [s for s in samples if "05_02" in s.key]
    # 2 cm per frame: a frame is kept once the body moved >= 5 cm from the last kept one
    assert [s.frame for s in first] == [0, 3, 6]
    assert [s.frame for s in second] == [0, 1, 2, 3]  # 6 cm per frame: all kept
    assert len({s.key for s in samples}) == len(samples)
    s = first[1]
    assert s.dataset == "surreal" and s.split == "test" and s.coordinates == "camera"
    assert s.joints3d.shape == (24, 3) and s.joint_mask.all()
    assert s.betas.shape == (10,) and s.body_pose.shape == (69,) and s.global_orient.shape == (3,)
    assert s.transl is None
    assert s.gender == "male" and second[0].gender == "female"
    assert s.image_path.name == "01_01_c0001.mp4" and s.frame == 3
    assert s.source["camDist"] == pytest.approx(6.7456, rel=1e-6)
    assert s.source["sequence"] == "01_01_c0001"
    every = list(SurrealReader(surreal_root, split="test", min_displacement=0.0))
    assert len(every) == 7 + 4


def test_unannotated_frames_are_dropped(surreal_root):
    info = next((surreal_root / "test" / "run1").glob("*/*_info.mat"))
    data = scipy.io.loadmat(info)
    data["joints3D"][:, :, 1] = 0  # frame 1 has no annotation
    scipy.io.savemat(info, {k: v for k, v in data.items() if not k.startswith("__")})
    frames = [s.frame for s in SurrealReader(surreal_root, split="test", runs=(1,))]
    assert frames == [0, 2, 3]


def test_joints_are_in_camera_coordinates_consistent_with_joints2d(surreal_root):
    for s in SurrealReader(surreal_root, split="test"):
        projected = s.camera.project(s.joints3d)
        assert np.abs(projected - s.joints2d).max() <= 0.5 + 1e-3  # joints2D are rounded pixels
        assert (s.joints3d[:, 2] > 0).all()  # in front of the camera


def test_ground_truth_body_reproduces_annotated_joints(surreal_root, bodies):
    """Posing the stored SMPL parameters (world orientation from pose[0:3] and zrot, root
    placed on the annotated root) gives back the annotated joints in camera coordinates."""
    samples = list(SurrealReader(surreal_root, split="test"))
    gt_bodies = GroundTruthBodies(bodies, "fake test bodies")
    truth = ground_truth_batch(samples, gt_bodies)
    posed_joints = posed_bodies(samples, gt_bodies).joints
    annotated = np.stack([s.joints3d for s in samples])
    np.testing.assert_allclose(posed_joints, annotated, atol=2e-5)  # float32 files
    assert truth.vertices.shape[0] == len(samples) and truth.landmarks.shape == (
        len(samples),
        18,
        3,
    )
    assert truth.gender.tolist() == [1.0 if s.gender == "male" else -1.0 for s in samples]


def test_mask_from_segmentation(surreal_root):
    s = next(iter(SurrealReader(surreal_root, split="test")))
    mask = s.mask.load()
    assert mask.shape == (240, 320) and mask.dtype == bool
    assert mask[100, 150] and not mask[5, 5]
    assert mask.sum() == (200 - 40 - s.frame) * 120


def test_missing_and_malformed_files_name_the_file(tmp_path, surreal_root):
    with pytest.raises(FileNotFoundError, match="SURREAL split folder not found"):
        SurrealReader(tmp_path / "nowhere", split="test")
    with pytest.raises(FileNotFoundError, match="no run"):
        list(SurrealReader(surreal_root, split="test", runs=(2,)))
    with pytest.raises(ValueError, match="unknown SURREAL split"):
        SurrealReader(surreal_root, split="dev")
    info = next((surreal_root / "test" / "run0").glob("*/*_info.mat"))
    data = scipy.io.loadmat(info)
    del data["zrot"]
    scipy.io.savemat(info, {k: v for k, v in data.items() if not k.startswith("__")})
    with pytest.raises(ValueError, match=rf"{info.name}: missing variables \['zrot'\]"):
        list(SurrealReader(surreal_root, split="test"))
    data["zrot"] = np.zeros((7, 1))
    data["joints3D"] = np.zeros((3, 17, 7))
    scipy.io.savemat(info, {k: v for k, v in data.items() if not k.startswith("__")})
    with pytest.raises(ValueError, match=r"joints3D has shape \(3, 17, 7\); expected \(3, 24, T\)"):
        list(SurrealReader(surreal_root, split="test"))
    info.write_bytes(b"not a mat file")
    with pytest.raises(ValueError, match=f"{info.name}: not a readable MATLAB"):
        list(SurrealReader(surreal_root, split="test"))
    segm = next((surreal_root / "test" / "run1").glob("*/*_segm.mat"))
    sample = next(iter(SurrealReader(surreal_root, split="test", runs=(1,))))
    segm.unlink()
    with pytest.raises(FileNotFoundError, match=segm.name):
        sample.mask.load()


def test_sampling_rules():
    still = np.zeros((5, 24, 3))
    assert displacement_subsample(still) == [0]
    assert displacement_subsample(still, 0.0) == [0, 1, 2, 3, 4]
    assert displacement_subsample(np.zeros((0, 24, 3))) == []
    with pytest.raises(ValueError, match=r"expected \(T, K, 3\)"):
        displacement_subsample(np.zeros((5, 24)))
    assert every_nth(12) == [0, 5, 10]
    with pytest.raises(ValueError, match="step must be"):
        every_nth(12, 0)
