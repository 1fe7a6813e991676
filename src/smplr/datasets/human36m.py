"""Human3.6M (Ionescu et al., TPAMI 2014) in the two most used preprocessed layouts.

Splits (paper 4.2): train = S1, S5, S6, S7, S8; test = S9, S11; 4 cameras; 1 frame in 5.

**Layout "videopose3d"** — the files written by VideoPose3D's
``data/prepare_data_h36m.py`` (also used by many lifting methods)::

    data_3d_h36m.npz      positions_3d: {subject: {action: (T, 32, 3)}}, world frame, metres
    data_2d_h36m_gt.npz   optional; positions_2d: {subject: {action: [4 x (T, 17, 2)]}} pixels
    h36m_cameras.json     optional; per subject and camera id:
                          {"R": 3x3 world->camera rotation, "t": 3 world->camera translation
                           in metres, "f": [fx, fy], "c": [cx, cy], "width": w, "height": h}

One sample per (subject, action, camera, kept frame); cameras in the order
54138969, 55011271, 58860488, 60457274.  With ``h36m_cameras.json`` the joints are in
camera coordinates; without it they stay in the world frame (``coordinates="world"``,
``camera=None``): fine for root-relative and Procrustes metrics against predictions made
in the same frame.  Human3.6M's calibration gives R and the camera *position* T in mm; the
translation here is ``t = -R @ T / 1000``.  (The ``.npz`` files hold pickled dicts and
are read with ``allow_pickle=True``: only read files you made or trust.)

**Layout "spin"** — the evaluation files of SPIN / GraphCMR (``datasets/preprocess/h36m.py``),
e.g. ``h36m_valid_protocol1.npz`` (S9, S11, every 5th frame, 4 cameras) and
``h36m_valid_protocol2.npz`` (camera 60457274 only): ``imgname (N,)``, ``S (N, 24, 4)``
(x, y, z in metres in camera axes with the pelvis at the origin, and a validity flag),
in SPIN's 24-joint order; frames are already subsampled by the file.
``coordinates="camera_root_relative"``.

**Joints.** Human3.6M's skeleton is not SMPL's.  Its joints map to SMPL joints as in
``H36M32_TO_SMPL`` (16 joints: pelvis, hips, knees, ankles ("foot"), spine -> spine2,
thorax -> neck, head, shoulders, elbows, wrists); the nose and the duplicated/end joints
have no SMPL counterpart.  The mapping is **approximate** (the points are placed
differently on the body, e.g. Human3.6M's pelvis and head), so errors against it include
a systematic offset and are not comparable to numbers computed on Human3.6M's own
17-joint protocol.  ``Sample.joint_mask`` marks the 16 mapped joints; others are NaN.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

from smplr.datasets.record import Camera, Coordinates, Sample, smpl_mask, smpl_order
from smplr.datasets.sampling import HUMAN36M_EVERY, every_nth

SUBJECTS = {"train": ("S1", "S5", "S6", "S7", "S8"), "test": ("S9", "S11")}
CAMERA_IDS = ("54138969", "55011271", "58860488", "60457274")
Layout = Literal["videopose3d", "spin"]

# SMPL joint standing in for each of Human3.6M's 32 joints (-1: none).  Approximate.
H36M32_TO_SMPL: tuple[int, ...] = (
    0, 2, 5, 8, -1, -1, 1, 4, 7, -1, -1, -1, 6, 12, -1, 15,
    -1, 16, 18, 20, -1, -1, -1, -1, -1, 17, 19, 21, -1, -1, -1, -1,
)  # fmt: skip
# The 17 joints kept by most 2D/3D pose work (VideoPose3D's 2D files use this order).
H36M17_FROM_32: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
H36M17_TO_SMPL: tuple[int, ...] = tuple(H36M32_TO_SMPL[i] for i in H36M17_FROM_32)
# SPIN's 24-joint order: the Human3.6M joints it fills, as SMPL joints.
SPIN24_TO_SMPL: tuple[int, ...] = (
    8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, -1, 0, -1, 6, -1, 15, -1, -1, -1, -1, -1,
)  # fmt: skip

VIDEOPOSE3D_3D = "data_3d_h36m.npz"
VIDEOPOSE3D_2D = "data_2d_h36m_gt.npz"
CAMERAS_JSON = "h36m_cameras.json"
SPIN_FILES = ("h36m_valid_protocol1.npz", "h36m_valid_protocol2.npz")


def _load_npz(path: Path, keys: tuple[str, ...], allow_pickle: bool) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        npz = np.load(path, allow_pickle=allow_pickle)
    except (zipfile.BadZipFile, pickle.UnpicklingError, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable .npz file: {exc}") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single array (.npy), not an .npz archive")
    with npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: missing arrays {missing} (has {sorted(npz.files)})")
        try:
            return {k: npz[k] for k in keys}
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable .npz file: {exc}") from exc


def _nested_dict(path: Path, name: str, value: np.ndarray) -> dict:
    obj = value.item() if value.dtype == object and value.shape == () else None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: {name} must be a pickled dict {{subject: {{action: array}}}}")
    return obj


def load_cameras(path: Path) -> dict[str, dict[str, Camera]]:
    """Cameras from smplr's ``h36m_cameras.json`` layout (see the module docstring)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: camera file not found")
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError(
            f"{path}: expected {{subject: {{camera_id: {{R, t, f, c, width, height}}}}}}"
        )
    cameras: dict[str, dict[str, Camera]] = {}
    for subject, per_camera in raw.items():
        if not isinstance(per_camera, dict):
            raise ValueError(f"{path}: {subject} must map camera ids to camera objects")
        cameras[subject] = {}
        for cam_id, spec in per_camera.items():
            where = f"{path}: {subject}/{cam_id}"
            try:
                rotation = np.asarray(spec["R"], dtype=np.float64)
                translation = np.asarray(spec["t"], dtype=np.float64)
                focal = np.asarray(spec["f"], dtype=np.float64)
                centre = np.asarray(spec["c"], dtype=np.float64)
                width, height = int(spec["width"]), int(spec["height"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{where}: needs R (3x3), t (3), f (2), c (2), width, height: {exc}"
                ) from exc
            if (
                rotation.shape != (3, 3)
                or translation.shape != (3,)
                or focal.shape != (2,)
                or centre.shape != (2,)
            ):
                raise ValueError(f"{where}: R must be 3x3, t of 3 values, f and c of 2 values")
            if (
                not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-4)
                or np.linalg.det(rotation) < 0
            ):
                raise ValueError(f"{where}: R is not a rotation matrix")
            intrinsics = np.array([[focal[0], 0, centre[0]], [0, focal[1], centre[1]], [0, 0, 1.0]])
            cameras[subject][str(cam_id)] = Camera(intrinsics, rotation, translation, width, height)
    return cameras


def detect_layout(root: Path) -> tuple[Layout, Path]:
    """Which layout ``root`` (a folder or an ``.npz`` file) holds, and its main file."""
    if root.is_file():
        try:
            with np.load(root, allow_pickle=False) as npz:
                files = set(npz.files)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{root}: not a readable .npz file: {exc}") from exc
        if "positions_3d" in files:
            return "videopose3d", root
        if {"imgname", "S"} <= files:
            return "spin", root
        raise ValueError(
            f"{root}: neither VideoPose3D (positions_3d) nor SPIN (imgname, S) layout; has {sorted(files)}"
        )
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: Human3.6M folder or file not found")
    if (root / VIDEOPOSE3D_3D).is_file():
        return "videopose3d", root / VIDEOPOSE3D_3D
    for name in SPIN_FILES:
        if (root / name).is_file():
            return "spin", root / name
    raise FileNotFoundError(
        f"{root}: no Human3.6M files found; expected {VIDEOPOSE3D_3D} (VideoPose3D layout) "
        f"or one of {', '.join(SPIN_FILES)} (SPIN layout)"
    )


class Human36mReader:
    """Iterate over Human3.6M samples of one split.

    >>> for sample in Human36mReader("h36m", split="test"): ...   # doctest: +SKIP

    ``root``: a folder holding the files of one layout, or the main ``.npz`` file itself.
    ``every``: keep 1 frame in ``every`` (videopose3d layout; the paper's 5).
    ``cameras``: a ``h36m_cameras.json`` (default: the one beside the data, if any).
    ``source`` per sample: ``subject``, ``action``, ``camera_id`` and the layout's raw
    joints (``h36m32_world`` or ``spin24``).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "test",
        every: int = HUMAN36M_EVERY,
        cameras: str | Path | None = None,
    ) -> None:
        if split not in SUBJECTS:
            raise ValueError(f"unknown Human3.6M split '{split}': expected train or test")
        self.split = split
        self.subjects = SUBJECTS[split]
        self.every = every
        self.layout, self.path = detect_layout(Path(root))
        folder = self.path.parent
        camera_file = Path(cameras) if cameras is not None else folder / CAMERAS_JSON
        if cameras is not None and not camera_file.is_file():
            raise FileNotFoundError(f"{camera_file}: camera file not found")
        self.cameras = load_cameras(camera_file) if camera_file.is_file() else None

    def __iter__(self) -> Iterator[Sample]:
        if self.layout == "videopose3d":
            yield from self._videopose3d()
        else:
            yield from self._spin()

    # ------------------------------------------------------------------ VideoPose3D
    def _videopose3d(self) -> Iterator[Sample]:
        positions = _nested_dict(
            self.path, "positions_3d", _load_npz(self.path, ("positions_3d",), True)["positions_3d"]
        )
        path_2d = self.path.with_name(VIDEOPOSE3D_2D)
        positions_2d = None
        if path_2d.is_file():
            positions_2d = _nested_dict(
                path_2d, "positions_2d", _load_npz(path_2d, ("positions_2d",), True)["positions_2d"]
            )
        missing = [s for s in self.subjects if s not in positions]
        if missing:
            raise ValueError(
                f"{self.path}: subjects {missing} of the {self.split} split are missing"
            )
        mask = smpl_mask(H36M32_TO_SMPL)
        for subject in self.subjects:
            for action in sorted(positions[subject]):
                world = np.asarray(positions[subject][action], dtype=np.float64)
                if world.ndim != 3 or world.shape[1:] != (32, 3):
                    raise ValueError(
                        f"{self.path}: {subject}/{action} has shape {world.shape}; expected (T, 32, 3)"
                    )
                if not np.isfinite(world).all():
                    raise ValueError(f"{self.path}: {subject}/{action} contains NaN or inf")
                views_2d = self._views_2d(path_2d, positions_2d, subject, action, world.shape[0])
                for c, cam_id in enumerate(CAMERA_IDS):
                    camera = self._camera(subject, cam_id)
                    for t in every_nth(world.shape[0], self.every):
                        joints = world[t] if camera is None else camera.world_to_camera(world[t])
                        pixels = (
                            None if views_2d is None else smpl_order(views_2d[c][t], H36M17_TO_SMPL)
                        )
                        yield Sample(
                            dataset="human36m",
                            split=self.split,
                            key=f"{subject}/{action}/{cam_id}#{t}",
                            frame=t,
                            joints3d=smpl_order(joints, H36M32_TO_SMPL),
                            joint_mask=mask.copy(),
                            coordinates="world" if camera is None else "camera",
                            joints2d=pixels,
                            joints2d_visible=None if pixels is None else mask.copy(),
                            camera=camera,
                            source={
                                "subject": subject,
                                "action": action,
                                "camera_id": cam_id,
                                "h36m32_world": world[t],
                            },
                        )

    def _views_2d(
        self, path: Path, positions_2d: dict | None, subject: str, action: str, frames: int
    ) -> list[np.ndarray] | None:
        if positions_2d is None:
            return None
        try:
            views = [np.asarray(v, dtype=np.float64) for v in positions_2d[subject][action]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: no 2D poses for {subject}/{action}") from exc
        if len(views) != len(CAMERA_IDS) or any(v.shape != (frames, 17, 2) for v in views):
            shapes = [v.shape for v in views]
            raise ValueError(
                f"{path}: {subject}/{action} 2D poses {shapes}; expected 4 x ({frames}, 17, 2)"
            )
        return views

    def _camera(self, subject: str, cam_id: str) -> Camera | None:
        if self.cameras is None:
            return None
        try:
            return self.cameras[subject][cam_id]
        except KeyError:
            raise ValueError(f"camera file has no camera {cam_id} for subject {subject}") from None

    # ------------------------------------------------------------------ SPIN
    def _spin(self) -> Iterator[Sample]:
        data = _load_npz(self.path, ("imgname", "S"), False)
        names = np.asarray(data["imgname"]).astype(str)
        joints = np.asarray(data["S"], dtype=np.float64)
        if joints.ndim != 3 or joints.shape[1:] != (24, 4) or joints.shape[0] != names.shape[0]:
            raise ValueError(
                f"{self.path}: S has shape {joints.shape} for {names.shape[0]} images; expected (N, 24, 4)"
            )
        if not np.isfinite(joints).all():
            raise ValueError(f"{self.path}: S contains NaN or inf")
        mapped = smpl_mask(SPIN24_TO_SMPL)
        kept = 0
        for i, name in enumerate(names):
            subject, action, cam_id, frame = _parse_spin_name(self.path, name)
            if subject not in self.subjects:
                continue
            kept += 1
            valid = smpl_order(joints[i, :, 3:4], SPIN24_TO_SMPL, fill=0.0)[:, 0] > 0
            coordinates: Coordinates = "camera_root_relative"
            yield Sample(
                dataset="human36m",
                split=self.split,
                key=Path(name).stem,
                image_path=self.path.parent / name,
                frame=frame,
                joints3d=np.where(
                    (mapped & valid)[:, None], smpl_order(joints[i, :, :3], SPIN24_TO_SMPL), np.nan
                ),
                joint_mask=mapped & valid,
                coordinates=coordinates,
                source={
                    "subject": subject,
                    "action": action,
                    "camera_id": cam_id,
                    "spin24": joints[i],
                },
            )
        if kept == 0:
            raise ValueError(
                f"{self.path}: no images of the {self.split} split ({', '.join(self.subjects)})"
            )


def _parse_spin_name(path: Path, name: str) -> tuple[str, str, str, int]:
    """``images/S9_Directions_1.54138969_000001.jpg`` -> (S9, Directions_1, 54138969, 0)."""
    stem = Path(name).stem
    try:
        subject, rest = stem.split("_", 1)
        action, tail = rest.rsplit(".", 1)
        cam_id, frame = tail.split("_")
        return subject, action, cam_id, int(frame) - 1
    except ValueError:
        raise ValueError(
            f"{path}: image name {name!r} is not '<subject>_<action>.<camera>_<frame>.jpg'"
        ) from None
