"""Synthetic image data: annotations agree with the pictures and with each other, flips keep
left and right right, the data are deterministic, runs resume, bad inputs fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smplr.body import GenderedBodyModel
from smplr.body.skeleton import JL_NAMES, JOINT_NAMES, NUM_JOINTS
from smplr.image_data.augment import (
    Augmentation,
    colour_jitter,
    flip,
    rotate_scale,
    swap_background,
)
from smplr.image_data.backgrounds import Backgrounds, folder_photos, read_photo
from smplr.image_data.scene import RECORD_KEYS, ImageSynthesizer, SynthConfig
from smplr.synthetic.mixture import MixtureBodies

SIZE = 96


@pytest.fixture(scope="module")
def body() -> GenderedBodyModel:
    return GenderedBodyModel.open()


def render(body, config: SynthConfig, num: int = 8, seed: int = 5) -> list[dict[str, np.ndarray]]:
    torch.set_num_threads(1)
    synthesizer = ImageSynthesizer(body, config, Backgrounds([]))
    bodies = MixtureBodies(body, seed=seed, block_size=num).sample(num, with_vertices=True)
    batch = synthesizer.render(bodies, torch.Generator().manual_seed(seed))
    return [{key: value[i] for key, value in batch.items()} for i in range(num)]


@pytest.fixture(scope="module")
def crops(body) -> list[dict[str, np.ndarray]]:
    return render(body, SynthConfig(size=SIZE, occluders=0.5, rotation_degrees=20.0))


@pytest.fixture(scope="module")
def frames(body) -> list[dict[str, np.ndarray]]:
    return render(body, SynthConfig(mode="full", size=128, occluders=0.5), seed=6)


def projected(record) -> np.ndarray:
    points = record["jl3d"].astype(np.float64) @ record["K"].astype(np.float64).T
    return points[:, :2] / points[:, 2:]


def smpl_jl(body, record) -> np.ndarray:
    """JL of the body model posed with the record's camera-frame SMPL parameters."""
    model = body.male if record["gender"] > 0 else body.female
    t = lambda key: torch.as_tensor(record[key])[None].to(model.dtype)  # noqa: E731
    out = model(
        betas=t("betas"),
        global_orient=t("global_orient"),
        body_pose=t("body_pose"),
        transl=t("transl"),
    )
    return out.jl[0].detach().numpy()


def check_consistent(body, record, smpl_tolerance: float = 1e-3) -> None:
    assert set(RECORD_KEYS) <= set(record)
    # Projected 3D joints and landmarks are the stored 2D ones (<= 0.5 px).
    assert np.abs(projected(record) - record["jl2d"]).max() <= 0.5
    # The silhouette is the union of the part masks; depth exists exactly on it.
    np.testing.assert_array_equal(record["silhouette"], record["parts"] > 0)
    np.testing.assert_array_equal(record["silhouette"], record["depth"] > 0)
    # The SMPL parameters (camera frame) give back the 3D keypoints.
    assert np.abs(smpl_jl(body, record) - record["jl3d"]).max() <= smpl_tolerance
    np.testing.assert_array_equal(record["visible"], record["in_image"] & ~record["occluded"])


@pytest.mark.parametrize("which", ["crops", "frames"])
def test_annotations_agree_with_each_other(request, body, which) -> None:
    for record in request.getfixturevalue(which):
        check_consistent(body, record)
        assert record["image"].dtype == np.uint8 and record["image"].shape[-1] == 3


def test_visible_landmarks_lie_on_the_rendered_surface(crops) -> None:
    """Landmarks are mesh vertices: where one is visible, the picture shows the body there,
    at the landmark's depth."""
    hits = shown = 0
    for record in crops:
        for k in range(NUM_JOINTS, len(JL_NAMES)):
            shown += int(record["in_image"][k] and not record["occluders"].any())
            if not record["visible"][k]:
                continue
            u, v = np.round(record["jl2d"][k]).astype(int)
            window = record["depth"][max(v - 1, 0) : v + 2, max(u - 1, 0) : u + 2]
            on_body = window[window > 0]
            assert on_body.size, f"{JL_NAMES[k]} visible but off the silhouette"
            assert np.abs(on_body - record["jl3d"][k, 2]).min() < 0.03
            hits += 1
    # Landmarks sit all round the body: from any view, many of them are seen.
    assert hits > 20 and hits >= 0.4 * shown


def test_full_frame_box_holds_the_silhouette(frames) -> None:
    for record in frames:
        rows, cols = np.nonzero(record["silhouette"])
        if rows.size:
            x0, y0, x1, y1 = record["box"]
            assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max(), rows.max())
        assert record["image"].shape == (96, 128, 3)


def _facing_camera(record) -> bool:
    orient = torch.as_tensor(record["global_orient"], dtype=torch.float64)
    from smplr.geometry.rotations import axis_angle_to_matrix

    forward = axis_angle_to_matrix(orient)[:, 2]  # the body's +Z (its front) in the camera frame
    up = -axis_angle_to_matrix(orient)[1, 1]  # body +Y against camera -Y (image up)
    return bool(forward[2] < -0.7) and bool(up > 0.7)


def test_flipped_samples_keep_left_and_right_right(body) -> None:
    records = render(body, SynthConfig(size=SIZE, occluders=0.0, truncation=0.0), num=24, seed=9)
    left, right = JOINT_NAMES.index("left_hip"), JOINT_NAMES.index("right_hip")
    facing = [r for r in records if _facing_camera(r)]
    assert facing, "no upright body facing the camera drawn"
    for record in records:
        flipped = flip(record)
        # Annotations stay consistent; the SMPL body of the mirrored pose matches up to the
        # body model's own left/right asymmetry.
        check_consistent(body, flipped, smpl_tolerance=0.002)
        np.testing.assert_array_equal(flipped["image"], record["image"][:, ::-1])
        # Flipping twice gives the record back.
        again = flip(flipped)
        for key in ("jl3d", "jl2d", "K", "global_orient", "body_pose", "transl", "parts"):
            np.testing.assert_allclose(again[key], record[key], atol=1e-5)
    for record in facing:
        # Facing the camera, a person's left side is on the right of the picture ...
        assert record["jl2d"][left, 0] > record["jl2d"][right, 0]
        # ... and the flipped picture shows a (mirrored) person facing the camera too.
        flipped = flip(record)
        assert flipped["jl2d"][left, 0] > flipped["jl2d"][right, 0]
        # Part labels follow: the left thigh's pixels lie right of the right thigh's.
        cols = (
            np.nonzero(flipped["parts"] == left + 1)[1],
            np.nonzero(flipped["parts"] == right + 1)[1],
        )
        if cols[0].size and cols[1].size:
            assert cols[0].mean() > cols[1].mean()


def test_rotation_and_scale_are_exact_camera_changes(body, crops) -> None:
    for record in crops[:4]:
        turned = rotate_scale(record, 25.0, 1.15)
        check_consistent(body, turned)
        assert np.isclose(turned["K"][0, 0], record["K"][0, 0] * 1.15)
        np.testing.assert_array_equal(turned["silhouette"], turned["parts"] > 0)


def test_colour_jitter_and_background_swap_leave_the_person(crops) -> None:
    record = crops[0]
    g = torch.Generator().manual_seed(0)
    jittered = colour_jitter(record, g)
    assert jittered["image"].shape == record["image"].shape
    swapped = swap_background(record, np.zeros((SIZE, SIZE, 3)))
    keep = record["silhouette"] | record["occluders"]
    np.testing.assert_array_equal(swapped["image"][keep], record["image"][keep])
    assert (swapped["image"][~keep] == 0).all()
    augmented = Augmentation(backgrounds=Backgrounds([]))(record, g)
    assert np.abs(projected(augmented) - augmented["jl2d"]).max() <= 0.5


def test_the_same_seed_gives_the_same_images(body) -> None:
    a = render(body, SynthConfig(size=64), num=3, seed=11)
    b = render(body, SynthConfig(size=64), num=3, seed=11)
    c = render(body, SynthConfig(size=64), num=3, seed=12)
    for x, y in zip(a, b, strict=True):
        for key in RECORD_KEYS:
            np.testing.assert_array_equal(x[key], y[key])
    assert not np.array_equal(a[0]["image"], c[0]["image"])


def test_config_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="mode"):
        SynthConfig(mode="fisheye")
    with pytest.raises(ValueError, match="probability"):
        SynthConfig(occluders=1.5)
    with pytest.raises(ValueError, match="image size"):
        SynthConfig(size=4)


# ---------------------------------------------------------------------- background files
def _save(path, array, **kwargs):
    from PIL import Image

    Image.fromarray(array).save(path, **kwargs)
    return path


def test_photos_of_any_depth_and_channel_count_become_8_bit_rgb(tmp_path) -> None:
    from PIL import Image

    grey = _save(tmp_path / "grey.png", np.full((20, 30), 100, np.uint8))
    rgba = _save(tmp_path / "rgba.png", np.full((20, 30, 4), 200, np.uint8))
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((20, 30), 65535 // 2, np.uint16)).save(deep)
    assert Image.open(deep).mode.startswith("I")
    for path, value in ((grey, 100), (rgba, 200), (deep, 128)):
        pixels = read_photo(path)
        assert pixels.shape == (20, 30, 3) and pixels.dtype == np.uint8
        assert abs(int(pixels[0, 0, 0]) - value) <= 1, path.name


def test_background_folder_errors_and_warnings(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no image files"):
        folder_photos(empty)
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="no image files"):
        folder_photos(texts)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "fake.jpg").write_text("not a jpeg")
    good = _save(
        tmp_path / "whole.jpg", np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    )
    (bad / "truncated.jpg").write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"none of 2 image file.*fake.jpg"):
        folder_photos(bad, warn=lambda message: None)
    _save(bad / "ok.png", np.zeros((32, 32, 3), np.uint8))
    warnings: list[str] = []
    photos = folder_photos(bad, warn=warnings.append)
    assert [p.name for p in photos] == ["ok.png"]
    assert len(warnings) == 2 and all("\n" not in w for w in warnings)
    assert any("fake.jpg" in w for w in warnings) and any("truncated.jpg" in w for w in warnings)


def test_held_out_photos_never_reach_the_training_split() -> None:
    from smplr.image_data.backgrounds import HELD_OUT_PHOTOS, package_photos

    train = {p.name for p in package_photos("train")}
    test = {p.name for p in package_photos("test")}
    assert train and test  # matplotlib's sample photos are always installed
    assert not train & HELD_OUT_PHOTOS and test <= HELD_OUT_PHOTOS
    people = ("astronaut", "camera", "grace_hopper", "lfw")
    assert not any(name in photo for photo in train | test for name in people)


def test_occluders_touch_only_their_mask_and_reach_the_image_border() -> None:
    """Occluders are evaluated only near their centre: outside the returned mask the
    images are untouched, and shapes next to the border are clipped, not lost."""
    from smplr.image_data.occluders import draw_occluders

    images = torch.full((6, 48, 64, 3), 0.5)
    boxes = torch.tensor(
        [[0, 0, 10, 10], [50, 30, 63, 47], [20, 10, 40, 40], [-5, -5, 3, 3], [0, 0, 63, 47],
         [60, 0, 63, 5]], dtype=torch.float32,
    )  # fmt: skip
    out, masks = draw_occluders(
        images, boxes, torch.Generator().manual_seed(3), 1.0, Backgrounds([], procedural=1.0)
    )
    assert torch.equal(out[~masks], images[~masks])
    assert bool(masks.flatten(1).any(1).all())
    again, masks_again = draw_occluders(
        images, boxes, torch.Generator().manual_seed(3), 1.0, Backgrounds([], procedural=1.0)
    )
    assert torch.equal(again, out) and torch.equal(masks_again, masks)


def test_photo_crops_are_float_rgb_in_the_unit_range() -> None:
    from smplr.image_data.backgrounds import random_crop

    pixels = torch.randint(0, 256, (90, 150, 3), dtype=torch.uint8)
    pixels[0, 0] = torch.tensor([0, 255, 0], dtype=torch.uint8)
    for seed in range(4):
        crop = random_crop(pixels, 32, 48, torch.Generator().manual_seed(seed))
        assert crop.shape == (32, 48, 3) and crop.dtype == torch.float32
        assert float(crop.min()) >= 0.0 and float(crop.max()) <= 1.0
