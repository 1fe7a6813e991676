"""Model and weight files from strangers: a pickle never runs code, damage is one clear
error, and files laid out like the official SMPL release still load."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model import BodyModel
from smplr.body.model_file import (
    ModelFileError,
    load_model_data,
    model_data_from_arrays,
    save_model_data,
)
from smplr.training.checkpoint import load_checkpoint
from smplr.weights import load_bundle

# ----------------------------------------------------------------- malicious pickles


class _System:
    """Unpickling it runs ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Eval:
    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self):
        return (eval, (self.source,))


class _Popen:
    def __init__(self, args: list[str]) -> None:
        self.args = args

    def __reduce__(self):
        return (subprocess.Popen, (self.args,))


class _NumpyLoad:
    """``numpy.load(path, None, True)``: a pickled .npy would run code in turn."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (np.load, (self.path, None, True))


class _NumpyRunstring:
    """numpy.testing's ``runstring`` execs a string."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self):
        return (np.testing._private.utils.runstring, (self.source, {}))


def _touch(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('ran')"


def _payloads(marker: Path, tmp_path: Path) -> dict[str, tuple[object, str]]:
    """name -> (object whose unpickling would create ``marker``, refused global)."""
    npy = tmp_path / "evil.npy"
    np.save(npy, np.array([_System(f"touch {marker}")], dtype=object), allow_pickle=True)
    return {
        "os.system": (_System(f"touch {marker}"), f"{os.system.__module__}.system"),
        "builtins.eval": (_Eval(_touch(marker)), "builtins.eval"),
        "subprocess.Popen": (_Popen(["touch", str(marker)]), "subprocess.Popen"),
        "numpy.load": (_NumpyLoad(str(npy)), "numpy.load"),
        "numpy.testing": (
            _NumpyRunstring(_touch(marker)),
            "numpy.testing._private.utils.runstring",
        ),
    }


PAYLOAD_NAMES = ("os.system", "builtins.eval", "subprocess.Popen", "numpy.load", "numpy.testing")


@pytest.mark.parametrize("payload", PAYLOAD_NAMES)
@pytest.mark.parametrize("where", ["top-level", "nested"])
@pytest.mark.parametrize("protocol", [2, 4])
def test_malicious_model_pickle_is_refused_before_it_runs(
    tmp_path: Path, payload: str, where: str, protocol: int
) -> None:
    marker = tmp_path / "marker"
    evil, refused = _payloads(marker, tmp_path)[payload]
    if where == "top-level":
        content: object = evil
    else:  # a valid model with the payload under a spare key
        content = {**fake_smpl_arrays(), "extra": {"deep": [evil]}}
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    with pytest.raises(ModelFileError) as info:
        BodyModel.from_file(path)
    message = str(info.value)
    assert not marker.exists(), "unpickling ran the payload"
    assert str(path) in message and refused in message and "\n" not in message


def test_payload_would_run_unrestricted(tmp_path: Path) -> None:
    """The payloads above are live: plain ``pickle.loads`` runs them."""
    for name in ("builtins.eval", "numpy.testing"):
        marker = tmp_path / f"marker_{name}"
        evil, _ = _payloads(marker, tmp_path)[name]
        pickle.loads(pickle.dumps(evil, protocol=2))
        assert marker.exists()


def test_bytes_decoder_admits_latin1_only(tmp_path: Path) -> None:
    """``_codecs.encode`` (how protocol 2 stores bytes) is admitted for latin-1 alone."""
    blob = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00rot13\x86R."
    path = tmp_path / "model.pkl"
    path.write_bytes(blob)
    with pytest.raises(ModelFileError, match="corrupt pickle"):
        load_model_data(path)


@pytest.mark.parametrize("loader", [load_bundle, lambda p: load_checkpoint(p)])
def test_malicious_weight_and_checkpoint_files_are_refused(tmp_path: Path, loader) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "weights.pt"
    torch.save({"format": "smplr-weights", "version": 1, "meta": _System(f"touch {marker}")}, path)
    with pytest.raises(ValueError, match=r"not a readable|corrupt or unreadable") as info:
        loader(path)
    assert not marker.exists()
    assert str(path) in str(info.value) and "\n" not in str(info.value)


# ----------------------------------------------------------- official-layout pickles


class _Ch:
    """Pickles as ``chumpy.ch.Ch`` with its array in ``x``, as chumpy objects do."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x


_Ch.__module__ = "chumpy.ch"
_Ch.__qualname__ = "Ch"


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes str and bytes as Python 2's ``str`` (BINSTRING), as the official files,
    written by Python 2's cPickle, hold them; they are read back with latin-1."""

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_py2_str(self, obj: str | bytes) -> None:
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + len(data).to_bytes(4, "little") + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


def _official_layout_pickle(arrays: dict, numpy_core: str, sparse_module: str) -> bytes:
    """Bytes laid out like SMPL's release: protocol 2, Python-2 strings, chumpy ``Ch``
    arrays, a scipy csc_matrix ``J_regressor``, numpy and scipy under the given module names."""
    chumpy, chumpy_ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    chumpy_ch.Ch = _Ch  # type: ignore[attr-defined]
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = chumpy, chumpy_ch
    try:
        payload = {
            "v_template": _Ch(arrays["v_template"]),
            "shapedirs": _Ch(arrays["shapedirs"]),
            "posedirs": arrays["posedirs"],
            "J_regressor": scipy.sparse.csc_matrix(arrays["J_regressor"]),
            "weights": _Ch(arrays["weights"]),
            "kintree_table": arrays["kintree_table"],
            "f": arrays["f"],
            "bs_type": "lrotmin",
            "bs_style": "lbs",
            "J": _Ch(arrays["J_regressor"] @ arrays["v_template"]),
        }
        buffer = io.BytesIO()
        _Py2Pickler(buffer, protocol=2).dump(payload)
    finally:
        del sys.modules["chumpy.ch"], sys.modules["chumpy"]
    blob = buffer.getvalue()
    blob = blob.replace(b"cnumpy._core.multiarray\n", f"c{numpy_core}.multiarray\n".encode())
    return blob.replace(b"cscipy.sparse._csc\n", f"c{sparse_module}\n".encode())


@pytest.mark.parametrize("numpy_core", ["numpy.core", "numpy._core"])
@pytest.mark.parametrize("sparse_module", ["scipy.sparse.csc", "scipy.sparse._csc"])
def test_official_layout_pickles_load(tmp_path: Path, numpy_core: str, sparse_module: str) -> None:
    arrays = fake_smpl_arrays(seed=2)
    blob = _official_layout_pickle(arrays, numpy_core, sparse_module)
    assert f"c{numpy_core}.multiarray\n_reconstruct".encode() in blob
    assert f"c{sparse_module}\ncsc_matrix".encode() in blob
    assert pickle.SHORT_BINSTRING + b"\x0av_template" in blob  # a Python-2 str key
    path = tmp_path / "basicModel_m_lbs_10_207_0_v1.0.0.pkl"
    path.write_bytes(blob)
    data = load_model_data(path)
    assert "chumpy" not in sys.modules
    np.testing.assert_array_equal(data.v_template, arrays["v_template"])
    np.testing.assert_array_equal(data.shapedirs, arrays["shapedirs"])
    np.testing.assert_array_equal(data.J_regressor, arrays["J_regressor"])
    np.testing.assert_array_equal(data.faces, arrays["f"])


# ------------------------------------------------------------------ damaged files


def _seed_files() -> dict[str, bytes]:
    """A small official-layout pickle and the same model as a compressed .npz."""
    arrays = fake_smpl_arrays(num_vertices=48, num_betas=4, seed=5)
    arrays["posedirs"][:] = 0.0  # small files: most flipped bytes land in what matters
    with tempfile.TemporaryDirectory() as folder:
        npz = save_model_data(model_data_from_arrays(arrays), Path(folder) / "m.npz")
        return {
            ".pkl": _official_layout_pickle(arrays, "numpy.core", "scipy.sparse.csc"),
            ".npz": npz.read_bytes(),
        }


SEED_FILES = _seed_files()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suffix=st.sampled_from(sorted(SEED_FILES)),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=4),
    keep=st.one_of(st.just(1.0), st.floats(0, 1)),
)
def test_damaged_model_files_load_or_fail_cleanly(
    suffix: str, flips: list[tuple[float, int]], keep: float
) -> None:
    """Random byte flips and truncations: a valid model or one ModelFileError, never
    another exception type and never code."""
    blob = bytearray(SEED_FILES[suffix])
    for where, mask in flips:
        blob[int(where * len(blob))] ^= mask
    blob = blob[: int(keep * len(blob))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"model{suffix}"
        path.write_bytes(bytes(blob))
        try:
            data = load_model_data(path)
        except ModelFileError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
            return
        assert set(os.listdir(folder)) == {path.name}  # nothing was created
    model = BodyModel(data)
    out = model(betas=torch.zeros(1, data.num_betas))
    assert torch.isfinite(out.vertices).all()
