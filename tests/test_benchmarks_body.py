"""``smplr bench body``: its baselines compute the same bodies as the layer it times."""

from __future__ import annotations

import torch

from helpers.fake_model import fake_smpl_arrays
from smplr.benchmarks import body
from smplr.body.model import BodyModel
from smplr.body.model_file import model_data_from_arrays
from smplr.body.reference_lbs import reference_lbs


def test_dense_baseline_computes_the_reference_bodies() -> None:
    data = model_data_from_arrays(fake_smpl_arrays(seed=3))
    g = torch.Generator().manual_seed(2)
    betas = torch.randn(4, 10, generator=g, dtype=torch.float64)
    pose = 0.6 * torch.randn(4, 72, generator=g, dtype=torch.float64)
    transl = torch.randn(4, 3, generator=g, dtype=torch.float64)
    expected, _ = reference_lbs(data, betas, pose, transl)
    dense = body.DenseLBS(data, dtype=torch.float64)(betas, pose, transl)
    torch.testing.assert_close(dense, expected, atol=1e-10, rtol=0)
    layer = BodyModel(data, dtype=torch.float64)
    out = layer(betas=betas, global_orient=pose[:, :3], body_pose=pose[:, 3:], transl=transl)
    torch.testing.assert_close(out.vertices, expected, atol=1e-10, rtol=0)


def test_run_prints_one_row_per_batch_with_measured_rates(capsys) -> None:
    rows = body.run(batches=(1, 3), threads=1)
    out = capsys.readouterr().out
    assert [row["batch"] for row in rows] == [1, 3]
    for row in rows:
        assert row["smplr"] > 0 and row["dense"] > 0 and row["reference"] > 0
        assert abs(row["speedup"] - row["smplr"] / row["reference"]) < 1e-6 * row["speedup"]
    assert "vs dense" in out and len(out.strip().splitlines()) == 4
