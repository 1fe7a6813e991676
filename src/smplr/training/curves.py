"""Training curves: rows of numbers per logged step, as CSV and as a PNG plot."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def write_csv(rows: list[dict[str, float]], path: str | Path) -> Path:
    """All rows (columns: the union of their keys, ``step`` first) into ``path``."""
    path = Path(path)
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if "step" in columns:
        columns.remove("step")
        columns.insert(0, "step")
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def plot_curves(rows: list[dict[str, float]], path: str | Path, title: str = "") -> Path:
    """One panel per logged quantity against the step; losses on a log scale."""
    path = Path(path)
    keys = [
        k
        for k in dict.fromkeys(k for row in rows for k in row)
        if k not in ("step", "lr", "elapsed_s")
    ]
    panels = max(1, len(keys))
    cols = min(3, panels)
    nrows = (panels + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.0 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        points = [(row["step"], row[key]) for row in rows if key in row]
        ax.plot(
            [p[0] for p in points], [p[1] for p in points], marker="." if len(points) < 30 else None
        )
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        if key.startswith("l_") and all(p[1] > 0 for p in points):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)
    return path
