"""Frames per second of :mod:`smplr.render` at 256² against the brute-force rasteriser.

Run: ``smplr bench render`` (part of ``make bench``).  The mesh is the
open body model (mean shape, arms down; 27,420 faces) when it is installed, otherwise
a closed stand-in ellipsoid of about the same face count.  The baseline,
:func:`smplr.render.reference.rasterize_brute_force` (a Python loop over triangles,
each tested against the pixels of its bounding box), runs once in the same process:
compare the ratio, not absolute numbers across machines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import torch
import trimesh

from smplr.benchmarks import median_seconds
from smplr.body.model import BodyModel
from smplr.body.model_file import ModelFileError
from smplr.render.camera import front_view_camera
from smplr.render.reference import rasterize_brute_force
from smplr.render.renderer import render_shaded, render_silhouette
from smplr.render.showcase import showcase_poses


def benchmark_mesh(
    device: str = "cpu", model_file: str | None = None
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``vertices (1, V, 3)``, ``faces (F, 3)`` and a description of the timed mesh: the
    body of ``model_file`` (SMPL-format), else the open neutral model, else a stand-in."""
    try:
        model = (BodyModel.from_file(model_file) if model_file else BodyModel.open("neutral")).to(
            device
        )
    except ModelFileError:
        if model_file:
            raise
        mesh = trimesh.creation.uv_sphere(count=[83, 83])
        scale = torch.tensor([0.3, 0.9, 0.15])
        vertices = (torch.tensor(mesh.vertices, dtype=torch.float32) * scale)[None].to(device)
        faces = torch.tensor(mesh.faces, dtype=torch.long, device=device)
        return (
            vertices,
            faces,
            f"stand-in ellipsoid, {len(faces):,} faces (open model not installed)",
        )
    pose = showcase_poses()["arms down"][None].to(device, model.dtype)
    with torch.no_grad():
        vertices = model(body_pose=pose).vertices
    source = model_file or "open neutral model"
    return vertices, model.faces, f"{source}, arms down, {len(model.faces):,} faces"


def run(
    size: int = 256,
    threads: int = 1,
    device: str = "cpu",
    baseline: bool = True,
    model_file: str | None = None,
) -> dict[str, float]:
    """Print and return ms per frame of silhouette and shaded rendering (and the baseline)."""
    torch.set_num_threads(threads)
    vertices, faces, name = benchmark_mesh(device, model_file)
    camera = front_view_camera(vertices, size, size)
    batch = 16
    many = vertices.expand(batch, -1, -1)
    many_cameras = front_view_camera(many, size, size)
    cases = {
        "silhouette": (partial(render_silhouette, vertices, faces, camera), 1),
        "silhouette, back-faces culled": (
            partial(render_silhouette, vertices, faces, camera, cull_backfaces=True),
            1,
        ),
        f"silhouette, batch of {batch}": (
            partial(render_silhouette, many, faces, many_cameras),
            batch,
        ),
        "shaded (Lambert)": (partial(render_shaded, vertices, faces, camera), 1),
        "shaded, 2x2 supersampled": (
            partial(render_shaded, vertices, faces, camera, supersample=2),
            1,
        ),
    }
    on_cuda = device.startswith("cuda")

    def finished(fn: Callable[[], object]) -> None:
        """``fn()``, waiting for the GPU's work to end."""
        fn()
        if on_cuda:
            torch.cuda.synchronize()

    print(f"render: {name}, {size}x{size}, {device}, float32, {threads} thread(s)")
    rows: dict[str, float] = {}
    with torch.no_grad():
        for label, (fn, frames) in cases.items():
            seconds = median_seconds(partial(finished, fn), repeats=5) / frames
            rows[label] = 1000 * seconds
            print(f"  {label:<32} {1000 * seconds:8.2f} ms/frame {1 / seconds:8.1f} frames/s")
        if baseline:
            screen = camera.to_screen(vertices)
            start = time.perf_counter()
            rasterize_brute_force(screen, faces, camera.image_size)
            seconds = time.perf_counter() - start
            rows["baseline"] = 1000 * seconds
            print(
                f"  {'baseline: brute force, 1 frame':<32} {1000 * seconds:8.0f} ms/frame"
                f"  -> silhouette is {seconds * 1000 / rows['silhouette']:,.0f}x faster"
            )
    return rows
