"""Speed of SMPLR (DAE + Ω/Ψ + body model) and of the optimisation-only baseline.

Run: ``smplr bench core [--threads 2] [--weights W.pt]`` (part of
``make bench``).  Inputs are held-out synthetic bodies on the open model; times are
medians (:func:`smplr.benchmarks.median_seconds`), no autograd.  The baseline is the
same Levenberg-Marquardt fitter as ``refine`` started from the rest pose (both genders,
the better kept); its errors are printed beside SMPLR's on the same bodies.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import torch

from smplr import metrics
from smplr.benchmarks import median_seconds
from smplr.pipeline import SMPLR
from smplr.refine import fit_from_rest
from smplr.synthetic.bodies import held_out_set
from smplr.weights import shipped_path


def _errors(model: SMPLR, truth, joints, vertices, gender) -> tuple[float, float]:
    """Mean joint and vertex errors (mm, Protocol 1) against the held-out bodies."""
    with torch.no_grad():
        gt = model.body(truth.gender, truth.betas, truth.global_orient[:, None], truth.body_pose)
    joint = metrics.mpjpe(joints, gt.joints).mean()
    vertex = metrics.surface_error(
        vertices, gt.vertices, protocol=1, pred_root=joints[:, 0], gt_root=gt.joints[:, 0]
    ).mean()
    return float(joint), float(vertex)


def run(
    weights: Path | None = None,
    threads: int = 2,
    batch: int = 256,
    refine: int = 10,
    baseline_steps: int = 30,
) -> dict[str, float]:
    """Print and return the speed numbers (bodies/s, ms) and the baseline comparison."""
    torch.set_num_threads(threads)
    model = SMPLR.load(weights or shipped_path())
    truth = held_out_set(model.body, num=batch)
    jl = truth.jl.float()
    numbers: dict[str, float] = {}
    print(f"SMPLR speed: open body model, float32, {threads} threads, CPU, no grad")
    for size in (1, batch):
        points = jl[:size]
        for vertices in (True, False):
            fn = partial(model.fit, points, return_vertices=vertices)
            seconds = median_seconds(fn, repeats=5 if size > 1 else 9)
            key = f"b{size}_{'mesh' if vertices else 'jl'}"
            numbers[f"{key}_ms"] = 1000 * seconds
            numbers[f"{key}_bodies_per_s"] = size / seconds
            what = "with mesh" if vertices else "joints+landmarks only"
            print(
                f"  batch {size:>4}, {what:<22}: {1000 * seconds:8.2f} ms  {size / seconds:10,.0f} bodies/s"
            )
    with torch.no_grad():
        dae = median_seconds(partial(model.denoise, jl, "jl42"))
        encode = median_seconds(partial(model.encode, jl))
        rot, betas, gender = model.encode(jl)
        decode = median_seconds(partial(model.body, gender, betas, rot[:, :1], rot[:, 1:]))
    print(
        f"  batch {batch} stages: DAE {1000 * dae:.1f} ms, features+Ω+Ψ {1000 * encode:.1f} ms, body model {1000 * decode:.1f} ms"
    )
    numbers.update(dae_ms=1000 * dae, encode_ms=1000 * encode, body_ms=1000 * decode)

    print(f"Accuracy vs time on {batch} bodies (clean 3D JL; Protocol 1, mm):")
    rows = []
    started = time.perf_counter()
    one_shot = model.fit(jl)
    rows.append(("SMPLR one-shot", time.perf_counter() - started, one_shot))
    started = time.perf_counter()
    refined = model.fit(jl, refine=refine)
    rows.append((f"SMPLR + refine {refine}", time.perf_counter() - started, refined))
    for label, seconds, result in rows:
        assert result.vertices is not None  # fit returns vertices by default
        joint, vertex = _errors(
            model,
            truth,
            result.joints - result.joints[:, :1],
            result.vertices - result.joints[:, :1],
            result.gender,
        )
        print(
            f"  {label:<28} {1000 * seconds / batch:8.2f} ms/body  joints {joint:6.1f}  vertices {vertex:6.1f}"
        )
        numbers[f"{label}_ms_per_body"] = 1000 * seconds / batch
        numbers[f"{label}_joints_mm"] = joint
        numbers[f"{label}_vertices_mm"] = vertex
    jl_body = model.body.jl_model().double()
    started = time.perf_counter()
    fitted, gender = fit_from_rest(jl_body, jl.double(), baseline_steps)
    seconds = time.perf_counter() - started
    p = fitted.params
    with torch.no_grad():
        out = model.body(
            gender.float(),
            p.betas.float(),
            p.rotations[:, :1].float(),
            p.rotations[:, 1:].float(),
            p.transl.float(),
        )
    joint, vertex = _errors(
        model, truth, out.joints - out.joints[:, :1], out.vertices - out.joints[:, :1], gender
    )
    label = f"LM from rest, {baseline_steps} steps"
    print(
        f"  {label:<28} {1000 * seconds / batch:8.2f} ms/body  joints {joint:6.1f}  vertices {vertex:6.1f}  (baseline)"
    )
    numbers.update(
        baseline_ms_per_body=1000 * seconds / batch,
        baseline_joints_mm=joint,
        baseline_vertices_mm=vertex,
    )
    numbers["baseline_gender_acc"] = metrics.gender_accuracy(gender, truth.gender)
    return numbers
