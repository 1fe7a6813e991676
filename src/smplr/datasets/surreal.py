"""SURREAL (Varol et al., CVPR 2017) in its released layout.

Layout read (``root`` is the folder holding ``train/``, ``val/``, ``test/``, e.g.
``SURREAL/data/cmu``)::

    <split>/run{0,1,2}/<seq>/<seq>_c%04d_info.mat    annotations (required)
    <split>/run{0,1,2}/<seq>/<seq>_c%04d.mp4         RGB video, 320x240 (path only)
    <split>/run{0,1,2}/<seq>/<seq>_c%04d_segm.mat    segm_1..segm_T, 0 = background
    <split>/run{0,1,2}/<seq>/<seq>_c%04d_depth.mat   depth_1..depth_T (not read)

``_info.mat`` variables used: ``pose (72, T)``, ``shape (10, T)``, ``gender (T,)``
(0 female, 1 male), ``joints2D (2, 24, T)`` pixels, ``joints3D (3, 24, T)`` world metres,
``camLoc (3, 1)`` Blender camera location, ``zrot (T,)``; ``camDist`` and ``sequence``
are kept in ``Sample.source`` when present.

Facts used (from the dataset authors' ``datageneration/misc/3Dto2D`` scripts):

- intrinsics: f = 600 px, principal point (160, 120), image 320 x 240;
- extrinsics from ``camLoc`` T: ``R = [[0, 0, -1], [0, 1, 0], [-1, 0, 0]]``,
  ``t = -R @ T``, so ``round(K (R X + t))`` reproduces ``joints2D``;
- the SMPL global rotation in ``pose[0:3]`` is relative to the clip's body rotation:
  the world-frame orientation is ``Rx(90°) · Rz(zrot[0]) · R(pose[0:3])`` (the authors
  use the clip's first ``zrot`` for every frame); SURREAL stores no SMPL translation,
  so ``Sample.transl`` is None: place a body by its root joint (``joints3d[0]``).

Frames: ``Sample.image_path`` is the ``.mp4`` and ``Sample.frame`` the 0-based frame
index.  smplr does not decode video (no video dependency); extract frames with any
decoder (e.g. ``ffmpeg -i clip.mp4 frame_%06d.png``, where frame ``t`` is file ``t+1``).
Joint order is the file's: SMPL's 24 joints as named by the generator's bone table.

Sampling (paper 4.2): within a clip a frame is skipped when its mean joint displacement
from the last kept frame is below 5 cm (``min_displacement``; 0 keeps every frame).
Frames whose ``joints3D`` are all zero (unannotated frames, which the authors' own
training loader also skips) are dropped first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_JOINTS
from smplr.datasets.matfile import load_mat
from smplr.datasets.record import Camera, MaskRef, Sample
from smplr.datasets.sampling import SURREAL_MIN_DISPLACEMENT, displacement_subsample

SPLITS = ("train", "val", "test")
RUNS = (0, 1, 2)
IMAGE_WIDTH, IMAGE_HEIGHT = 320, 240
FOCAL_PX = 600.0
INTRINSICS = np.array(
    [[FOCAL_PX, 0.0, IMAGE_WIDTH / 2], [0.0, FOCAL_PX, IMAGE_HEIGHT / 2], [0.0, 0.0, 1.0]]
)
# World -> OpenCV camera rotation shared by every SURREAL clip.
WORLD_TO_CAMERA = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
# Rotation by +90° about x, applied after the clip's z rotation.
ROT_X_90 = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

INFO_KEYS = ("pose", "shape", "gender", "joints2D", "joints3D", "camLoc", "zrot")
_INFO_SUFFIX = "_info.mat"
_CLIP = re.compile(r"^(?P<seq>.+)_c(?P<cam>\d{4})_info\.mat$")


def camera_from_location(cam_loc: np.ndarray) -> Camera:
    """SURREAL's camera for a Blender camera location ``cam_loc (3,)``."""
    location = np.asarray(cam_loc, dtype=np.float64).reshape(3)
    return Camera(
        intrinsics=INTRINSICS.copy(),
        rotation=WORLD_TO_CAMERA.copy(),
        translation=-WORLD_TO_CAMERA @ location,
        width=IMAGE_WIDTH,
        height=IMAGE_HEIGHT,
    )


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def world_global_orient(pose_root: np.ndarray, zrot: float) -> np.ndarray:
    """World-frame SMPL global orientation (axis-angle) from ``pose[0:3]`` and ``zrot``."""
    pelvis = Rotation.from_rotvec(np.asarray(pose_root, dtype=np.float64)).as_matrix()
    return Rotation.from_matrix(ROT_X_90 @ _rot_z(zrot) @ pelvis).as_rotvec()


class SurrealReader:
    """Iterate over the samples of one SURREAL split.

    >>> reader = SurrealReader("SURREAL/data/cmu", split="test")   # doctest: +SKIP
    >>> for sample in reader: ...                                  # doctest: +SKIP

    ``runs``: which ``run*`` folders to read; ``min_displacement``: the paper's sampling
    threshold in metres (0 keeps every frame).  Each sample's ``source`` holds ``clip``
    (the ``_info.mat`` path), ``camDist``, ``sequence``, ``zrot`` and ``pose_root`` (the
    file's ``pose[0:3]``).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "test",
        runs: tuple[int, ...] = RUNS,
        min_displacement: float = SURREAL_MIN_DISPLACEMENT,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(
                f"unknown SURREAL split '{split}': expected one of {', '.join(SPLITS)}"
            )
        bad = [r for r in runs if r not in RUNS]
        if bad:
            raise ValueError(f"unknown SURREAL runs {bad}: expected a subset of {list(RUNS)}")
        self.root = Path(root)
        self.split = split
        self.runs = tuple(runs)
        self.min_displacement = float(min_displacement)
        split_dir = self.root / split
        if not split_dir.is_dir():
            raise FileNotFoundError(
                f"{split_dir}: SURREAL split folder not found (root must hold train/, val/, test/)"
            )

    def clips(self) -> list[Path]:
        """All ``_info.mat`` files of the split, sorted."""
        found: list[Path] = []
        for run in self.runs:
            run_dir = self.root / self.split / f"run{run}"
            if run_dir.is_dir():
                found.extend(p for p in run_dir.glob(f"*/*{_INFO_SUFFIX}") if _CLIP.match(p.name))
        if not found:
            raise FileNotFoundError(
                f"{self.root / self.split}: no run{{0,1,2}}/<seq>/<seq>_c####_info.mat files found"
            )
        return sorted(found)

    def __iter__(self) -> Iterator[Sample]:
        for clip in self.clips():
            yield from self.read_clip(clip)

    def read_clip(self, info_path: Path) -> list[Sample]:
        """The sampled frames of one clip, given its ``_info.mat``."""
        info_path = Path(info_path)
        info = load_mat(info_path, INFO_KEYS, optional=("camDist", "sequence"))
        pose = _frames(info_path, "pose", info["pose"], (NUM_JOINTS * 3,))
        num_frames = pose.shape[-1]
        shape = _frames(info_path, "shape", info["shape"], (10,), num_frames)
        joints3d = _frames(info_path, "joints3D", info["joints3D"], (3, NUM_JOINTS), num_frames)
        joints2d = _frames(info_path, "joints2D", info["joints2D"], (2, NUM_JOINTS), num_frames)
        gender = np.asarray(info["gender"]).reshape(-1)
        zrot = np.asarray(info["zrot"], dtype=np.float64).reshape(-1)
        cam_loc = np.asarray(info["camLoc"], dtype=np.float64).reshape(-1)
        if gender.size != num_frames:
            raise ValueError(
                f"{info_path}: gender has {gender.size} entries for {num_frames} frames"
            )
        if not np.isin(gender, (0, 1)).all():
            raise ValueError(
                f"{info_path}: gender must be 0 (female) or 1 (male), got {np.unique(gender)}"
            )
        if zrot.size == 0:
            raise ValueError(f"{info_path}: zrot is empty")
        if cam_loc.size != 3:
            raise ValueError(f"{info_path}: camLoc has {cam_loc.size} values; expected 3")
        for name, arr in (
            ("pose", pose),
            ("shape", shape),
            ("joints3D", joints3d),
            ("joints2D", joints2d),
        ):
            if not np.isfinite(arr).all():
                raise ValueError(f"{info_path}: {name} contains NaN or inf")

        camera = camera_from_location(cam_loc)
        world = np.moveaxis(joints3d, -1, 0).transpose(0, 2, 1)  # (T, 24, 3)
        pixels = np.moveaxis(joints2d, -1, 0).transpose(0, 2, 1)  # (T, 24, 2)
        stem = info_path.name[: -len(_INFO_SUFFIX)]
        video = info_path.with_name(f"{stem}.mp4")
        segm = info_path.with_name(f"{stem}_segm.mat")
        common_source = {
            "clip": info_path,
            "zrot": float(zrot[0]),
            "camDist": _scalar(info.get("camDist")),
            "sequence": _text(info.get("sequence")),
        }
        samples = []
        annotated = np.flatnonzero(np.abs(world).reshape(num_frames, -1).max(axis=1) > 0)
        kept = [
            int(annotated[i])
            for i in displacement_subsample(world[annotated], self.min_displacement)
        ]
        for t in kept:
            samples.append(
                Sample(
                    dataset="surreal",
                    split=self.split,
                    key=f"{info_path.relative_to(self.root).as_posix()}#{t}",
                    image_path=video,
                    frame=t,
                    joints3d=camera.world_to_camera(world[t]),
                    coordinates="camera",
                    joints2d=pixels[t].copy(),
                    joints2d_visible=np.ones(NUM_JOINTS, dtype=bool),
                    betas=shape[:, t].copy(),
                    body_pose=pose[3 : 3 + 3 * NUM_BODY_JOINTS, t].copy(),
                    global_orient=world_global_orient(pose[:3, t], float(zrot[0])),
                    transl=None,
                    gender="male" if int(gender[t]) == 1 else "female",
                    camera=camera,
                    mask=MaskRef(segm, "mat_segm", f"segm_{t + 1}"),
                    source={
                        **common_source,
                        "pose_root": pose[:3, t].copy(),
                        "joints3d_world": world[t].copy(),
                    },
                )
            )
        return samples


def _frames(
    path: Path, name: str, value: np.ndarray, lead: tuple[int, ...], frames: int | None = None
) -> np.ndarray:
    """``value`` as float64 ``(*lead, T)``; a clip of one frame may arrive without the T axis."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == lead:
        arr = arr[..., None]
    if arr.ndim != len(lead) + 1 or arr.shape[:-1] != lead:
        expected = ", ".join(str(d) for d in lead)
        raise ValueError(f"{path}: {name} has shape {arr.shape}; expected ({expected}, T)")
    if frames is not None and arr.shape[-1] != frames:
        raise ValueError(f"{path}: {name} has {arr.shape[-1]} frames but pose has {frames}")
    if arr.shape[-1] == 0:
        raise ValueError(f"{path}: {name} has no frames")
    return arr


def _scalar(value: object) -> float | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    return float(arr[0]) if arr.size else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    arr = np.asarray(value).reshape(-1)
    return str(arr[0]) if arr.size else None
