"""Detector keypoint formats defined on the body model: COCO-17, Human3.6M-17,
BlazePose-33, OpenPose BODY-25 and SMPL-24.

Every keypoint of every format is a *site* on the body: an SMPL joint, one of the 18
landmarks, a surface vertex (nose, eyes, ears, mouth, fingers, heels, toes) or a fixed
weighted mean of those (a detector's hip, OpenPose's neck and mid-hip, Human3.6M's
neck/nose).  Sites with the same definition are shared between formats (COCO's and
BlazePose's nose are one site), so :data:`SITE_NAMES` (57 sites) is the vocabulary one
DAE reads whatever the format (:mod:`smplr.dae`).

A posed body gives its sites as ``readout @ basis``, where ``basis (B, 42 + E, 3)`` is
the JL (24 joints, 18 landmarks) followed by the ``E`` keypoint vertices
(``GenderedBodyModel.jl_model(extra_vertex_ids=keypoint_vertex_ids(V))``) and
``readout (S, 42 + E)`` is :func:`site_readout` — so every format's keypoints are a
(linear) function of the mesh, and refinement can fit them directly.

Definitions (``docs/keypoint_formats.md`` has the table and the picture):

- shoulders, elbows, wrists, knees, ankles: the SMPL joints (all formats);
- detector hips (COCO, BlazePose, OpenPose): a third of the way from the SMPL hip joint
  to the hip landmark on the greater trochanter — detectors put the hip on the outside
  of the joint; OpenPose's mid-hip is their mean;
- Human3.6M: pelvis = SMPL pelvis; hips half way from the SMPL hip joint to the
  trochanter (its mocap skeleton's hips are wider still); spine = SMPL spine2; thorax =
  SMPL neck; neck/nose = mean of the SMPL head joint and the nose; head = head-top landmark;
- OpenPose's neck: the mean of the two shoulders (how its training labels were made);
- face, hands and feet: vertices (rules in :mod:`smplr.open_model_build.keypoint_vertices`
  for the open model; the common SMPL-topology ids, those of ``smplx.vertex_ids``, where
  known).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JOINT_NAMES, LANDMARK_NAMES, NUM_JL, SMPL_NUM_VERTICES

SIDES = ("left", "right")

# Vertices that carry a keypoint: per side, in this order, after the nose.
_SIDED_VERTICES = (
    "eye",
    "eye_inner",
    "eye_outer",
    "ear",
    "mouth",
    "heel",
    "big_toe",
    "small_toe",
    "foot_index",
    "thumb",
    "index",
    "pinky",
)
KEYPOINT_VERTEX_NAMES: tuple[str, ...] = (
    "nose",
    *(f"{side}_{part}" for side in SIDES for part in _SIDED_VERTICES),
)

# Picked on the shipped open model's neutral template by the rules of
# smplr.open_model_build.keypoint_vertices (13,718 vertices; order of KEYPOINT_VERTEX_NAMES).
OPEN_NUM_VERTICES = 13718
OPEN_KEYPOINT_VERTEX_IDS: tuple[int, ...] = (
    5038,
    *(13619, 6834, 6854, 12246, 11909, 12410, 11519, 12448, 13101, 9410, 9769, 10215),
    *(13691, 66, 86, 5665, 5322, 5829, 4917, 5867, 6521, 2758, 3117, 3563),
)

# The SMPL topology (6,890 vertices): ids in common use (smplx.vertex_ids); BlazePose's
# eye corners, mouth, toe tip and finger knuckles have no such ids, so BlazePose-33
# needs the open model (or ids given to keypoint_vertex_ids' table).
SMPL_KEYPOINT_VERTEX_IDS: dict[str, int] = {
    "nose": 332,
    "left_eye": 2800,
    "right_eye": 6260,
    "left_ear": 583,
    "right_ear": 4071,
    "left_big_toe": 3216,
    "left_small_toe": 3226,
    "left_heel": 3387,
    "right_big_toe": 6617,
    "right_small_toe": 6624,
    "right_heel": 6787,
}


def _joint(name: str) -> dict[str, float]:
    return {name: 1.0}


def _mix(**weights: float) -> dict[str, float]:
    return dict(weights)


def _sites() -> dict[str, dict[str, float]]:
    """Each site as ``{basis name: weight}``; basis names are joint names,
    ``landmark:<name>`` and ``vertex:<name>``."""
    sites: dict[str, dict[str, float]] = {name: _joint(name) for name in JOINT_NAMES}
    sites["nose"] = {"vertex:nose": 1.0}
    for side in SIDES:
        for part in _SIDED_VERTICES:
            sites[f"{side}_{part}"] = {f"vertex:{side}_{part}": 1.0}
        hip, trochanter = f"{side}_hip", f"landmark:hip_{side}"
        sites[f"{side}_hip_detector"] = {hip: 2 / 3, trochanter: 1 / 3}
        sites[f"{side}_hip_h36m"] = {hip: 0.5, trochanter: 0.5}
    sites["mid_hip"] = {
        "left_hip": 1 / 3,
        "right_hip": 1 / 3,
        "landmark:hip_left": 1 / 6,
        "landmark:hip_right": 1 / 6,
    }
    sites["neck_openpose"] = {"left_shoulder": 0.5, "right_shoulder": 0.5}
    sites["neck_nose_h36m"] = {"head": 0.5, "vertex:nose": 0.5}
    sites["head_top"] = {"landmark:head_top": 1.0}
    return sites


SITES: dict[str, dict[str, float]] = _sites()
SITE_NAMES: tuple[str, ...] = tuple(SITES)
NUM_SITES = len(SITE_NAMES)


def mirror_name(name: str) -> str:
    """The left/right counterpart of a site or keypoint name (itself on the midline)."""
    for a, b in (("left", "right"), ("right", "left")):
        if name.startswith(f"{a}_"):
            return f"{b}_{name[len(a) + 1 :]}"
        if name.endswith(f"_{a}"):
            return f"{name[: -len(a) - 1]}_{b}"
    return name


@dataclass(frozen=True)
class KeypointFormat:
    """A detector's keypoint list: ``names`` in the detector's order, each on ``sites``
    (a name of :data:`SITE_NAMES`), and the ``bones`` (pairs of keypoint indices) its
    skeleton draws, used for left/right and order checks."""

    name: str
    title: str
    names: tuple[str, ...]
    sites: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.sites):
            raise ValueError(f"{self.name}: {len(self.names)} names, {len(self.sites)} sites")
        unknown = [s for s in self.sites if s not in SITES]
        if unknown:
            raise ValueError(f"{self.name}: unknown sites {unknown}")

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def site_index(self) -> tuple[int, ...]:
        """Index of each keypoint's site in :data:`SITE_NAMES`."""
        return tuple(SITE_NAMES.index(s) for s in self.sites)

    @property
    def mirror(self) -> tuple[int, ...]:
        """Index of each keypoint's left/right counterpart (itself on the midline)."""
        return tuple(self.names.index(mirror_name(n)) for n in self.names)


def _bones(
    names: tuple[str, ...], pairs: tuple[tuple[str, str], ...]
) -> tuple[tuple[int, int], ...]:
    return tuple((names.index(a), names.index(b)) for a, b in pairs)


_LIMBS = (
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
)

_COCO_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


def _detector_site(name: str) -> str:
    return f"{name}_detector" if name in ("left_hip", "right_hip") else name


COCO17 = KeypointFormat(
    "coco17",
    "COCO-17 (COCO keypoints, ViTPose, RTMPose, YOLO-pose, Detectron2)",
    _COCO_NAMES,
    tuple(_detector_site(n) for n in _COCO_NAMES),
    _bones(_COCO_NAMES, (*_LIMBS, ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"))),
)

_H36M_NAMES = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck_nose",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
_H36M_SITES = {
    "pelvis": "pelvis",
    "spine": "spine2",
    "thorax": "neck",
    "neck_nose": "neck_nose_h36m",
    "head": "head_top",
    "left_hip": "left_hip_h36m",
    "right_hip": "right_hip_h36m",
}
H36M17 = KeypointFormat(
    "h36m17",
    "Human3.6M-17 (VideoPose3D, MotionBERT, most 3D lifters)",
    _H36M_NAMES,
    tuple(_H36M_SITES.get(n, n) for n in _H36M_NAMES),
    _bones(
        _H36M_NAMES,
        (
            *_LIMBS,
            ("pelvis", "left_hip"),
            ("pelvis", "right_hip"),
            ("pelvis", "spine"),
            ("spine", "thorax"),
            ("thorax", "neck_nose"),
            ("neck_nose", "head"),
            ("thorax", "left_shoulder"),
            ("thorax", "right_shoulder"),
        ),
    ),
)

_BLAZEPOSE_NAMES = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
BLAZEPOSE33 = KeypointFormat(
    "blazepose33",
    "BlazePose-33 (MediaPipe Pose landmarks, in mp.solutions.pose.PoseLandmark order)",
    _BLAZEPOSE_NAMES,
    tuple(
        {"mouth_left": "left_mouth", "mouth_right": "right_mouth"}.get(n, _detector_site(n))
        for n in _BLAZEPOSE_NAMES
    ),
    _bones(
        _BLAZEPOSE_NAMES,
        (
            *_LIMBS,
            ("left_shoulder", "left_hip"),
            ("right_shoulder", "right_hip"),
            ("left_ankle", "left_heel"),
            ("right_ankle", "right_heel"),
            ("left_heel", "left_foot_index"),
            ("right_heel", "right_foot_index"),
        ),
    ),
)

_OPENPOSE_NAMES = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "mid_hip",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)
OPENPOSE25 = KeypointFormat(
    "openpose25",
    "OpenPose BODY_25",
    _OPENPOSE_NAMES,
    tuple({"neck": "neck_openpose"}.get(n, _detector_site(n)) for n in _OPENPOSE_NAMES),
    _bones(
        _OPENPOSE_NAMES,
        (
            *_LIMBS,
            ("neck", "mid_hip"),
            ("mid_hip", "left_hip"),
            ("mid_hip", "right_hip"),
            ("left_ankle", "left_heel"),
            ("right_ankle", "right_heel"),
        ),
    ),
)

SMPL24 = KeypointFormat(
    "smpl24",
    "SMPL's 24 joints (SMPL/SMPL-X fits, AMASS, SPIN/HMR outputs)",
    JOINT_NAMES,
    JOINT_NAMES,
    _bones(JOINT_NAMES, _LIMBS),
)

KEYPOINT_FORMATS: dict[str, KeypointFormat] = {
    f.name: f for f in (COCO17, H36M17, BLAZEPOSE33, OPENPOSE25, SMPL24)
}


def keypoint_vertex_ids(num_vertices: int) -> dict[str, int]:
    """The keypoint vertices known on a topology of ``num_vertices`` vertices: all of
    :data:`KEYPOINT_VERTEX_NAMES` for the open model, the common ones for SMPL's."""
    if num_vertices == OPEN_NUM_VERTICES:
        return dict(zip(KEYPOINT_VERTEX_NAMES, OPEN_KEYPOINT_VERTEX_IDS, strict=True))
    if num_vertices == SMPL_NUM_VERTICES:
        return dict(SMPL_KEYPOINT_VERTEX_IDS)
    return {}


@cache
def site_readout(
    num_vertices: int, sites: tuple[str, ...] = SITE_NAMES
) -> tuple[np.ndarray, np.ndarray]:
    """``(readout (S, 42 + E), vertex_ids (E,))`` for ``sites`` on a topology of
    ``num_vertices``: ``sites = readout @ concat(JL, vertices[vertex_ids])``.

    Raises a one-line ValueError when a site needs a vertex the topology does not name.
    """
    known = keypoint_vertex_ids(num_vertices)
    needed = sorted(
        {b.removeprefix("vertex:") for s in sites for b in SITES[s] if b.startswith("vertex:")},
        key=KEYPOINT_VERTEX_NAMES.index,
    )
    missing = [n for n in needed if n not in known]
    if missing:
        raise ValueError(
            f"the body model ({num_vertices} vertices) names no vertex for keypoints "
            f"{', '.join(missing)}; those formats need the open model"
        )
    columns = {name: k for k, name in enumerate(JOINT_NAMES)}
    columns.update({f"landmark:{n}": len(JOINT_NAMES) + k for k, n in enumerate(LANDMARK_NAMES)})
    columns.update({f"vertex:{n}": NUM_JL + k for k, n in enumerate(needed)})
    readout = np.zeros((len(sites), NUM_JL + len(needed)))
    for row, site in enumerate(sites):
        for basis, weight in SITES[site].items():
            readout[row, columns[basis]] = weight
    return readout, np.array([known[n] for n in needed], dtype=np.int64)


class SiteBody:
    """A body model that poses keypoint sites: ``SiteBody(body)(gender, betas,
    rotations) -> (B, S, 3)`` sites (``sites``, default all of :data:`SITE_NAMES`), plus
    the JL; ``SiteBody(body, fmt.sites)`` poses one format's keypoints.

    Poses only the JL and the keypoint vertices (a ``jl_model`` with extra vertices), so
    it is as cheap as the JL-only model.
    """

    def __init__(self, body: GenderedBodyModel, sites: tuple[str, ...] = SITE_NAMES) -> None:
        readout, vertex_ids = site_readout(int(body.female.v_template.shape[0]), sites)
        self.model = body.jl_model(tuple(int(i) for i in vertex_ids))
        self.readout = torch.as_tensor(readout, dtype=body.female.dtype)

    def sites(self, basis: torch.Tensor) -> torch.Tensor:
        """``basis (B, 42 + E, 3)`` -> sites ``(B, S, 3)``."""
        return torch.einsum("sk,bkc->bsc", self.readout.to(basis), basis)

    def __call__(
        self,
        gender: torch.Tensor,
        betas: torch.Tensor,
        rotations: torch.Tensor,
        transl: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sites (B, S, 3), jl (B, 42, 3))`` of bodies ``rotations (B, 24, 3, 3)``."""
        out = self.model(gender, betas, rotations[:, :1], rotations[:, 1:], transl)
        return self.sites(out.jl), out.jl[:, :NUM_JL]
