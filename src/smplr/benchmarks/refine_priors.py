"""Refinement with and without priors, on exact and on mismatched keypoints; and the
false-positive / detection rates of :mod:`smplr.keypoint_checks`.

Run: ``smplr bench refine [--num 300] [--checks]``.

**Bodies**: :func:`smplr.synthetic.bodies.held_out_set` (seed 4242) on the open body
model, with the shipped SMPLR weights.

**Keypoints**: *exact* — the body's own JL (``jl42``) or 24 joints (``joints24``),
root-relative; *mismatched* — a second skeleton that is not the body's, like another
mocap marker set mapped onto SMPL's points: every one of the 42 points moved by a
fixed offset (the same for every body), 2-9 cm long (uniform) in a random direction,
expressed in the frame of the point's joint (landmarks: their parent joint's), so it
moves with the bone (:func:`mismatched_skeleton`, seed 2024).

**Rows**: one-shot SMPLR; ``old`` — the refinement before priors (plain least squares,
shape weight 0.002 m, no joint limits, every step run: :data:`OLD_REFINE`); ``new`` —
:class:`smplr.refine.FitPrior` defaults; each at 10 and 50 steps from the one-shot
estimate, exactly as ``SMPLR.fit(refine=K)`` does it.  Columns: joints and vertices
Protocol 1 (mm, root-relative, against the true body), mean and largest per-body
max |β|, % bodies with a |β| > 3, % of joints outside their limits
(:func:`smplr.synthetic.joint_limits.within_limits`), mean LM steps taken, ms per body.

Measured (300 bodies, ``OMP_NUM_THREADS=1``; joints / vertices mm, mean max|β|, largest
|β|, % joints outside the limits; the true bodies have 0 % outside)::

    keypoints            one-shot             old 10               new 10               new 50
    jl42 exact           13.5/21.8 1.2 2.9 0.8  0.3/7.4 1.7 3.0 1.4   5.0/12.9 1.2 3.0 0.2  5.0/12.8 1.2 3.0 0.2
    jl42 mismatched      38.3/51.0 1.5 2.9 1.4 38.4/73.5 10.4 19.2 66  28.2/38.4 1.3 3.0 1.2 27.7/37.9 1.3 3.0 0.7
    joints24 exact       16.0/28.3 1.1 3.0 0.6  0.4/13.2 1.4 3.0 4.6  6.8/18.4 0.9 2.9 0.2  6.7/18.4 0.9 2.9 0.2
    joints24 mismatched  41.2/57.4 1.8 3.3 1.8 48.4/105.4 11.3 20.3 47 33.0/58.0 1.3 3.3 2.1 32.8/58.0 1.3 3.3 1.6

The old refinement fits exact points to 0.3 mm and mismatched ones with monsters
(every body beyond 3σ, up to 20σ; half the joints outside their limits) that are
*further* from the true body than the one-shot estimate; the priors cost ~5 mm on
exact points and win 8-10 mm on mismatched ones, with betas and limits as plausible
as the one-shot estimate's.  Bodies stop after 4-8 steps on average (50 asked: 4-14).
:func:`fit_speed`: ``SMPLR.fit`` 0.1 ms/body one-shot, 19 (jl42) and 24 (joints24)
ms/body with 10 steps (one thread, on a VM shared with other jobs).
:func:`measure_2d`: on 2D views refinement still hurts (joints 44.4 -> 52.1 mm), so
``smplr fit`` refines 3D input only (:func:`smplr.refine.default_steps`).

With ``--checks``: :func:`check_rates` — on 2,000 noisy synthetic bodies per input
format, how many :func:`smplr.keypoint_checks.check_keypoints` flags (whole batch in
one call, and body by body), and how many of 200 corrupted bodies it catches.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import torch

from smplr.body.skeleton import JL_MIRROR, LANDMARK_PARENTS, NUM_JOINTS, PARENTS
from smplr.geometry.projection import random_view_2d
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.input_formats import dae_input
from smplr.keypoint_checks import KeypointWarning, check_keypoints
from smplr.pipeline import SMPLR
from smplr.refine import BodyParams, FitPrior, fit_bodies, point_weights
from smplr.synthetic.bodies import SyntheticBatch, held_out_set
from smplr.synthetic.joint_limits import within_limits
from smplr.synthetic.noise import bounded_uniform_noise, gaussian_noise, structured_noise

OLD_REFINE = FitPrior(
    pose_weight=0.005, shape_weight=0.002, limit_weight=0.0, robust_scale=None, tolerance=0.0
)
"""The refinement as it was before priors (issue 11)."""


def global_rotations(rotations: torch.Tensor) -> torch.Tensor:
    """Local joint rotations ``(B, 24, 3, 3)`` -> each joint's frame in the world."""
    frames = [rotations[:, 0]]
    for joint in range(1, NUM_JOINTS):
        frames.append(frames[PARENTS[joint]] @ rotations[:, joint])
    return torch.stack(frames, dim=1)


def mismatched_skeleton(
    jl: torch.Tensor, rotations: torch.Tensor, seed: int = 2024
) -> torch.Tensor:
    """``jl (B, 42, 3)`` of bodies posed by ``rotations (B, 24, 3, 3)`` -> a skeleton
    whose every point sits 2-9 cm off, fixed in its joint's frame (module docstring)."""
    generator = torch.Generator().manual_seed(seed)
    count = jl.shape[1]
    direction = torch.randn(count, 3, generator=generator, dtype=torch.float64)
    length = 0.02 + 0.07 * torch.rand(count, 1, generator=generator, dtype=torch.float64)
    offsets = (direction / direction.norm(dim=-1, keepdim=True) * length).to(jl)
    frames = global_rotations(rotations.to(jl))[:, list(range(NUM_JOINTS)) + list(LANDMARK_PARENTS)]
    moved = jl + (frames @ offsets[None, :, :, None]).squeeze(-1)
    return moved - moved[:, :1]


def _truth(model: SMPLR, batch: SyntheticBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rotations = torch.cat([batch.global_orient[:, None], batch.body_pose], 1).float()
    out = model.body(batch.gender.float(), batch.betas.float(), rotations[:, :1], rotations[:, 1:])
    root = out.joints[:, :1]
    return rotations, out.joints - root, out.vertices - root


def _scores(
    model: SMPLR,
    gender: torch.Tensor,
    params: BodyParams,
    joints: torch.Tensor,
    vertices: torch.Tensor,
) -> dict[str, float]:
    rot, betas = params.rotations.float(), params.betas.float()
    out = model.body(gender, betas, rot[:, :1], rot[:, 1:], params.transl.float())
    root = out.joints[:, :1]
    biggest = betas.abs().amax(dim=1)
    return {
        "joints_mm": 1000 * float((out.joints - root - joints).norm(dim=-1).mean()),
        "vertices_mm": 1000 * float((out.vertices - root - vertices).norm(dim=-1).mean()),
        "max_beta_mean": float(biggest.mean()),
        "max_beta_max": float(biggest.max()),
        "pct_beta_over_3": 100 * float((biggest > 3).double().mean()),
        "pct_joints_outside": 100 * float((~within_limits(rot[:, 1:].double())).double().mean()),
    }


def measure(num: int = 300, steps: tuple[int, ...] = (10, 50), seed: int = 4242) -> list[dict]:
    """The rows described in the module docstring, one dict per (format, keypoints, method)."""
    torch.manual_seed(0)
    model = SMPLR.pretrained()
    jl_body = model.jl_body.double()
    batch = held_out_set(model.body, num=num, seed=seed)
    rotations, joints, vertices = _truth(model, batch)
    skeletons = {
        "exact": batch.jl.double(),
        "mismatched": mismatched_skeleton(batch.jl.double(), rotations.double()),
    }
    truth_outside = 100 * float((~within_limits(rotations[:, 1:].double())).double().mean())
    rows = []
    for fmt in ("jl42", "joints24"):
        for kind, jl in skeletons.items():
            points = jl if fmt == "jl42" else jl[:, :NUM_JOINTS]
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", KeypointWarning)
                shot = model.fit(points, fmt, return_vertices=False)
            ms = 1000 * (time.perf_counter() - started) / num
            rot = axis_angle_to_matrix(
                torch.cat([shot.global_orient[:, None], shot.body_pose.reshape(num, -1, 3)], 1)
            )
            start = BodyParams(rot, shot.betas, shot.transl)
            base = {"format": fmt, "keypoints": kind, "truth_pct_outside": truth_outside}
            row = _scores(model, shot.gender, start, joints, vertices)
            rows.append({**base, "method": "one-shot", "steps": 0, **row, "ms_per_body": ms})
            observed = dae_input(points.float(), fmt).double()
            for name, prior in (("old", OLD_REFINE), ("new", FitPrior())):
                for count in steps:
                    started = time.perf_counter()
                    fitted = fit_bodies(
                        jl_body,
                        observed,
                        shot.gender,
                        start,
                        count,
                        point_weights(observed, fmt),
                        prior,
                    )
                    ms = 1000 * (time.perf_counter() - started) / num
                    row = _scores(model, shot.gender, fitted.params, joints, vertices)
                    row["steps_taken"] = float(fitted.iterations.double().mean())
                    rows.append({**base, "method": name, "steps": count, **row, "ms_per_body": ms})
    return rows


def measure_2d(num: int = 300, seed: int = 4242, steps: int = 10) -> list[dict]:
    """Joints Protocol 1 (mm) on 2D views of exact keypoints (random cameras), one-shot
    vs ``steps`` refinement steps with the default priors."""
    model = SMPLR.pretrained()
    jl = held_out_set(model.body, num=num, seed=seed).jl
    view, flat, _ = random_view_2d(jl, torch.Generator().manual_seed(5))
    truth = view[:, :NUM_JOINTS] - view[:, :1]
    rows = []
    for refine in (0, steps):
        result = model.fit(flat[..., :2], "2d", refine=refine, return_vertices=False)
        joints = result.joints - result.joints[:, :1]
        error = 1000 * float((joints - truth).norm(dim=-1).mean())
        rows.append({"format": "2d", "refine": refine, "joints_mm": error})
    return rows


def fit_speed(num: int = 300, seed: int = 4242) -> list[dict]:
    """``SMPLR.fit`` ms per body, one-shot and with 10 refinement steps (best of two)."""
    model = SMPLR.pretrained()
    jl = held_out_set(model.body, num=num, seed=seed).jl
    rows = []
    for fmt, points in (("jl42", jl), ("joints24", jl[:, :NUM_JOINTS])):
        for refine in (0, 10):
            best = float("inf")
            for _ in range(2):
                started = time.perf_counter()
                model.fit(points, fmt, refine=refine, return_vertices=False)
                best = min(best, time.perf_counter() - started)
            rows.append({"format": fmt, "refine": refine, "ms_per_body": 1000 * best / num})
    return rows


def _noisy_inputs(model: SMPLR, num: int, seed: int) -> dict[str, torch.Tensor]:
    """Noisy synthetic inputs of every format (root-relative, float64), by name."""
    generator = torch.Generator().manual_seed(seed)
    jl = held_out_set(model.body, num=num, seed=seed).jl.double()
    noisy = {
        "gaussian": gaussian_noise(jl, generator),
        "uniform": bounded_uniform_noise(jl, generator),
        "structured": structured_noise(jl, generator),
    }
    inputs = {}
    for name, points in noisy.items():
        inputs[f"jl42/{name}"] = points
        inputs[f"joints24/{name}"] = points[:, :NUM_JOINTS]
        inputs[f"2d/{name}"] = random_view_2d(points, generator)[1][..., :2]
    return inputs


def _flags(points: torch.Tensor, fmt: str, template: torch.Tensor) -> list[str]:
    """What :func:`check_keypoints` says about ``points``: error and warning texts."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KeypointWarning)
        try:
            check_keypoints(points, fmt, template)
        except ValueError as exc:
            return [f"error: {exc}"]
    return [f"warning: {w.message}" for w in caught]


CORRUPTIONS: dict[str, Callable[[torch.Tensor, str], torch.Tensor]] = {
    "millimetres": lambda p, f: 1000 * p,
    "scaled 1e-4": lambda p, f: 1e-4 * p,
    "z-up": lambda p, f: torch.stack([p[..., 0], -p[..., 2], p[..., 1]], -1) if f != "2d" else p,
    "upside down": lambda p, f: (
        -p if f == "2d" else torch.stack([p[..., 0], -p[..., 1], -p[..., 2]], -1)
    ),
    "mirrored": lambda p, f: p[:, [JL_MIRROR[i] for i in range(p.shape[1])]],
    "offset 1e6 m": lambda p, f: p + 1e6,
}


def check_rates(num: int = 2000, corrupted: int = 200, seed: int = 99) -> list[dict]:
    """False positives on ``num`` noisy bodies per input and detections on ``corrupted``
    corrupted clean bodies per format (see the module docstring)."""
    model = SMPLR.pretrained()
    template = model.template_lengths.double()
    rows = []
    for name, points in _noisy_inputs(model, num, seed).items():
        fmt = name.split("/")[0]
        whole = _flags(points, fmt, template)
        single = sum(bool(_flags(points[i : i + 1], fmt, template)) for i in range(num))
        rows.append(
            {
                "input": name,
                "batch_flags": len(whole),
                "bodies_flagged_alone": single,
                "of": num,
                "first": whole[0][:120] if whole else "",
            }
        )
    jl = held_out_set(model.body, num=corrupted, seed=seed + 1).jl.double()
    clean = {
        "jl42": jl,
        "joints24": jl[:, :NUM_JOINTS],
        "2d": random_view_2d(jl, torch.Generator().manual_seed(seed))[1][..., :2],
    }
    for fmt, points in clean.items():
        for what, corrupt in CORRUPTIONS.items():
            if (what == "mirrored" and fmt != "jl42") or (what == "z-up" and fmt == "2d"):
                continue  # not checked there (keypoint_checks docstring)
            bad = corrupt(points, fmt)
            caught = [_flags(bad[i : i + 1], fmt, template) for i in range(corrupted)]
            rows.append(
                {
                    "input": f"{fmt}/{what}",
                    "bodies_flagged_alone": sum(map(bool, caught)),
                    "of": corrupted,
                    "first": caught[0][0][:120] if caught[0] else "",
                }
            )
    return rows


def _print(rows: list[dict]) -> None:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    print(" | ".join(keys))
    for row in rows:
        print(
            " | ".join(
                f"{row.get(k, ''):.2f}" if isinstance(row.get(k), float) else str(row.get(k, ""))
                for k in keys
            )
        )


def run(num: int = 300, checks: bool = False, threads: int = 1) -> None:
    """Print the refinement trade-off rows, the 2D rows, the fit speed and (``checks``)
    the keypoint checks' detection and false-positive rates."""
    torch.set_num_threads(threads)
    _print(measure(num))
    _print(measure_2d(num))
    _print(fit_speed(num))
    if checks:
        _print(check_rates())
