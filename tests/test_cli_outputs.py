"""Issue 15, items 4 and 5: outputs whole or not at all, the ``.npz`` last, reused folders
refused unless ``--overwrite``, meshes streamed in chunks (``smplr.cli.outputs``)."""

from __future__ import annotations

import errno
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import smplr.body.mesh_io
import smplr.cli.outputs
import smplr.render.renderer
from helpers.bundles import tiny_fake_bundle
from helpers.cli import fake_model_args, run_cli, write_fake_fit_files
from helpers.fakes import fake_gendered
from smplr.atomic_io import npz_writer
from smplr.pipeline import SMPLR


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return write_fake_fit_files(tmp_path_factory.mktemp("outputs"))


def fit(files, out: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(
        "fit", str(files["jl"]), "-o", str(out), "-k", "0", *args, *fake_model_args(files)
    )


def _fail_after(count: int, real):
    """``real`` that raises ENOSPC (disk full) from its ``count + 1``-th call on."""
    calls = []

    def write(path, *args, **kwargs):
        calls.append(path)
        if len(calls) > count:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, *args, **kwargs)

    return write


@pytest.mark.parametrize("failing", ["meshes", "pictures"])
def test_a_failed_mesh_or_render_write_leaves_nothing(
    files, tmp_path, monkeypatch, failing
) -> None:
    if failing == "meshes":
        monkeypatch.setattr(
            smplr.body.mesh_io,
            "write_bytes_atomic",
            _fail_after(2, smplr.body.mesh_io.write_bytes_atomic),
        )
    else:  # the first picture is written, the second finds the disk full (no rendering: fast)

        def pictures(vertices, faces, folder, stem, first_index):
            for i in range(len(vertices)):
                if i == 1:
                    raise OSError(errno.ENOSPC, "No space left on device")
                name = f"{stem}_{first_index + i:05d}.png"
                smplr.render.renderer.save_png(Path(folder) / name, torch.zeros(4, 4, 3))

        monkeypatch.setattr(smplr.cli.outputs, "write_pictures", pictures)
    out = tmp_path / "run" / "bodies.npz"
    code, _, err = fit(
        files,
        out,
        "--mesh-dir",
        str(tmp_path / "run" / "meshes"),
        "--render",
        str(tmp_path / "run" / "png"),
    )
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err, err
    assert list(tmp_path.rglob("*")) == []  # no .npz, no meshes, no pictures, no folders


def test_interrupted_run_removes_its_files(files, tmp_path, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(smplr.cli.outputs, "save_npz_atomic", interrupted)
    code, _, _ = fit(files, tmp_path / "o.npz", "--mesh-dir", str(tmp_path / "meshes"))
    assert code == 130  # Ctrl-C
    assert list(tmp_path.iterdir()) == []


def test_npz_is_written_last(files, tmp_path, monkeypatch) -> None:
    order: list[str] = []
    real_mesh, real_npz = smplr.body.mesh_io.write_bytes_atomic, smplr.cli.outputs.save_npz_atomic

    def mesh(path, data):
        order.append(Path(path).suffix)
        return real_mesh(path, data)

    def npz(path, arrays):
        order.append(Path(path).suffix)
        return real_npz(path, arrays)

    monkeypatch.setattr(smplr.body.mesh_io, "write_bytes_atomic", mesh)
    monkeypatch.setattr(smplr.cli.outputs, "save_npz_atomic", npz)
    code, _, err = fit(files, tmp_path / "o.npz", "--mesh-dir", str(tmp_path / "m"))
    assert code == 0, err
    assert order == [".obj", ".obj", ".obj", ".npz"]


def test_reused_mesh_dir_is_refused_unless_overwrite(files, tmp_path) -> None:
    meshes = tmp_path / "meshes"
    code, _, err = fit(files, tmp_path / "a.npz", "--mesh-dir", str(meshes))
    assert code == 0 and len(list(meshes.glob("body_*.obj"))) == 3, err
    (meshes / "notes.txt").write_text("mine")
    two = tmp_path / "two.npy"
    np.save(two, np.load(files["jl"])[:2])
    args = ["fit", str(two), "-o", str(tmp_path / "b.npz"), "-k", "0", "--mesh-dir", str(meshes)]
    code, _, err = run_cli(*args, *fake_model_args(files))
    assert code == 2 and err.count("\n") == 1, err
    assert f"--mesh-dir {meshes}: holds 3 files of an earlier smplr run" in err
    assert "(body_00000.obj ... body_00002.obj); pass --overwrite" in err
    assert not (tmp_path / "b.npz").exists()
    code, _, err = run_cli(*args, "--overwrite", *fake_model_args(files))
    assert code == 0, err
    assert sorted(p.name for p in meshes.iterdir()) == [
        "body_00000.obj",
        "body_00001.obj",
        "notes.txt",
    ]


def test_reused_render_folder_is_refused(files, tmp_path) -> None:
    (tmp_path / "png").mkdir()
    (tmp_path / "png" / "body_00004.png").write_bytes(b"old")
    code, _, err = fit(files, tmp_path / "o.npz", "--render", str(tmp_path / "png"))
    assert code == 2 and "--render" in err and "holds 1 files of an earlier smplr run" in err


def test_meshes_in_chunks_equal_the_one_shot_meshes(files, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(smplr.cli.outputs, "CHUNK", 2)  # 3 bodies: chunks of 2 and 1
    code, _, err = fit(
        files,
        tmp_path / "o.npz",
        "--mesh-dir",
        str(tmp_path / "m"),
        "--mesh-format",
        "ply",
        "--procrustes",
    )
    assert code == 0, err
    model = SMPLR.from_bundle(tiny_fake_bundle(), fake_gendered())
    truth = model.fit(np.load(files["jl"]), procrustes=True).vertices
    import trimesh

    for i in range(3):
        mesh = trimesh.load(tmp_path / "m" / f"body_{i:05d}.ply", process=False)
        np.testing.assert_allclose(mesh.vertices, truth[i].numpy(), atol=1e-5)


def test_smplr_vertices_of_a_slice(files) -> None:
    model = SMPLR.from_bundle(tiny_fake_bundle(), fake_gendered())
    points = np.load(files["jl"])
    full = model.fit(points, refine=1, procrustes=True)
    lean = model.fit(points, refine=1, procrustes=True, return_vertices=False)
    assert lean.vertices is None
    parts = torch.cat([model.vertices(lean, slice(s, s + 2)) for s in (0, 2)])
    torch.testing.assert_close(parts, full.vertices, atol=2e-6, rtol=0)
    with pytest.raises(ValueError, match="contiguous slice"):
        model.vertices(lean, slice(0, 3, 2))


@pytest.mark.parametrize("batch_size", ["1", "256"])
def test_body_pose_streams_the_same_npz(files, tmp_path, batch_size) -> None:
    out = tmp_path / "o.npz"
    code, _, err = run_cli(
        "body",
        "pose",
        str(files["params"]),
        "-o",
        str(out),
        "-m",
        str(files["female"]),
        "--batch-size",
        batch_size,
        "--mesh-dir",
        str(tmp_path / "m"),
    )
    assert code == 0, err
    with np.load(out) as data:
        assert {k: data[k].shape for k in data.files} == {
            "vertices": (2, 240, 3),
            "joints": (2, 24, 3),
            "landmarks": (2, 18, 3),
        }
        first = data["vertices"]
    assert len(list((tmp_path / "m").glob("body_*.obj"))) == 2
    code, _, err = run_cli(
        "body",
        "pose",
        str(files["params"]),
        "-o",
        str(tmp_path / "again.npz"),
        "-m",
        str(files["female"]),
    )
    assert code == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "again.npz")["vertices"], first, atol=1e-6)
    with zipfile.ZipFile(out) as archive:  # the streamed file is a plain, whole zip
        assert archive.testzip() is None


def test_npz_writer_refuses_the_wrong_row_count_and_writes_nothing(tmp_path) -> None:
    match = "chunks gave 3 rows for an array of shape \\(4, 2\\)"
    with pytest.raises(ValueError, match=match), npz_writer(tmp_path / "x.npz") as npz:
        npz.add_chunks("a", (4, 2), np.float32, [np.zeros((2, 2)), np.zeros((1, 2))])
    assert list(tmp_path.iterdir()) == []
