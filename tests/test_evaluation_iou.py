"""Silhouette IoU (paper Table 4) in the evaluation and in ``smplr evaluate``: the synthetic
set's cameras and rendered masks, predicted meshes rendered with ``smplr.render``, and
SMPLR fed camera-frame ground truth upright."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io

from helpers.bundles import write_tiny_open_bundle
from helpers.cli import run_smplr
from helpers.dataset_files import fake_bodies, write_surreal_clip
from smplr import metrics
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.datasets import SurrealReader
from smplr.datasets.synthetic import CROP_METRES, IMAGE_SIZE, SyntheticSet
from smplr.evaluation import (
    FitPredictor,
    GroundTruthBodies,
    Prediction,
    PredictorInputs,
    evaluate,
    ground_truth_batch,
    save_predictions,
)
from smplr.render import render_camera_silhouettes


@pytest.fixture(scope="module")
def synthetic() -> SyntheticSet:
    return SyntheticSet(GenderedBodyModel.open(), num=12, seed=7)


class MeshEcho:
    """Returns the ground-truth bodies, optionally moved by ``shift`` metres (test double)."""

    name = "mesh echo"

    def __init__(self, bodies: GroundTruthBodies, shift=(0.0, 0.0, 0.0)) -> None:
        self.bodies = bodies
        self.shift = np.asarray(shift)

    def predict(self, inputs: PredictorInputs) -> Prediction:
        truth = ground_truth_batch(inputs.samples, self.bodies)
        return Prediction(
            joints=truth.joints + self.shift,
            landmarks=truth.landmarks,
            vertices=truth.vertices + self.shift,
            faces=truth.faces,
            gender=truth.gender,
        )


def test_synthetic_cameras_show_the_paper_crop(synthetic: SyntheticSet) -> None:
    for sample in synthetic:
        camera = sample.camera
        assert camera is not None and (camera.width, camera.height) == (IMAGE_SIZE, IMAGE_SIZE)
        assert np.linalg.det(camera.rotation) == pytest.approx(1.0)
        joints_cam = camera.world_to_camera(sample.joints3d)
        assert 2.0 < joints_cam[0, 2] < 9.0  # root 3-8 m away, give or take the body
        centre = joints_cam.mean(axis=0)
        # the mean joint is at the image centre and 2.5 m there span the whole image
        np.testing.assert_allclose(camera.project(centre), [127.5, 127.5], atol=1e-9)
        edge = camera.project(centre + np.array([CROP_METRES / 2, 0.0, 0.0]))
        assert edge[0] == pytest.approx(127.5 + IMAGE_SIZE / 2)
        np.testing.assert_allclose(sample.joints2d, camera.project(joints_cam))
        # the ground-truth mask covers the body's joints (pelvis and spine at least)
        mask = sample.mask.load()
        assert mask.shape == (IMAGE_SIZE, IMAGE_SIZE) and mask.dtype == bool
        for joint in (0, 3, 6):
            u, v = np.round(sample.joints2d[joint]).astype(int)
            assert mask[v, u], (sample.key, joint)
        assert 0.01 < mask.mean() < 0.5


def test_synthetic_set_is_deterministic(synthetic: SyntheticSet) -> None:
    again = SyntheticSet(synthetic.body, num=12, seed=7)
    np.testing.assert_array_equal(again.intrinsics, synthetic.intrinsics)
    np.testing.assert_array_equal(again.mask(5), synthetic.mask(5))
    other = SyntheticSet(synthetic.body, num=12, seed=8)
    assert not np.allclose(other.rotations, synthetic.rotations)
    with pytest.raises(ValueError, match="body index 12 out of range for 12 bodies"):
        synthetic.mask(12)


def test_true_mesh_has_iou_one_and_a_moved_mesh_less(synthetic: SyntheticSet) -> None:
    bodies = synthetic.ground_truth_bodies()
    perfect = evaluate(
        synthetic, MeshEcho(bodies), bodies=bodies, renderer=render_camera_silhouettes
    )
    summary = perfect.summary()
    assert summary["silhouette_iou_samples"] == 12
    assert summary["silhouette_iou"] > 0.999  # same mesh, same camera; edge pixels may differ
    moved = evaluate(
        synthetic,
        MeshEcho(bodies, shift=(0.1, 0.0, 0.0)),
        bodies=bodies,
        renderer=render_camera_silhouettes,
    )
    assert moved.summary()["silhouette_iou"] < 0.9
    # without a renderer (or without meshes) no IoU is claimed
    assert "silhouette_iou" not in evaluate(synthetic, MeshEcho(bodies), bodies=bodies).summary()


def test_surreal_iou_renders_the_predicted_mesh_with_the_sample_camera(tmp_path) -> None:
    models = fake_bodies()
    bodies = GroundTruthBodies(models, "fake bodies")
    write_surreal_clip(tmp_path, models, frames=3, step=0.06)
    samples = list(SurrealReader(tmp_path, split="test"))
    run = evaluate(samples, MeshEcho(bodies), bodies=bodies, renderer=render_camera_silhouettes)
    truth = ground_truth_batch(samples, bodies)
    segm = scipy.io.loadmat(next(tmp_path.rglob("*_segm.mat")))
    expected = []
    for i, sample in enumerate(samples):
        gt = segm[f"segm_{sample.frame + 1}"] > 0
        drawn = render_camera_silhouettes(
            truth.vertices[i : i + 1], truth.faces, sample.camera.intrinsics, gt.shape
        )
        assert drawn.any()
        expected.append(metrics.silhouette_iou(drawn, gt[None])[0])
    assert run.scores.iou == pytest.approx(expected)


def test_fit_predictor_shows_camera_frames_upright(tmp_path, synthetic) -> None:
    class Recorder:
        """Returns its input as the body and remembers it (test double)."""

        def fit(self, points):
            self.seen = points.copy()
            return {"joints": points[:, :NUM_JOINTS], "landmarks": points[:, NUM_JOINTS:]}

    models = fake_bodies()
    bodies = GroundTruthBodies(models, "fake bodies")
    write_surreal_clip(tmp_path, models, frames=2, step=0.06)
    samples = list(SurrealReader(tmp_path, split="test"))
    truth = ground_truth_batch(samples, bodies)
    model = Recorder()
    prediction = FitPredictor(model).predict(PredictorInputs(samples, truth.jl))
    np.testing.assert_allclose(model.seen, truth.jl * [1.0, -1.0, -1.0])  # y up, z to camera
    np.testing.assert_allclose(prediction.joints, truth.joints, atol=1e-12)  # turned back
    world = list(synthetic)[:2]
    world_truth = ground_truth_batch(world, synthetic.ground_truth_bodies())
    FitPredictor(model).predict(PredictorInputs(world, world_truth.jl))
    np.testing.assert_allclose(model.seen, world_truth.jl)  # world frames are already upright


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return run_smplr(monkeypatch, capsys, "evaluate", *args)


def test_cli_reports_iou_on_the_synthetic_set(monkeypatch, capsys, tmp_path) -> None:
    weights = write_tiny_open_bundle(tmp_path / "tiny.pt")
    common = ["-d", "synthetic", "-m", "smplr", "--weights", str(weights), "--num", "6"]
    code, out, err = run_cli(monkeypatch, capsys, *common, "--json", str(tmp_path / "s.json"))
    assert code == 0, err
    assert "Table 4 layout: silhouette IoU" in out and "synthetic" in out
    summary = json.loads((tmp_path / "s.json").read_text())[0]
    assert summary["silhouette_iou_samples"] == 6 and 0.0 <= summary["silhouette_iou"] <= 1.0
    code, out, err = run_cli(monkeypatch, capsys, *common, "--no-iou")
    assert code == 0, err
    assert "Table 4" not in out


def test_cli_reports_iou_from_saved_meshes(monkeypatch, capsys, tmp_path) -> None:
    models = fake_bodies()
    write_surreal_clip(tmp_path / "surreal", models, frames=3, step=0.06)
    samples = list(SurrealReader(tmp_path / "surreal", split="test"))
    truth = ground_truth_batch(samples, GroundTruthBodies(models, "fake"))
    preds = save_predictions(
        tmp_path / "p.npz",
        [s.key for s in samples],
        Prediction(joints=truth.joints, vertices=truth.vertices, faces=truth.faces),
    )
    code, out, err = run_cli(
        monkeypatch, capsys, "-d", "surreal", "-r", str(tmp_path / "surreal"), "-p", str(preds)
    )
    assert code == 0, err
    assert "Table 4 layout: silhouette IoU" in out
    without_faces = save_predictions(
        tmp_path / "q.npz", [s.key for s in samples], Prediction(joints=truth.joints)
    )
    code, out, err = run_cli(
        monkeypatch,
        capsys,
        "-d",
        "surreal",
        "-r",
        str(tmp_path / "surreal"),
        "-p",
        str(without_faces),
    )
    assert code == 0 and "Table 4" not in out  # nothing to render: no IoU claimed


def test_world_samples_without_camera_have_no_iou(synthetic: SyntheticSet) -> None:
    bodies = synthetic.ground_truth_bodies()
    samples = list(synthetic)[:3]
    for sample in samples:
        sample.camera = None
    run = evaluate(samples, MeshEcho(bodies), bodies=bodies, renderer=render_camera_silhouettes)
    assert run.scores.iou is None
