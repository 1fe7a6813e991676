"""The core benchmarks run end to end (untrained tiny networks on the open body model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from helpers.bundles import TINY_SIZES, tiny_fake_bundle
from smplr.benchmarks import core, core_accuracy
from smplr.body.model import GenderedBodyModel
from smplr.reverse.features import template_bone_lengths
from smplr.weights import WeightBundle, save_bundle


@pytest.fixture(scope="module")
def open_bundle(tmp_path_factory) -> Path:
    bundle = tiny_fake_bundle()
    bundle = WeightBundle(
        network_config=bundle.network_config,
        body_model="open",
        template_lengths=template_bone_lengths(GenderedBodyModel.open()),
        networks=bundle.networks,
    )
    assert bundle.network_config == TINY_SIZES
    return save_bundle(bundle, tmp_path_factory.mktemp("w") / "w.pt")


@pytest.mark.slow
def test_speed_benchmark_prints_measured_numbers(open_bundle: Path, capsys) -> None:
    numbers = core.run(open_bundle, threads=1, batch=4, refine=1, baseline_steps=2)
    out = capsys.readouterr().out
    assert "bodies/s" in out and "baseline" in out
    assert numbers["b4_mesh_bodies_per_s"] > 0 and numbers["baseline_joints_mm"] > 0


@pytest.mark.slow
def test_accuracy_table_has_every_condition(open_bundle: Path, capsys) -> None:
    torch.manual_seed(0)
    rows = core_accuracy.run(open_bundle, num=6, refine=1, threads=1)
    labels = [label for label, _ in rows]
    assert "3D clean, DAE" in labels and "2D (perspective, clean)" in labels
    assert any("structured" in label for label in labels)
    assert all(row["joints_p1"] >= 0 for _, row in rows)
    assert "vertices_p1" in capsys.readouterr().out
