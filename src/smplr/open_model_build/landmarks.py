"""The paper's 18 landmarks, picked on the neutral template by geometric rules."""

from __future__ import annotations

import numpy as np

from smplr.body.skeleton import JOINT_NAMES, LANDMARK_NAMES


def surface_point(
    vertices: np.ndarray, faces: np.ndarray, origin: np.ndarray, direction: np.ndarray
) -> int:
    """Where a ray leaves the body: the vertex nearest to the last crossing of the mesh by
    the ray from ``origin`` along ``direction`` (Möller–Trumbore over all triangles)."""
    direction = direction / np.linalg.norm(direction)
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    e1, e2 = b - a, c - a
    p = np.cross(direction, e2)
    det = np.einsum("fc,fc->f", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - a
    u = np.einsum("fc,fc->f", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("fc,fc->f", e2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
    if not hit.any():
        raise ValueError(f"the ray from {origin} towards {direction} does not cross the mesh")
    last = np.flatnonzero(hit)[np.argmax(t[hit])]
    point = origin + t[last] * direction
    corners = faces[last]
    return int(corners[np.argmin(np.linalg.norm(vertices[corners] - point, axis=1))])


def landmark_rays(joints: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The geometric rule of each landmark on the T-pose (SMPL axes: +X the body's left,
    +Y up, +Z forward): a ray ``(origin, direction)`` from inside the body, whose outermost
    vertex is the landmark (:func:`surface_point`).

    - breasts: forward from the chest, a third of the way from the spine up to the
      shoulders and half way out to them (the nipple region);
    - belly: forward from the spine1 joint, on the midline (the navel region);
    - hips: sideways from the pelvis at the hip joints' height (the greater trochanter);
    - upper legs front/back: forward/backward from the middle of the thigh;
    - feet: forward from the foot joint (the toes);
    - biceps/triceps: forward/backward from the middle of the upper arm (the elbow
      crease faces forward in the T-pose, palms down);
    - hands: outward along the arm from the hand joint (the knuckles): the ray leaves
      the mesh at the knuckles, about 1 cm beyond the hand joint (the shipped SMPLR
      weights were trained with this landmark);
    - head top: up from the head joint.
    """
    j = {name: joints[i] for i, name in enumerate(JOINT_NAMES)}
    x, y, z = np.eye(3)
    rays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder, elbow = j[f"{side}_shoulder"], j[f"{side}_elbow"]
        chest = j["spine3"] + (shoulder - j["spine3"]) * np.array([0.5, 1 / 3, 0.0])
        thigh = (j[f"{side}_hip"] + j[f"{side}_knee"]) / 2
        upper_arm = (shoulder + elbow) / 2
        rays[f"breast_{side}"] = (chest, z)
        rays[f"hip_{side}"] = (np.array([0.0, j[f"{side}_hip"][1], j["pelvis"][2]]), sign * x)
        rays[f"upper_leg_front_{side}"] = (thigh, z)
        rays[f"upper_leg_back_{side}"] = (thigh, -z)
        rays[f"foot_{side}"] = (j[f"{side}_foot"], z)
        rays[f"hand_{side}"] = (j[f"{side}_hand"], sign * x)
        rays[f"biceps_{side}"] = (upper_arm, z)
        rays[f"triceps_{side}"] = (upper_arm, -z)
    rays["belly"] = (j["spine1"] * np.array([0.0, 1.0, 1.0]), z)
    rays["head_top"] = (j["head"], y)
    return rays


def select_landmarks(vertices: np.ndarray, faces: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """The paper's 18 landmarks (order of ``LANDMARK_NAMES``) on a T-posed template:
    ``vertices (V, 3)``, ``faces (F, 3)``, ``joints (24, 3)`` -> vertex ids ``(18,)``.

    Each landmark is where its ray of :func:`landmark_rays` leaves the mesh."""
    rays = landmark_rays(joints)
    return np.array([surface_point(vertices, faces, *rays[name]) for name in LANDMARK_NAMES])
