"""``smplr predict`` end to end with a fake detector (canned BlazePose landmarks of a
known body): outputs, camera frame, bad inputs in a batch, and the command line with and
without the photos extra."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.cli import run_smplr
from helpers.detections import FakeDetector, canned_person
from smplr.pipeline import SMPLR
from smplr.predict import PredictOptions, Predictor, predict_files
from smplr.predict.detector import box_iou
from smplr.predict.outputs import PREDICTION_KEYS, frame_strip, write_predictions
from smplr.predict.run import guessed_parts


@pytest.fixture(scope="module")
def model() -> SMPLR:
    torch.set_num_threads(1)
    return SMPLR.pretrained()


@pytest.fixture(scope="module")
def person():
    return canned_person(640, 480)


def _photo(path, width: int, height: int = 480) -> str:
    Image.new("RGB", (width, height), (90, 120, 150)).save(path)
    return str(path)


def test_predict_files_writes_every_output(tmp_path, model, person) -> None:
    small = canned_person(640, 480, depth=6.0, offset=(1.0, 0.0), scale=0.3)
    detector = FakeDetector(
        {640: [small.detection, person.detection], 500: [], 480: [person.detection]}
    )
    predictor = Predictor(model=model, detector=detector, refine=5)
    photos = tmp_path / "in"
    photos.mkdir()
    good = _photo(photos / "two.png", 640)
    _photo(photos / "nobody.png", 500)
    (photos / "broken.jpg").write_text("not a picture")
    lines: list[str] = []
    reports = predict_files(
        [photos, tmp_path / "missing.png"],
        tmp_path / "out",
        predictor,
        PredictOptions(mesh_dir=tmp_path / "meshes"),
        lines.append,
    )
    by_name = {r.name: r for r in reports}
    assert [r.name for r in reports] == ["broken.jpg", "nobody.png", "two.png", "missing.png"]
    assert by_name["two.png"].status == "ok"
    assert "2 people found: fitted the largest" in by_name["two.png"].notes
    assert by_name["nobody.png"].message.endswith("nobody.png: no person found")
    assert "not a readable image" in by_name["broken.jpg"].message
    assert "no such file" in by_name["missing.png"].message
    assert all("\n" not in line for line in lines) and len(lines) == 4

    data = np.load(tmp_path / "out" / "predictions.npz")  # no pickles inside
    assert set(data.files) == set(PREDICTION_KEYS)
    assert data["names"].tolist() == ["two.png"]
    shapes = {k: data[k].shape for k in data.files}
    assert shapes["betas"] == (1, 10) and shapes["body_pose"] == (1, 69)
    assert shapes["joints"] == (1, 24, 3) and shapes["landmarks"] == (1, 18, 3)
    assert shapes["global_orient"] == shapes["transl"] == (1, 3) and shapes["gender"] == (1,)
    assert data["frame"].tolist() == [-1] and data["observed"].all()
    # the largest (near) person, in the camera frame: within a few cm of the truth
    error = np.linalg.norm(data["joints"][0] - person.joints, axis=1)
    assert error.mean() < 0.06, error
    assert (tmp_path / "out" / "overlays" / "two.png").is_file()
    assert list((tmp_path / "meshes").glob("two*.obj"))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [s["status"] for s in summary] == ["error", "error", "ok", "error"]
    assert good  # the photo itself is untouched


def test_overlay_shows_the_mesh_where_the_person_is(tmp_path, model, person) -> None:
    predictor = Predictor(model=model, detector=FakeDetector({640: [person.detection]}))
    predict_files([_photo(tmp_path / "p.png", 640)], tmp_path / "out", predictor)
    overlay = np.asarray(Image.open(tmp_path / "out" / "overlays" / "p.png").convert("RGB"))
    changed = np.abs(overlay.astype(int) - [90, 120, 150]).sum(2) > 30
    v, u = np.nonzero(changed)
    drawn = np.array([u.min(), v.min(), u.max(), v.max()], dtype=float)
    assert box_iou(drawn, person.detection.box()) > 0.7, (drawn, person.detection.box())


def test_predictor_api(model, person) -> None:
    predictor = Predictor(model=model, detector=FakeDetector({640: [person.detection]}))
    images = [np.zeros((480, 640, 3), np.uint8), np.zeros((480, 320, 3), np.uint8)]
    first, second = predictor.predict(images)
    assert second is None
    assert first is not None and first["joints"].shape == (24, 3)
    assert float(first["reprojection_px"]) < 10


def test_half_body_says_what_is_guessed(tmp_path, model, person) -> None:
    half = canned_person(640, 480)
    half.detection.visibility[23:] = 0.05  # hips, legs and feet unseen
    predictor = Predictor(model=model, detector=FakeDetector({640: [half.detection]}))
    reports = predict_files([_photo(tmp_path / "h.png", 640)], tmp_path / "out", predictor)
    assert "not visible, guessed from the prior: hips, legs, feet" in reports[0].notes
    observed = np.load(tmp_path / "out" / "predictions.npz")["observed"][0]
    assert observed[[16, 17, 18, 19]].all() and not observed[[4, 5, 7, 8]].any()
    assert guessed_parts(np.ones(24, bool)) == []


def test_empty_predictions_file(tmp_path) -> None:
    write_predictions(tmp_path / "p.npz", [])
    data = np.load(tmp_path / "p.npz")
    assert data["betas"].shape == (0, 10) and data["names"].shape == (0,)


def test_frame_strip() -> None:
    strip = frame_strip([np.zeros((100, 200, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)], 60, 4)
    assert strip.shape == (60, 120 + 4 + 60, 3)
    with pytest.raises(ValueError, match="no frames"):
        frame_strip([])


def test_video_with_fake_detector(tmp_path, model, person) -> None:
    cv2 = pytest.importorskip("cv2", reason="videos need OpenCV (the photos extra)")
    path = tmp_path / "walk.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 480))
    for _ in range(5):
        writer.write(np.full((480, 640, 3), 100, dtype=np.uint8))
    writer.release()
    predictor = Predictor(model=model, detector=FakeDetector({640: [person.detection]}), refine=3)
    options = PredictOptions(strip_frames=3, video_side=320)
    reports = predict_files([path], tmp_path / "out", predictor, options)
    assert reports[0].status == "ok" and reports[0].people == 5 and reports[0].frames == 5
    data = np.load(tmp_path / "out" / "predictions.npz")
    assert data["frame"].tolist() == [0, 1, 2, 3, 4]
    assert data["names"][2] == "walk.mp4#000002"
    assert np.ptp(data["betas"], axis=0).max() < 1e-6  # smoothed: one shape
    assert (tmp_path / "out" / "overlays" / "walk_strip.png").is_file()
    assert open_size(tmp_path / "out" / "overlays" / "walk_overlay.mp4") > 0


def open_size(path) -> int:
    return path.stat().st_size


def test_cli_without_the_extra_says_what_to_install(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    code, _, err = run_smplr(
        monkeypatch, capsys, "predict", _photo(tmp_path / "p.png", 64), "--out", str(tmp_path)
    )
    assert code == 2
    assert err.strip() == (
        "smplr: error: the mediapipe detector needs the photos extra: pip install "
        "'smplr[photos]' (see docs/photos.md for numpy 2), or use --keypoints shn (smplr's "
        "own image model, no extra)"
    )


def test_cli_reports_each_input_and_exits_1(monkeypatch, capsys, tmp_path, model, person) -> None:
    import smplr.cli.predict as command

    monkeypatch.setattr(
        command, "build_detector", lambda route: FakeDetector({640: [person.detection]})
    )
    monkeypatch.setattr(command.SMPLR, "load", lambda *a, **k: model)
    code, out, err = run_smplr(
        monkeypatch,
        capsys,
        "predict",
        _photo(tmp_path / "ok.png", 640),
        _photo(tmp_path / "nobody.png", 100),
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 1
    assert err.strip() == "smplr: error: nobody.png: no person found"
    assert "ok.png: fitted" in out and "1 people from 1 of 2 inputs" in out
    code, _, err = run_smplr(
        monkeypatch, capsys, "predict", "x.png", "--out", "o", "--keypoints", "hrnet"
    )
    assert code == 2 and "unknown keypoints route 'hrnet'" in err


def test_too_few_visible_landmarks(tmp_path, model) -> None:
    hidden = canned_person(640, 480)
    hidden.detection.visibility[:] = 0.1
    hidden.detection.visibility[:2] = 0.9
    predictor = Predictor(model=model, detector=FakeDetector({640: [hidden.detection]}))
    reports = predict_files([_photo(tmp_path / "h.png", 640)], tmp_path / "out", predictor)
    assert reports[0].message.endswith("h.png: a person found, but only 2 landmarks visible")


def test_keypoint_dae_route_when_the_weights_have_it(monkeypatch, person) -> None:
    """With lift="keypoint-dae", BlazePose-33 goes to SMPLR.fit as the blazepose33 input
    format, view frame (y up), visibilities as confidences."""
    from smplr.networks import build_networks
    from smplr.predict.lift import has_keypoint_dae, lift_blazepose
    from smplr.weights import load_bundle, shipped_path

    model = SMPLR.pretrained()
    if not has_keypoint_dae(model):
        config = load_bundle(shipped_path()).network_config
        model.daes["keypoints"] = build_networks(config, ["dae_keypoints"])["dae_keypoints"]
    assert has_keypoint_dae(model)
    calls = []

    class Called(Exception):
        pass

    def spy(points, input_format, **kwargs):
        calls.append((points, input_format, kwargs))
        raise Called

    monkeypatch.setattr(model, "fit", spy)
    detection = person.detection
    with pytest.raises(Called):
        lift_blazepose(model, detection.world[None], detection.visibility[None], 7, "keypoint-dae")
    points, input_format, kwargs = calls[0]
    assert input_format == "blazepose33" and kwargs["refine"] == 7
    assert points.shape == (1, 33, 3) and kwargs["confidence"].shape == (1, 33)
    assert points[0, 0, 1] > points[0, 23, 1]  # y up: the nose above the left hip


class _ByBrightness:
    """Person ``dark`` in dark 640 × 480 frames, ``bright`` in bright ones (nobody in
    crops: canned pixels are whole-frame pixels)."""

    def __init__(self, dark, bright) -> None:
        self.dark, self.bright = dark, bright

    def detect(self, image: np.ndarray):
        if image.shape[:2] != (480, 640):
            return []
        return [self.dark if image.mean() < 128 else self.bright]


def test_video_person_change_is_smoothed_apart(tmp_path, model) -> None:
    cv2 = pytest.importorskip("cv2", reason="videos need OpenCV (the photos extra)")
    left = canned_person(640, 480, offset=(-1.0, 0.0))
    right = canned_person(640, 480, offset=(1.0, 0.0))
    path = tmp_path / "swap.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 480))
    for value in (40, 40, 40, 220, 220):
        writer.write(np.full((480, 640, 3), value, dtype=np.uint8))
    writer.release()
    detector = _ByBrightness(left.detection, right.detection)
    predictor = Predictor(model=model, detector=detector, refine=3)
    options = PredictOptions(video=False, strip_frames=2, video_side=320)
    reports = predict_files([path], tmp_path / "out", predictor, options)
    assert "the person followed changed 1 times (smoothed apart)" in reports[0].notes
    roots = np.load(tmp_path / "out" / "predictions.npz")["joints"][:, 0]
    assert np.abs(roots[:3, 0] - left.joints[0, 0]).max() < 0.1
    assert np.abs(roots[3:, 0] - right.joints[0, 0]).max() < 0.1


def test_unseen_limbs_hang_down(person) -> None:
    from smplr.predict.lift import JOINT_READOUT, observed_joints, rest_limbs
    from smplr.predict.placement import FLIP

    visibility = np.ones((1, 33))
    visibility[0, 25:] = 0.0  # knees, ankles, heels, toes unseen
    joints = np.einsum("jk,nkd->njd", JOINT_READOUT, person.detection.world[None] * FLIP)
    joints[0, 4] += [0.5, 0.5, 0.0]  # a made-up knee somewhere odd
    hung = rest_limbs(joints, observed_joints(visibility))
    assert hung[0, 1] == pytest.approx(joints[0, 1])  # seen hip stays
    knee, ankle = hung[0, 4], hung[0, 7]
    assert np.linalg.norm(knee - hung[0, 1]) == pytest.approx(0.40)
    assert knee[1] < hung[0, 1][1] - 0.35 and ankle[1] < knee[1] - 0.35  # straight down (y up)
    assert hung[0, 18] == pytest.approx(joints[0, 18])  # seen arms untouched
