"""Synthetic RGB images per second (:mod:`smplr.image_data`) against silhouettes alone.

Run: ``smplr bench images`` (part of ``make bench``).  Three rows on the same bodies and
cameras, in one process:

- ``silhouette``: :func:`smplr.render.render_silhouette` of posed bodies (the existing
  silhouette renderer, back faces culled, as the synthetic set renders its masks);
- ``RGB + annotations``: :meth:`ImageSynthesizer.render`: drawing bodies, cameras,
  rasterising, clothes, light, backgrounds (package photos and procedural), occluders,
  blur/noise and every annotation;
- ``RGB, written``: the same written as a shard (JPEG + compressed annotations).

The issue's goal is ≥ 50 RGB images/s at 256² so that rendering never starves a CPU
training run.  Each row is timed in wall time and in this process's CPU time
(``time.process_time``): on a shared CPU the wall rate also counts the other processes'
turns, the CPU rate is what rendering costs.  Compare the ratio to the silhouette row of
the same run.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace

import numpy as np
import torch

from smplr.body.model import GenderedBodyModel
from smplr.datasets.synthetic import crop_cameras
from smplr.image_data.backgrounds import Backgrounds, package_photos
from smplr.image_data.scene import ImageSynthesizer, SynthConfig
from smplr.image_data.shards import RENDER_CHUNK, BackgroundSpec, ShardJob, write_shard
from smplr.render.camera import PinholeCamera
from smplr.render.renderer import render_silhouette
from smplr.synthetic.mixture import MixtureBodies


def _rate(fn, images: int, repeats: int) -> tuple[float, float]:
    """Images per second of wall time and of this process's CPU time: the best of
    ``repeats`` timed calls of ``fn`` each (after a warm-up).  On a shared CPU the wall
    rate counts other processes' time too; the CPU rate is what the renderer costs."""
    fn()
    wall = cpu = float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return images / wall, images / max(cpu, 1e-9)


def run(size: int = 256, threads: int = 1, batches: int = 4, repeats: int = 3) -> dict[str, float]:
    """Print and return images per second of each row (see the module docstring)."""
    torch.set_num_threads(threads)
    body = GenderedBodyModel.open()
    config = SynthConfig(size=size)
    synthesizer = ImageSynthesizer(body, config, Backgrounds(package_photos("train")))
    count = batches * RENDER_CHUNK
    sampler = MixtureBodies(body, seed=1, block_size=count)
    bodies = sampler.sample(count, with_vertices=True)
    jl = bodies.jl.double().numpy()
    K, R, T = crop_cameras(jl[:, :24], torch.Generator().manual_seed(0))
    assert bodies.vertices is not None
    vertices = bodies.vertices.float()
    camera = PinholeCamera.from_intrinsics(
        torch.as_tensor(K).float(),
        size,
        size,
        torch.as_tensor(R).float(),
        torch.as_tensor(T).float(),
    )
    faces = body.faces

    def silhouettes() -> None:
        for start in range(0, count, RENDER_CHUNK):
            rows = slice(start, start + RENDER_CHUNK)
            part = PinholeCamera(
                camera.focal[rows], camera.principal[rows], camera.rotation[rows],
                camera.translation[rows], size, size,
            )  # fmt: skip
            render_silhouette(vertices[rows], faces, part, cull_backfaces=True)

    generator = torch.Generator().manual_seed(0)

    def rgb() -> None:
        for _ in range(batches):
            synthesizer.render(sampler.sample(RENDER_CHUNK, with_vertices=True), generator)

    rows: dict[str, tuple[float, float]] = {}
    print(
        f"images: {size}x{size} crops, {len(faces):,} faces, batches of {RENDER_CHUNK}, "
        f"{count} images per timing, {threads} thread(s), best of {repeats}"
    )
    with torch.no_grad():
        rows["silhouette"] = _rate(silhouettes, count, repeats)
        rows["RGB + annotations"] = _rate(rgb, count, repeats)
    with tempfile.TemporaryDirectory() as folder:
        job = ShardJob(folder, count, 0, count, "train", config, BackgroundSpec(), "jpg")
        from smplr.image_data import shards

        shards._WORKER.clear()
        shards._WORKER[f"{job.config}-{job.backgrounds}-{job.split}"] = synthesizer
        index = iter(range(1000))
        rows["RGB, written"] = _rate(
            lambda: write_shard(replace(job, num=10**6), next(index)), count, repeats
        )
        shards._WORKER.clear()
    torch.set_num_threads(threads)  # write_shard sets one thread
    print(f"  {'':<20} {'wall time':>26}   {'CPU time of this process':>26}")
    for label, (wall, cpu) in rows.items():
        print(
            f"  {label:<20} {wall:8.1f} images/s {1000 / wall:6.2f} ms/image"
            f"   {cpu:8.1f} images/s {1000 / cpu:6.2f} ms/image"
        )
    ratio = rows["silhouette"][0] / rows["RGB + annotations"][0]
    ratio_cpu = rows["silhouette"][1] / rows["RGB + annotations"][1]
    print(
        f"  an RGB image with annotations costs {ratio:.2f} silhouettes "
        f"({ratio_cpu:.2f} in CPU time)"
    )
    out = {label: wall for label, (wall, _) in rows.items()}
    out.update({f"{label} (CPU time)": cpu for label, (_, cpu) in rows.items()})
    return {
        **out,
        "ratio": float(np.round(ratio, 3)),
        "ratio (CPU time)": float(np.round(ratio_cpu, 3)),
    }
