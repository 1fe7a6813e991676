"""Accuracy of SMPLR on the synthetic held-out set, condition by condition.

Run: ``smplr bench accuracy [--weights W.pt] [--run-dir RUN] [--num 2000] [--ood-num 300]``.

Ground truth: :func:`smplr.synthetic.bodies.held_out_set` (default 2,000 bodies, its
fixed seed) on the open body model; vertices are posed chunk by chunk.  Errors in mm
(:mod:`smplr.metrics`): Protocol 1 (root-relative) and 2 (Procrustes to the ground
truth) for joints, landmarks and vertices, plus gender accuracy.  Conditions:

- clean 3D JL, with/without the DAE, with/without Procrustes post-processing (paper
  4.5), with ``--refine`` LM steps;
- each noise model of :mod:`smplr.synthetic.noise` with/without the DAE (plus the
  input's own error and the DAE output's error: does the DAE repair it?);
- 2D input (random perspective cameras, :func:`smplr.geometry.projection.random_view_2d`;
  ground truth turned into each camera's view) and joint-only input (``joints24``);
- with ``--run-dir`` of a training run, the paper's ablations: Ψ with vs without
  landmarks (ground-truth pose), Ω before vs after L_SMPL fine-tuning (ground-truth
  shape).

With ``--ood-num N`` the table of every named test set follows (``smplr bench ood``:
N bodies per set, clean JL, no DAE, DAE and DAE + ``--refine`` steps), so one command
puts the held-out synthetic conditions next to the out-of-distribution and real
motion-capture sets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import nn

from smplr import metrics
from smplr.atomic_io import write_text_atomic
from smplr.benchmarks.ood import print_table, set_names
from smplr.body.skeleton import NUM_JOINTS
from smplr.evaluation.body_accuracy import Truth, fit_and_score, score
from smplr.geometry.projection import random_view_2d
from smplr.networks import NetworkConfig, build_networks
from smplr.pipeline import SMPLR
from smplr.reverse.features import relative_directions, relative_distances
from smplr.synthetic.bodies import held_out_set
from smplr.synthetic.noise import bounded_uniform_noise, gaussian_noise, structured_noise
from smplr.training.loop import finished_state
from smplr.weights import shipped_path

NOISE_MODELS: dict[str, Callable] = {
    "gaussian": gaussian_noise,
    "uniform": bounded_uniform_noise,
    "structured": structured_noise,
}


def _ablations(model: SMPLR, truth: Truth, run_dir: Path) -> list[tuple[str, dict[str, float]]]:
    """Paper 4.4.3 on ground-truth JL: Ψ with/without landmarks, Ω before/after L_SMPL."""
    rows = []
    config = NetworkConfig.from_dict(finished_state(run_dir, "pose")["record"]["sizes"])
    template = model.template_lengths
    body = model.body

    def trained(stage: str, name: str) -> nn.Module:
        net = build_networks(config, (name,))[name]
        net.load_state_dict(finished_state(run_dir, stage)["networks"][name])
        return net.eval()

    with torch.no_grad():
        distances = relative_distances(truth.jl, template)
        for stage, label in (("shape", "Ψ with landmarks"), ("shape_nolm", "Ψ without landmarks")):
            try:
                net = trained(stage, "shape")
            except (FileNotFoundError, ValueError):
                continue
            if stage == "shape_nolm":
                distances = distances.clone()
                distances[:, NUM_JOINTS - 1 :] = 0
            betas, gender = net(distances)
            out = body(gender, betas, truth.rotations[:, :1], truth.rotations[:, 1:])
            row = score(
                body, truth, out.jl - out.joints[:, :1], out.vertices - out.joints[:, :1], gender
            )
            row["betas_l1"] = float((betas - truth.betas).abs().mean())
            rows.append((f"{label} (GT pose)", row))
        directions = relative_directions(truth.jl)
        for stage, label in (("pose", "Ω, L_R only"), ("pose_smpl", "Ω after + L_SMPL")):
            try:
                rotations = trained(stage, "pose")(directions)
            except (FileNotFoundError, ValueError):  # e.g. a control run of L_R alone
                continue
            out = body(truth.gender, truth.betas, rotations[:, :1], rotations[:, 1:])
            row = score(
                body, truth, out.jl - out.joints[:, :1], out.vertices - out.joints[:, :1], None
            )
            rows.append((f"{label} (GT shape)", row))
    return rows


def iter_conditions(
    model: SMPLR,
    num: int = 2000,
    refine: int = 10,
    run_dir: Path | None = None,
    noise_seed: int = 0,
    conditions: bool = True,
) -> Iterator[tuple[str, dict[str, float]]]:
    """Every condition of the module docstring, one ``(label, numbers)`` at a time
    (``conditions=False``: the ablations of ``run_dir`` only)."""
    truth = Truth.from_batch(held_out_set(model.body, num=num))
    if conditions:
        yield from _input_conditions(model, truth, refine, noise_seed)
    if run_dir is not None:
        yield from _ablations(model, truth, run_dir)


def _input_conditions(
    model: SMPLR, truth: Truth, refine: int, noise_seed: int
) -> Iterator[tuple[str, dict[str, float]]]:
    clean = truth.jl
    joints = clean[:, :NUM_JOINTS]
    yield "3D clean, no DAE", fit_and_score(model, truth, clean, "jl42", use_dae=False)
    yield (
        f"3D clean, no DAE + refine {refine}",
        fit_and_score(model, truth, clean, "jl42", use_dae=False, refine=refine),
    )
    yield "3D clean, DAE", fit_and_score(model, truth, clean, "jl42")
    yield "3D clean, DAE + Procrustes", fit_and_score(model, truth, clean, "jl42", procrustes=True)
    yield (
        f"3D clean, DAE + refine {refine}",
        fit_and_score(model, truth, clean, "jl42", refine=refine),
    )
    yield "joints24 clean, DAE", fit_and_score(model, truth, joints, "joints24")
    yield (
        f"joints24 clean, DAE + refine {refine}",
        fit_and_score(model, truth, joints, "joints24", refine=refine),
    )
    for name, noise in NOISE_MODELS.items():
        noisy = noise(truth.jl, torch.Generator().manual_seed(noise_seed))
        with torch.no_grad():
            denoised = model.denoise(noisy - noisy[:, :1], "jl42")
        base = {
            "input_jl_mm": float(metrics.mpjpe(noisy, truth.jl).mean()),
            "dae_jl_mm": float(metrics.mpjpe(denoised, truth.jl).mean()),
        }
        yield (
            f"3D {name} noise, no DAE",
            {**base, **fit_and_score(model, truth, noisy, "jl42", use_dae=False)},
        )
        yield f"3D {name} noise, DAE", {**base, **fit_and_score(model, truth, noisy, "jl42")}
        yield (
            f"3D {name} noise, DAE + Procrustes",
            fit_and_score(model, truth, noisy, "jl42", procrustes=True),
        )
        yield (
            f"3D {name} noise, DAE + refine {refine}",
            fit_and_score(model, truth, noisy, "jl42", refine=refine),
        )
    _, flat, views = random_view_2d(truth.jl, torch.Generator().manual_seed(noise_seed + 1))
    viewed = truth.turned(views.rotation)
    yield "2D (perspective, clean)", fit_and_score(model, viewed, flat[..., :2], "2d")
    yield (
        f"2D (perspective, clean) + refine {refine}",
        fit_and_score(model, viewed, flat[..., :2], "2d", refine=refine),
    )


COLUMNS = (
    "joints_p1",
    "joints_p2",
    "landmarks_p1",
    "vertices_p1",
    "vertices_p2",
    "gender_acc",
    "input_jl_mm",
    "dae_jl_mm",
    "betas_l1",
    "ms_per_body",
)


LABEL_WIDTH = 44


def format_header() -> str:
    return f"{'condition':<{LABEL_WIDTH}} " + " ".join(f"{c:>12}" for c in COLUMNS)


def format_row(label: str, row: dict[str, float]) -> str:
    cells = [
        f"{row[c]:>12.3f}"
        if c == "gender_acc" and c in row
        else (f"{row[c]:>12.1f}" if c in row else f"{'':>12}")
        for c in COLUMNS
    ]
    return f"{label:<{LABEL_WIDTH}} " + " ".join(cells)


def run(
    weights: Path | None = None,
    num: int = 2000,
    refine: int = 10,
    run_dir: Path | None = None,
    threads: int = 2,
    json_out: Path | None = None,
    conditions: bool = True,
    ood_num: int = 0,
) -> list[tuple[str, dict[str, float]]]:
    """Print (row by row) and return the accuracy table of the shipped (or given) weights;
    with ``ood_num`` > 0 then print the table of every named test set on that many bodies
    each (its rows go to ``json_out`` too, after the conditions, with a ``"set"`` key)."""
    if ood_num < 0:
        raise ValueError(f"ood_num must be >= 0 bodies per test set, got {ood_num}")
    torch.set_num_threads(threads)
    model = SMPLR.load(weights or shipped_path())
    print(f"SMPLR on {num} held-out synthetic bodies (open body model), errors in mm")
    print(format_header(), flush=True)
    rows = []
    for label, row in iter_conditions(
        model, num=num, refine=refine, run_dir=run_dir, conditions=conditions
    ):
        rows.append((label, row))
        print(format_row(label, row), flush=True)
    test_sets: list[dict] = []
    if ood_num:
        print()
        test_sets = print_table(model, set_names(None), ood_num, refine)
    if json_out is not None:
        records = [{"condition": label, **row} for label, row in rows] + test_sets
        write_text_atomic(json_out, json.dumps(records, indent=1))
    return rows
