"""Reading official-format SMPL files (chumpy pickles, scipy sparse) and .npz; export; bad files."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import torch

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model import BodyModel
from smplr.body.model_file import ModelFileError, load_model_data, save_model_data
from smplr.body.skeleton import SMPL_LANDMARK_VERTEX_IDS


class _ChumpyCh:
    """Pickles as ``chumpy.ch.Ch`` with its array in ``x``, as chumpy objects do."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x


_ChumpyCh.__module__ = "chumpy.ch"
_ChumpyCh.__qualname__ = "Ch"


def _write_chumpy_style_pkl(path: Path, arrays: dict) -> None:
    """Write a pickle shaped like the official SMPL release: chumpy objects for the
    dense arrays, a scipy csc_matrix regressor, Python-2 protocol."""
    module = types.ModuleType("chumpy.ch")
    Ch = _ChumpyCh
    module.Ch = Ch  # type: ignore[attr-defined]
    sys.modules["chumpy"] = types.ModuleType("chumpy")
    sys.modules["chumpy.ch"] = module
    try:
        payload = {
            "v_template": Ch(arrays["v_template"]),
            "shapedirs": Ch(arrays["shapedirs"]),
            "posedirs": arrays["posedirs"],
            "J_regressor": scipy.sparse.csc_matrix(arrays["J_regressor"]),
            "weights": Ch(arrays["weights"]),
            "kintree_table": arrays["kintree_table"],
            "f": arrays["f"],
            "bs_type": "lrotmin",
            "bs_style": "lbs",
            "J": Ch(arrays["J_regressor"] @ arrays["v_template"]),
        }
        with path.open("wb") as fh:
            pickle.dump(payload, fh, protocol=2)
    finally:
        del sys.modules["chumpy.ch"], sys.modules["chumpy"]


def test_official_style_pickle_loads_without_chumpy(tmp_path: Path) -> None:
    arrays = fake_smpl_arrays(num_vertices=6890, seed=4)
    path = tmp_path / "basicModel_f_lbs_10_207_0_v1.0.0.pkl"
    _write_chumpy_style_pkl(path, arrays)
    assert "chumpy" not in sys.modules
    data = load_model_data(path)
    np.testing.assert_allclose(data.shapedirs, arrays["shapedirs"])
    np.testing.assert_allclose(data.J_regressor, arrays["J_regressor"])
    assert data.parents[0] == -1
    # a 6,890-vertex SMPL mesh gets the paper's landmark vertex ids
    assert data.landmark_vertex_ids is not None
    assert tuple(data.landmark_vertex_ids.tolist()) == SMPL_LANDMARK_VERTEX_IDS
    model = BodyModel.from_file(path)
    out = model(betas=torch.zeros(1, 10))
    assert out.vertices.shape == (1, 6890, 3)


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_export_round_trip(tmp_path: Path, fake_data, suffix: str) -> None:
    path = save_model_data(fake_data, tmp_path / f"model{suffix}")
    again = load_model_data(path)
    np.testing.assert_allclose(again.v_template, fake_data.v_template, atol=1e-6)
    np.testing.assert_allclose(again.J_regressor, fake_data.J_regressor, atol=1e-6)
    np.testing.assert_array_equal(again.faces, fake_data.faces)
    np.testing.assert_array_equal(again.landmark_vertex_ids, fake_data.landmark_vertex_ids)


def test_exported_pickle_holds_only_numpy_and_scipy(tmp_path: Path, fake_data) -> None:
    path = save_model_data(fake_data, tmp_path / "model.pkl")
    with path.open("rb") as fh:
        raw = pickle.load(fh)  # plain pickle: no stand-ins needed
    assert isinstance(raw["J_regressor"], scipy.sparse.csc_matrix)
    assert all(isinstance(v, (np.ndarray, str, scipy.sparse.csc_matrix)) for v in raw.values())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        BodyModel.from_file(tmp_path / "nope.pkl")


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_truncated_file(tmp_path: Path, fake_data, suffix: str) -> None:
    path = save_model_data(fake_data, tmp_path / f"model{suffix}")
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFileError, match="not a SMPL model file: truncated"):
        load_model_data(path)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "model.obj"
    path.write_text("v 0 0 0\n")
    with pytest.raises(ModelFileError, match="unknown body model format"):
        load_model_data(path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("shapedirs", None, "missing keys"),
        ("weights", np.zeros((10, 24)), "weights has shape"),
        ("kintree_table", np.zeros((2, 24)), "not SMPL's 24-joint tree"),
        ("v_template", np.full((240, 3), np.nan), "NaN"),
        ("f", np.array([[0, 1, 99999]]), "vertex indices"),
    ],
)
def test_malformed_arrays_are_named(tmp_path: Path, key: str, value, message: str) -> None:
    arrays = fake_smpl_arrays()
    if value is None:
        del arrays[key]
    else:
        arrays[key] = value
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=message):
        load_model_data(path)
