"""An image model on rendered test crops: its points, the body SMPLR makes of them, and a
trivial baseline, with the paper's metrics (Tables 1, 3, 4 on SURREAL-like images).

The crops are those of ``smplr data synth`` (:mod:`smplr.image_data`): every record holds
the picture, the exact JL in the camera frame (``jl3d``), the intrinsics ``K``, the SMPL
parameters in the camera frame and the person's silhouette.  :func:`image_sample` turns
one record into a :class:`~smplr.datasets.record.Sample` (camera frame, identity
extrinsics), so :func:`smplr.evaluation.evaluate` scores every method exactly as it scores
the datasets: Protocol 1 (root-relative) and 2 (Procrustes) on the 24 joints, the
landmarks, the surface against the true mesh (the sample's parameters posed by the open
body model of its gender, :class:`~smplr.datasets.ground_truth.GroundTruthBodies`), the
silhouette IoU (the predicted mesh rendered with the crop's ``K`` at the true root) and
the gender.

Methods (:class:`Predictor` s):

- :class:`ImagePointsPredictor` — the image model's points alone (Table 1's CNN rows):
  its 23 joints and 18 landmarks relative to the root, put on the true root;
- :class:`ImageBodyPredictor` — those points through SMPLR (``DAE → Ω/Ψ → body``, with
  SMPLR's noise-trained DAE, the image model's own DAE_SHN, or none): Table 1's DAE and
  ALL rows, Table 3's surface, Table 4's IoU;
- :class:`FixedBodyPredictor` — the same body for every image, at the true root
  (the trivial baselines, :func:`mean_jl_baseline` and :func:`mean_body_baseline`).

Everything a method sees of the truth is the root's position (so that the body is drawn
where the person is for the IoU; Protocol 1 removes it anyway) and, for the baselines,
the training set's mean JL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from smplr.body.model import BodyModel
from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_JOINTS
from smplr.dae import denoise_array
from smplr.datasets.record import Camera, Sample
from smplr.evaluation.predictor import FitPredictor, Prediction, PredictorInputs
from smplr.geometry.alignment import similarity_procrustes
from smplr.geometry.rotations import matrix_to_axis_angle
from smplr.image_model import ImageModel

DATASET = "synth-images"
GENDERS = {-1: "female", 1: "male"}
RECORD_KEYS = (
    "image",
    "jl3d",
    "K",
    "betas",
    "gender",
    "global_orient",
    "body_pose",
    "transl",
    "silhouette",
)
"""The keys of a rendered crop's record that :func:`image_sample` reads."""


@dataclass(frozen=True)
class ArrayMask:
    """A silhouette held in memory (the :class:`~smplr.datasets.record.MaskSource` of a
    rendered crop): ``mask (H, W)`` bool."""

    mask: np.ndarray

    def load(self) -> np.ndarray:
        return self.mask


def _array(record: Mapping[str, Any], key: str) -> np.ndarray:
    value = record[key]
    detach = getattr(value, "detach", None)
    return np.asarray(detach().cpu().numpy() if callable(detach) else value)


def image_sample(record: Mapping[str, Any], key: str, split: str = "test") -> Sample:
    """One rendered crop (a record of ``smplr data synth``: ``image (3, H, W)`` float in
    [0, 1] or ``(H, W, 3)`` uint8, ``jl3d (42, 3)``, ``K (3, 3)``, ``betas (10,)``,
    ``gender`` ±1, ``global_orient (3,)``, ``body_pose (69,)``, ``transl (3,)``,
    ``silhouette (H, W)``) as a camera-frame sample; the image is kept in
    ``sample.source["image"]`` as ``(3, H, W)`` float32 in [0, 1]."""
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise ValueError(f"image record {key} lacks {missing}")
    image = _array(record, "image")
    if image.ndim == 3 and image.shape[-1] == 3 and image.shape[0] != 3:
        image = image.transpose(2, 0, 1)
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    jl3d = _array(record, "jl3d").astype(np.float64)
    mask = _array(record, "silhouette").astype(bool)
    gender = int(np.sign(_array(record, "gender")))
    if image.ndim != 3 or image.shape[0] != 3 or jl3d.shape != (42, 3) or mask.ndim != 2:
        raise ValueError(
            f"image record {key}: image (3, H, W), jl3d (42, 3) and silhouette (H, W) expected, "
            f"got {image.shape}, {jl3d.shape}, {mask.shape}"
        )
    if gender not in GENDERS:
        raise ValueError(f"image record {key}: gender must be -1 or +1, got {gender}")
    height, width = mask.shape
    camera = Camera(
        intrinsics=_array(record, "K").astype(np.float64),
        rotation=np.eye(3),
        translation=np.zeros(3),
        width=width,
        height=height,
    )
    return Sample(
        dataset=DATASET,
        split=split,
        key=key,
        joints3d=jl3d[:NUM_JOINTS],
        coordinates="camera",
        betas=_array(record, "betas").astype(np.float64),
        body_pose=_array(record, "body_pose").astype(np.float64),
        global_orient=_array(record, "global_orient").astype(np.float64),
        transl=_array(record, "transl").astype(np.float64),
        gender=GENDERS[gender],  # type: ignore[arg-type]
        camera=camera,
        mask=ArrayMask(mask),
        source={"image": np.asarray(image, dtype=np.float32), "jl3d": jl3d},
    )


def _intrinsics(sample: Sample) -> np.ndarray:
    """``(3, 3)`` the camera of a rendered crop's sample (:func:`image_sample` gives one)."""
    if sample.camera is None:
        raise ValueError(f"sample {sample.key} has no camera: the image model needs the crop's")
    return np.asarray(sample.camera.intrinsics, dtype=np.float64)


def _true_roots(samples: Sequence[Sample]) -> np.ndarray:
    """``(B, 3)`` the annotated root joints (where every method's body is put)."""
    return np.stack([np.asarray(s.joints3d, dtype=np.float64)[0] for s in samples])


class ImagePointsPredictor:
    """The image model's points alone: ``(B, P, 3)`` root-relative points put on the true
    root.  Joints are the root and the 23 predicted ones; landmarks the 18 predicted ones
    (none for a model without landmarks, the paper's SHN_nL and Alexnet rows)."""

    def __init__(
        self, model: ImageModel, name: str = "image model", flip_test: bool = True
    ) -> None:
        self.model = model.eval()
        self.name = name
        self.flip_test = flip_test  # as smplr predict reads crops

    @torch.no_grad()
    def points(self, samples: Sequence[Sample]) -> np.ndarray:
        """``(B, P, 3)`` root-relative metres, camera frame, for the samples' images
        (resized to the model's input size as in training: bilinear, antialiased)."""
        images = torch.from_numpy(np.stack([s.source["image"] for s in samples]))
        cameras = torch.from_numpy(np.stack([_intrinsics(s) for s in samples]))
        points = self.model.read(images, cameras, flip_test=self.flip_test)
        return points.double().cpu().numpy()

    def predict(self, inputs: PredictorInputs) -> Prediction:
        points = self.points(inputs.samples)
        roots = _true_roots(inputs.samples)[:, None]
        joints = np.concatenate([roots, roots + points[:, :NUM_BODY_JOINTS]], axis=1)
        landmarks = roots + points[:, NUM_BODY_JOINTS:] if self.model.config.landmarks else None
        return Prediction(joints=joints, landmarks=landmarks)


class _Fit:
    """SMPLR's ``fit`` for one input format, with SMPLR's DAE, the image model's own DAE
    (``reading_dae``, the paper's DAE_SHN: applied first, SMPLR's DAE then skipped) or
    none (FitPredictor's one-argument interface)."""

    def __init__(
        self,
        smplr: Any,
        input_format: str,
        use_dae: bool,
        refine: int = 0,
        reading_dae: nn.Module | None = None,
    ) -> None:
        self.smplr, self.input_format, self.use_dae = smplr, input_format, use_dae
        self.refine, self.reading_dae = refine, reading_dae

    def fit(self, points: np.ndarray) -> Any:
        """SMPLR's fit without the input sanity checks (``smplr.keypoint_checks``): they
        guard users against wrong units, but a poorly trained network's collapsed
        skeletons are a prediction to score, not an input error."""
        if self.reading_dae is not None:
            points = denoise_array(self.reading_dae, points)
        return self.smplr.fit(
            points,
            self.input_format,
            use_dae=self.use_dae and self.reading_dae is None,
            refine=self.refine,
            checks=False,
        )


class ImageBodyPredictor:
    """The image model's points through SMPLR (``smplr.pipeline.SMPLR``): JL42 (or, for a
    model without landmarks, the 24 joints through the DAE) -> DAE -> Ω, Ψ -> body (->
    ``refine`` steps of the refinement with priors fitting it to the points, as ``smplr
    predict --refine``), put with its root on the true root (see
    :class:`~smplr.evaluation.FitPredictor`: the input is turned upright first).

    The DAE is SMPLR's noise-trained one (``use_dae``; the paper's DAE_noise), or the
    image model's own ``reading_dae`` (DAE_SHN, trained on its readings:
    :mod:`smplr.training.image_dae`), or none."""

    def __init__(
        self,
        points: ImagePointsPredictor,
        smplr: Any,
        use_dae: bool = True,
        name: str = "",
        refine: int = 0,
        reading_dae: nn.Module | None = None,
    ) -> None:
        landmarks = points.model.config.landmarks
        if not landmarks and not use_dae:
            raise ValueError("a model without landmarks needs the DAE (24 joints -> JL)")
        if not landmarks and reading_dae is not None:
            raise ValueError("the image model's own DAE reads JL42: a model with landmarks")
        self.points = points
        self.fit = _Fit(smplr, "jl42" if landmarks else "joints24", use_dae, refine, reading_dae)
        refined = f" → refine {refine}" if refine else ""
        dae = "DAE_SHN → " if reading_dae is not None else "DAE → " if use_dae else ""
        self.name = name or f"{points.name} → {dae}SMPLR{refined}"
        self.faces = smplr.body.faces.cpu().numpy()

    def predict(self, inputs: PredictorInputs) -> Prediction:
        seen = self.points.predict(inputs)
        jl = (
            seen.joints
            if seen.landmarks is None
            else np.concatenate([seen.joints, seen.landmarks], axis=1)
        )
        fitter = FitPredictor(self.fit, name=self.name, faces=self.faces)
        return fitter.predict(PredictorInputs(samples=inputs.samples, jl=jl))


class FixedBodyPredictor:
    """One body for every image — ``jl (42, 3)`` root-relative camera-frame points and
    optionally ``vertices (V, 3)`` (root-relative) with ``faces (F, 3)`` — put on the true
    root (the trivial baselines)."""

    def __init__(
        self,
        jl: np.ndarray,
        name: str,
        vertices: np.ndarray | None = None,
        faces: np.ndarray | None = None,
    ) -> None:
        jl = np.asarray(jl, dtype=np.float64)
        if jl.shape != (42, 3):
            raise ValueError(f"a fixed body needs jl (42, 3), got {jl.shape}")
        self.jl = jl - jl[0]
        self.vertices = None if vertices is None else np.asarray(vertices) - jl[0]
        self.faces = faces
        self.name = name

    def predict(self, inputs: PredictorInputs) -> Prediction:
        roots = _true_roots(inputs.samples)[:, None]
        return Prediction(
            joints=roots + self.jl[:NUM_JOINTS],
            landmarks=roots + self.jl[NUM_JOINTS:],
            vertices=None if self.vertices is None else roots + self.vertices,
            faces=self.faces,
        )


def mean_jl(jl3d: np.ndarray) -> np.ndarray:
    """``jl3d (N, 42, 3)`` camera-frame JL -> their mean root-relative JL ``(42, 3)``."""
    jl3d = np.asarray(jl3d, dtype=np.float64)
    if jl3d.ndim != 3 or jl3d.shape[1:] != (42, 3) or len(jl3d) < 1:
        raise ValueError(f"mean_jl needs jl3d (N, 42, 3) with N >= 1, got {jl3d.shape}")
    return (jl3d - jl3d[:, :1]).mean(axis=0)


def mean_jl_baseline(train_jl3d: np.ndarray) -> FixedBodyPredictor:
    """Baseline 'mean JL': the mean root-relative camera-frame JL of training crops for
    every image (points only: the best constant guess of Protocol 1 in the mean-square
    sense)."""
    return FixedBodyPredictor(mean_jl(train_jl3d), "mean training JL")


def mean_body_baseline(train_jl3d: np.ndarray, body: BodyModel) -> FixedBodyPredictor:
    """Baseline 'mean body': ``body`` (e.g. the neutral open model) with the mean shape
    (betas 0) in its rest pose (body pose 0), turned about its root by the rotation that
    best fits its JL to the training crops' mean JL (:func:`mean_jl`, least squares,
    no scale): a mesh for the surface error and the IoU."""
    target = torch.as_tensor(mean_jl(train_jl3d), dtype=body.dtype)
    zeros = {"betas": torch.zeros(1, body.num_betas, dtype=body.dtype)}
    with torch.no_grad():
        rest = body(**zeros)
        if rest.landmarks is None:
            raise ValueError("the mean-body baseline needs a body model with landmarks")
        jl = torch.cat([rest.joints, rest.landmarks], dim=1)[0]
        rotation = similarity_procrustes((jl - jl[0])[None], target[None], False).rotation
        posed = body(global_orient=matrix_to_axis_angle(rotation), **zeros)
    assert posed.landmarks is not None
    points = torch.cat([posed.joints, posed.landmarks], dim=1)[0].double().numpy()
    return FixedBodyPredictor(
        points,
        "mean body (rest pose, mean shape)",
        vertices=posed.vertices[0].double().numpy(),
        faces=body.faces.cpu().numpy(),
    )


def compact_table(summaries: Sequence[Mapping[str, Any]]) -> str:
    """One line per method: joints (Protocols 1 and 2), landmarks, surface (mm), IoU,
    gender accuracy; then the paper's SURREAL numbers for the same quantities."""
    from smplr.evaluation import paper_results as paper
    from smplr.evaluation.tables import format_cell

    header = "| method | joints P1 | joints P2 | landmarks P1 | surface P1 | IoU | gender |"
    lines = [header, "|" + "---|" * 7]
    for s in summaries:
        p1, p2 = s["protocol_1"], s["protocol_2"]
        gender = s.get("gender_accuracy")
        cells = [
            format_cell(p1["joints"]),
            format_cell(p2["joints"]),
            format_cell(p1.get("landmarks")),
            format_cell(p1.get("surface")),
            format_cell(s.get("silhouette_iou"), 3),
            format_cell(None if gender is None else 100 * gender, 1),
        ]
        lines.append(f"| {s['method']} | " + " | ".join(cells) + " |")
    rows = {row.model: row.values for row in paper.TABLE1}
    jt, lm = paper.TABLE1_COLUMNS.index("Avg. Jt"), paper.TABLE1_COLUMNS.index("Avg. Lm")
    lines.append("")
    lines.append(
        f"Paper (SURREAL): {paper.TABLE1_SOURCE}; {paper.TABLE3_SOURCE}; {paper.TABLE4_SOURCE}."
    )
    lines.append(header.replace("method", "paper row"))
    lines.append("|" + "---|" * 7)
    for model in (
        "Alexnet",
        "SHN_nL",
        "SHN",
        "SHN^final",
        "DAE_Alexnet",
        "DAE_SHN",
        "ALL",
        "ALL_Proc",
    ):
        values = rows[model]
        surface = {r[0]: r[1] for r in paper.TABLE3}.get(model)
        iou = dict(paper.TABLE4).get(model)
        cells = [
            format_cell(values[jt]),
            "-",
            format_cell(values[lm]),
            format_cell(surface),
            format_cell(None if iou is None else iou[0], 2),
            format_cell(paper.GENDER_ACCURACY_PERCENT if model == "ALL" else None),
        ]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
