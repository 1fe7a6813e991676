"""The on-disk image data: written whole or not at all, resumable after a kill, the same
from a seed, readable as a PyTorch dataset; ``smplr data synth`` and its bad inputs."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.cli import run_smplr
from smplr.image_data import shards
from smplr.image_data.augment import Augmentation
from smplr.image_data.dataset import ImageShards, StreamingImages
from smplr.image_data.scene import RECORD_KEYS, SynthConfig
from smplr.image_data.shards import BackgroundSpec, ShardJob, write_dataset

SMALL = SynthConfig(size=32, procedural=1.0)


def job(out: Path, num: int = 10, seed: int = 3, **kwargs) -> ShardJob:
    return ShardJob(
        out=str(out),
        num=num,
        seed=seed,
        shard_size=4,
        split="train",
        config=kwargs.pop("config", SMALL),
        backgrounds=BackgroundSpec(kwargs.pop("folder", None)),
        image_format=kwargs.pop("image_format", "png"),
    )


def contents(root: Path) -> dict[str, bytes]:
    """Every file of a dataset by relative path (annotations decoded, as npz bytes vary)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix != ".npz":
            found[str(path.relative_to(root))] = path.read_bytes()
        elif path.suffix == ".npz":
            with np.load(path) as data:
                for key in data.files:
                    found[f"{path.relative_to(root)}:{key}"] = data[key].tobytes()
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("data") / "images"
    assert write_dataset(job(out), warn=pytest.fail) == 10
    return out


def test_layout_and_reading_back(written) -> None:
    assert sorted(p.name for p in written.iterdir()) == [
        "dataset.json", "shard_00000", "shard_00001", "shard_00002",
    ]  # fmt: skip
    data = ImageShards(written)
    assert len(data) == 10
    item = data[9]
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.float32
    assert int(item["index"]) == 9
    assert set(RECORD_KEYS) <= set(item)
    assert item["parts"].dtype == torch.long and item["silhouette"].dtype == torch.bool
    augmented = ImageShards(written, augment=Augmentation())[3]
    assert augmented["image"].shape == (3, 32, 32)
    # Stored images are what was rendered: the silhouette still matches the parts.
    record = data.record(4)
    np.testing.assert_array_equal(record["silhouette"], record["parts"] > 0)


def test_resume_renders_only_missing_shards_and_gives_the_same_data(written, tmp_path) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(written), str(copy)], check=True)
    before = contents(copy)
    # An interrupted run: one shard missing, a half-written one left behind.
    subprocess.run(["rm", "-r", str(copy / "shard_00001")], check=True)
    half = copy / ".shard_00001.partial-123-abc"
    half.mkdir()
    (half / "0000004.png").write_bytes(b"half")
    warnings: list[str] = []
    assert write_dataset(job(copy), warn=warnings.append) == 4
    assert warnings == [
        "removed half-written shard .shard_00001.partial-123-abc (an interrupted run)"
    ]
    assert contents(copy) == before
    assert write_dataset(job(copy), warn=pytest.fail) == 0  # complete: nothing to do


def test_other_settings_in_the_same_folder_are_refused(written) -> None:
    with pytest.raises(ValueError, match=r"other settings .*seed"):
        write_dataset(job(written, seed=4), warn=pytest.fail)


def test_a_failed_write_leaves_no_shard(tmp_path, monkeypatch) -> None:
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", disk_full)
    out = tmp_path / "full"
    with pytest.raises(OSError, match="shard_00000: not written: No space left on device"):
        write_dataset(job(out, num=3), warn=pytest.fail)
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json"]


def test_streaming_mode_renders_on_the_fly() -> None:
    stream = StreamingImages(seed=1, num=3, config=SynthConfig(size=32, rotation_degrees=30.0))
    items = list(stream)
    assert len(items) == 3
    assert items[0]["image"].shape == (3, 32, 32)
    for item in items:
        points = item["jl3d"].double() @ item["K"].double().T
        assert (points[:, :2] / points[:, 2:] - item["jl2d"]).abs().max() <= 0.5


@pytest.mark.slow  # a real process, killed: about 20 s
def test_kill_then_resume_leaves_no_half_shard(tmp_path) -> None:
    out = tmp_path / "killed"
    command = [
        sys.executable, "-m", "smplr", "data", "synth", "--num", "40", "--out", str(out),
        "--shard-size", "4", "--size", "32", "--format", "png", "--seed", "3", "--no-contact-sheet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not (out / "shard_00001").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = sorted(p.name for p in out.glob("shard_*"))
    assert finished and len(finished) < 10
    the_job = ShardJob(str(out), 40, 3, 4, "train", SynthConfig(size=32), BackgroundSpec(), "png")
    for name in finished:  # every shard folder that exists is whole
        assert shards._check_shard(the_job, int(name.split("_")[1]))
    made = write_dataset(the_job, warn=lambda message: None)
    assert made == 40 - 4 * len(finished)
    assert not list(out.glob(".shard_*"))
    assert len(ImageShards(out)) == 40


# ---------------------------------------------------------------------- the command line
def test_cli_writes_data_and_a_contact_sheet(monkeypatch, capsys, tmp_path) -> None:
    out = tmp_path / "cli"
    code, stdout, err = run_smplr(
        monkeypatch, capsys, "data", "synth", "--num", "5", "--out", str(out), "--size", "32",
        "--shard-size", "4", "--mode", "full",
    )  # fmt: skip
    assert code == 0, err
    assert (out / "contact_sheet.png").is_file()
    assert "5 images (5 rendered now, 0 already there)" in stdout
    assert len(ImageShards(out)) == 5


def one_line_error(monkeypatch, capsys, *args: str) -> str:
    code, _, err = run_smplr(
        monkeypatch, capsys, "data", "synth", "--num", "2", "--size", "32", *args
    )
    assert code == 2, err
    assert err.startswith("smplr: error: ") and err.count("\n") == 1, err
    return err


def test_cli_bad_inputs_give_one_line_errors(monkeypatch, capsys, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    err = one_line_error(
        monkeypatch, capsys, "--out", str(tmp_path / "a"), "--backgrounds", str(empty)
    )
    assert "no image files" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    err = one_line_error(
        monkeypatch, capsys, "--out", str(tmp_path / "b"), "--backgrounds", str(broken)
    )
    assert "none of 1 image file(s) is readable (first: " in err and "photo.jpg" in err
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert "not a folder" in one_line_error(monkeypatch, capsys, "--out", str(a_file))
    assert "not written" in one_line_error(monkeypatch, capsys, "--out", str(a_file / "below"))
    err = one_line_error(monkeypatch, capsys, "--out", str(tmp_path / "c"), "--mode", "fisheye")
    assert "mode must be one of" in err


def test_cli_warns_once_per_unreadable_background(monkeypatch, capsys, tmp_path) -> None:
    from PIL import Image

    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(np.full((40, 40), 90, np.uint8)).save(folder / "grey.png")
    Image.fromarray(np.full((40, 40), 40000, np.uint16)).save(folder / "deep.png")
    Image.fromarray(np.full((40, 40, 4), 10, np.uint8)).save(folder / "rgba.png")
    (folder / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    (folder / "readme.txt").write_text("not an image")
    code, _, err = run_smplr(
        monkeypatch, capsys, "data", "synth", "--num", "2", "--size", "32", "--out",
        str(tmp_path / "out"), "--backgrounds", str(folder), "--no-contact-sheet",
    )  # fmt: skip
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("smplr: warning:")]
    assert len(lines) == 1 and "cut.jpg" in lines[0], err
