"""Where the body stands in the photo: the camera, and bodies moved into its frame.

The camera is a pinhole with the principal point at the image centre and, unless told
(``--focal``), the focal length :func:`default_focal` = the image diagonal in pixels
(about 53° across the diagonal, a normal lens; CLIFF's choice for photos of unknown
cameras).  It sets how far away the body is, not how it overlays: a longer focal puts
the same overlay further away.

SMPLR works in the *view* frame (x right, y up, z towards the camera); the outputs of
``smplr predict`` are in OpenCV's camera frame (x right, y down, z forward): a 180° turn
about x (:data:`smplr.geometry.projection.VIEW_TO_OPENCV`), then the translation that
makes the detector's 3D landmarks project onto its 2D landmarks
(:func:`solve_translation`, linear least squares weighted by visibility).
"""

from __future__ import annotations

import numpy as np
import torch

from smplr.geometry.projection import VIEW_TO_OPENCV
from smplr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle

FLIP = np.asarray(VIEW_TO_OPENCV)


def default_focal(width: int, height: int) -> float:
    """Focal length in pixels for an unknown camera: the image diagonal."""
    return float(np.hypot(width, height))


def intrinsics(width: int, height: int, focal: float | None = None) -> np.ndarray:
    """``K (3, 3)``: focal ``focal`` (default :func:`default_focal`) pixels, principal
    point at the image centre (pixel centres on integers)."""
    f = default_focal(width, height) if focal is None else float(focal)
    if not f > 0:
        raise ValueError(f"focal length must be > 0 pixels, got {focal}")
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def solve_translation(
    points: np.ndarray, pixels: np.ndarray, weights: np.ndarray, K: np.ndarray
) -> np.ndarray:
    """Translation ``t (3,)`` that puts ``points + t`` onto ``pixels`` through ``K``.

    ``points (P, 3)`` metres in camera axes (OpenCV), ``pixels (P, 2)``, ``weights (P,)``
    >= 0.  Each point gives two linear equations ``fx·(x + tx) = (u − cx)·(z + tz)`` (and
    the same in y), solved by weighted least squares.  Raises ValueError with fewer than
    two weighted points or a solution that puts a point behind the camera.
    """
    points, pixels, weights = (np.asarray(a, dtype=np.float64) for a in (points, pixels, weights))
    used = weights > 0
    if used.sum() < 2:
        raise ValueError("too few visible landmarks to place the body in the camera")
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    x, y, z = points[used].T
    du, dv = pixels[used, 0] - cx, pixels[used, 1] - cy
    w = np.sqrt(weights[used])
    zeros = np.zeros_like(du)
    rows = np.concatenate(
        [
            np.stack([np.full_like(du, fx), zeros, -du], 1),
            np.stack([zeros, np.full_like(dv, fy), -dv], 1),
        ]
    )
    rhs = np.concatenate([du * z - fx * x, dv * z - fy * y])
    weight = np.concatenate([w, w])
    t, *_ = np.linalg.lstsq(rows * weight[:, None], rhs * weight, rcond=None)
    if not np.all(points[:, 2] + t[2] > 1e-3):
        raise ValueError("the landmarks do not fit a camera in front of the person")
    return t


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``points (..., 3)`` camera frame -> pixels ``(..., 2)``."""
    return points[..., :2] / points[..., 2:] * np.diag(K)[:2] + K[:2, 2]


def view_to_camera(arrays: dict[str, np.ndarray], translation: np.ndarray) -> dict[str, np.ndarray]:
    """SMPL outputs of N bodies in the view frame -> OpenCV camera frame, moved by
    ``translation (N, 3)``.

    ``arrays``: ``global_orient (N, 3)``, ``transl (N, 3)``, ``joints (N, 24, 3)`` and any
    other ``(N, K, 3)`` point arrays (``landmarks``, ``vertices``); ``betas``,
    ``body_pose`` and ``gender`` are frame-free and pass through.  SMPL turns the body
    about its rest root joint ``j0`` (= ``joints[:, 0] − transl``), so the turned body has
    ``global_orient' = F·R``, ``transl' = F·joints[:, 0] + t − j0`` with ``F`` the flip.
    """
    out = dict(arrays)
    flip = np.diag(FLIP)
    rest_root = arrays["joints"][:, 0] - arrays["transl"]
    root = arrays["joints"][:, 0] * FLIP + translation
    orient = axis_angle_to_matrix(torch.as_tensor(arrays["global_orient"], dtype=torch.float64))
    turned = torch.as_tensor(flip) @ orient
    out["global_orient"] = (
        matrix_to_axis_angle(turned).numpy().astype(arrays["global_orient"].dtype)
    )
    out["transl"] = (root - rest_root).astype(arrays["transl"].dtype)
    for key in ("joints", "landmarks", "vertices"):
        if key in arrays:
            out[key] = (arrays[key] * FLIP + translation[:, None]).astype(arrays[key].dtype)
    return out
