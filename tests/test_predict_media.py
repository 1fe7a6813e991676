"""Photo and video inputs of ``smplr predict``: every image mode to RGB, bad files
reported in one line, folders expanded."""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from helpers.images import BACKGROUND, BAD_KINDS, GOOD_KINDS, write_kind, write_png16
from smplr.predict import media
from smplr.predict.media import collect_inputs, open_video, read_image


def _save(tmp_path, name: str, image: Image.Image, **kwargs) -> str:
    path = tmp_path / name
    image.save(path, **kwargs)
    return str(path)


RAMP = np.arange(64 * 48, dtype=np.int64).reshape(48, 64)


def test_8_bit_modes_keep_their_values(tmp_path) -> None:
    rgb = ((RAMP[..., None] * [3, 5, 7]) % 251).astype(np.uint8)
    assert (read_image(_save(tmp_path, "rgb.png", Image.fromarray(rgb))) == rgb).all()
    grey = (RAMP % 256).astype(np.uint8)
    pixels = read_image(_save(tmp_path, "grey.png", Image.fromarray(grey)))
    assert (pixels == grey[..., None]).all()
    bilevel = Image.fromarray(grey > 100).convert("1")
    assert (read_image(_save(tmp_path, "b.png", bilevel)) == 255 * (grey > 100)[..., None]).all()
    colours = np.array([(255, 0, 0), (0, 128, 0), (10, 20, 30), (250, 250, 250)], np.uint8)
    four = colours[RAMP % 4]
    palette = Image.fromarray(four).quantize(4)
    assert (read_image(_save(tmp_path, "p.png", palette)) == four).all()


def test_cmyk_jpeg_comes_back_as_its_colours(tmp_path) -> None:
    colours = np.array([(200, 30, 60), (20, 160, 220)], np.uint8)
    rgb = np.repeat(colours, 32, axis=0)[:, None].repeat(48, axis=1)  # (64, 48, 3) two bands
    cmyk = Image.fromarray(rgb).convert("CMYK")
    assert cmyk.mode == "CMYK"
    pixels = read_image(_save(tmp_path, "c.jpg", cmyk, quality=95))
    assert np.abs(pixels[4:28].astype(int) - colours[0]).max() <= 8
    assert np.abs(pixels[36:60].astype(int) - colours[1]).max() <= 8


def test_16_bit_grey_maps_the_full_range_monotonically(tmp_path) -> None:
    ramp = np.linspace(0, 65535, 64 * 48).round().astype(np.uint16).reshape(48, 64)
    expected = np.round(ramp / 257).astype(np.uint8)
    for path in (
        _save(tmp_path, "g.png", Image.fromarray(ramp)),
        _save(tmp_path, "g.tif", Image.fromarray(ramp)),
        write_png16(tmp_path / "g16.png", ramp[..., None]),
    ):
        assert Image.open(path).mode.startswith("I")
        grey = read_image(path)[..., 0].ravel()
        assert (np.diff(grey.astype(int)) >= 0).all() and grey[0] == 0 and grey[-1] == 255
        assert np.abs(grey.astype(int) - expected.ravel()).max() <= 1
    dark = (ramp // 16).astype(np.uint16)  # 12-bit values: the 16-bit range keeps them dark
    assert read_image(_save(tmp_path, "dark.png", Image.fromarray(dark))).max() == 16
    wide = Image.fromarray((RAMP * 1000 - 5_000_000).astype(np.int32))  # mode I, own range
    assert wide.mode == "I"
    grey = read_image(_save(tmp_path, "i.tif", wide))[..., 0].ravel()
    assert (np.diff(grey.astype(int)) >= 0).all() and (grey.min(), grey.max()) == (0, 255)


def test_16_bit_colour_png_keeps_its_colours(tmp_path) -> None:
    rgb = np.zeros((40, 48, 3), np.uint16)
    rgb[..., 0] = np.linspace(0, 65535, 48).round()
    rgb[..., 1], rgb[..., 2] = 65535, 257 * 3
    pixels = read_image(write_png16(tmp_path / "c16.png", rgb)).astype(int)
    assert np.abs(pixels - rgb / 257).max() <= 1
    assert (np.diff(pixels[0, :, 0]) >= 0).all()


def test_float_grey(tmp_path) -> None:
    unit = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(48, 64)
    pixels = read_image(_save(tmp_path, "u.tif", Image.fromarray(unit)))
    assert np.abs(pixels[..., 0].astype(int) - unit * 255).max() <= 1
    wide = unit * 12 - 3
    wide[0, 0] = np.nan
    pixels = read_image(_save(tmp_path, "w.tif", Image.fromarray(wide)))[..., 0]
    assert pixels[0, 0] == 0 and pixels[0, 1] == 0 and pixels[-1, -1] == 255  # own range


def test_transparent_pixels_become_white(tmp_path) -> None:
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[:20, :, :] = (255, 0, 0, 255)
    rgba[20:30, :, :] = (0, 0, 255, 128)  # half transparent: half way to white
    pixels = read_image(_save(tmp_path, "a.png", Image.fromarray(rgba))).astype(int)
    assert (pixels[:20] == (255, 0, 0)).all() and (pixels[30:] == 255).all()
    assert np.abs(pixels[20:30] - (127, 127, 255)).max() <= 1
    grey_alpha = Image.fromarray(rgba[..., [0, 3]], "LA")
    pixels = read_image(_save(tmp_path, "la.png", grey_alpha))
    assert (pixels[:20] == 255).all() and (pixels[30:] == 255).all()
    alpha16 = np.zeros((40, 40, 4), np.uint16)
    alpha16[..., 0] = 65535
    alpha16[:, 20:, 3] = 65535
    pixels = read_image(write_png16(tmp_path / "a16.png", alpha16))
    assert (pixels[:, :20] == 255).all() and (pixels[:, 20:] == (255, 0, 0)).all()
    gif = Image.fromarray(np.repeat(np.arange(40)[:, None] >= 20, 40, axis=1).astype(np.uint8), "P")
    gif.putpalette([0, 0, 0, 0, 200, 0])
    pixels = read_image(_save(tmp_path, "t.gif", gif, transparency=0))
    assert (pixels[:20] == 255).all() and (pixels[20:] == (0, 200, 0)).all()


def test_exif_orientation_applied(tmp_path) -> None:
    stored = np.zeros((40, 64, 3), np.uint8)
    stored[:, :32] = (255, 0, 0)  # stored: left half red, right half blue
    stored[:, 32:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90° clockwise to display: the left half goes on top
    path = _save(tmp_path, "r.jpg", Image.fromarray(stored), exif=exif, quality=95)
    pixels = read_image(path).astype(int)
    assert pixels.shape == (64, 40, 3)
    assert np.abs(pixels[4:28] - (255, 0, 0)).max() < 40
    assert np.abs(pixels[36:60] - (0, 0, 255)).max() < 40


def test_first_frame_and_first_page(tmp_path) -> None:
    for kind in ("animated.gif", "pages.tif"):
        pixels = read_image(write_kind(tmp_path, kind, 64, 48))
        assert pixels.shape == (48, 64, 3) and (pixels == BACKGROUND).all(), kind


@pytest.mark.parametrize("kind", GOOD_KINDS)
def test_every_photo_kind_reads_as_rgb8(tmp_path, kind: str) -> None:
    pixels = read_image(write_kind(tmp_path, kind, 64, 48))
    assert pixels.shape == (48, 64, 3) and pixels.dtype == np.uint8
    assert pixels.flags.c_contiguous
    if kind not in ("grey.png", "grey16.png"):
        assert np.abs(pixels.astype(int) - BACKGROUND).max() <= 3, kind


def _one_line_error(path, expected: str) -> str:
    with pytest.raises(ValueError) as info:
        read_image(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    assert expected in message, message
    return message


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_bad_files_are_one_line_errors(tmp_path, kind: str) -> None:
    expected = BAD_KINDS[kind].replace("no such file", "cannot read the file")
    _one_line_error(write_kind(tmp_path, kind), expected)


def test_damaged_and_odd_files(tmp_path) -> None:
    good = write_kind(tmp_path, "rgb.png", 200, 200)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:120])
    assert "truncated" in _one_line_error(cut, "not a readable image")
    flipped = bytearray(good.read_bytes())
    flipped[60:70] = bytes(10)  # inside the compressed pixels
    broken = tmp_path / "broken.png"
    broken.write_bytes(bytes(flipped))
    _one_line_error(broken, "not a readable image")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image at all")
    _one_line_error(text, "not a readable image (not an image format Pillow knows)")
    _one_line_error(tmp_path, "not a readable image (Is a directory)")
    _one_line_error(_save(tmp_path, "thin.png", Image.new("RGB", (200, 31))), "200x31 pixels")
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = _save(tmp_path, "s.jpg", Image.new("RGB", (31, 200)), exif=exif)
    _one_line_error(sideways, "200x31 pixels")  # the size as displayed
    assert read_image(_save(tmp_path, "edge.png", Image.new("RGB", (32, 32)))).shape == (32, 32, 3)


def test_huge_images_are_refused_before_decoding(tmp_path, monkeypatch) -> None:
    from PIL import Image as PILImage

    big = _save(tmp_path, "big.png", Image.new("RGB", (100, 100)))
    monkeypatch.setattr(media, "MAX_PIXELS", 9_999)
    _one_line_error(big, "image is 100x100 pixels, over the 9,999-pixel limit; downscale it")
    monkeypatch.setattr(media, "MAX_PIXELS", 10_000)
    assert read_image(big).shape == (100, 100, 3)
    # Pillow's own decompression-bomb check: its warning (over its limit) is not an
    # error, its error (over twice the limit) is a one-line one
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 6_000)
    assert read_image(big).shape == (100, 100, 3)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 4_000)
    _one_line_error(big, "image too large to read safely (Image size (10000 pixels) exceeds")
    monkeypatch.undo()
    # bombs: tiny files whose headers claim 12000 x 9000 (over MAX_PIXELS) and 40000 x
    # 40000 pixels (over Pillow's limit too)
    for width, height, expected in (
        (12_000, 9_000, "12000x9000 pixels, over the 100,000,000-pixel limit; downscale it"),
        (40_000, 40_000, "too large to read safely (Image size (1600000000 pixels) exceeds"),
    ):
        header = bytearray(Path(big).read_bytes())
        header[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
        header[29:33] = zlib.crc32(header[12:29]).to_bytes(4, "big")  # the IHDR chunk's CRC
        bomb = tmp_path / "bomb.png"
        bomb.write_bytes(bytes(header))
        _one_line_error(bomb, expected)


_SEEDS = {
    "png": ("rgb.png", {}),
    "jpg": ("rgb.jpg", {"quality": 90}),
    "gif": ("rgb.gif", {}),
    "tif": ("rgb.tif", {"compression": "tiff_deflate"}),
    "bmp": ("rgb.bmp", {}),
    "webp": ("rgb.webp", {}),
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(_SEEDS)),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=4),
    keep=st.one_of(st.just(1.0), st.floats(0, 1)),
)
def test_damaged_files_give_an_image_or_one_line(kind: str, flips, keep: float) -> None:
    """Byte flips and truncation of small valid files: an RGB image or a one-line
    ValueError naming the file, never another exception."""
    name, options = _SEEDS[kind]
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        picture.save(path, **options)
        blob = bytearray(path.read_bytes())
        for where, mask in flips:
            blob[int(where * len(blob))] ^= mask
        path.write_bytes(bytes(blob[: int(keep * len(blob))]))
        try:
            pixels = read_image(path)
        except ValueError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(f"{path}: "), message
        else:
            assert pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype == np.uint8
            assert min(pixels.shape[:2]) >= media.MIN_SIDE


def test_collect_inputs(tmp_path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("b.jpg", "a.png", "clip.MP4", "notes.txt"):
        (folder / name).write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    items = collect_inputs([folder, tmp_path / "nothere.png", tmp_path / "empty"])
    assert [(i.name, i.kind) for i in items] == [
        ("a.png", "image"),
        ("b.jpg", "image"),
        ("clip.MP4", "video"),
        ("nothere.png", "missing"),
        ("empty", "missing"),
    ]
    with pytest.raises(ValueError, match="no input given"):
        collect_inputs([])


def test_video_round_trip_and_undecodable(tmp_path) -> None:
    cv2 = pytest.importorskip("cv2", reason="videos need OpenCV (the photos extra)")
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
    for value in range(0, 250, 25):
        writer.write(np.full((48, 64, 3), value, dtype=np.uint8))
    writer.release()
    video = open_video(path)
    assert (video.width, video.height, round(video.fps)) == (64, 48, 10)
    frames = list(video.frames(step=3, max_frames=3))
    assert [i for i, _ in frames] == [0, 3, 6]
    assert frames[0][1].shape == (48, 64, 3)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 500)
    with pytest.raises(ValueError, match=r"broken\.mp4: cannot decode the video"):
        open_video(broken)


def test_videos_without_opencv_say_what_to_install(monkeypatch, tmp_path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ValueError, match=r"pip install 'smplr\[photos\]'"):
        open_video(tmp_path / "x.mp4")


def test_a_batch_of_good_and_bad_files(tmp_path) -> None:
    """Through ``predict_files`` with canned landmarks: every readable kind is fitted, each
    bad file is one line naming it, and the good ones are all written."""
    import torch

    from helpers.detections import FakeDetector, canned_person
    from smplr.pipeline import SMPLR
    from smplr.predict import PredictOptions, Predictor, predict_files

    torch.set_num_threads(1)
    person = canned_person(640, 480)
    detector = FakeDetector({640: [person.detection]})  # 500 wide: nobody
    predictor = Predictor(model=SMPLR.pretrained(), detector=detector, refine=0)
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [write_kind(folder, kind) for kind in (*GOOD_KINDS, *sorted(BAD_KINDS))]
    paths.append(write_kind(tmp_path, "rgb.png", 500).rename(folder / "nobody.png"))
    lines: list[str] = []
    options = PredictOptions(overlay_side=64)
    reports = predict_files(paths, tmp_path / "out", predictor, options, lines.append)
    assert [r.name for r in reports] == [p.name for p in paths]
    by_name = {r.name: r for r in reports}
    assert all(by_name[kind].status == "ok" for kind in GOOD_KINDS), lines
    expected = {**BAD_KINDS, "nobody.png": "no person found"}
    for name, message in expected.items():
        assert by_name[name].status == "error", name
        assert name in by_name[name].message and message in by_name[name].message, name
    assert len(lines) == len(paths) and all("\n" not in line for line in lines)
    assert sum(line.startswith("error: ") for line in lines) == len(expected)
    data = np.load(tmp_path / "out" / "predictions.npz")
    assert data["names"].tolist() == list(GOOD_KINDS)
    assert (data["image_size"] == (480, 640)).all()
    assert sorted(p.name for p in (tmp_path / "out" / "overlays").iterdir()) == sorted(
        f"{Path(kind).stem}.png" for kind in GOOD_KINDS
    )
