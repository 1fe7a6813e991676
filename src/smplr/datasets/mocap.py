"""Readers for two public motion-capture formats, as joint positions in metres.

- **holosoma joint positions** (``holosoma-retargeting`` demo data, e.g.
  ``mocap_climb_seq_0_joint_positions_f900-3700.npy``): a plain ``.npy`` array
  ``(T, 53, 3)`` of world joint positions in metres, Z up, joints in the order of
  :data:`HOLOSOMA_JOINTS` (holosoma's ``MOCAP_DEMO_JOINTS``).
- **DeepMimic motion** (``pybullet_data/data/motions/humanoid3d_*.txt``): JSON with
  ``"Frames"``, one list of 44 numbers per frame: duration (s), root position (3), root
  quaternion (4), then the 12 joints of :data:`DEEPMIMIC_JOINTS` in that order, spherical
  joints as quaternions ``(w, x, y, z)`` relative to the parent link, revolute joints
  (knees, elbows) as one angle (radians) about the link's Z axis.  Positions come from
  forward kinematics over :data:`HUMANOID_OFFSETS`, the rest skeleton of pybullet's
  ``humanoid/humanoid.urdf`` at the ``globalScaling=0.25`` its DeepMimic environment uses
  (Y up, X forward, Z to the body's right).

Both readers return plain float64 arrays; :func:`z_up_to_y_up` turns holosoma's frame
into SMPL's Y-up one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Pinky")


def _arm(side: str) -> tuple[str, ...]:
    hand = tuple(f"{side}Hand{finger}{k}" for finger in _FINGERS for k in (1, 2, 3))
    return (f"{side}Shoulder", f"{side}Arm", f"{side}ForeArm", f"{side}Hand", *hand)


def _leg(side: str) -> tuple[str, ...]:
    return (f"{side}UpLeg", f"{side}Leg", f"{side}Foot", f"{side}ToeBase")


HOLOSOMA_JOINTS: tuple[str, ...] = (
    "Hips",
    "Spine",
    "Spine1",
    "Neck",
    "Head",
    *_arm("Left"),
    *_arm("Right"),
    *_leg("Left"),
    *_leg("Right"),
    "LeftFootMod",
    "RightFootMod",
)
"""holosoma's ``MOCAP_DEMO_JOINTS`` (config_types/data_type.py), 53 names."""

# DeepMimic humanoid: (name, spherical?) in the file's order, after the root.
DEEPMIMIC_JOINTS: tuple[tuple[str, bool], ...] = (
    ("chest", True),
    ("neck", True),
    ("right_hip", True),
    ("right_knee", False),
    ("right_ankle", True),
    ("right_shoulder", True),
    ("right_elbow", False),
    ("left_hip", True),
    ("left_knee", False),
    ("left_ankle", True),
    ("left_shoulder", True),
    ("left_elbow", False),
)
DEEPMIMIC_FRAME_LENGTH = 1 + 3 + 4 + sum(4 if spherical else 1 for _, spherical in DEEPMIMIC_JOINTS)

HUMANOID_SCALE = 0.25
"""pybullet's DeepMimic environment loads ``humanoid.urdf`` with ``globalScaling=0.25``."""

# Joint origins in the parent link's frame, URDF units (humanoid.urdf), before scaling.
# ``head``, ``*_toe`` and ``*_wrist`` are points fixed in a link: the head sphere's centre,
# the front bottom edge of the foot box, and the fixed wrist joint.
HUMANOID_OFFSETS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "chest": ("root", (0.0, 0.944604, 0.0)),
    "neck": ("chest", (0.0, 0.895576, 0.0)),
    "head": ("neck", (0.0, 0.7, 0.0)),
    "right_hip": ("root", (0.0, 0.0, 0.339548)),
    "right_knee": ("right_hip", (0.0, -1.686184, 0.0)),
    "right_ankle": ("right_knee", (0.0, -1.639480, 0.0)),
    "right_toe": ("right_ankle", (0.534, -0.2, 0.0)),
    "right_shoulder": ("chest", (-0.0962, 0.974, 0.73244)),
    "right_elbow": ("right_shoulder", (0.0, -1.099152, 0.0)),
    "right_wrist": ("right_elbow", (0.0, -1.035788, 0.0)),
    "left_hip": ("root", (0.0, 0.0, -0.339548)),
    "left_knee": ("left_hip", (0.0, -1.686184, 0.0)),
    "left_ankle": ("left_knee", (0.0, -1.639480, 0.0)),
    "left_toe": ("left_ankle", (0.534, -0.2, 0.0)),
    "left_shoulder": ("chest", (-0.0962, 0.974, -0.73244)),
    "left_elbow": ("left_shoulder", (0.0, -1.099152, 0.0)),
    "left_wrist": ("left_elbow", (0.0, -1.035788, 0.0)),
}
DEEPMIMIC_POINTS: tuple[str, ...] = ("root", *HUMANOID_OFFSETS)
"""Points returned by :func:`deepmimic_joint_positions`, in this order (18)."""


class MocapFormatError(ValueError):
    """A motion-capture file that does not follow its format."""


def read_holosoma_joints(path: str | Path) -> np.ndarray:
    """Joint positions ``(T, 53, 3)`` float64, metres, Z up, from a holosoma ``.npy`` file."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise MocapFormatError(f"{path}: not a readable .npy array ({error})") from None
    if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.floating):
        raise MocapFormatError(
            f"{path}: expected a float array, got {getattr(data, 'dtype', type(data))}"
        )
    expected = (len(HOLOSOMA_JOINTS), 3)
    if data.ndim != 3 or data.shape[1:] != expected or data.shape[0] < 1:
        raise MocapFormatError(
            f"{path}: array has shape {data.shape}; expected (T, {expected[0]}, 3)"
        )
    if not np.isfinite(data).all():
        raise MocapFormatError(f"{path}: joint positions contain NaN or infinite values")
    return data.astype(np.float64)


def z_up_to_y_up(points: np.ndarray) -> np.ndarray:
    """``(..., 3)`` points in a right-handed Z-up frame -> the same in a right-handed Y-up
    frame (a −90° turn about X: ``(x, y, z) -> (x, z, −y)``)."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


@dataclass(frozen=True)
class DeepMimicMotion:
    """One DeepMimic clip: ``durations (T,)`` s, ``root_position (T, 3)`` URDF-scaled metres
    (Y up), ``root_rotation (T, 4)`` and, per joint of :data:`DEEPMIMIC_JOINTS`,
    ``rotations[name]``: ``(T, 4)`` unit quaternions ``(w, x, y, z)`` or ``(T, 1)`` angles."""

    durations: np.ndarray
    root_position: np.ndarray
    root_rotation: np.ndarray
    rotations: dict[str, np.ndarray]
    loop: str

    @property
    def num_frames(self) -> int:
        return int(self.durations.shape[0])


def _unit_quaternions(path: Path, name: str, q: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    # The shipped clips hold quaternions up to 42 % off unit length (humanoid3d_kick's
    # right hip); as rotations they only make sense normalised, which this reader does.
    if ((norm < 0.1) | (norm > 10.0)).any():
        raise MocapFormatError(
            f"{path}: {name} quaternions are (near) zero or huge "
            f"(norm {norm.min():.3g}..{norm.max():.3g})"
        )
    return q / norm


def read_deepmimic_motion(path: str | Path) -> DeepMimicMotion:
    """Parse a DeepMimic motion ``.txt`` (JSON with ``"Frames"``, 44 numbers per frame)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MocapFormatError(f"{path}: not a readable JSON motion file ({error})") from None
    if not isinstance(document, dict) or "Frames" not in document:
        raise MocapFormatError(f"{path}: no 'Frames' list in the motion file")
    try:
        frames = np.asarray(document["Frames"], dtype=np.float64)
    except (TypeError, ValueError):
        raise MocapFormatError(
            f"{path}: 'Frames' is not a list of equal-length number lists"
        ) from None
    if frames.ndim != 2 or frames.shape[0] < 1 or frames.shape[1] != DEEPMIMIC_FRAME_LENGTH:
        raise MocapFormatError(
            f"{path}: 'Frames' has shape {frames.shape}; expected (T, {DEEPMIMIC_FRAME_LENGTH})"
        )
    if not np.isfinite(frames).all():
        raise MocapFormatError(f"{path}: 'Frames' contains NaN or infinite values")
    rotations: dict[str, np.ndarray] = {}
    column = 8
    for name, spherical in DEEPMIMIC_JOINTS:
        width = 4 if spherical else 1
        values = frames[:, column : column + width]
        rotations[name] = _unit_quaternions(path, name, values) if spherical else values
        column += width
    return DeepMimicMotion(
        durations=frames[:, 0],
        root_position=frames[:, 1:4],
        root_rotation=_unit_quaternions(path, "root", frames[:, 4:8]),
        rotations=rotations,
        loop=str(document.get("Loop", "none")),
    )


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` ``(w, x, y, z)`` -> rotation matrices ``(..., 3, 3)``."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def _about_z(angle: np.ndarray) -> np.ndarray:
    """Rotations ``(T, 3, 3)`` by ``angle (T,)`` radians about Z."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack(
        [np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)],
        axis=-2,
    )


def deepmimic_joint_positions(motion: DeepMimicMotion) -> np.ndarray:
    """Forward kinematics of the humanoid: ``(T, 18, 3)`` points of :data:`DEEPMIMIC_POINTS`,
    metres, Y up (the frame of the motion file)."""
    world = {"root": quaternion_to_matrix(motion.root_rotation)}
    points = {"root": motion.root_position}
    kinds = dict(DEEPMIMIC_JOINTS)
    for name, (parent, offset) in HUMANOID_OFFSETS.items():
        bone = HUMANOID_SCALE * np.asarray(offset)
        points[name] = points[parent] + world[parent] @ bone
        if name in kinds:
            local = motion.rotations[name]
            rotation = quaternion_to_matrix(local) if kinds[name] else _about_z(local[:, 0])
            world[name] = world[parent] @ rotation
    return np.stack([points[name] for name in DEEPMIMIC_POINTS], axis=1)
