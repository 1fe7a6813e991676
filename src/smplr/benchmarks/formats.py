"""SMPLR from each detector keypoint format: ``smplr bench formats`` (what is measured:
:mod:`smplr.evaluation.keypoint_formats`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from smplr.atomic_io import write_text_atomic
from smplr.benchmarks.ood import set_names
from smplr.body.keypoints import KEYPOINT_FORMATS
from smplr.body.model import GenderedBodyModel
from smplr.evaluation.keypoint_formats import (
    definitions_figure,
    evaluate_formats,
    format_header,
    format_row,
    markdown_table,
)
from smplr.pipeline import SMPLR
from smplr.weights import shipped_path


def run(
    weights: Path | None = None,
    num: int = 200,
    sets: str = "in_distribution,real_mocap_test",
    formats: str = ",".join(KEYPOINT_FORMATS),
    refine: int = 10,
    device: str = "cpu",
    threads: int | None = 1,
    json_out: Path | None = None,
    markdown: Path | None = None,
) -> list[dict]:
    """Print one row per set, format, missing fraction and condition; return the rows."""
    if threads is not None:
        torch.set_num_threads(threads)
    names = set_names(sets)
    model = SMPLR.load(weights or shipped_path(), device)
    print("SMPLR from detector keypoints (exact on the body; NaN = missing), errors in mm")
    print(format_header(), flush=True)
    rows = []
    started = time.perf_counter()
    for row in evaluate_formats(
        model, names, num, [f for f in formats.split(",") if f], refine=refine
    ):
        rows.append(row)
        print(format_row(row), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(rows, indent=1))
    if markdown is not None:
        write_text_atomic(markdown, markdown_table(rows))
    return rows


def figure(path: Path) -> Path:
    """Draw the detector formats on the open body model (``docs/images/keypoint_formats.png``)."""
    written = definitions_figure(GenderedBodyModel.open(), path)
    print(f"wrote {written}")
    return written


def measure_checks(num: int = 400, seed: int = 12, threads: int | None = 1) -> list[dict]:
    """How often :func:`smplr.keypoint_checks.order_problem` fires on ``num`` noisy
    synthetic bodies (pose-source mixture, :func:`smplr.synthetic.noise.detector_noise`,
    0 or 40 % keypoints missing, 3D and 2D from random cameras) in their own format
    (false alarms) and read as the other format with as many keypoints (COCO-17 and
    Human3.6M-17: caught), body by body and in batches of 10; prints one line each."""
    from smplr.body.keypoints import KEYPOINT_FORMATS, SiteBody
    from smplr.evaluation.keypoint_formats import drop_keypoints
    from smplr.geometry.projection import pixels_to_root_plane, project_to_pixels, random_views
    from smplr.keypoint_checks import order_problem
    from smplr.synthetic.noise import detector_noise
    from smplr.training.recipe import pose_sampler

    if threads is not None:
        torch.set_num_threads(threads)
    body = GenderedBodyModel.open()
    generator = torch.Generator().manual_seed(seed)
    batch = pose_sampler("mixture", body, "cpu")(seed).sample(num)
    rotations = torch.cat([batch.global_orient[:, None], batch.body_pose], 1).float()

    def fires(points, visible, fmt, size: int) -> int:
        return sum(
            order_problem(points[s : s + size], visible[s : s + size], fmt) is not None
            for s in range(0, len(points) - size + 1, size)
        )

    rows = []
    for name, fmt in KEYPOINT_FORMATS.items():
        with torch.no_grad():
            sites, jl = SiteBody(body, fmt.sites)(
                batch.gender.float(), batch.betas.float(), rotations
            )
        noisy = detector_noise((sites - jl[:, :1]).double(), torch.tensor(fmt.mirror), generator)
        views = random_views(num, generator, dtype=torch.float64)
        pixels = project_to_pixels(
            noisy @ views.rotation.transpose(1, 2), views.root, views.intrinsics
        )
        plane = pixels_to_root_plane(pixels, views.intrinsics, views.root[:, 2])[..., :2]
        for dims, points in ((3, noisy), (2, plane)):
            for fraction in (0.0, 0.4):
                dropped = drop_keypoints(points, fraction, generator)
                visible = ~torch.isnan(dropped).any(-1)
                row = {
                    "format": name,
                    "dims": dims,
                    "missing": fraction,
                    "false_single": fires(dropped, visible, fmt, 1),
                    "false_batches": fires(dropped, visible, fmt, 10),
                }
                for other in KEYPOINT_FORMATS.values():
                    if other.count == fmt.count and other.name != name:
                        row["given_as"] = other.name
                        row["caught_single"] = fires(dropped, visible, other, 1)
                        row["caught_batches"] = fires(dropped, visible, other, 10)
                rows.append(row)
                caught = (
                    f"; given as {row['given_as']}: caught {row['caught_single']}/{num} "
                    f"bodies, {row['caught_batches']}/{num // 10} batches"
                    if "given_as" in row
                    else ""
                )
                print(
                    f"{name:<12} {dims}D {100 * fraction:>3.0f}% missing: false alarms "
                    f"{row['false_single']}/{num} bodies, {row['false_batches']}/{num // 10} "
                    f"batches of 10{caught}",
                    flush=True,
                )
    return rows
