"""Issue 15, items 2 and 3: each case as a one-line ``smplr: error:`` (exit code 2) with
its message, on the fake body model and a tiny untrained bundle."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.cli import fake_model_args, run_cli, write_fake_fit_files
from smplr.weights import load_bundle, save_bundle


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return write_fake_fit_files(tmp_path_factory.mktemp("errors"))


def one_line_error(code: int, err: str, *parts: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("smplr: error: "), err
    for part in parts:
        assert part in err, (part, err)


def fit(files, *args: str) -> tuple[int, str, str]:
    return run_cli("fit", *args, *fake_model_args(files))


# ------------------------------------------------------------------ item 2: tracebacks


def test_root_depth_of_the_wrong_length(files, tmp_path) -> None:
    jl = np.load(files["jl"])
    pixels = 1000 * jl[..., :2] * np.array([1, -1]) / (4.0 - jl[..., 2:]) + 500
    path = tmp_path / "px.json"
    content = {"points": pixels.tolist(), "intrinsics": [1000, 1000, 500, 500]}
    path.write_text(json.dumps({**content, "root_depth": [4.0] * 7}))
    code, _, err = fit(files, str(path), "-f", "2d", "-o", str(tmp_path / "o.npz"))
    one_line_error(
        code, err, f"{path}: root_depth has shape (7,) for 3 bodies", "one depth per body"
    )
    assert not (tmp_path / "o.npz").exists()


@pytest.mark.parametrize("command", ["fit", "body pose", "train", "evaluate"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_batch_size_below_one_is_refused(files, tmp_path, command: str, value: str) -> None:
    args = {
        "fit": ["fit", str(files["jl"]), "-o", str(tmp_path / "o.npz"), *fake_model_args(files)],
        "body pose": ["body", "pose", str(files["params"]), "-o", str(tmp_path / "o.npz")],
        "train": ["train", "all", "--run-dir", str(tmp_path / "run")],
        "evaluate": ["evaluate", "-d", "synthetic", "--model", "smplr"],
    }[command]
    code, _, err = run_cli(*args, "--batch-size", value)
    one_line_error(code, err, "Invalid value for '--batch-size'", "greater than or equal to 1")
    assert list(tmp_path.iterdir()) == []


def test_unknown_device_is_refused(files, tmp_path) -> None:
    code, _, err = fit(files, str(files["jl"]), "-o", str(tmp_path / "o.npz"), "--device", "bogus")
    one_line_error(code, err, "Invalid value for '--device': 'bogus' is not a torch device")


@pytest.mark.parametrize("command", ["fit", "body pose", "train"])
def test_cuda_without_cuda_is_refused(files, tmp_path, monkeypatch, command: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = {
        "fit": ["fit", str(files["jl"]), "-o", str(tmp_path / "o.npz"), *fake_model_args(files)],
        "body pose": ["body", "pose", str(files["params"]), "-o", str(tmp_path / "o.npz")],
        "train": ["train", "dae", "--run-dir", str(tmp_path / "run")],
    }[command]
    code, _, err = run_cli(*args, "--device", "cuda")
    one_line_error(code, err, "'--device': 'cuda': this torch has no CUDA device", "--device cpu")


def test_bit_flipped_model_pickle_names_the_file_and_cause(files, tmp_path) -> None:
    blob = files["model_pkl"].read_bytes()
    path = tmp_path / "flipped.pkl"
    for where in range(len(blob) // 7, len(blob), len(blob) // 11):  # the first flip that fails
        damaged = bytearray(blob)
        damaged[where] ^= 0x80
        path.write_bytes(bytes(damaged))
        code, _, err = run_cli(
            "body", "pose", str(files["params"]), "-o", str(tmp_path / "o.npz"), "-m", str(path)
        )
        if code:
            break
    one_line_error(code, err, f"{path}: not a SMPL model file")
    assert not (tmp_path / "o.npz").exists()


def test_usage_errors_are_one_line(files, tmp_path) -> None:
    code, _, err = run_cli("fit", str(files["jl"]), "--batch-size", "many")
    one_line_error(code, err, "'--batch-size'")
    code, _, err = run_cli("fit", str(files["jl"]))
    one_line_error(code, err, "Missing option '--out'")


# ------------------------------------------------------------------ item 3: silent garbage


def test_2d_pixels_without_intrinsics_name_the_fix(files, tmp_path) -> None:
    jl = np.load(files["jl"])
    np.save(tmp_path / "px.npy", 1000 * jl[..., :2] / 4.0 + 500)
    code, _, err = fit(files, str(tmp_path / "px.npy"), "-f", "2d", "-o", str(tmp_path / "o.npz"))
    one_line_error(
        code, err, f"{tmp_path / 'px.npy'}: bodies 0, 1, 2", "may be pixels", "'intrinsics'"
    )


def test_millimetre_keypoints_name_the_file_and_body(files, tmp_path) -> None:
    jl = np.load(files["jl"])
    jl[1] *= 1000
    np.save(tmp_path / "mm.npy", jl)
    code, _, err = fit(files, str(tmp_path / "mm.npy"), "-o", str(tmp_path / "o.npz"))
    one_line_error(code, err, f"{tmp_path / 'mm.npy'}: body 1:", "looks like millimetres")


def test_body_pose_with_no_bodies(files, tmp_path) -> None:
    path = tmp_path / "none.npz"
    np.savez(
        path, betas=np.zeros((0, 10)), global_orient=np.zeros((0, 3)), body_pose=np.zeros((0, 69))
    )
    code, _, err = run_cli("body", "pose", str(path), "-o", str(tmp_path / "o.npz"))
    one_line_error(code, err, f"{path}: the parameter file holds no bodies")
    assert not (tmp_path / "o.npz").exists()


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.zeros(41), "template_lengths: bone 0 has length 0"),
        (
            torch.ones(41).index_fill(0, torch.tensor([5]), -1.0),
            "template_lengths: bone 5 has length -1",
        ),
        (
            torch.ones(41).index_fill(0, torch.tensor([7]), float("nan")),
            "template_lengths: bone 7 has length nan",
        ),
    ],
)
def test_weight_file_with_bad_template_bone_lengths(files, tmp_path, lengths, message) -> None:
    path = save_bundle(
        replace(load_bundle(files["weights"]), template_lengths=lengths), tmp_path / "w.pt"
    )
    code, _, err = run_cli(
        "fit", str(files["jl"]), "-o", str(tmp_path / "o.npz"), *fake_model_args(files, path)
    )
    one_line_error(code, err, f"{path}: {message}", "finite and positive")


def test_weight_file_with_nan_tensors(files, tmp_path) -> None:
    bundle = load_bundle(files["weights"])
    key = next(iter(bundle.networks["shape"]))
    bundle.networks["shape"][key] = torch.full_like(bundle.networks["shape"][key], float("nan"))
    path = save_bundle(bundle, tmp_path / "w.pt")
    code, _, err = run_cli(
        "fit", str(files["jl"]), "-o", str(tmp_path / "o.npz"), *fake_model_args(files, path)
    )
    one_line_error(code, err, f"{path}: network 'shape': tensor {key} contains NaN or inf")


def test_warnings_are_one_line(files, tmp_path) -> None:
    jl = np.load(files["jl"])
    np.save(tmp_path / "far.npy", jl + 1e5)
    code, _, err = fit(files, str(tmp_path / "far.npy"), "-o", str(tmp_path / "o.npz"), "-k", "0")
    assert code == 0, err
    assert err.startswith("smplr: warning: bodies 0, 1, 2: up to") and err.count("\n") == 1, err


def test_body_pose_parameters_out_of_range(files, tmp_path) -> None:
    path = tmp_path / "huge.npz"
    np.savez(
        path,
        betas=np.zeros((2, 10)),
        global_orient=np.zeros((2, 3)),
        body_pose=np.full((2, 69), 1e30),
    )
    code, _, err = run_cli("body", "pose", str(path), "-o", str(tmp_path / "o.npz"))
    one_line_error(code, err, f"{path}: body 0 poses to NaN or inf vertices", "out of range")
    assert not (tmp_path / "o.npz").exists()


def test_weights_that_give_no_finite_body_are_an_error(files, tmp_path) -> None:
    bundle = load_bundle(files["weights"])
    bundle.networks["shape"]["mlp.merge.bias"].fill_(3e38)  # finite weights, no finite body
    path = save_bundle(bundle, tmp_path / "w.pt")
    code, _, err = run_cli(
        "fit", str(files["jl"]), "-o", str(tmp_path / "o.npz"), *fake_model_args(files, path)
    )
    one_line_error(code, err, f"{path}: body 0: Ω, Ψ give NaN, inf, |betas| > 100", "damaged")
    assert not (tmp_path / "o.npz").exists()
