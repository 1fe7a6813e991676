"""The pieces of ``smplr predict`` between detection and output: person selection, the
camera placement, bodies moved into the camera frame, temporal smoothing, crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.detections import FakeDetector, canned_person
from smplr.body.model import GenderedBodyModel
from smplr.predict.detector import (
    PoseDetection,
    box_iou,
    cover_person,
    find_people,
    grow_box,
    tiles,
)
from smplr.predict.placement import intrinsics, project, solve_translation, view_to_camera
from smplr.predict.selection import pick_person
from smplr.predict.smoothing import gaussian_weights, smooth_track


def _person(u: float, v: float, size: float) -> PoseDetection:
    pixels = np.stack([np.linspace(u, u + size, 33), np.linspace(v, v + 2 * size, 33)], 1)
    return PoseDetection(pixels, np.ones(33), np.zeros((33, 3)))


def test_pick_largest_and_say_so() -> None:
    small, large = _person(0, 0, 10), _person(100, 0, 50)
    assert pick_person([large]).note == ""
    choice = pick_person([small, large])
    assert choice.index == 1 and "2 people found: fitted the largest" in choice.note
    with pytest.raises(ValueError, match="no person"):
        pick_person([])


def test_pick_follows_the_previous_box() -> None:
    small, large = _person(0, 0, 10), _person(100, 0, 50)
    assert pick_person([large, small], previous=small.box()).index == 1
    far = np.array([500.0, 500, 510, 510])
    lost = pick_person([small, large], previous=far)
    assert lost.index == 1 and lost.note.startswith("track lost")
    assert pick_person([small], previous=far).note.startswith("track lost")  # someone else


def test_detection_checks_shapes() -> None:
    with pytest.raises(ValueError, match=r"pixels has shape \(17, 2\)"):
        PoseDetection(np.zeros((17, 2)), np.ones(33), np.zeros((33, 3)))
    with pytest.raises(ValueError, match="NaN"):
        PoseDetection(np.full((33, 2), np.nan), np.ones(33), np.zeros((33, 3)))


def test_boxes_and_tiles() -> None:
    box = np.array([0.0, 0, 10, 10])
    assert box_iou(box, box) == pytest.approx(1.0)
    assert box_iou(box, box + 20) == 0.0
    assert grow_box(np.array([40.0, 40, 60, 80]), 2.0, 100, 100) == (10, 20, 91, 100)
    regions = tiles(400, 300)
    covered = np.zeros((300, 400), dtype=bool)
    for u0, v0, u1, v1 in regions:
        covered[v0:v1, u0:u1] = True
    assert len(regions) == 4 and covered.all()


def test_cover_person_greys_the_person_out() -> None:
    image = np.full((100, 100, 3), 7, dtype=np.uint8)
    person = _person(20, 20, 20)
    covered = cover_person(image, person)
    assert (covered[40, 30] == 128).all() and (covered[2, 95] == 7).all()
    assert (image == 7).all()  # a copy


def test_find_people_looks_in_tiles_and_near_the_last_box() -> None:
    image = np.zeros((400, 600, 3), dtype=np.uint8)
    nobody_whole = FakeDetector({})
    assert find_people(nobody_whole, image) == [] and nobody_whole.calls == 5  # whole + 4 tiles
    # someone only visible in the crop around the previous box (width 2 * 40 + 1)
    previous = np.array([300.0, 200, 320, 240])
    crop = FakeDetector({81: [_person(30, 20, 20)]})
    found = find_people(crop, image, previous)
    assert len(found) == 1 and crop.calls == 1
    assert found[0].pixels[0] == pytest.approx([30 + 270, 20 + 180])  # back in image pixels
    assert found[0].box() == pytest.approx(previous)
    # someone else in the crop: the whole image is searched too, both kept
    other = FakeDetector({81: [_person(0, 0, 10)], 600: [_person(300, 200, 20)]})
    assert len(find_people(other, image, previous)) == 2 and other.calls == 2


@settings(max_examples=30, deadline=None)
@given(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), st.floats(2.0, 12.0), st.floats(300.0, 3000.0))
def test_solve_translation_recovers_the_shift(tx: float, ty: float, tz: float, f: float) -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(scale=0.4, size=(20, 3))
    K = intrinsics(640, 480, f)
    pixels = project(points + np.array([tx, ty, tz]), K)
    weights = rng.uniform(0.2, 1.0, 20)
    assert solve_translation(points, pixels, weights, K) == pytest.approx([tx, ty, tz], abs=1e-6)


def test_solve_translation_refuses_too_few_points() -> None:
    K = intrinsics(100, 100)
    with pytest.raises(ValueError, match="too few visible landmarks"):
        solve_translation(np.zeros((3, 3)), np.zeros((3, 2)), np.array([1.0, 0, 0]), K)


def test_view_to_camera_gives_parameters_of_the_moved_body() -> None:
    """Posing the body with the converted parameters gives the flipped, shifted body."""
    body = GenderedBodyModel.open()
    generator = torch.Generator().manual_seed(0)
    gender = torch.tensor([-1.0, 1.0])
    params = {
        "betas": torch.randn(2, 10, generator=generator),
        "global_orient": 0.5 * torch.randn(2, 3, generator=generator),
        "body_pose": 0.2 * torch.randn(2, 69, generator=generator),
        "transl": torch.randn(2, 3, generator=generator),
    }
    with torch.no_grad():
        out = body(gender, **params)
    arrays = {k: v.double().numpy() for k, v in params.items()}
    arrays.update(joints=out.joints.double().numpy(), vertices=out.vertices.double().numpy())
    shift = np.array([[0.1, -0.2, 3.0], [0.0, 0.3, 5.0]])
    moved = view_to_camera(arrays, shift)
    keys = ("betas", "global_orient", "body_pose", "transl")
    with torch.no_grad():
        again = body(gender, **{k: torch.as_tensor(moved[k], dtype=torch.float32) for k in keys})
    assert again.joints.numpy() == pytest.approx(moved["joints"], abs=1e-4)
    assert again.vertices.numpy() == pytest.approx(moved["vertices"], abs=1e-4)
    # y down: the head is above (smaller y than) the pelvis in the camera frame
    assert (moved["joints"][:, 15, 1] < moved["joints"][:, 0, 1]).all()


def test_smoothing() -> None:
    rng = np.random.default_rng(1)
    count = 40
    frames = np.arange(count)
    truth = np.linspace(0, 1, count)[:, None] * np.array([0.0, 0.5, 0.0])
    params = {
        "global_orient": truth + rng.normal(scale=0.05, size=(count, 3)),
        "body_pose": np.zeros((count, 69)) + rng.normal(scale=0.05, size=(count, 69)),
        "root": rng.normal(scale=0.02, size=(count, 3)) + np.array([0.0, 0.0, 4.0]),
        "betas": rng.normal(size=(count, 10)),
        "gender": rng.uniform(-1, 1, count),
    }
    same = smooth_track(frames, params, 0.0)
    assert all(np.array_equal(same[k], params[k]) for k in params)
    smoothed = smooth_track(frames, params, 3.0)
    jitter = lambda a: np.abs(np.diff(a, axis=0)).mean()  # noqa: E731
    for key in ("global_orient", "body_pose", "root"):
        assert jitter(smoothed[key]) < 0.4 * jitter(params[key])
    assert np.ptp(smoothed["betas"], axis=0).max() == 0  # one person, one shape
    assert (
        np.abs(smoothed["global_orient"] - truth).mean()
        < np.abs(params["global_orient"] - truth).mean()
    )
    weights = gaussian_weights(np.array([0, 1, 2, 50]), 2.0)
    assert weights.sum(1) == pytest.approx(1.0) and weights[3, 3] == 1.0
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        smooth_track(frames, params, -1.0)


def test_canned_person_is_consistent() -> None:
    person = canned_person()
    assert person.detection.visible.all()
    u0, v0, u1, v1 = person.detection.box()
    assert 0 < u0 < u1 < 640 and 0 < v0 < v1 < 480
