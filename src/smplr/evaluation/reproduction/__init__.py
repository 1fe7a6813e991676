"""The reproduction report: the paper's Tables 1, 3, 4 and gender accuracy beside what
smplr measures with its shipped models on the synthetic benchmark, as one Markdown file.

Regenerate it with one command (about 7 minutes for 2,000 bodies on one CPU thread,
measured on an AMD EPYC core, plus the test sets below; a second thread helps only on an
otherwise idle machine)::

    make report                     # = smplr report --out docs/reproduction.md

What is measured (every number by :mod:`smplr.metrics`, through
:func:`smplr.evaluation.scoring.score_batch`): :class:`smplr.datasets.synthetic.SyntheticSet`
(``num`` held-out bodies of the open body model, fixed seed, one camera each) under
these inputs:

- clean 3D joints + landmarks (JL);
- JL plus each noise model of :mod:`smplr.synthetic.noise`, added in each body's camera
  view frame (depth = the camera axis) — stand-ins for a CNN's error, *not* the output of
  an image network;
- 2D: the JL projected by each body's camera, in the metric root-plane form that the 2D
  DAE lifts (:func:`smplr.geometry.projection.pixels_to_root_plane`);

and these stages: the input itself, the DAE's output, Ψ (shape, with the true pose), Ω
(pose, with the true shape), and the whole SMPLR (DAE → Ω, Ψ → body model) with and
without the DAE and with and without the Procrustes post-processing (paper 4.5).
The published numbers are copied in :mod:`smplr.evaluation.paper_results`.

A last section puts every named test set of :mod:`smplr.datasets.test_sets`
(in-distribution, out-of-distribution pose sources, real motion capture) side by side,
``Settings.ood_num`` bodies each, one-shot and refined
(:func:`smplr.evaluation.pose_sets.evaluate_test_sets`, about 1.5 more minutes).
"""

from smplr.evaluation.reproduction.conditions import NOISE_MODELS, Condition, Inputs, conditions
from smplr.evaluation.reproduction.markdown import render_markdown
from smplr.evaluation.reproduction.measuring import Measurements, Settings, measure
from smplr.evaluation.reproduction.provenance import (
    describe_body_model,
    describe_weights,
    environment,
)
from smplr.evaluation.reproduction.report import DEFAULT_COMMAND, generate

__all__ = [
    "DEFAULT_COMMAND",
    "NOISE_MODELS",
    "Condition",
    "Inputs",
    "Measurements",
    "Settings",
    "conditions",
    "describe_body_model",
    "describe_weights",
    "environment",
    "generate",
    "measure",
    "render_markdown",
]
