"""The image model's keypoints route (``smplr predict --keypoints shn``): the crop, the
placement in the camera, boxes, and the command line (a tiny random image model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from helpers.cli import run_smplr
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.pipeline import SMPLR
from smplr.predict import PredictOptions, Predictor, predict_files
from smplr.predict.boxes import check_box
from smplr.predict.image_route import BOX_FILL, Crop, ImageKeypoints
from smplr.predict.placement import intrinsics, project
from smplr.weights import ImageModelWeights, save_image_weights

TINY = ImageModelConfig(stacks=1, features=16, input_size=64, depth_bins=4, hourglass_depth=2)


@pytest.fixture(scope="module")
def model() -> SMPLR:
    torch.set_num_threads(1)
    return SMPLR.pretrained()


@pytest.fixture(scope="module")
def keypoints() -> ImageKeypoints:
    torch.manual_seed(0)
    return ImageKeypoints(build_image_model(TINY))


def _photo(path, width: int, height: int) -> str:
    pixels = (np.arange(width * height * 3).reshape(height, width, 3) % 251).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def test_crop_pixels_cut_the_square_and_fill_outside_with_black() -> None:
    image = np.full((40, 60, 3), 200, dtype=np.uint8)
    image[10:20, 30:40] = 50  # a block at the crop's centre
    crop = Crop.around_box(np.array([30.0, 10.0, 40.0, 20.0]))
    assert crop.side == pytest.approx(10 / BOX_FILL)
    pixels = crop.pixels(image, 32)
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    assert pixels[16, 16, 0] == 50  # the box's middle stays in the middle
    whole = Crop.whole(40, 60).pixels(image, 30)
    assert whole.shape == (30, 30, 3)
    assert (whole[0, 15] == 0).all() and (whole[15, 15] > 0).all()  # padded rows are black


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(0, 600),
    y=st.floats(0, 400),
    side=st.floats(20, 800),
    focal=st.floats(200, 3000),
)
def test_mean_joint_projects_to_the_crop_centre_at_the_crop_depth(x, y, side, focal) -> None:
    K = intrinsics(640, 480, focal)
    point = Crop(x, y, side).mean_joint(K, 2.5)
    assert np.allclose(project(point, K), [x, y], atol=1e-6)
    # 2.5 m at that depth spans `side` pixels
    assert point[2] == pytest.approx(focal * 2.5 / side)


def test_shn_route_places_the_body_on_the_crop(tmp_path, model, keypoints) -> None:
    predictor = Predictor("shn", model, refine=0, image_model=keypoints, focal=500.0)
    photos = tmp_path / "in"
    photos.mkdir()
    _photo(photos / "wide.png", 160, 120)
    _photo(photos / "boxed.png", 200, 100)
    (photos / "broken.png").write_text("no picture")
    box = np.array([150.0, 20.0, 190.0, 90.0])
    options = PredictOptions(boxes={"boxed.png": box, "wide.png": np.array([500.0, 0, 600, 5])})
    reports = predict_files([photos], tmp_path / "out", predictor, options)
    by_name = {r.name: r for r in reports}
    assert by_name["boxed.png"].status == "ok"
    assert "outside the 160x120 image" in by_name["wide.png"].message
    assert "not a readable image" in by_name["broken.png"].message
    data = np.load(tmp_path / "out" / "predictions.npz")
    assert data["names"].tolist() == ["boxed.png"]
    joints, K = data["joints"][0], data["intrinsics"][0]
    assert K[0, 0] == 500.0
    crop = Crop.around_box(check_box(box, 100, 200))
    mean = joints.mean(axis=0)
    assert np.allclose(project(mean, K), [crop.centre_x, crop.centre_y], atol=1e-3)
    assert mean[2] == pytest.approx(500.0 * 2.5 / crop.side, rel=1e-4)
    # the saved parameters pose the saved joints
    with torch.no_grad():
        posed = model.body(
            torch.as_tensor(data["gender"]),
            torch.as_tensor(data["betas"]),
            torch.as_tensor(data["global_orient"]),
            torch.as_tensor(data["body_pose"]),
        )
    assert np.allclose(posed.joints[0].numpy() + data["transl"][0], joints, atol=1e-4)
    assert (tmp_path / "out" / "overlays" / "boxed.png").is_file()


def test_predict_images_in_python_reads_whole_images_or_boxes(model, keypoints) -> None:
    predictor = Predictor("shn", model, refine=0, image_model=keypoints)
    images = [np.zeros((80, 60, 3), np.uint8), np.full((50, 70, 3), 128, np.uint8)]
    rows = predictor.predict(images, [None, np.array([10.0, 5.0, 40.0, 45.0])])
    assert len(rows) == 2
    for row in rows:
        assert row is not None and row["joints"].shape == (24, 3) and row["betas"].shape == (10,)
    with pytest.raises(ValueError, match="--keypoints shn"):
        Predictor("mediapipe", model, detector=object(), procrustes=True)  # type: ignore[arg-type]


def test_a_collapsed_reading_of_a_photo_still_gives_a_body(model, keypoints, monkeypatch) -> None:
    """The image model's points are fitted without the unit checks for users' keypoints:
    a skeleton drawn at a fifth of a body's size (as on a real photo far from the training
    renders) is a reading to fit, not an input in the wrong units."""
    predictor = Predictor("shn", model, refine=0, image_model=keypoints)
    image = np.zeros((64, 64, 3), np.uint8)
    read = keypoints.jl(np.stack([Crop.around_box(np.array([0.0, 0, 64, 64])).pixels(image, 64)]))
    monkeypatch.setattr(keypoints, "jl", lambda crops, intrinsics=None: 0.2 * read)
    with pytest.raises(ValueError, match="metres"):
        model.fit(0.2 * read, "jl42")  # the same points as a user's keypoints are refused
    row = predictor.predict([image], [None])[0]
    assert row is not None and np.isfinite(row["vertices"]).all()


def test_cli_predict_shn_with_box_and_image_weights(tmp_path, monkeypatch, capsys) -> None:
    weights = tmp_path / "tiny.pt"
    torch.manual_seed(1)
    save_image_weights(ImageModelWeights(TINY, build_image_model(TINY).state_dict()), weights)
    photo = _photo(tmp_path / "p.png", 120, 90)
    out = tmp_path / "out"
    args = ["predict", photo, "--keypoints", "shn", "--image-weights", str(weights), "--out"]
    code, stdout, stderr = run_smplr(
        monkeypatch, capsys, *args, str(out), "--box", "10,10,60,80", "--refine", "0"
    )
    assert code == 0, stderr
    assert "crop: around the box" in stdout
    assert np.load(out / "predictions.npz")["joints"].shape == (1, 24, 3)
    code, _, stderr = run_smplr(
        monkeypatch, capsys, *args, str(tmp_path / "o2"), "--box", "500,500,600,600"
    )
    assert code == 2 and "outside the 120x90 image" in stderr
    assert len(stderr.strip().splitlines()) == 1
    code, _, stderr = run_smplr(
        monkeypatch, capsys, "predict", photo, "--out", str(tmp_path / "o3"), "--box", "1,2,3,4"
    )
    assert code != 0 and "for --keypoints shn" in stderr
