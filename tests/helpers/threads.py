"""A fixture for tests of small convolutions: one torch thread while the test runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Small convolutions on a shared 2-core machine ran ~20x faster on one thread than on
    two; imported into a test module, this applies to each of its tests."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
