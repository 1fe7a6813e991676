"""The shipped set of real motion-capture poses, retargeted to SMPL (``real_mocap_poses.npz``).

Sources (registry packages, read where pip installed them; install with
``pip install smplr[mocap]``; see docs/real_motion_capture.md for licences):

- ``holosoma-retargeting==0.1.0``: ``demo_data/climb/*/mocap_climb_seq_*_joint_positions_*.npy``
  (5 climbing sequences, 53 joints, Z up);
- ``pybullet==3.2.7``: ``pybullet_data/data/motions/humanoid3d_*.txt`` (15 DeepMimic clips).

:func:`build_real_mocap_poses` reads every clip, drops near-duplicate frames (a frame is
kept when some mapped bone turned by ``min_change_degrees`` since the last kept frame),
retargets by bone directions (:mod:`smplr.datasets.retarget`) and splits by clip
(:data:`TEST_CLIPS` are held out whole).  :func:`load_real_mocap_poses` reads the file.

File layout (``np.load(..., allow_pickle=False)``): ``global_orient (N, 3)`` and
``body_pose (N, 69)`` float32 axis-angle, ``source``, ``clip``, ``split`` (N,) strings,
``frame (N,)`` int32 (frame index in the clip's file), ``error_degrees (N,)`` float32
(mean bone-direction error of the retargeting), ``bones_<source>`` the bone names.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import save_npz_atomic
from smplr.body.model import BodyModel
from smplr.datasets.mocap import (
    DEEPMIMIC_POINTS,
    HOLOSOMA_JOINTS,
    deepmimic_joint_positions,
    read_deepmimic_motion,
    read_holosoma_joints,
    z_up_to_y_up,
)
from smplr.datasets.retarget import (
    DEEPMIMIC_BONES,
    HOLOSOMA_BONES,
    Bone,
    RetargetPrior,
    direction_errors,
    retarget,
    source_directions,
)
from smplr.synthetic.pose_sources import Poses

SHIPPED_PATH = Path(__file__).parent / "assets" / "real_mocap_poses.npz"

TEST_CLIPS: frozenset[str] = frozenset(
    {
        "mocap_climb_seq_1",
        "mocap_climb_seq_4",
        "humanoid3d_backflip",
        "humanoid3d_cartwheel",
        "humanoid3d_getup_faceup",
        "humanoid3d_dance_b",
        "humanoid3d_punch",
    }
)
"""Clips held out whole for the ``test`` split (2 of 5 climbing, 5 of 15 DeepMimic)."""

_FIELDS = ("global_orient", "body_pose", "source", "clip", "split", "frame", "error_degrees")


@dataclass(frozen=True)
class Clip:
    """One clip's points ``(T, J, 3)`` (Y up) with its skeleton's names and bone map."""

    source: str
    name: str
    points: np.ndarray
    joint_names: Sequence[str]
    bones: Sequence[Bone]


@dataclass(frozen=True)
class RealPoses:
    """Real poses: ``global_orient (N, 3)``, ``body_pose (N, 69)`` axis-angle float32 and
    per pose ``source``, ``clip``, ``split`` (strings), ``frame`` and ``error_degrees``."""

    global_orient: np.ndarray
    body_pose: np.ndarray
    source: np.ndarray
    clip: np.ndarray
    split: np.ndarray
    frame: np.ndarray
    error_degrees: np.ndarray

    def __len__(self) -> int:
        return int(self.global_orient.shape[0])

    def select(self, rows: np.ndarray) -> RealPoses:
        return RealPoses(*(getattr(self, f)[rows] for f in _FIELDS))

    def poses(self) -> Poses:
        """The poses alone, float64 tensors (for samplers and test sets)."""
        return Poses(
            torch.from_numpy(self.global_orient.astype(np.float64)),
            torch.from_numpy(self.body_pose.astype(np.float64)),
        )


def package_dir(name: str) -> Path:
    """Where the installed package ``name`` lives (without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package '{name}' is not installed (pip install 'smplr[mocap]' brings the sources)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def holosoma_clips(root: Path) -> Iterator[Clip]:
    """The climbing sequences under holosoma's ``demo_data/climb``."""
    files = sorted((root / "demo_data" / "climb").glob("*/mocap_climb_seq_*_joint_positions_*.npy"))
    if not files:
        raise FileNotFoundError(f"{root}: no demo_data/climb/*/mocap_climb_seq_*.npy files")
    for path in files:
        points = z_up_to_y_up(read_holosoma_joints(path))
        name = path.name.split("_joint_positions")[0]
        yield Clip("holosoma", name, points, HOLOSOMA_JOINTS, HOLOSOMA_BONES)


def deepmimic_clips(root: Path) -> Iterator[Clip]:
    """The 15 humanoid clips under ``pybullet_data/data/motions``."""
    files = sorted((root / "data" / "motions").glob("humanoid3d_*.txt"))
    if not files:
        raise FileNotFoundError(f"{root}: no data/motions/humanoid3d_*.txt files")
    for path in files:
        points = deepmimic_joint_positions(read_deepmimic_motion(path))
        yield Clip("deepmimic", path.stem, points, DEEPMIMIC_POINTS, DEEPMIMIC_BONES)


def distinct_frames(directions: np.ndarray, min_change_degrees: float) -> np.ndarray:
    """Indices of frames kept from bone directions ``(T, K, 3)``: the first frame, then
    each frame where some bone turned by at least ``min_change_degrees`` since the last
    kept one."""
    threshold = np.cos(np.radians(min_change_degrees))
    kept = [0]
    for index in range(1, directions.shape[0]):
        cosine = (directions[index] * directions[kept[-1]]).sum(-1)
        if cosine.min() <= threshold:
            kept.append(index)
    return np.asarray(kept)


def build_real_mocap_poses(
    clips: Sequence[Clip],
    body: BodyModel,
    min_change_degrees: float = 5.0,
    prior: RetargetPrior | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> RealPoses:
    """Subsample and retarget ``clips``; split by :data:`TEST_CLIPS`."""
    parts = []
    for source in sorted({c.source for c in clips}):
        group = [c for c in clips if c.source == source]
        frames = [
            distinct_frames(source_directions(c.points, c.joint_names, c.bones), min_change_degrees)
            for c in group
        ]
        points = np.concatenate([c.points[f] for c, f in zip(group, frames, strict=True)])
        log(f"{source}: {len(group)} clips, {points.shape[0]} distinct frames, retargeting")
        result = retarget(points, group[0].joint_names, group[0].bones, body, prior)
        names = np.concatenate(
            [np.full(len(f), c.name) for c, f in zip(group, frames, strict=True)]
        )
        parts.append(
            RealPoses(
                global_orient=result.global_orient.astype(np.float32),
                body_pose=result.body_pose.astype(np.float32),
                source=np.full(len(names), source),
                clip=names,
                split=np.where(np.isin(names, sorted(TEST_CLIPS)), "test", "train"),
                frame=np.concatenate(frames).astype(np.int32),
                error_degrees=result.error_degrees.mean(axis=1).astype(np.float32),
            )
        )
    merged = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS}
    return RealPoses(**merged)


def save_real_mocap_poses(poses: RealPoses, path: str | Path) -> None:
    """Write ``poses`` to ``path`` (.npz), whole or not at all."""
    arrays = {f: getattr(poses, f) for f in _FIELDS}
    arrays["source"] = arrays["source"].astype(str)
    arrays["clip"] = arrays["clip"].astype(str)
    arrays["split"] = arrays["split"].astype(str)
    arrays["bones_holosoma"] = np.array([b.name for b in HOLOSOMA_BONES])
    arrays["bones_deepmimic"] = np.array([b.name for b in DEEPMIMIC_BONES])
    save_npz_atomic(path, arrays)


def load_real_mocap_poses(path: str | Path | None = None, split: str | None = None) -> RealPoses:
    """Read the shipped (or a given) pose file; ``split``: ``"train"``, ``"test"`` or all."""
    path = Path(path) if path is not None else SHIPPED_PATH
    if split not in (None, "train", "test"):
        raise ValueError(f"unknown split '{split}': expected 'train', 'test' or None")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [f for f in _FIELDS if f not in data.files]
            if missing:
                raise ValueError(f"{path}: not a real-pose file (missing {', '.join(missing)})")
            poses = RealPoses(**{f: data[f] for f in _FIELDS})
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: cannot read the pose file ({error})") from None
    if poses.global_orient.shape != (len(poses), 3) or poses.body_pose.shape != (len(poses), 69):
        raise ValueError(f"{path}: global_orient/body_pose are not (N, 3)/(N, 69)")
    return poses if split is None else poses.select(poses.split == split)


def bone_errors(poses: RealPoses, clips: Sequence[Clip], body: BodyModel) -> dict[str, np.ndarray]:
    """Per source, the bone-direction errors ``(N_source, K_source)`` (degrees) of the
    stored poses against their mocap frames in ``clips``."""
    by_name = {clip.name: clip for clip in clips}
    errors = {}
    for source in sorted(set(poses.source)):
        rows = np.flatnonzero(poses.source == source)
        missing = sorted(set(poses.clip[rows]) - set(by_name))
        if missing:
            raise ValueError(f"no mocap for clip(s) {', '.join(missing)} of source {source}")
        clip = by_name[str(poses.clip[rows[0]])]
        points = np.stack([by_name[str(poses.clip[r])].points[poses.frame[r]] for r in rows])
        errors[source] = direction_errors(
            points,
            clip.joint_names,
            clip.bones,
            poses.global_orient[rows],
            poses.body_pose[rows],
            body,
        )
    return errors


def installed_clips() -> list[Clip]:
    """Every clip of both sources, from the installed packages."""
    clips = list(holosoma_clips(package_dir("holosoma_retargeting")))
    clips += list(deepmimic_clips(package_dir("pybullet_data")))
    return clips


__all__ = [
    "SHIPPED_PATH",
    "TEST_CLIPS",
    "Clip",
    "RealPoses",
    "bone_errors",
    "build_real_mocap_poses",
    "deepmimic_clips",
    "distinct_frames",
    "holosoma_clips",
    "installed_clips",
    "load_real_mocap_poses",
    "package_dir",
    "save_real_mocap_poses",
]
