"""Photo and video inputs of ``smplr predict``: every image mode to RGB, bad files
reported in one line, folders expanded."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from smplr.predict import media
from smplr.predict.media import collect_inputs, open_video, read_image


def _save(tmp_path, name: str, image: Image.Image, **kwargs) -> str:
    path = tmp_path / name
    image.save(path, **kwargs)
    return str(path)


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [
        ("L", "png"),
        ("RGBA", "png"),
        ("P", "png"),
        ("CMYK", "jpg"),
        ("I;16", "png"),
        ("F", "tiff"),
        ("1", "png"),
    ],
)
def test_every_mode_reads_as_rgb8(tmp_path, mode: str, suffix: str) -> None:
    rgb = Image.fromarray((np.arange(64 * 48 * 3) % 251).astype(np.uint8).reshape(48, 64, 3))
    if mode == "I;16":
        image = Image.fromarray((np.arange(64 * 48) * 20).astype(np.uint16).reshape(48, 64))
    elif mode == "F":
        image = Image.fromarray(np.linspace(-3, 9, 64 * 48, dtype=np.float32).reshape(48, 64))
    else:
        image = rgb.convert(mode)
    pixels = read_image(_save(tmp_path, f"x.{suffix}", image))
    assert pixels.shape == (48, 64, 3) and pixels.dtype == np.uint8
    if mode in ("I;16", "F"):  # scaled by its own range
        assert pixels.min() == 0 and pixels.max() == 255


def test_transparent_pixels_become_white(tmp_path) -> None:
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[:20, :, :] = (255, 0, 0, 255)
    pixels = read_image(_save(tmp_path, "a.png", Image.fromarray(rgba)))
    assert (pixels[:20] == (255, 0, 0)).all() and (pixels[20:] == 255).all()


def test_exif_orientation_applied(tmp_path) -> None:
    image = Image.new("RGB", (64, 40), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    path = _save(tmp_path, "r.jpg", image, exif=exif)
    assert read_image(path).shape == (64, 40, 3)


def test_bad_images_one_line(tmp_path, monkeypatch) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not an image at all")
    with pytest.raises(ValueError, match=r"notes\.jpg: not a readable image") as info:
        read_image(text)
    assert "\n" not in str(info.value)
    truncated = tmp_path / "cut.png"
    full = tmp_path / "full.png"
    Image.new("RGB", (200, 200), (1, 2, 3)).save(full)
    truncated.write_bytes(full.read_bytes()[:120])
    with pytest.raises(ValueError, match="not a readable image"):
        read_image(truncated)
    with pytest.raises(ValueError, match="10x10 pixels; at least 32"):
        read_image(_save(tmp_path, "tiny.png", Image.new("RGB", (10, 10))))
    monkeypatch.setattr(media, "MAX_PIXELS", 1000)
    with pytest.raises(ValueError, match="over the 1,000-pixel limit"):
        read_image(_save(tmp_path, "big.png", Image.new("RGB", (100, 100))))


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
