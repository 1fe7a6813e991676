"""Measuring every condition of the report on the synthetic set, and SMPLR on every named
test set (:func:`smplr.evaluation.pose_sets.evaluate_test_sets`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch

from smplr.datasets.ground_truth import GroundTruth, ground_truth_batch
from smplr.datasets.record import Sample
from smplr.datasets.synthetic import SyntheticSet
from smplr.datasets.test_sets import TEST_SETS
from smplr.evaluation.pose_sets import evaluate_test_sets
from smplr.evaluation.reproduction.conditions import Condition, Inputs, conditions
from smplr.evaluation.reproduction.provenance import describe_body_model, describe_weights
from smplr.evaluation.run import Evaluation, progress_bar
from smplr.evaluation.scoring import Scores, score_batch


@dataclass(frozen=True)
class Settings:
    """What the report measures: ``num`` bodies of the synthetic set drawn with ``seed``,
    noise drawn from ``noise_seed``, scored ``chunk`` bodies at a time on ``threads`` CPU
    threads; ``weights`` None means the shipped SMPLR weights; ``iou`` renders
    silhouettes for the IoU rows.  (64-body chunks keep each mesh array under glibc's
    32 MB mmap threshold: larger chunks spent a third of the run in page faults.)
    ``ood_num`` bodies of each named test set (all of a smaller set) are scored one-shot
    and after ``ood_refine`` refinement steps (about 80 s for 300 bodies on one thread).
    ``image_ablations``: the stored image-model ablation results the report shows (read,
    not measured: :mod:`smplr.evaluation.reproduction.image_ablations`)."""

    num: int = 2000
    seed: int = 12345
    noise_seed: int = 0
    chunk: int = 64
    threads: int = 1
    weights: Path | None = None
    iou: bool = True
    ood_num: int = 300
    ood_refine: int = 10
    image_ablations: Path | None = Path("docs/results/image_ablations.json")

    def __post_init__(self) -> None:
        for name in ("num", "chunk", "threads", "ood_num", "ood_refine"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")


@dataclass
class Measurements:
    """Summaries (``Evaluation.summary()``) of every condition, plus what made them."""

    settings: Settings
    conditions: list[Condition]
    summaries: dict[str, dict]
    weights: dict
    body_model: dict
    seconds: float
    input_errors: dict[str, float] = field(default_factory=dict)
    test_sets: list[dict] = field(default_factory=list)
    """Rows of :func:`~smplr.evaluation.pose_sets.evaluate_test_sets`, set by set."""
    test_sets_seconds: float = 0.0


def _chunks(count: int, size: int) -> list[slice]:
    return [slice(s, min(s + size, count)) for s in range(0, count, size)]


def measure(settings: Settings, progress: bool = False) -> Measurements:
    """Run every condition on the synthetic set with the shipped (or given) weights."""
    from smplr.pipeline import SMPLR
    from smplr.render import render_camera_silhouettes
    from smplr.weights import shipped_path

    started = time.perf_counter()
    torch.set_num_threads(settings.threads)
    weights = settings.weights or shipped_path()
    if settings.weights is None and not weights.is_file():
        raise FileNotFoundError(
            f"{weights}: the shipped SMPLR weights are not installed; train a bundle "
            "(smplr train all --out W.pt) and pass --weights W.pt"
        )
    model = SMPLR.load(weights)
    provenance = {
        "weights": describe_weights(Path(weights), is_shipped=settings.weights is None),
        "body_model": {
            **describe_body_model(),
            "num_vertices": int(model.body.female.num_vertices),
        },
    }
    synthetic = SyntheticSet(
        model.body, num=settings.num, seed=settings.seed, mask_chunk=settings.chunk
    )
    bodies = synthetic.ground_truth_bodies()
    samples = list(synthetic)
    inputs = Inputs.build(synthetic, settings.noise_seed)
    rows = conditions(settings.iou)
    parts: dict[str, list[Scores]] = {c.key: [] for c in rows}
    chunks = _chunks(settings.num, settings.chunk)
    # SMPLR's meshes are the open body model's: a closed surface with outward normals,
    # whose silhouette is the same with back faces culled (and float32 is exact enough).
    renderer = partial(render_camera_silhouettes, cull_backfaces=True, dtype=torch.float32)
    bar = progress_bar(progress)
    task = bar.add_task("measuring", total=len(chunks) * len(rows)) if bar else None
    try:
        for chunk in chunks:
            chunk_samples = samples[chunk]
            truth = ground_truth_batch(chunk_samples, bodies)
            for condition in rows:
                parts[condition.key].append(
                    _score(model, condition, inputs, chunk, truth, chunk_samples, renderer)
                )
                if bar is not None and task is not None:
                    bar.update(task, advance=1)
    finally:
        if bar is not None:
            bar.stop()
    summaries = {
        c.key: Evaluation(
            method=c.label,
            dataset="synthetic",
            split=synthetic.split,
            scores=Scores.concatenate(parts[c.key]),
            ground_truth_body=bodies.description,
            coordinates="world",
            root=0,
        ).summary()
        for c in rows
    }
    sets_started = time.perf_counter()
    test_sets = _test_sets(model, settings, progress)
    return Measurements(
        settings=settings,
        conditions=rows,
        summaries=summaries,
        weights=provenance["weights"],
        body_model=provenance["body_model"],
        seconds=time.perf_counter() - started,
        test_sets=test_sets,
        test_sets_seconds=time.perf_counter() - sets_started,
    )


def _test_sets(model, settings: Settings, progress: bool) -> list[dict]:
    """Every named test set, ``settings.ood_num`` bodies each, with the refined row."""
    bar = progress_bar(progress)
    task = bar.add_task("test sets", total=len(TEST_SETS)) if bar else None
    rows: list[dict] = []
    try:
        for name in TEST_SETS:
            rows += evaluate_test_sets(model, [name], settings.ood_num, settings.ood_refine)
            if bar is not None and task is not None:
                bar.update(task, advance=1)
    finally:
        if bar is not None:
            bar.stop()
    return rows


def _score(
    model,
    condition: Condition,
    inputs: Inputs,
    chunk: slice,
    truth: GroundTruth,
    samples: Sequence[Sample],
    renderer,
) -> Scores:
    prediction = condition.predict(model, inputs, chunk)
    if condition.iou:
        return score_batch(prediction, truth, samples=samples, renderer=renderer)
    return score_batch(prediction, truth)
