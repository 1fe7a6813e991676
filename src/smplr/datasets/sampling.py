"""Frame sampling rules of the paper (section 4.2)."""

from __future__ import annotations

import numpy as np

SURREAL_MIN_DISPLACEMENT = 0.05
"""SURREAL: a frame is skipped when its joints moved less than 5 cm on average (metres)."""

HUMAN36M_EVERY = 5
"""Human3.6M: one frame in five is kept."""


def displacement_subsample(
    joints: np.ndarray, min_displacement: float = SURREAL_MIN_DISPLACEMENT
) -> list[int]:
    """Indices of the frames kept by the paper's SURREAL rule.

    ``joints (T, K, 3)`` in metres, one clip.  The first frame is kept; each later frame
    is kept when the mean Euclidean displacement of its joints from the **last kept**
    frame is at least ``min_displacement``, otherwise skipped.

    >>> import numpy as np
    >>> steps = np.cumsum(np.full(6, 0.02))[:, None, None] * np.array([1.0, 0, 0])
    >>> displacement_subsample(np.repeat(steps, 2, axis=1))   # 2 cm per frame
    [0, 3]
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[-1] != 3:
        raise ValueError(f"joints have shape {joints.shape}; expected (T, K, 3)")
    if min_displacement < 0:
        raise ValueError(f"min_displacement must be >= 0, got {min_displacement}")
    if joints.shape[0] == 0:
        return []
    kept = [0]
    for t in range(1, joints.shape[0]):
        moved = np.linalg.norm(joints[t] - joints[kept[-1]], axis=-1).mean()
        if moved >= min_displacement:
            kept.append(t)
    return kept


def every_nth(num_frames: int, step: int = HUMAN36M_EVERY) -> list[int]:
    """Frames ``0, step, 2·step, …`` below ``num_frames`` (Human3.6M: 1 in 5)."""
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    return list(range(0, num_frames, step))
