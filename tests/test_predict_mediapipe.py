"""MediaPipe BlazePose on real photos (skipped without the photos extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("mediapipe", reason="needs the photos extra: pip install 'smplr[photos]'")

from matplotlib import cbook

from smplr.pipeline import SMPLR
from smplr.predict import MediaPipeDetector, Predictor, predict_files
from smplr.predict.media import read_image

GRACE_HOPPER = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="module")
def detector() -> MediaPipeDetector:
    return MediaPipeDetector()


def test_portrait_head_and_shoulders(detector) -> None:
    found = detector.detect(read_image(GRACE_HOPPER))
    assert len(found) == 1
    person = found[0]
    assert 10 <= person.visible.sum() <= 20  # face and shoulders, no legs
    assert person.visible[[0, 11, 12]].all() and not person.visible[[25, 26, 27, 28]].any()
    assert person.mask is not None and person.mask.shape == (600, 512)
    hips = person.world[[23, 24]].mean(0)
    assert np.linalg.norm(hips) < 0.05  # world landmarks are hip-centred metres
    assert 0.25 < np.linalg.norm(person.world[11] - person.world[12]) < 0.5  # shoulder width


def test_nobody_in_a_blank_image(detector) -> None:
    assert detector.detect(np.full((256, 256, 3), 180, dtype=np.uint8)) == []


def test_two_people_side_by_side(detector) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    camera = np.repeat(skimage_data.camera()[..., None], 3, axis=2)
    image = np.concatenate([skimage_data.astronaut(), camera], axis=1)
    found = detector.detect(image)
    assert len(found) == 2
    centres = sorted(float(p.box()[[0, 2]].mean()) for p in found)
    assert centres[0] < 512 < centres[1]  # one person in each half


def test_predict_a_real_photo(tmp_path, detector) -> None:
    torch.set_num_threads(1)
    predictor = Predictor(model=SMPLR.pretrained(), detector=detector)
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (300, 300), (200, 200, 200)).save(blank)
    reports = predict_files([GRACE_HOPPER, blank], tmp_path / "out", predictor)
    assert [r.status for r in reports] == ["ok", "error"]
    assert any("guessed from the prior" in n and "legs" in n for n in reports[0].notes)
    data = np.load(tmp_path / "out" / "predictions.npz")
    joints = data["joints"][0]
    assert 0.3 < joints[0, 2] < 10.0  # in front of the camera (a close portrait: ~0.8 m)
    assert joints[15, 1] < joints[0, 1]  # head above pelvis (y down)
    assert (tmp_path / "out" / "overlays" / "grace_hopper.png").is_file()
