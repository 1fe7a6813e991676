"""The vertices detector keypoints sit on (nose, eyes, ears, mouth, hands, heels, toes),
picked on the neutral T-posed template by geometric rules.

Axes as in SMPL: +X the body's left, +Y up, +Z forward.  Each rule names a region of the
template and the extreme vertex in it, or the surface point a ray leaves the body at
(:func:`smplr.open_model_build.landmarks.surface_point`).  The picked ids of the shipped
open model are constants of :mod:`smplr.body.keypoints` (``OPEN_KEYPOINT_VERTEX_IDS``);
``tests/test_keypoint_formats.py`` checks that these rules still give them.
"""

from __future__ import annotations

import numpy as np

from smplr.body.keypoints import KEYPOINT_VERTEX_NAMES
from smplr.body.skeleton import JOINT_NAMES
from smplr.open_model_build.landmarks import surface_point


def _nearest(vertices: np.ndarray, point: np.ndarray, region: np.ndarray) -> int:
    ids = np.flatnonzero(region)
    return int(ids[np.argmin(np.linalg.norm(vertices[ids] - point, axis=1))])


def _extreme(vertices: np.ndarray, region: np.ndarray, direction: np.ndarray) -> int:
    ids = np.flatnonzero(region)
    return int(ids[np.argmax(vertices[ids] @ direction)])


def select_keypoint_vertices(
    vertices: np.ndarray, faces: np.ndarray, joints: np.ndarray
) -> dict[str, int]:
    """Vertex id of each of :data:`smplr.body.keypoints.KEYPOINT_VERTEX_NAMES` on a
    T-posed template: ``vertices (V, 3)``, ``faces (F, 3)``, ``joints (24, 3)``.

    - nose: the most forward vertex of the head within 1 cm of the midline;
    - eyes: the nasion (the deepest point of the midline profile between the nose tip and
      7 cm above it, on the outer surface) gives their height; the eye centre lies 3.2 cm off the midline, the
      inner and outer corners 1.7 and 4.7 cm; each is where a forward ray from inside
      the head at that height and offset leaves the face;
    - ears: a sideways ray from the head joint's depth, half way between eye and nose
      tip height;
    - mouth corners: forward rays 2.5 cm off the midline, 3.5 cm below the nose tip;
    - heels: a backward ray from the ankle, 2.5 cm above the sole;
    - big toe / small toe: the most forward vertex of the foot's inner / outer third;
      foot index (BlazePose's toe tip): the most forward vertex of its middle third;
    - hands (palms down in the T-pose, thumb forward): the thumb tip is the most forward
      vertex beyond the wrist; the index and pinky knuckles are the vertices nearest the
      hand joint moved 3 cm towards the thumb side / pinky side on the back of the hand.
    """
    j = {name: joints[i] for i, name in enumerate(JOINT_NAMES)}
    x, _y, z = np.eye(3)
    picks: dict[str, int] = {}
    head = vertices[:, 1] > j["neck"][1] + 0.03
    mid = head & (np.abs(vertices[:, 0]) < 0.01)
    nose = _extreme(vertices, mid & (vertices[:, 1] < j["head"][1] + 0.08), z)
    picks["nose"] = nose
    nose_y = vertices[nose, 1]
    # The face's midline profile: the outermost (most forward) vertex per 4 mm of height
    # (the mesh has a mouth and nasal cavity inside); the nasion is its deepest point.
    levels = np.arange(nose_y + 0.01, nose_y + 0.07, 0.004)
    front = []
    for low in levels:
        band = mid & (vertices[:, 1] >= low) & (vertices[:, 1] < low + 0.004)
        front.append(vertices[band, 2].max() if band.any() else np.inf)
    eye_y = float(levels[int(np.argmin(front))] + 0.002)
    inside = j["head"][2]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for part, offset in (("eye", 0.032), ("eye_inner", 0.017), ("eye_outer", 0.047)):
            origin = np.array([sign * offset, eye_y, inside])
            picks[f"{side}_{part}"] = surface_point(vertices, faces, origin, z)
        ear_origin = np.array([0.0, (eye_y + nose_y) / 2, inside])
        picks[f"{side}_ear"] = surface_point(vertices, faces, ear_origin, sign * x)
        mouth = np.array([sign * 0.025, nose_y - 0.035, inside])
        picks[f"{side}_mouth"] = surface_point(vertices, faces, mouth, z)
        ankle = j[f"{side}_ankle"]
        foot = (np.sign(vertices[:, 0]) == sign) & (vertices[:, 1] < ankle[1] + 0.03)
        sole = float(vertices[foot, 1].min())
        heel = np.array([ankle[0], sole + 0.025, ankle[2]])
        picks[f"{side}_heel"] = surface_point(vertices, faces, heel, -z)
        lateral = sign * vertices[:, 0]
        lo, hi = float(lateral[foot].min()), float(lateral[foot].max())
        third = (hi - lo) / 3
        picks[f"{side}_big_toe"] = _extreme(vertices, foot & (lateral < lo + third), z)
        picks[f"{side}_small_toe"] = _extreme(vertices, foot & (lateral > hi - third), z)
        middle = foot & (lateral >= lo + third) & (lateral <= hi - third)
        picks[f"{side}_foot_index"] = _extreme(vertices, middle, z)
        wrist, hand = j[f"{side}_wrist"], j[f"{side}_hand"]
        beyond = sign * vertices[:, 0] > sign * wrist[0]
        picks[f"{side}_thumb"] = _extreme(vertices, beyond, z)
        top = beyond & (vertices[:, 1] > hand[1])
        picks[f"{side}_index"] = _nearest(vertices, hand + 0.03 * z, top)
        picks[f"{side}_pinky"] = _nearest(vertices, hand - 0.03 * z, top)
    missing = set(KEYPOINT_VERTEX_NAMES) - set(picks)
    assert not missing, missing
    return {name: picks[name] for name in KEYPOINT_VERTEX_NAMES}
