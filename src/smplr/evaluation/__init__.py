"""The paper's evaluation (section 4.3, Tables 1-4) from predictions of any method.

Data flow::

    dataset reader (smplr.datasets) -> Sample batches -> ground truth (+ body model)
        -> Predictor.predict -> Prediction -> scores (smplr.metrics) -> tables / JSON / plots

Plug a method in as a :class:`~smplr.evaluation.predictor.Predictor`: wrap a model with
SMPLR's ``fit(points)`` interface in :class:`~smplr.evaluation.predictor.FitPredictor`, or
save predictions to an ``.npz`` and use :class:`~smplr.evaluation.predictor.PrecomputedPredictions`.

>>> from smplr.datasets import SurrealReader                                    # doctest: +SKIP
>>> from smplr.evaluation import PrecomputedPredictions, evaluate, format_report  # doctest: +SKIP
>>> run = evaluate(SurrealReader("SURREAL/data/cmu", "test"), PrecomputedPredictions("mine.npz"))  # doctest: +SKIP
>>> print(format_report([run.summary()]))                                       # doctest: +SKIP
"""

from smplr.datasets.ground_truth import GroundTruth, GroundTruthBodies, ground_truth_batch
from smplr.evaluation.plots import plot_error_distribution, plot_per_joint, write_plots
from smplr.evaluation.predictor import (
    FitPredictor,
    PrecomputedPredictions,
    Prediction,
    Predictor,
    PredictorInputs,
    save_predictions,
)
from smplr.evaluation.run import Evaluation, evaluate
from smplr.evaluation.scoring import Scores, SilhouetteRenderer, score_batch, summarise
from smplr.evaluation.tables import format_report, table1, table2, table3, table4, write_json

__all__ = [
    "Evaluation",
    "FitPredictor",
    "GroundTruth",
    "GroundTruthBodies",
    "PrecomputedPredictions",
    "Prediction",
    "Predictor",
    "PredictorInputs",
    "Scores",
    "SilhouetteRenderer",
    "evaluate",
    "format_report",
    "ground_truth_batch",
    "plot_error_distribution",
    "plot_per_joint",
    "save_predictions",
    "score_batch",
    "summarise",
    "table1",
    "table2",
    "table3",
    "table4",
    "write_json",
    "write_plots",
]
