"""Shared fixtures: small fake SMPL-format models, and the ``dtype`` and ``device`` every
numerical test runs under (float32 and float64; CPU, and CUDA when present)."""

from __future__ import annotations

import pytest
import torch

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model_file import BodyModelData, model_data_from_arrays

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
    ),
]


@pytest.fixture(scope="session", params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request) -> torch.dtype:
    """The floating-point type a numerical test runs in."""
    return request.param


@pytest.fixture(scope="session", params=DEVICES)
def device(request) -> torch.device:
    """The device a numerical test runs on (CUDA is skipped on machines without one)."""
    return torch.device(request.param)


@pytest.fixture
def fake_arrays() -> dict:
    return fake_smpl_arrays()


@pytest.fixture
def fake_data(fake_arrays: dict) -> BodyModelData:
    return model_data_from_arrays(fake_arrays)
