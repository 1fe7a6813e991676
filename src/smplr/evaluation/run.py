"""Run a predictor over a dataset split and collect its scores."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass
from itertools import islice

from smplr import metrics
from smplr.datasets.ground_truth import GroundTruthBodies, ground_truth_batch
from smplr.datasets.record import Sample
from smplr.evaluation.predictor import PrecomputedPredictions, Predictor, PredictorInputs
from smplr.evaluation.scoring import Scores, SilhouetteRenderer, score_batch, summarise

PROTOCOL_1 = (
    "root-relative: each set has its own joint {root} ({name}) subtracted; mean Euclidean distance"
)
PROTOCOL_2 = (
    "similarity Procrustes (isotropic scale, rotation with det=+1, translation; Umeyama) of the "
    "prediction onto the ground truth, fitted on the evaluated points; mean Euclidean distance"
)


@dataclass
class Evaluation:
    """Scores of one method on one dataset split, with what defines them."""

    method: str
    dataset: str
    split: str
    scores: Scores
    ground_truth_body: str | None
    coordinates: str
    root: int

    def summary(self) -> dict:
        """JSON-ready summary: means (mm, IoU, accuracy) and the evaluation's definition."""
        from smplr.body.skeleton import JOINT_NAMES

        return {
            "method": self.method,
            "dataset": self.dataset,
            "split": self.split,
            "units": "mm (IoU and accuracy: fractions)",
            "coordinates": self.coordinates,
            "protocols": {
                "1": PROTOCOL_1.format(root=self.root, name=JOINT_NAMES[self.root]),
                "2": PROTOCOL_2,
            },
            "ground_truth_body": self.ground_truth_body,
            **summarise(self.scores),
        }


def _batches(samples: Iterable[Sample], size: int) -> Iterator[list[Sample]]:
    iterator = iter(samples)
    while batch := list(islice(iterator, size)):
        yield batch


def evaluate(
    samples: Iterable[Sample],
    predictor: Predictor,
    *,
    bodies: GroundTruthBodies | None = None,
    renderer: SilhouetteRenderer | None = None,
    root: int = metrics.PELVIS,
    batch_size: int = 64,
    limit: int | None = None,
    progress: bool = False,
) -> Evaluation:
    """Score ``predictor`` on ``samples`` (e.g. a dataset reader).

    ``bodies`` poses SMPL ground truth (landmarks, vertices, UP-3D joints); ``renderer``
    rasterises predicted meshes for silhouette IoU; ``limit`` evaluates the first samples
    only.  A :class:`PrecomputedPredictions` must cover exactly the evaluated samples.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if limit is not None and isinstance(predictor, PrecomputedPredictions):
        raise ValueError(
            "--limit cannot be used with a predictions file: the counts would not match"
        )
    total = len(samples) if isinstance(samples, Sized) else None
    if limit is not None:
        total = limit if total is None else min(total, limit)
        samples = islice(samples, limit)
    parts: list[Scores] = []
    first: Sample | None = None
    bar = progress_bar(progress)
    task = bar.add_task(f"evaluating {predictor.name}", total=total) if bar else None
    try:
        for batch in _batches(samples, batch_size):
            first = first or batch[0]
            truth = ground_truth_batch(batch, bodies)
            prediction = predictor.predict(PredictorInputs(samples=batch, jl=truth.jl))
            parts.append(
                score_batch(prediction, truth, samples=batch, root=root, renderer=renderer)
            )
            if bar is not None and task is not None:
                bar.update(task, advance=len(batch))
    finally:
        if bar is not None:
            bar.stop()
    if first is None:
        raise ValueError("the dataset split yielded no samples")
    scores = Scores.concatenate(parts)
    if isinstance(predictor, PrecomputedPredictions):
        predictor.check_all_served(len(scores))
    return Evaluation(
        method=predictor.name,
        dataset=first.dataset,
        split=first.split,
        scores=scores,
        ground_truth_body=None if bodies is None else bodies.description,
        coordinates=first.coordinates,
        root=root,
    )


def progress_bar(enabled: bool):  # -> rich.progress.Progress | None
    """A started rich progress bar on stderr (stdout carries reports), or None."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # stdout carries the report
    )
    bar.start()
    return bar
