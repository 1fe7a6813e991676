"""Outputs are written whole or not at all: the helper, and every writer that uses it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh

from helpers.cli import run_smplr
from smplr.atomic_io import (
    FileWriteError,
    atomic_write,
    remove_stale_temporaries,
    save_figure_atomic,
    save_npz_atomic,
    write_bytes_atomic,
    write_text_atomic,
)
from smplr.body.mesh_io import write_meshes
from smplr.body.model_file import load_model_data, save_model_data
from smplr.training.checkpoint import load_checkpoint, save_checkpoint


class DiskFull(OSError):
    pass


@pytest.fixture
def disk_full(monkeypatch):
    """Every write fails at its final flush to disk, as on a full disk."""

    def fail(fd: int) -> None:
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.txt"
    write_text_atomic(path, "first")
    assert path.read_text() == "first" and (path.stat().st_mode & 0o777) == 0o644
    with pytest.raises(RuntimeError), atomic_write(path) as handle:
        handle.write(b"half of the sec")
        raise RuntimeError("killed")
    assert path.read_text() == "first"
    write_bytes_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["out.txt"]  # no temporaries left


def test_save_npz_atomic_keeps_the_name(tmp_path: Path) -> None:
    path = save_npz_atomic(tmp_path / "bodies.out", {"a": np.arange(3)})
    assert path == tmp_path / "bodies.out" and os.listdir(tmp_path) == ["bodies.out"]
    with np.load(path) as data:
        np.testing.assert_array_equal(data["a"], np.arange(3))


def test_failed_writes_leave_nothing(tmp_path: Path, fake_data, disk_full) -> None:
    vertices = np.zeros((2, fake_data.num_vertices, 3))
    for write in (
        lambda: write_meshes(vertices, fake_data.faces, tmp_path / "meshes"),
        lambda: save_model_data(fake_data, tmp_path / "model.pkl"),
        lambda: save_model_data(fake_data, tmp_path / "model.npz"),
        lambda: save_npz_atomic(tmp_path / "a.npz", {"a": np.zeros(3)}),
    ):
        with pytest.raises(FileWriteError, match=r"not written: No space left on device"):
            write()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["meshes"]


def test_meshes_are_written(tmp_path: Path, fake_data) -> None:
    vertices = np.random.default_rng(0).normal(size=(2, fake_data.num_vertices, 3))
    for fmt in ("obj", "ply"):
        paths = write_meshes(vertices, fake_data.faces, tmp_path, fmt)
        assert [p.name for p in paths] == [f"body_00000.{fmt}", f"body_00001.{fmt}"]
        mesh = trimesh.load(paths[1], process=False)
        np.testing.assert_allclose(mesh.vertices, vertices[1], atol=1e-5)
    assert load_model_data(save_model_data(fake_data, tmp_path / "m.npz")).num_vertices == len(
        vertices[0]
    )


def test_body_pose_writes_nothing_when_the_write_fails(
    tmp_path: Path, monkeypatch, capsys, disk_full
) -> None:
    params = tmp_path / "params.npz"
    np.savez(
        params, betas=np.zeros((2, 10)), global_orient=np.zeros((2, 3)), body_pose=np.zeros((2, 69))
    )
    out = tmp_path / "out" / "bodies.npz"
    code, _, err = run_smplr(monkeypatch, capsys, "body", "pose", str(params), "--out", str(out))
    assert code == 2 and f"{out}: not written: No space left on device" in err
    assert err.count("\n") == 1
    assert not out.parent.exists() or os.listdir(out.parent) == []


def test_body_pose_output(tmp_path: Path, monkeypatch, capsys) -> None:
    params = tmp_path / "params.npz"
    np.savez(
        params, betas=np.zeros((2, 10)), global_orient=np.zeros((2, 3)), body_pose=np.zeros((2, 69))
    )
    out = tmp_path / "bodies.npz"
    code, _, _ = run_smplr(monkeypatch, capsys, "body", "pose", str(params), "--out", str(out))
    assert code == 0
    with np.load(out) as data:
        assert data["vertices"].shape[0] == 2 and data["joints"].shape == (2, 24, 3)


def _state(step: int) -> dict:
    return {
        "stage": "pose",
        "step": step,
        "settings": {},
        "networks": {"pose": {"w": torch.zeros(2)}},
        "optimizer": {},
        "rng": {},
        "curves": [],
    }


@pytest.mark.parametrize("leftover", [b"", b"PK\x03\x04 half a checkpoint"])
def test_killed_checkpoint_write_is_cleaned_on_resume(tmp_path: Path, leftover: bytes) -> None:
    path = tmp_path / "pose" / "checkpoint.pt"
    save_checkpoint(path, _state(4))
    stale = path.parent / ".checkpoint.pt.k1ll3d.tmp"
    stale.write_bytes(leftover)
    other = path.parent / ".final.pt.abc.tmp"  # another file's temporary is left alone
    other.write_bytes(b"")
    assert load_checkpoint(path, "pose")["step"] == 4
    assert not stale.exists() and other.exists()
    stale.write_bytes(leftover)  # killed before the first checkpoint: the next save cleans
    path.unlink()
    save_checkpoint(path, _state(8))
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(["checkpoint.pt", other.name])
    assert remove_stale_temporaries(tmp_path / "nowhere" / "x.pt") == []


def test_figures_are_written_whole(tmp_path: Path, monkeypatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    path = save_figure_atomic(fig, tmp_path / "plot.png", dpi=20)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.listdir(tmp_path) == ["plot.png"]

    def broken(*args, **kwargs):
        raise RuntimeError("renderer died")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError):
        save_figure_atomic(fig, tmp_path / "other.png")
    plt.close(fig)
    assert os.listdir(tmp_path) == ["plot.png"]
