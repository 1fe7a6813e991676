"""Speed of the image backbones in the form of the paper's Table 5: seconds per training
step and per inference call at a batch size, per configuration.

Run: ``smplr bench image-model`` (part of ``make bench``).  A training step is forward, the
loss (cross-entropy of every stack; L2 for the AlexNet-like model), backward and one
Adam update on random images and targets; inference is ``model.predict`` in eval mode
without gradients.  Threads are set explicitly.  The paper's numbers (Table 5, GTX 1080
Ti, TensorFlow): vol. SHN training 16.8 s per step of 6 (sic), inference 3.1 s per 6 and
0.36 s per image.  On a shared machine the wall times grow with the load; the process CPU
times (also printed) do not, and with one thread they are the time alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from smplr.image_model import ImageModelConfig, build_image_model

CONFIGS: dict[str, ImageModelConfig] = {
    "small": ImageModelConfig.small(),
    "paper": ImageModelConfig.paper(),
    "alexnet": ImageModelConfig.small(architecture="alexnet", landmarks=False),
    "mobilenet": ImageModelConfig.small(architecture="mobilenet", features=64),
    "shn64": ImageModelConfig.small(features=64),
}
PAPER_TABLE5 = {"train": (6, 16.8), "test": (6, 3.1), "test1": (1, 0.36)}


def _timed(fn: Callable[[], None], repeats: int) -> tuple[float, float]:
    """Median wall and process-CPU seconds of one call of ``fn`` (after one warm-up call).
    The CPU time does not grow when other jobs share the machine (with one thread it is
    what the call would take alone)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def time_config(
    config: ImageModelConfig, batch: int, device: str = "cpu", repeats: int = 3
) -> dict[str, float]:
    """Seconds per training step at ``batch``, per inference call at ``batch`` and at 1
    (wall: ``train``, ``test``, ``test1``; process CPU: the same with ``_cpu``), and the
    parameter count."""
    torch.manual_seed(0)
    model = build_image_model(config).to(device)
    size, points = config.input_size, config.num_points
    images = torch.rand(batch, 3, size, size, device=device)
    target = (torch.rand(batch, points, 3, device=device) - 0.5) * 0.8
    valid = torch.ones(batch, points, dtype=torch.bool, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def sync() -> None:
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    def train_step() -> None:
        loss, _ = model.loss(model(images), target, valid)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()

    def infer(x: torch.Tensor) -> None:
        with torch.no_grad():
            model.predict(x)
        sync()

    row = {"params_m": sum(p.numel() for p in model.parameters()) / 1e6}
    model.train()
    row["train"], row["train_cpu"] = _timed(train_step, repeats)
    model.eval()
    row["test"], row["test_cpu"] = _timed(lambda: infer(images), repeats)
    row["test1"], row["test1_cpu"] = _timed(lambda: infer(images[:1]), repeats)
    return row


def run(
    names: tuple[str, ...] = ("small", "paper"),
    batch: int = 6,
    threads: int = 1,
    device: str = "cpu",
    repeats: int = 3,
) -> dict[str, dict[str, float]]:
    """Print and return the Table 5 rows of each named configuration (:data:`CONFIGS`)."""
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ValueError(f"unknown image configs {unknown}: expected some of {', '.join(CONFIGS)}")
    if batch < 1 or threads < 1 or repeats < 1:
        raise ValueError("--batch, --threads and --repeats must be positive")
    torch.set_num_threads(threads)
    rows = {name: time_config(CONFIGS[name], batch, device, repeats) for name in names}
    print(
        f"image backbones (Table 5 form): {device}, float32, {threads} thread(s), "
        f"median of {repeats}; batch size / seconds"
    )
    columns = [(n, "", n) for n in names] + [(n, "_cpu", f"{n} CPU") for n in names]
    print(
        f"  {'':<7}"
        + "".join(f"{title:>16}" for _, _, title in columns)
        + f"{'paper, 1080 Ti':>18}"
    )
    for key, label, size in (
        ("train", "Train", batch),
        ("test", "Test", batch),
        ("test1", "Test", 1),
    ):
        cells = "".join(
            f"{f'{size} / {rows[n][key + suffix]:.3f}':>16}" for n, suffix, _ in columns
        )
        paper = "{} / {}".format(*PAPER_TABLE5[key])
        print(f"  {label:<7}{cells}{paper:>18}")
    print(
        "  (wall seconds; CPU: process CPU seconds, which do not grow when others load the machine)"
    )
    for name in names:
        c, r = CONFIGS[name], rows[name]
        what = {
            "shn": f"{c.stacks} stacks, {c.features} features, {c.input_size}² input, "
            f"{c.heatmap_size}²×{c.depth_bins} per point",
            "mobilenet": f"MobileNetV2 + {c.features}-wide decoder, {c.input_size}² input, "
            f"{c.heatmap_size}²×{c.depth_bins} per point",
            "alexnet": f"AlexNet-like, {c.features} base width, {c.input_size}² input",
        }[c.architecture]
        print(
            f"  {name}: {what}, {c.num_points} points, {r['params_m']:.1f} M parameters: "
            f"{batch / r['train']:.1f} images/s training ({batch / r['train_cpu']:.1f} per CPU "
            f"second), {1000 * r['test1']:.0f} ms per image alone, "
            f"{1000 * r['test'] / batch:.0f} ms per image in a batch of {batch}"
        )
    return rows
