"""``smplr fit``: round trips through every file type and format, and every bad input.

Runs on fake body-model files and an untrained tiny weight bundle (``--weights``,
``--female``, ``--male``), so it needs neither the open model nor shipped weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from helpers.cli import fake_model_args, run_smplr, write_fake_fit_files
from helpers.fakes import fake_body


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    paths = write_fake_fit_files(tmp_path_factory.mktemp("fit"))
    assert fake_body(1, "female").num_vertices == 240
    return paths


def fit_args(files, *args: str) -> list[str]:
    return ["fit", *args, *fake_model_args(files)]


def test_npy_round_trip_with_meshes(files, tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "bodies.npz"
    code, stdout, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(
            files,
            str(files["jl"]),
            "--out",
            str(out),
            "--mesh-dir",
            str(tmp_path / "m"),
            "--refine",
            "2",
            "--render",
            str(tmp_path / "png"),
        ),
    )
    assert code == 0, err
    assert "wrote" in stdout
    with np.load(out) as data:
        shapes = {k: data[k].shape for k in data.files}
    assert shapes == {
        "betas": (3, 10),
        "gender": (3,),
        "global_orient": (3, 3),
        "body_pose": (3, 69),
        "transl": (3, 3),
        "joints": (3, 24, 3),
        "landmarks": (3, 18, 3),
        "scale": (3,),
    }
    meshes = sorted((tmp_path / "m").glob("*.obj"))
    assert len(meshes) == 3
    mesh = trimesh.load(meshes[0], process=False)
    assert mesh.faces.shape == (480, 3)  # the fake topology's triangles
    pictures = sorted((tmp_path / "png").glob("*.png"))
    assert len(pictures) == 3 and pictures[0].stat().st_size > 500


def test_json_npz_and_single_body_inputs_agree(files, tmp_path, monkeypatch, capsys) -> None:
    jl = np.load(files["jl"])
    (tmp_path / "one.json").write_text(json.dumps({"points": jl[1].tolist()}))
    np.savez(tmp_path / "all.npz", points=jl)
    results = {}
    for name in ("one.json", "all.npz"):
        out = tmp_path / f"{name}.out.npz"
        code, _, err = run_smplr(
            monkeypatch, capsys, *fit_args(files, str(tmp_path / name), "-o", str(out))
        )
        assert code == 0, err
        results[name] = np.load(out)["joints"]
    np.testing.assert_allclose(results["one.json"][0], results["all.npz"][1], atol=1e-5)


def test_joints24_and_2d_inputs(files, tmp_path, monkeypatch, capsys) -> None:
    jl = np.load(files["jl"])
    np.save(tmp_path / "joints.npy", jl[:, :24])
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(
            files, str(tmp_path / "joints.npy"), "-f", "joints24", "-o", str(tmp_path / "a.npz")
        ),
    )
    assert code == 0, err
    # pixels of a camera 4 m in front of the body, f = 1000 px
    pixels = 1000 * jl[..., :2] * np.array([1, -1]) / (4.0 - jl[..., 2:]) + 500
    payload = {"points": pixels.tolist(), "intrinsics": [1000, 1000, 500, 500], "root_depth": 4.0}
    (tmp_path / "px.json").write_text(json.dumps(payload))
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(files, str(tmp_path / "px.json"), "-f", "2d", "-o", str(tmp_path / "b.npz")),
    )
    assert code == 0, err
    np.save(tmp_path / "plane.npy", jl[..., :2])
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(files, str(tmp_path / "plane.npy"), "-f", "2d", "-o", str(tmp_path / "c.npz")),
    )
    assert code == 0, err


def _write(tmp_path: Path, name: str, value) -> Path:
    path = tmp_path / name
    if isinstance(value, bytes):
        path.write_bytes(value)
    elif name.endswith(".npy"):
        np.save(path, value)
    else:
        path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


@pytest.mark.parametrize(
    ("name", "value", "extra", "message"),
    [
        (
            "short.npy",
            np.ones((2, 41, 3)),
            [],
            "jl42 input must have shape (N, 42, 3) or (42, 3), got (2, 41, 3)",
        ),
        ("joints.npy", np.ones((2, 24, 3)), [], "got (2, 24, 3); use input format joints24"),
        (
            "flat.npy",
            np.ones((2, 42, 2)),
            [],
            "got (2, 42, 2); use input format 2d",
        ),
        (
            "deep.npy",
            np.ones((2, 42, 3)),
            ["-f", "2d"],
            "2d input must have shape (N, 42, 2) or (42, 2), got (2, 42, 3); use input format jl42",
        ),
        ("nan.npy", np.full((2, 42, 3), np.nan), [], "'points' contains NaN"),
        ("zero.npy", np.zeros((2, 42, 3)), [], "all points are identical"),
        ("cube.npy", np.ones((2, 3, 42, 3)), [], "got (2, 3, 42, 3)"),
        ("bad.json", "{not json", [], "not a readable .json keypoint file"),
        ("nokey.json", {"pts": [1, 2]}, [], "no 'points' array"),
        ("words.json", {"points": [["a", "b", "c"]]}, [], "'points' is not a numeric array"),
        (
            "px.json",
            {"points": np.ones((42, 2)).tolist(), "intrinsics": [1, 1, 0, 0]},
            ["-f", "2d"],
            "need 'root_depth'",
        ),
        (
            "badk.json",
            {"points": np.ones((42, 2)).tolist(), "intrinsics": [0, 1, 0, 0], "root_depth": 3},
            ["-f", "2d"],
            "positive focal",
        ),
        ("pts.txt", b"1 2 3", [], "unknown keypoint file type '.txt'"),
        ("broken.npy", b"\x93NUMPY garbage", [], "not a readable .npy keypoint file"),
        (
            "ok.npy",
            np.random.default_rng(0).normal(size=(2, 42, 3)),
            ["-f", "3d"],
            "unknown input format '3d'",
        ),
    ],
)
def test_bad_input_gives_one_line_errors(
    files, tmp_path, monkeypatch, capsys, name, value, extra, message
) -> None:
    path = _write(tmp_path, name, value)
    code, _, err = run_smplr(
        monkeypatch, capsys, *fit_args(files, str(path), "-o", str(tmp_path / "o.npz"), *extra)
    )
    assert code == 2
    assert err.startswith("smplr: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "o.npz").exists()


def test_missing_input_corrupt_weights_and_option_errors(
    files, tmp_path, monkeypatch, capsys
) -> None:
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(files, str(tmp_path / "nope.npy"), "-o", str(tmp_path / "o.npz")),
    )
    assert code == 2 and "keypoint file not found" in err
    broken = tmp_path / "w.pt"
    broken.write_bytes(files["weights"].read_bytes()[:500])
    args = [
        "fit",
        str(files["jl"]),
        "-o",
        str(tmp_path / "o.npz"),
        "--weights",
        str(broken),
        "--female",
        str(files["female"]),
        "--male",
        str(files["male"]),
    ]
    code, _, err = run_smplr(monkeypatch, capsys, *args)
    assert code == 2 and "not a readable SMPLR weight file" in err and err.count("\n") == 1
    code, _, err = run_smplr(
        monkeypatch, capsys, *fit_args(files, str(files["jl"]), "-o", str(tmp_path / "o.txt"))
    )
    assert code == 2 and "must end in .npz" in err
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        "fit",
        str(files["jl"]),
        "-o",
        str(tmp_path / "o.npz"),
        "--female",
        str(files["female"]),
    )
    assert code == 2 and "give both --female and --male" in err
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(files, str(files["jl"]), "-o", str(tmp_path / "o.npz"), "--mesh-format", "stl"),
    )
    assert code == 2 and "unknown mesh format 'stl'" in err
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        *fit_args(files, str(files["jl"]), "-o", str(tmp_path / "o.npz"), "--refine", "-3"),
    )
    assert code == 2 and "refine must be" in err


@pytest.mark.parametrize("refine", ["-1", "1001", "99999999999999999999"])
def test_refine_out_of_range_is_a_one_line_error(files, tmp_path, monkeypatch, capsys, refine):
    out = tmp_path / "o.npz"
    args = fit_args(files, str(files["jl"]), "-o", str(out), "--refine", refine)
    code, _, err = run_smplr(monkeypatch, capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and "refine must be an integer in 0..1000" in err, err
    assert not out.exists()


def test_confidence_from_the_npz(files, tmp_path, monkeypatch, capsys) -> None:
    points = np.load(files["jl"])
    good = tmp_path / "good.npz"
    np.savez(good, points=points, confidence=np.full(points.shape[:2], 0.5))
    out = tmp_path / "o.npz"
    code, _, err = run_smplr(
        monkeypatch, capsys, *fit_args(files, str(good), "-o", str(out), "-k", "2")
    )
    assert code == 0, err
    assert np.load(out)["betas"].shape == (len(points), 10)
    bad = tmp_path / "bad.npz"
    np.savez(bad, points=points, confidence=np.ones((len(points), 24)))
    code, _, err = run_smplr(
        monkeypatch, capsys, *fit_args(files, str(bad), "-o", str(out), "-k", "2")
    )
    assert code == 2 and err.count("\n") == 1, err
    assert "'confidence' has shape" in err
