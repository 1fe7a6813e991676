"""PNG plots of an evaluation: per-joint errors and the distribution of per-sample errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smplr.atomic_io import save_figure_atomic
from smplr.body.skeleton import JOINT_NAMES
from smplr.evaluation.run import Evaluation
from smplr.evaluation.scoring import per_sample_mpjpe


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_per_joint(evaluation: Evaluation, path: str | Path) -> Path:
    """Bar chart: mean error of each evaluated joint under both protocols (mm)."""
    plt = _pyplot()
    scores = evaluation.scores
    names = [JOINT_NAMES[j] for j in scores.joint_ids]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(names) + 2), 4.0))
    ax.bar(x - 0.2, scores.joints_p1.mean(0), width=0.4, label="Protocol 1 (root-relative)")
    ax.bar(x + 0.2, scores.joints_p2.mean(0), width=0.4, label="Protocol 2 (Procrustes)")
    ax.set_xticks(x, names, rotation=60, ha="right")
    ax.set_ylabel("mean error (mm)")
    ax.set_title(f"{evaluation.method} on {evaluation.dataset}/{evaluation.split}: per-joint error")
    ax.set_ylim(0, 1.25 * max(scores.joints_p1.mean(0).max(), scores.joints_p2.mean(0).max(), 1e-9))
    ax.legend(ncols=2, loc="upper left")  # headroom above the bars keeps them visible
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_error_distribution(evaluation: Evaluation, path: str | Path) -> Path:
    """Histogram and cumulative distribution of per-sample MPJPE under both protocols."""
    plt = _pyplot()
    fig, (hist, cdf) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for protocol in (1, 2):
        errors = np.sort(per_sample_mpjpe(evaluation.scores, protocol))
        label = f"Protocol {protocol} (mean {errors.mean():.1f} mm)"
        hist.hist(errors, bins=min(50, max(5, errors.size // 5)), alpha=0.6, label=label)
        cdf.plot(errors, np.arange(1, errors.size + 1) / errors.size, label=label)
    hist.set_xlabel("per-sample MPJPE (mm)")
    hist.set_ylabel("samples")
    cdf.set_xlabel("per-sample MPJPE (mm)")
    cdf.set_ylabel("fraction of samples below")
    cdf.set_ylim(0, 1)
    for ax in (hist, cdf):
        ax.legend()
    fig.suptitle(
        f"{evaluation.method} on {evaluation.dataset}/{evaluation.split}: error distribution"
    )
    fig.tight_layout()
    return _save(fig, plt, path)


def write_plots(evaluation: Evaluation, folder: str | Path) -> list[Path]:
    """Both plots into ``folder``, named after the method and dataset."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{evaluation.method}_{evaluation.dataset}_{evaluation.split}".replace("/", "_")
    return [
        plot_per_joint(evaluation, folder / f"{stem}_per_joint.png"),
        plot_error_distribution(evaluation, folder / f"{stem}_distribution.png"),
    ]


def _save(fig, plt, path: str | Path) -> Path:
    save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)
    return Path(path)
