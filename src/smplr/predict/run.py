"""``smplr predict``: photos and videos in, SMPL bodies in the camera frame out.

    photo ─► detector (keypoints route) ─► pick a person ─► lift + fit (DAE, refinement with
    priors) ─► camera placement ─► predictions.npz, overlay PNG, meshes

A *keypoints route* turns an image into people's keypoints; :data:`KEYPOINT_ROUTES`
names them (today ``mediapipe``: BlazePose-33 from MediaPipe; the image model's route is
meant to be one more entry).  Videos go frame by frame through the same detector, keep
following one person (:func:`smplr.predict.selection.pick_person`), are fitted in one
batch, optionally smoothed over time (:mod:`smplr.predict.smoothing`) and come out as an
overlay video and a strip of frames.

Python::

    from smplr.predict import Predictor, predict_files
    predictor = Predictor()                        # MediaPipe + the shipped SMPLR
    people = predictor.predict([image])            # per image: a dict of arrays, or None
    reports = predict_files(["photo.jpg", "clip.mp4"], "out")   # what the command does

Every input that fails (unreadable, no person, undecodable video) is reported on one
line and the others are processed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import write_text_atomic
from smplr.body.mesh_io import write_meshes
from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS
from smplr.dae import denoise_array
from smplr.input_formats import MIN_VISIBLE
from smplr.pipeline import SMPLR
from smplr.predict.boxes import check_box
from smplr.predict.detector import (
    Detector,
    MediaPipeDetector,
    PoseDetection,
    find_people,
)
from smplr.predict.image_route import Crop, ImageKeypoints
from smplr.predict.lift import JOINT_READOUT, lift_blazepose
from smplr.predict.media import MediaInput, collect_inputs, open_video, read_image
from smplr.predict.outputs import (
    crop_around,
    frame_strip,
    render_overlay,
    resize,
    scaled_intrinsics,
    write_predictions,
    write_video,
)
from smplr.predict.placement import (
    FLIP,
    intrinsics,
    project,
    solve_translation,
    view_to_camera,
)
from smplr.predict.selection import pick_person
from smplr.predict.smoothing import smooth_track
from smplr.render import save_png

KEYPOINT_ROUTES: dict[str, str] = {
    "mediapipe": "MediaPipe BlazePose-33 (pip install 'smplr[photos]'): 33 landmarks with "
    "visibility and metric 3D world landmarks, lifted and fitted by SMPLR",
    "shn": "the paper's chain with smplr's own image model (shipped, no extra): a square "
    "crop (--box, else the whole photo) -> volumetric stacked hourglass -> 41 3D points "
    "-> DAE -> SMPLR; trained on synthetic renders only, photos only",
}
"""The ways from an image to keypoints ``smplr predict --keypoints`` offers: name -> help."""

DEFAULT_ROUTE = "mediapipe"
FIT_BATCH = 64
"""People fitted together (a video's frames): bounds the memory of skinning whole meshes."""

PARTS: dict[str, tuple[str, ...]] = {
    "head": ("head",),
    "left arm": ("left_elbow", "left_wrist"),
    "right arm": ("right_elbow", "right_wrist"),
    "hips": ("left_hip", "right_hip"),
    "legs": ("left_knee", "right_knee", "left_ankle", "right_ankle"),
    "feet": ("left_foot", "right_foot"),
}
"""Body parts named in 'guessed' notes, by the SMPL joints that show them."""


def guessed_parts(observed: np.ndarray) -> list[str]:
    """Names of :data:`PARTS` none of whose joints ``observed (24,)`` supports."""
    index = {name: i for i, name in enumerate(JOINT_NAMES)}
    return [part for part, joints in PARTS.items() if not any(observed[index[j]] for j in joints)]


def check_route(route: str) -> str:
    """``route`` if it names a keypoints route of :data:`KEYPOINT_ROUTES`, else a
    one-line ValueError listing them."""
    if route not in KEYPOINT_ROUTES:
        raise ValueError(
            f"unknown keypoints route '{route}': expected one of {', '.join(KEYPOINT_ROUTES)}"
        )
    return route


def build_detector(route: str, max_people: int = 2) -> Detector | None:
    """The detector of keypoints route ``route`` (None for ``shn``, which finds no people:
    it reads a crop); one-line ValueError when unknown or when its optional dependencies
    are missing."""
    if check_route(route) == "shn":
        return None
    return MediaPipeDetector(max_people=max_people)


@dataclass
class InputReport:
    """How one input went: ``status`` ``"ok"`` or ``"error"``, a one-line ``message``, the
    people fitted, the frames read (videos), and seconds spent detecting, fitting and
    rendering."""

    name: str
    kind: str
    status: str = "ok"
    message: str = ""
    people: int = 0
    frames: int = 0
    detect_s: float = 0.0
    fit_s: float = 0.0
    render_s: float = 0.0
    notes: list[str] = field(default_factory=list)


class Predictor:
    """Detector + SMPLR: images to SMPL bodies in the camera frame.

    ``keypoints``: a route of :data:`KEYPOINT_ROUTES` (its detector is built here unless
    ``detector`` is given, e.g. a fake in tests; the ``shn`` route's image model is
    ``image_model``, default the shipped one); ``model``: SMPLR (default the shipped
    one); ``refine``: LM steps onto the visible landmarks (with priors), or onto the
    image model's points; ``focal``: pixels (default
    :func:`smplr.predict.placement.default_focal`); ``procrustes``: ``shn`` route, align
    the body onto the image model's points by a similarity (the paper's post-processing).
    """

    def __init__(
        self,
        keypoints: str = DEFAULT_ROUTE,
        model: SMPLR | None = None,
        detector: Detector | None = None,
        refine: int = 10,
        focal: float | None = None,
        device: str = "cpu",
        lift: str = "joints24",
        image_model: ImageKeypoints | None = None,
        procrustes: bool = False,
    ) -> None:
        check_route(keypoints)
        if focal is not None and not focal > 0:
            raise ValueError(f"focal length must be > 0 pixels, got {focal}")
        if procrustes and keypoints != "shn":
            raise ValueError("--procrustes aligns onto the image model's points: --keypoints shn")
        self.keypoints = keypoints
        self.model = model if model is not None else SMPLR.pretrained(device)
        self.detector = detector if detector is not None else build_detector(keypoints)
        self.image_model: ImageKeypoints | None = None
        if keypoints == "shn":
            self.image_model = image_model or ImageKeypoints.load(device=str(self.model.device))
        self.refine = refine
        self.focal = focal
        self.lift = lift
        self.procrustes = procrustes

    @property
    def faces(self) -> np.ndarray:
        return self.model.body.faces.cpu().numpy()

    def fit(
        self, people: Sequence[PoseDetection], sizes: Sequence[tuple[int, int]]
    ) -> list[dict[str, np.ndarray]]:
        """Fit detected ``people`` seen in images of ``sizes`` ``(H, W)`` (in batches of
        :data:`FIT_BATCH`): one dict per person with the
        :data:`smplr.predict.outputs.PREDICTION_KEYS` arrays (but ``names`` and
        ``frame``) plus ``vertices (V, 3)`` and ``reprojection_px`` (mean pixel distance
        of the body's observed joints to the detector's)."""
        rows: list[dict[str, np.ndarray]] = []
        for start in range(0, len(people), FIT_BATCH):
            end = start + FIT_BATCH
            rows.extend(self._fit_batch(people[start:end], sizes[start:end]))
        return rows

    def _fit_batch(
        self, people: Sequence[PoseDetection], sizes: Sequence[tuple[int, int]]
    ) -> list[dict[str, np.ndarray]]:
        world = np.stack([p.world for p in people])
        visibility = np.stack([p.visibility for p in people])
        lifted = lift_blazepose(self.model, world, visibility, self.refine, self.lift)
        arrays = {k: v.astype(np.float64) for k, v in lifted.result.numpy().items()}
        Ks = np.stack([intrinsics(w, h, self.focal) for h, w in sizes])
        turned = view_to_camera(arrays, np.zeros((len(people), 3)))
        targets = np.einsum("jk,nkd->njd", JOINT_READOUT, np.stack([p.pixels for p in people]))
        shifts = np.stack(
            [
                self._place(turned["joints"][i], targets[i], lifted.observed[i], person, Ks[i])
                for i, person in enumerate(people)
            ]
        )
        camera = view_to_camera(arrays, shifts)
        rows = []
        for i in range(len(people)):
            row = _camera_row(camera, i, Ks[i], sizes[i], lifted.observed[i])
            error = np.linalg.norm(project(camera["joints"][i], Ks[i]) - targets[i], axis=1)
            error = error[lifted.observed[i]]
            row["reprojection_px"] = np.float32(error.mean() if error.size else np.nan)
            rows.append(row)
        return rows

    def _detector(self) -> Detector:
        if self.detector is None:
            raise ValueError(f"the {self.keypoints} route finds no people: it reads crops")
        return self.detector

    def fit_crops(
        self, images: Sequence[np.ndarray], crops: Sequence[Crop]
    ) -> list[dict[str, np.ndarray]]:
        """The ``shn`` route: one body per ``images[i] (H, W, 3) uint8`` read in
        ``crops[i]`` (:mod:`smplr.predict.image_route`), as :meth:`fit`'s dicts; every
        joint counts as observed and ``reprojection_px`` is NaN (no 2D evidence)."""
        if self.image_model is None:
            raise ValueError("fit_crops needs the shn route (keypoints='shn')")
        rows: list[dict[str, np.ndarray]] = []
        side = self.image_model.input_size
        for start in range(0, len(images), FIT_BATCH):
            chunk = range(start, min(start + FIT_BATCH, len(images)))
            pixels = np.stack([crops[i].pixels(images[i], side) for i in chunk])
            sizes = [images[i].shape[:2] for i in chunk]
            Ks = np.stack([intrinsics(w, h, self.focal) for h, w in sizes])
            cameras = np.stack(
                [crops[i].intrinsics(K, side) for i, K in zip(chunk, Ks, strict=True)]
            )
            jl = self.image_model.jl(pixels, cameras) * FLIP  # camera axes -> SMPLR's view frame
            own_dae = self.image_model.dae
            if own_dae is not None:  # DAE_SHN, in the view frame like SMPLR's DAE
                jl = denoise_array(own_dae, jl)
            # No input checks: they guard a user's keypoints against wrong units, but a
            # skeleton the image model drew small on an unfamiliar photo is its reading of
            # the crop, to fit like any other (smplr.keypoint_checks).
            result = self.model.fit(
                jl,
                "jl42",
                use_dae=own_dae is None,
                procrustes=self.procrustes,
                refine=self.refine,
                checks=False,
            )
            arrays = {k: v.astype(np.float64) for k, v in result.numpy().items()}
            turned = view_to_camera(arrays, np.zeros((len(chunk), 3)))["joints"]
            targets = np.stack(
                [
                    crops[i].mean_joint(K, self.image_model.crop_metres)
                    for i, K in zip(chunk, Ks, strict=True)
                ]
            )
            camera = view_to_camera(arrays, targets - turned.mean(axis=1))
            for k in range(len(chunk)):
                rows.append(
                    _camera_row(camera, k, Ks[k], sizes[k], np.ones(NUM_JOINTS, dtype=bool))
                )
        return rows

    @staticmethod
    def _place(
        joints: np.ndarray, pixels: np.ndarray, observed: np.ndarray, person: PoseDetection,
        K: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Camera translation of a body (``joints (24, 3)`` camera axes) that puts its
        observed joints on their detected ``pixels (24, 2)``; with fewer than two observed
        joints, the detector's world landmarks on its visible pixels."""
        if observed.sum() >= 2:
            return solve_translation(joints, pixels, observed.astype(np.float64), K)
        weights = person.visibility * person.visible
        return solve_translation(person.world, person.pixels, weights, K)

    def predict(
        self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray | None] | None = None
    ) -> list[dict[str, np.ndarray] | None]:
        """Per RGB image ``(H, W, 3) uint8``: the largest person's fit (:meth:`fit`'s
        dict, with a ``note``), or None when nobody was found.  The ``shn`` route reads
        the crop around ``boxes[i]`` ``(x0, y0, x1, y1)`` pixels, or the whole image."""
        if self.image_model is not None:
            boxes = boxes if boxes is not None else [None] * len(images)
            crops = [
                Crop.whole(*image.shape[:2])
                if box is None
                else Crop.around_box(check_box(box, *image.shape[:2]))
                for image, box in zip(images, boxes, strict=True)
            ]
            rows = self.fit_crops(images, crops)
            for row in rows:
                row["note"] = np.array("")
            return list(rows)
        out: list[dict[str, np.ndarray] | None] = []
        for image in images:
            found = find_people(self._detector(), image)
            if not found:
                out.append(None)
                continue
            choice = pick_person(found)
            row = self.fit([found[choice.index]], [image.shape[:2]])[0]
            row["note"] = np.array(choice.note)
            out.append(row)
        return out


def _camera_row(
    camera: dict[str, np.ndarray], i: int, K: np.ndarray, size: tuple[int, int],
    observed: np.ndarray,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Body ``i`` of the camera-frame arrays ``camera`` as one output row (float32)."""
    row = {key: camera[key][i].astype(np.float32) for key in _BODY_ARRAYS}
    row.update(
        gender=np.float32(camera["gender"][i]),
        intrinsics=K.astype(np.float32),
        image_size=np.array(size, dtype=np.int64),
        observed=observed,
        reprojection_px=np.float32(np.nan),
    )
    return row


_BODY_ARRAYS = ("betas", "global_orient", "body_pose", "transl", "joints", "landmarks", "vertices")


def _unique_stem(path: Path, used: set[str]) -> str:
    stem = path.stem
    candidate, number = stem, 1
    while candidate in used:
        number += 1
        candidate = f"{stem}_{number}"
    used.add(candidate)
    return candidate


@dataclass
class PredictOptions:
    """What :func:`predict_files` writes besides ``predictions.npz``: ``mesh_dir`` (one
    OBJ per fitted person), overlays at most ``overlay_side`` pixels; for videos every
    ``frame_step``-th frame, at most ``max_frames``, parameters smoothed over ``smooth``
    frames (Gaussian σ; 0 = off), an overlay video (``video``) and a strip of
    ``strip_frames`` frames; for the ``shn`` route the person box of every photo
    (``box``) or per file name (``boxes``)."""

    mesh_dir: Path | None = None
    overlay_side: int = 1024
    frame_step: int = 1
    max_frames: int | None = None
    smooth: float = 2.0
    video: bool = True
    strip_frames: int = 6
    video_side: int = 640
    box: np.ndarray | None = None
    boxes: dict[str, np.ndarray] = field(default_factory=dict)

    def box_of(self, name: str) -> np.ndarray | None:
        """The person box ``(x0, y0, x1, y1)`` pixels for input ``name`` (``shn`` route):
        its entry in ``boxes``, else ``box``, else None (the whole photo)."""
        return self.boxes.get(name, self.box)


def _note_guessed(row: dict[str, np.ndarray]) -> str:
    guessed = guessed_parts(row["observed"])
    return f"not visible, guessed from the prior: {', '.join(guessed)}" if guessed else ""


def _photo_by_detector(
    predictor: Predictor, image: np.ndarray, item: MediaInput, report: InputReport
) -> dict[str, np.ndarray]:
    """The largest person the detector finds in ``image``, fitted."""
    start = time.perf_counter()
    found = find_people(predictor._detector(), image)
    report.detect_s = time.perf_counter() - start
    if not found:
        raise ValueError(f"{item.name}: no person found")
    choice = pick_person(found)
    if choice.note:
        report.notes.append(choice.note)
    seen = int(found[choice.index].visible.sum())
    if seen < MIN_VISIBLE:
        raise ValueError(f"{item.name}: a person found, but only {seen} landmarks visible")
    start = time.perf_counter()
    row = predictor.fit([found[choice.index]], [image.shape[:2]])[0]
    report.fit_s = time.perf_counter() - start
    guessed = _note_guessed(row)
    if guessed:
        report.notes.append(guessed)
    report.notes.append(f"reprojection {float(row['reprojection_px']):.1f} px")
    return row


def _photo_by_crop(
    predictor: Predictor, image: np.ndarray, item: MediaInput, options: PredictOptions,
    report: InputReport,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The ``shn`` route: the person in the photo's box (``options``), else the photo."""
    height, width = image.shape[:2]
    box = options.box_of(item.name)
    if box is None:
        crop = Crop.whole(height, width)
        report.notes.append("crop: the whole photo (give --box for a person in a larger scene)")
    else:
        crop = Crop.around_box(check_box(box, height, width, item.name))
        report.notes.append("crop: around the box")
    start = time.perf_counter()
    row = predictor.fit_crops([image], [crop])[0]
    report.fit_s = time.perf_counter() - start
    return row


def _predict_photo(
    predictor: Predictor, item: MediaInput, stem: str, out: Path, options: PredictOptions,
    report: InputReport, rows: list[dict[str, np.ndarray]],
) -> None:  # fmt: skip
    image = read_image(item.path)
    if predictor.image_model is not None:
        row = _photo_by_crop(predictor, image, item, options, report)
    else:
        row = _photo_by_detector(predictor, image, item, report)
    start = time.perf_counter()
    picture = render_overlay(
        image, row["vertices"], predictor.faces, row["intrinsics"], options.overlay_side
    )
    save_png(out / "overlays" / f"{stem}.png", picture)
    if options.mesh_dir is not None:
        write_meshes(row["vertices"][None], predictor.faces, options.mesh_dir, "obj", stem)
    report.render_s = time.perf_counter() - start
    row.update(names=np.array(item.name), frame=np.int64(-1))
    rows.append(row)
    report.people = 1


def _fittable(person: PoseDetection) -> bool:
    return int(person.visible.sum()) >= MIN_VISIBLE


def _repose(model: SMPLR, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Joints, landmarks, vertices and ``transl`` of bodies given ``betas, gender,
    global_orient, body_pose`` and their root joint's position ``root (T, 3)``."""

    def on_device(values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values, dtype=torch.float32, device=model.device)

    tensor = {k: on_device(params[k]) for k in ("betas", "global_orient", "body_pose")}
    gender = on_device(params["gender"]).clamp(-1, 1)
    with torch.no_grad():
        posed = model.body(gender, tensor["betas"], tensor["global_orient"], tensor["body_pose"])
    joints = posed.joints.cpu().numpy()
    shift = params["root"] - joints[:, 0]
    return {
        "transl": shift,
        "joints": joints + shift[:, None],
        "landmarks": posed.landmarks.cpu().numpy() + shift[:, None],
        "vertices": posed.vertices.cpu().numpy() + shift[:, None],
    }


def _predict_video(
    predictor: Predictor, item: MediaInput, stem: str, out: Path, options: PredictOptions,
    report: InputReport, rows: list[dict[str, np.ndarray]],
) -> None:  # fmt: skip
    if predictor.detector is None:
        raise ValueError(f"{item.name}: videos need a detector route (--keypoints mediapipe)")
    detector = predictor.detector
    video = open_video(item.path)
    frames: list[tuple[int, np.ndarray]] = []  # (frame index, frame shrunk for rendering)
    people: list[PoseDetection] = []
    kept: list[int] = []  # positions in frames of the frames with a person
    segments: list[int] = []  # per kept frame: which stretch of one followed person
    previous = None
    notes: set[str] = set()
    start = time.perf_counter()
    for index, frame in video.frames(options.frame_step, options.max_frames):
        frames.append((index, resize(frame, options.video_side)[0]))
        found = [p for p in find_people(detector, frame, previous) if _fittable(p)]
        if not found:
            continue
        choice = pick_person(found, previous)
        if choice.note:
            notes.add(choice.note.split(":")[0] if "lost" in choice.note else choice.note)
        lost = previous is not None and "lost" in choice.note
        segments.append((segments[-1] if segments else 0) + int(lost))
        previous = found[choice.index].box()
        people.append(found[choice.index])
        kept.append(len(frames) - 1)
    report.detect_s = time.perf_counter() - start
    report.frames = len(frames)
    if not people:
        raise ValueError(f"{item.name}: no person found in any of {len(frames)} frames")
    if len(kept) < len(frames):
        report.notes.append(f"no person in {len(frames) - len(kept)} of {len(frames)} frames")
    report.notes.extend(sorted(notes))
    start = time.perf_counter()
    fitted = predictor.fit(people, [(video.height, video.width)] * len(people))
    if options.smooth > 0:
        frame_index = np.array([frames[k][0] for k in kept])
        for segment in sorted(set(segments)):
            rows_in = [i for i, s in enumerate(segments) if s == segment]
            if len(rows_in) > 1:
                stretch = [fitted[i] for i in rows_in]
                _smooth(predictor.model, frame_index[rows_in], stretch, options.smooth)
        report.notes.append(f"smoothed over time (sigma {options.smooth:g} frames)")
    if segments[-1] > 0:
        report.notes.append(f"the person followed changed {segments[-1]} times (smoothed apart)")
    report.fit_s = time.perf_counter() - start
    counts: dict[str, int] = {}
    for row in fitted:
        for part in guessed_parts(row["observed"]):
            counts[part] = counts.get(part, 0) + 1
    if counts:
        listed = ", ".join(f"{part} in {n} frames" for part, n in counts.items())
        report.notes.append(f"not visible, guessed from the prior: {listed}")
    reprojection = np.array([float(r["reprojection_px"]) for r in fitted])
    report.notes.append(f"median reprojection {np.nanmedian(reprojection):.1f} px")

    start = time.perf_counter()
    by_frame = dict(zip(kept, fitted, strict=True))
    count = min(options.strip_frames, len(kept))  # strip frames: evenly among fitted ones
    strip_at = {kept[i] for i in np.linspace(0, len(kept) - 1, count).round().astype(int)}
    strip, movie = [], []
    factor = frames[0][1].shape[1] / video.width
    for k, (_, small) in enumerate(frames):
        if not (options.video or k in strip_at):
            continue
        shown = by_frame.get(k)
        picture = small
        if shown is not None:
            K = scaled_intrinsics(shown["intrinsics"], factor)
            picture = render_overlay(small, shown["vertices"], predictor.faces, K, None)
        if k in strip_at:  # close-ups: people are often small in a video frame
            strip.append(crop_around(picture, people[kept.index(k)].box() * factor))
        if options.video:
            movie.append(picture)
    save_png(out / "overlays" / f"{stem}_strip.png", frame_strip(strip))
    if options.video:
        write_video(out / "overlays" / f"{stem}_overlay.mp4", movie, video.fps / options.frame_step)
    for k, row in by_frame.items():
        name = f"{stem}_frame{frames[k][0]:06d}"
        if options.mesh_dir is not None:
            write_meshes(row["vertices"][None], predictor.faces, options.mesh_dir, "obj", name)
        row.update(names=np.array(f"{item.name}#{frames[k][0]:06d}"), frame=np.int64(frames[k][0]))
        rows.append(row)
    report.render_s = time.perf_counter() - start
    report.people = len(by_frame)


def _smooth(
    model: SMPLR, frames: np.ndarray, fitted: list[dict[str, np.ndarray]], sigma: float
) -> None:
    """Smooth one track's fits in place over ``frames (T,)`` (Gaussian σ in frames) and
    pose the bodies again."""
    keys = ("betas", "gender", "global_orient", "body_pose")
    params = {k: np.stack([r[k] for r in fitted]).astype(np.float64) for k in keys}
    params["root"] = np.stack([r["joints"][0] for r in fitted]).astype(np.float64)
    smoothed = smooth_track(frames, params, sigma)
    smoothed.update(_repose(model, smoothed))
    for i, row in enumerate(fitted):
        for key in (*keys, "transl", "joints", "landmarks", "vertices"):
            row[key] = np.asarray(smoothed[key][i], dtype=np.float32)


def _missing(
    predictor: Predictor, item: MediaInput, stem: str, out: Path, options: PredictOptions,
    report: InputReport, rows: list[dict[str, np.ndarray]],
) -> None:  # fmt: skip
    what = "folder holds no image or video files" if item.path.is_dir() else "no such file"
    raise ValueError(f"{item.path}: {what}")


def predict_files(
    paths: Sequence[str | Path],
    out: str | Path,
    predictor: Predictor | None = None,
    options: PredictOptions | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[InputReport]:
    """Run ``predictor`` (default: :class:`Predictor` ``()``) on every photo, folder of
    photos or video in ``paths``; write ``out/predictions.npz``, ``out/overlays/``,
    ``out/summary.json`` (the reports).  Inputs that fail are reported (status
    ``"error"``, a one-line message; ``echo`` is called with it) and skipped."""
    out = Path(out)
    options = options or PredictOptions()
    items = collect_inputs(paths)
    predictor = predictor or Predictor()
    rows: list[dict[str, np.ndarray]] = []
    reports: list[InputReport] = []
    used: set[str] = set()
    for item in items:
        report = InputReport(item.name, item.kind)
        stem = _unique_stem(item.path, used)
        handlers = {"video": _predict_video, "image": _predict_photo, "missing": _missing}
        handler = handlers[item.kind]
        try:
            handler(predictor, item, stem, out, options, report, rows)
        except ValueError as exc:
            report.status, report.message = "error", str(exc)
        reports.append(report)
        if echo is not None:
            echo(describe(report))
    write_predictions(out / "predictions.npz", rows)
    summary = [asdict(r) for r in reports]
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return reports


def describe(report: InputReport) -> str:
    """One line for the user about one input."""
    if report.status != "ok":
        return f"error: {report.message}"
    frames = f", {report.people}/{report.frames} frames" if report.kind == "video" else ""
    times = (
        f"detect {report.detect_s:.2f} s, fit {report.fit_s:.2f} s, render {report.render_s:.2f} s"
    )
    notes = f"; {'; '.join(report.notes)}" if report.notes else ""
    return f"{report.name}: fitted{frames} ({times}){notes}"
