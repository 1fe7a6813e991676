"""Bodies per second of the SMPL-format layer against the plain reference LBS.

Run: ``smplr bench body`` (part of ``make bench``).
"""

from __future__ import annotations

from functools import partial

import torch

from smplr.benchmarks import median_seconds
from smplr.body.model import BodyModel, open_model_path
from smplr.body.model_file import load_model_data
from smplr.body.reference_lbs import reference_lbs


def run(
    batches: tuple[int, ...] = (1, 64, 1024), gender: str = "neutral", threads: int = 2
) -> list[dict[str, float]]:
    """Print and return bodies/s of :class:`BodyModel` and of :func:`reference_lbs` per batch size."""
    torch.set_num_threads(threads)
    data = load_model_data(open_model_path(gender))
    model = BodyModel(data, gender, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    rows = []
    print(
        f"body model: open {gender}, {data.num_vertices} vertices, float32, {threads} threads, no grad"
    )
    print(f"{'batch':>6} {'smplr bodies/s':>15} {'reference bodies/s':>19} {'speed-up':>9}")
    for batch in batches:
        betas = torch.randn(batch, 10, generator=generator)
        pose = 0.5 * torch.randn(batch, 72, generator=generator)
        transl = torch.zeros(batch, 3)
        inputs = {
            "betas": betas,
            "global_orient": pose[:, :3],
            "body_pose": pose[:, 3:],
            "transl": transl,
        }
        with torch.no_grad():
            ours = median_seconds(partial(model, **inputs))
            ref = median_seconds(partial(reference_lbs, data, betas, pose, transl), repeats=3)
        row = {
            "batch": batch,
            "smplr": batch / ours,
            "reference": batch / ref,
            "speedup": ref / ours,
        }
        rows.append(row)
        print(
            f"{batch:>6} {row['smplr']:>15,.0f} {row['reference']:>19,.0f} {row['speedup']:>8.1f}x"
        )
    return rows
