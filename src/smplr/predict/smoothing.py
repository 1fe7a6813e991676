"""Smoothing one person's SMPL parameters over the frames of a video.

Per-frame fits jitter: the detector's landmarks move a few pixels from frame to frame.
:func:`smooth_track` replaces each frame's parameters by a Gaussian-weighted mean over
the frames around it (``sigma`` in frames, cut at 3σ, frames without a fit are skipped,
not filled): rotation matrices averaged and projected back onto SO(3) (the chordal mean),
root positions averaged; the shape (``betas``, ``gender``) is one person's, so it becomes
the track's mean.
"""

from __future__ import annotations

import numpy as np
import torch

from smplr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle, project_to_so3


def gaussian_weights(frames: np.ndarray, sigma: float) -> np.ndarray:
    """``(T, T)`` row-normalised weights of frame ``j`` for frame ``i``:
    ``exp(−(f_i − f_j)² / 2σ²)`` within 3σ, 0 beyond."""
    gaps = np.asarray(frames, dtype=np.float64)[:, None] - np.asarray(frames, np.float64)[None]
    weights = np.exp(-0.5 * (gaps / sigma) ** 2) * (np.abs(gaps) <= 3 * sigma)
    return weights / weights.sum(1, keepdims=True)


def smooth_track(
    frames: np.ndarray,
    params: dict[str, np.ndarray],
    sigma: float,
) -> dict[str, np.ndarray]:
    """Smoothed copies of one track's parameters.

    ``frames (T,)`` frame indices; ``params``: ``global_orient (T, 3)``, ``body_pose
    (T, 69)``, ``root (T, 3)`` the root joint's position (not SMPL's ``transl``, which
    depends on the shape), ``betas (T, 10)``, ``gender (T,)``.  ``sigma`` in frames
    (0: unchanged copies).
    """
    if sigma < 0:
        raise ValueError(f"smoothing sigma must be >= 0 frames, got {sigma}")
    out = {key: np.array(value) for key, value in params.items()}
    if sigma == 0 or len(frames) < 2:
        return out
    weights = torch.as_tensor(gaussian_weights(frames, sigma))
    count = len(frames)
    pose = np.concatenate([params["global_orient"], params["body_pose"]], 1).reshape(count, 24, 3)
    matrices = axis_angle_to_matrix(torch.as_tensor(pose, dtype=torch.float64))
    mean = torch.einsum("ij,jkab->ikab", weights, matrices)
    smoothed = matrix_to_axis_angle(project_to_so3(mean)).numpy().reshape(count, 72)
    dtype = params["body_pose"].dtype
    out["global_orient"] = smoothed[:, :3].astype(dtype)
    out["body_pose"] = smoothed[:, 3:].astype(dtype)
    out["root"] = (weights.numpy() @ params["root"]).astype(params["root"].dtype)
    out["betas"] = np.repeat(params["betas"].mean(0, keepdims=True), count, 0)
    out["gender"] = np.full_like(params["gender"], params["gender"].mean())
    return out
