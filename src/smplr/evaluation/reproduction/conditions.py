"""The measured rows of the report: the inputs fed to SMPLR (clean, noisy and 2D JL) and
each condition's way of predicting from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from smplr.body.skeleton import NUM_JOINTS
from smplr.datasets.synthetic import SyntheticSet
from smplr.evaluation.predictor import Prediction
from smplr.geometry.projection import VIEW_TO_OPENCV, pixels_to_root_plane
from smplr.synthetic.noise import bounded_uniform_noise, gaussian_noise, structured_noise

NOISE_MODELS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "Gaussian": gaussian_noise,
    "uniform": bounded_uniform_noise,
    "structured": structured_noise,
}
"""The CNN-error stand-ins, with their default parameters; noise model ``k`` (in this
order) draws from ``torch.Generator().manual_seed(noise_seed + k)``."""


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
        intrinsics = torch.as_tensor(synthetic.intrinsics)
        fx_fy_cx_cy = torch.stack(
            [intrinsics[:, 0, 0], intrinsics[:, 1, 1], intrinsics[:, 0, 2], intrinsics[:, 1, 2]],
            dim=1,
        )
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
