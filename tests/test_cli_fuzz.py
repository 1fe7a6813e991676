"""Fuzzing the command line with hostile and careless files (issue 15, item 6).

Hypothesis draws keypoint files, parameter files, model files, weight files and option
values and runs them through the real entry point in-process (``smplr.cli.main``) on the
fake body model and an untrained tiny bundle (fast).  Every run must either succeed with
whole, finite outputs, or fail with exit code 2 and ONE ``smplr: error:`` line naming the
file or option at fault (``smplr: warning:`` lines may come before it), leaving no output
file (and no temporary) behind.  No other exception may escape.  ``smplr predict`` runs
a batch: each bad photo is one such line and the good ones are still fitted (exit code 1
when some failed, 2 when none worked); it runs on canned landmarks (no MediaPipe).

Size: 60 + 40 + 40 + 30 + 30 + 20 + 12 = 232 generated cases per run (``MAX_EXAMPLES``).
"""

from __future__ import annotations

import functools
import io
import json
import pickle
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.cli import fake_model_args, run_cli, write_fake_fit_files
from helpers.fake_model import fake_smpl_arrays
from helpers.fakes import fake_gendered, random_params
from helpers.images import BAD_KINDS, GOOD_KINDS, write_kind

MAX_EXAMPLES = {
    "keypoints": 60,
    "params": 40,
    "models": 40,
    "weights": 30,
    "options": 30,
    "synth": 20,
    "predict": 12,
}
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

# ------------------------------------------------------------------ fixed inputs (module)

FILES = write_fake_fit_files(tempfile.mkdtemp(prefix="smplr-fuzz-"))
_BODY = fake_gendered()
_P = random_params(4, torch.Generator().manual_seed(0))
JL = (
    _BODY(_P["gender"], _P["betas"], _P["rotations"][:, :1], _P["rotations"][:, 1:])
    .jl.double()
    .numpy()
)  # (4, 42, 3) metres, the fake body's joints and landmarks
MODEL_ARGS = fake_model_args(FILES)


# ------------------------------------------------------------------ the contract


def check_outcome(code: int, err: str, folder: Path, inputs: set[str], names: list[str]) -> None:
    """Exit 0 or one error line naming one of ``names``; on failure nothing but the
    ``inputs`` is left in ``folder`` (recursively)."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if not line.startswith("smplr: warning: ")]
    if code == 0:
        assert errors == [], err
        return
    assert code == 2, (code, err)
    assert len(errors) == 1 and errors[0] == lines[-1], err
    assert errors[0].startswith("smplr: error: "), err
    assert any(name in errors[0] for name in names), (names, err)
    left = {str(p.relative_to(folder)) for p in folder.rglob("*")}
    assert left <= inputs, f"left behind: {sorted(left - inputs)} ({err.strip()})"


def check_npz(path: Path, keys: set[str], count: int | None = None, optional=()) -> None:
    """The file holds exactly ``keys`` (and maybe ``optional`` ones), all finite."""
    with np.load(path) as data:
        assert keys <= set(data.files) <= keys | set(optional)
        for key in data.files:
            assert np.isfinite(data[key]).all(), key
            if count is not None:
                assert data[key].shape[0] == count, key


FIT_KEYS = {"betas", "gender", "global_orient", "body_pose", "transl", "joints"}
FIT_KEYS |= {"landmarks", "scale"}


# ------------------------------------------------------------------ keypoint files

_VALUE_CHANGES = st.sampled_from(
    ["none", "mm", "tiny", "collapsed", "offset", "nan", "inf", "zeros", "noise", "int"]
)


def _changed(points: np.ndarray, change: str, row: int) -> np.ndarray:
    """``points`` of any shape with one kind of damage (see _VALUE_CHANGES)."""
    points = points.copy()
    if points.size == 0:
        return points
    first = points[:1] if points.ndim == 3 else points  # the first body (or the flat values)
    if change == "mm":
        first *= 1000
    elif change == "tiny":
        points *= 1e-4
    elif change == "collapsed":
        points = points * 1e-9 + 3.0
    elif change == "offset":
        points += 1e7
    elif change in ("nan", "inf"):
        points.flat[row % points.size] = np.nan if change == "nan" else np.inf
    elif change == "zeros":
        first[...] = 0
    elif change == "noise":
        points = np.random.default_rng(row).normal(size=points.shape)
    elif change == "int":
        points = np.round(points * 100).astype(np.int64)
    return points


@st.composite
def keypoint_files(draw):
    """(file name, file bytes or None for a missing file, --input-format)."""
    fmt = draw(st.sampled_from(["jl42", "joints24", "2d"]))
    count = draw(st.integers(0, 4))
    points = JL[:count]
    if fmt == "joints24":
        points = points[:, :24]
    shape_change = draw(st.sampled_from(["none"] * 4 + ["points", "dims", "single", "flat"]))
    if shape_change == "points":
        points = np.concatenate([points, points[:, :1]], axis=1)
    elif shape_change == "dims":
        points = points[..., :2] if fmt != "2d" else points
    elif shape_change == "single" and count:
        points = points[0]
    elif shape_change == "flat":
        points = points.reshape(-1)
    if fmt == "2d" and shape_change != "dims" and points.ndim >= 2 and points.shape[-1] == 3:
        points = points[..., :2]
    points = _changed(points, draw(_VALUE_CHANGES), draw(st.integers(0, 3)))
    extras: dict = {}
    if draw(st.booleans()):
        rows = count if count else 1
        cols = points.shape[-2] if points.ndim >= 2 else 1
        extras["confidence"] = draw(
            st.sampled_from(
                [np.ones((rows, cols)), -np.ones((rows, cols)), np.ones((rows + 1, cols)), "x"]
            )
        )
    if fmt == "2d" and draw(st.booleans()):
        pixels = 1000 * points / 4.0 + 500 if points.dtype.kind == "f" else points
        points = pixels
        extras["intrinsics"] = draw(
            st.sampled_from([[1000, 1000, 500, 500], [1000, 500], [0, 1000, 500, 500]])
        )
        if draw(st.booleans()):
            extras["root_depth"] = draw(
                st.sampled_from([4.0, -1.0, [4.0] * 7, [4.0] * max(count, 1), float("nan")])
            )
    container = draw(st.sampled_from(["npy", "npz", "npz-other-key", "json", "json-list", "txt"]))
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "garbage", "missing"]))
    name, data = _encode(points, extras, container)
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytes(range(256)) * 3
    return name, None if damage == "missing" else data, fmt


def _encode(points: np.ndarray, extras: dict, container: str) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    if container == "npy":
        np.save(buffer, points)
        return "kp.npy", buffer.getvalue()
    if container.startswith("npz"):
        arrays = {"points" if container == "npz" else "jl": points}
        arrays.update({k: np.asarray(v) for k, v in extras.items() if not isinstance(v, str)})
        np.savez(buffer, **arrays)
        return "kp.npz", buffer.getvalue()
    if container == "json-list":
        return "kp.json", json.dumps(points.tolist()).encode()
    content = {"points": points.tolist()}
    content.update({k: np.asarray(v).tolist() for k, v in extras.items()})
    text = json.dumps(content).replace("NaN", "null" if container == "txt" else "NaN")
    return ("kp.txt" if container == "txt" else "kp.json"), text.encode()


@settings(max_examples=MAX_EXAMPLES["keypoints"], **FUZZ)
@given(case=keypoint_files(), meshes=st.booleans(), refine=st.sampled_from(["0", "0", "0", "1"]))
def test_fit_on_fuzzed_keypoint_files(case, meshes: bool, refine: str) -> None:
    name, data, fmt = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        out = folder / "out" / "bodies.npz"
        args = ["fit", str(path), "-o", str(out), "-f", fmt, "-k", refine, *MODEL_ARGS]
        if meshes:
            args += ["--mesh-dir", str(folder / "meshes")]
        code, _, err = run_cli(*args)
        check_outcome(code, err, folder, {name} if data is not None else set(), [str(path)])
        if code == 0:
            check_npz(out, FIT_KEYS)
            if meshes:
                count = np.load(out)["betas"].shape[0]
                assert len(list((folder / "meshes").glob("body_*.obj"))) == count


# ------------------------------------------------------------------ parameter files


@st.composite
def parameter_files(draw):
    count = draw(st.integers(0, 3))
    arrays = {
        "betas": np.zeros((count, draw(st.sampled_from([10, 10, 4, 0])))),
        "global_orient": np.zeros((count, 3)),
        "body_pose": np.full((count, 69), 0.2),
    }
    if draw(st.booleans()):
        arrays["transl"] = np.ones((count, draw(st.sampled_from([3, 3, 2]))))
    if draw(st.booleans()):
        arrays["gender"] = draw(
            st.sampled_from(
                [
                    np.ones(count),
                    np.full(count, 2.0),
                    np.array(["female"] * count),
                    np.array(["x"] * count),
                ]
            )
        )
    change = draw(st.sampled_from(["none"] * 3 + ["drop", "nan", "rows", "shape", "huge", "text"]))
    key = draw(st.sampled_from(sorted(arrays)))
    if change == "drop":
        del arrays[key]
    elif change == "nan" and arrays[key].size and arrays[key].dtype.kind == "f":
        arrays[key] = arrays[key].copy()
        arrays[key].flat[0] = np.nan
    elif change == "rows":
        arrays[key] = np.concatenate([arrays[key], arrays[key][:1]]) if count else arrays[key]
    elif change == "shape":
        arrays[key] = np.zeros((count, 5, 2))
    elif change == "huge":
        arrays["body_pose"] = np.full((count, 69), 1e30)
    elif change == "text":
        arrays[key] = np.array(["a"] * max(count, 1))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    if draw(st.integers(0, 5)) == 0:
        data = data[: len(data) // 3]
    return data


@settings(max_examples=MAX_EXAMPLES["params"], **FUZZ)
@given(data=parameter_files(), meshes=st.booleans())
def test_body_pose_on_fuzzed_parameter_files(data: bytes, meshes: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "params.npz"
        path.write_bytes(data)
        out = folder / "out.npz"
        args = ["body", "pose", str(path), "-o", str(out), "--model", str(FILES["female"])]
        if meshes:
            args += ["--mesh-dir", str(folder / "meshes")]
        code, _, err = run_cli(*args)
        check_outcome(code, err, folder, {"params.npz"}, [str(path)])
        if code == 0:
            check_npz(out, {"vertices", "joints", "landmarks"})


# ------------------------------------------------------------------ model files

_MODEL_SEED = {
    ".npz": FILES["female"].read_bytes(),
    ".pkl": FILES["model_pkl"].read_bytes(),
}


@st.composite
def model_files(draw):
    """(suffix, bytes) of a damaged or odd SMPL-format model file."""
    kind = draw(st.sampled_from(["bytes", "arrays", "pickle"]))
    if kind == "bytes":  # flips and truncation of a valid file
        suffix = draw(st.sampled_from(sorted(_MODEL_SEED)))
        blob = bytearray(_MODEL_SEED[suffix])
        for where, mask in draw(
            st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=4)
        ):
            blob[int(where * len(blob))] ^= mask
        keep = draw(st.one_of(st.just(1.0), st.floats(0, 1)))
        return suffix, bytes(blob[: int(keep * len(blob))])
    arrays = fake_smpl_arrays(seed=3)
    key = draw(st.sampled_from(sorted(arrays)))
    change = draw(st.sampled_from(["drop", "nan", "shape", "text", "empty"]))
    if change == "drop":
        del arrays[key]
    elif change == "nan":
        value = np.array(arrays[key], dtype=np.float64)
        value.flat[0] = np.nan
        arrays[key] = value
    elif change == "shape":
        arrays[key] = np.zeros((3, 2))
    elif change == "text":
        arrays[key] = np.array(["a", "b"])
    elif change == "empty":
        arrays = {}
    if kind == "pickle":
        payload = draw(st.sampled_from([arrays, [arrays], None, 7, {"v_template": "x"}]))
        return ".pkl", pickle.dumps(payload, protocol=2)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        **{k: np.asarray(v.toarray() if hasattr(v, "toarray") else v) for k, v in arrays.items()},
    )
    return ".npz", buffer.getvalue()


@settings(max_examples=MAX_EXAMPLES["models"], **FUZZ)
@given(case=model_files())
def test_body_pose_on_fuzzed_model_files(case) -> None:
    suffix, data = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / f"model{suffix}"
        path.write_bytes(data)
        out = folder / "out.npz"
        args = ["body", "pose", str(FILES["params"]), "-o", str(out), "--model", str(path)]
        code, _, err = run_cli(*args)
        check_outcome(code, err, folder, {path.name}, [str(path)])
        if code == 0:
            check_npz(
                out, {"vertices", "joints"}, 2, optional=["landmarks"]
            )  # a model may lack them


# ------------------------------------------------------------------ weight files

_BUNDLE_SEED = FILES["weights"].read_bytes()


def _payload() -> dict:
    return torch.load(FILES["weights"], weights_only=True)


@st.composite
def weight_files(draw) -> bytes:
    kind = draw(st.sampled_from(["bytes", "payload"]))
    if kind == "bytes":
        blob = bytearray(_BUNDLE_SEED)
        for where, mask in draw(
            st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=3)
        ):
            blob[int(where * len(blob))] ^= mask
        keep = draw(st.one_of(st.just(1.0), st.floats(0, 1)))
        return bytes(blob[: int(keep * len(blob))])
    payload = _payload()
    change = draw(
        st.sampled_from(
            [
                "lengths0",
                "lengths-nan",
                "lengths-shape",
                "nan-weight",
                "drop-net",
                "format",
                "version",
                "config",
                "tensor-shape",
                "not-a-dict",
            ]
        )
    )
    if change == "lengths0":
        payload["template_lengths"] = torch.zeros(41)
    elif change == "lengths-nan":
        payload["template_lengths"][3] = float("nan")
    elif change == "lengths-shape":
        payload["template_lengths"] = torch.ones(40)
    elif change == "nan-weight":
        name = draw(st.sampled_from(sorted(payload["networks"])))
        key = next(iter(payload["networks"][name]))
        payload["networks"][name][key] = torch.full_like(
            payload["networks"][name][key], float("nan")
        )
    elif change == "drop-net":
        del payload["networks"][draw(st.sampled_from(sorted(payload["networks"])))]
    elif change == "format":
        payload["format"] = "other"
    elif change == "version":
        payload["version"] = 99
    elif change == "config":
        payload["config"] = {"widths": "wide"}
    elif change == "tensor-shape":
        name = draw(st.sampled_from(sorted(payload["networks"])))
        key = next(iter(payload["networks"][name]))
        payload["networks"][name][key] = torch.zeros(3)
    elif change == "not-a-dict":
        payload = [1, 2, 3]
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


@settings(max_examples=MAX_EXAMPLES["weights"], **FUZZ)
@given(data=weight_files())
def test_fit_on_fuzzed_weight_files(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "weights.pt"
        path.write_bytes(data)
        np.save(folder / "jl.npy", JL)
        out = folder / "bodies.npz"
        args = ["fit", str(folder / "jl.npy"), "-o", str(out), "-k", "0"]
        args += ["--mesh-dir", str(folder / "meshes"), *fake_model_args(FILES, path)]
        code, _, err = run_cli(*args)
        check_outcome(code, err, folder, {"weights.pt", "jl.npy"}, [str(path)])
        if code == 0:
            check_npz(out, FIT_KEYS, len(JL))


# ------------------------------------------------------------------ options


@settings(max_examples=MAX_EXAMPLES["options"], **FUZZ)
@given(
    command=st.sampled_from(["fit", "pose", "evaluate", "train"]),
    batch_size=st.one_of(st.integers(-3, 3), st.sampled_from(["x", "1.5", ""])),
    device=st.sampled_from(["cpu", "bogus", "cuda:99", "meta", "cpu:0", ""]),
)
def test_fuzzed_options_are_one_line_errors(command: str, batch_size, device: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "jl.npy", JL)
        out = str(folder / "o.npz")
        options = ["--batch-size", str(batch_size), "--device", device]
        args = {
            "fit": ["fit", str(folder / "jl.npy"), "-o", out, "-k", "0", *MODEL_ARGS],
            "pose": ["body", "pose", str(FILES["params"]), "-o", out],
            "evaluate": ["evaluate", "-d", "synthetic", "--model", "smplr", "--num", "0"],
            "train": ["train", "dae", "--run-dir", str(folder / "run"), "--steps", "0"],
        }[command]
        if command == "pose":
            args += ["--model", str(FILES["female"])]
        valid = isinstance(batch_size, int) and batch_size >= 1 and device in ("cpu", "cpu:0")
        if command in ("evaluate", "train") and valid:
            return  # full runs are tested elsewhere; here only the options' checks
        code, _, err = run_cli(*args, *options)
        check_outcome(code, err, folder, {"jl.npy"}, ["'--batch-size'", "'--device'"])
        assert (code == 0) == valid, err


_SYNTH_BAD = {
    "--num": st.sampled_from(["0", "-1", "x"]),
    "--shard-size": st.sampled_from(["0", "-3"]),
    "--workers": st.sampled_from(["0", "-1"]),
    "--size": st.sampled_from(["0", "5", "99999"]),
    "--format": st.sampled_from(["bmp", ""]),
    "--mode": st.sampled_from(["x", "CROP"]),
    "--split": st.sampled_from(["val", ""]),
    "--occluders": st.sampled_from(["2", "-0.5", "nan"]),
}


@settings(max_examples=MAX_EXAMPLES["synth"], **FUZZ)
@given(option=st.sampled_from(sorted(_SYNTH_BAD)), data=st.data())
def test_data_synth_bad_options_are_one_line_errors(option: str, data) -> None:
    """``smplr data synth`` (joined the CLI after this suite) refuses each bad option
    before it makes anything."""
    value = data.draw(_SYNTH_BAD[option])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        args = ["data", "synth", "--out", str(folder / "images")]
        if option != "--num":
            args += ["--num", "2"]
        code, _, err = run_cli(*args, option, value)
        assert code == 2, err
        check_outcome(code, err, folder, set(), [option, option.lstrip("-")])


# ------------------------------------------------------------------ smplr predict

_PREDICT_KINDS = (*GOOD_KINDS, *sorted(BAD_KINDS), "nobody.png", "damaged.png", "damaged.jpg")
_PHOTO = (160, 120)
"""Width, height of the photos (small: fast); canned landmarks for this width only."""
_DAMAGED_FROM = {"damaged.png": "rgb.png", "damaged.jpg": "cmyk.jpg"}
"""Damaged photos: byte flips in these."""
_PREDICT_BAD_OPTIONS = {
    "--refine": ("-1", "--refine"),
    "--overlay-size": ("8", "--overlay-size"),
    "--smooth": ("-1", "--smooth"),
    "--focal": ("0", "focal length"),
    "--keypoints": ("sift", "keypoints route 'sift'"),
}


@functools.cache
def _predict_fakes():
    """The shipped SMPLR and the canned landmarks of a person in a :data:`_PHOTO` image
    (made once: each takes seconds)."""
    from helpers.detections import canned_person
    from smplr.pipeline import SMPLR

    return SMPLR.pretrained(), canned_person(*_PHOTO).detection


@st.composite
def predict_batches(draw):
    """(file names, {name: bytes or None for a missing file}, a bad option or None)."""
    names = draw(st.lists(st.sampled_from(_PREDICT_KINDS), min_size=1, max_size=4, unique=True))
    files: dict[str, bytes | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name.startswith("damaged"):
                path = write_kind(Path(tmp), _DAMAGED_FROM[name], *_PHOTO)
                blob = bytearray(path.read_bytes())
                for where, mask in draw(
                    st.lists(
                        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
                        min_size=1,
                        max_size=3,
                    )
                ):
                    blob[int(where * len(blob))] ^= mask
                files[name] = bytes(blob)
            elif name == "nobody.png":
                files[name] = write_kind(Path(tmp), "rgb.png", 100, _PHOTO[1]).read_bytes()
            elif name == "missing.png":
                files[name] = None
            else:
                files[name] = write_kind(Path(tmp), name, *_PHOTO).read_bytes()
    option = draw(st.one_of(st.none(), st.none(), st.sampled_from(sorted(_PREDICT_BAD_OPTIONS))))
    return names, files, option


@settings(max_examples=MAX_EXAMPLES["predict"], **FUZZ)
@given(batch=predict_batches())
def test_predict_on_fuzzed_image_batches(batch) -> None:
    """``smplr predict`` on batches of good, bad and damaged photos (canned landmarks for
    160-pixel-wide images, nobody in others; the shipped SMPLR): every good photo is
    fitted and written, every other input is one ``smplr: error:`` line naming it, the
    exit code is 0 / 1 / 2 for all / some / none fitted; a bad option is one line and
    exit 2 before anything is read."""
    import smplr.cli.predict as command
    from helpers.detections import FakeDetector

    names, files, option = batch
    model, person = _predict_fakes()  # before SMPLR.load is patched: pretrained() calls it
    detector = FakeDetector({_PHOTO[0]: [person]})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, data in files.items():
            if data is not None:
                (folder / name).write_bytes(data)
        out = folder / "out"
        args = ["predict", *(str(folder / n) for n in names), "--out", str(out)]
        args += ["--refine", "0", "--overlay-size", "64"]
        if option is not None:
            args += [option, _PREDICT_BAD_OPTIONS[option][0]]
        with (
            mock.patch.object(command, "build_detector", lambda route: detector),
            mock.patch.object(command.SMPLR, "load", lambda *a, **k: model),
        ):
            code, stdout, err = run_cli(*args)
        errors = err.strip().splitlines()
        if option is not None:
            check_outcome(code, err, folder, set(files), [_PREDICT_BAD_OPTIONS[option][1]])
            assert code == 2, err
            return
        assert all(line.startswith("smplr: error: ") for line in errors), err
        fitted = [n for n in names if f"{n}: fitted" in stdout]
        failed = [n for n in names if any(f"{n}: " in line for line in errors)]
        assert sorted(fitted + failed) == sorted(names), (stdout, err)
        assert len(errors) == len(failed), err
        assert set(GOOD_KINDS) & set(names) <= set(fitted), err
        assert (set(BAD_KINDS) | {"nobody.png"}) & set(names) <= set(failed), stdout
        assert code == (0 if not failed else 2 if not fitted else 1), (code, err)
        with np.load(out / "predictions.npz") as data:
            assert data["names"].tolist() == fitted
            for key in data.files:
                if key != "names":
                    assert np.isfinite(data[key]).all(), key
        assert not list(out.rglob("*.tmp")), "a temporary file left behind"
