"""Noise models for training the denoising autoencoder on synthetic JL (paper 3.3, 4.4.2).

The DAE learns to undo the errors of a CNN's JL estimate.  Trained on ground truth
plus noise it generalises to real CNN output when the noise resembles the CNN's
errors (paper 4.4.2: uniform noise with per-joint bounds does as well as training
on the CNN's own estimates).  Every function maps ``jl (B, 42, 3)`` (metres,
root-relative) to a noisy copy, draws from the given ``torch.Generator`` (on
``jl``'s device), and keeps the root at the origin (the CNN predicts the other 41
points relative to it).

- :func:`gaussian_noise`: i.i.d. N(0, σ²) per coordinate.
- :func:`bounded_uniform_noise`: U(−b, b) per coordinate with per-point bounds
  ``b`` growing from the trunk to the extremities (:data:`DEFAULT_BOUNDS`: the
  paper's CNN error per body part, 15 mm at the hips to 110 mm at the wrists).
- :func:`structured_noise`: the CNN-like error patterns of :class:`StructuredNoise`:
  bone-length scaling, depth-biased error, left/right limb swaps and occlusion-like
  outliers, plus small Gaussian jitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from smplr.body.skeleton import (
    JL_MIRROR,
    JL_NAMES,
    JL_PARENTS,
    LANDMARK_PARENTS,
    NUM_JL,
    NUM_JOINTS,
    kinematic_levels,
)


def _check_jl(jl: torch.Tensor) -> None:
    if jl.ndim != 3 or jl.shape[1:] != (NUM_JL, 3):
        raise ValueError(f"jl has shape {tuple(jl.shape)}; expected (B, {NUM_JL}, 3)")
    if not bool(torch.isfinite(jl).all()):
        raise ValueError("jl contains NaN or inf")


def _per_point(value: float | torch.Tensor, jl: torch.Tensor, name: str) -> torch.Tensor:
    """A scalar or a ``(42,)`` tensor -> ``(42, 1)`` on jl's device."""
    t = torch.as_tensor(value, device=jl.device, dtype=jl.dtype)
    if t.ndim == 0:
        t = t.expand(NUM_JL)
    if t.shape != (NUM_JL,):
        raise ValueError(f"{name} must be a number or have shape ({NUM_JL},), got {tuple(t.shape)}")
    if bool((t < 0).any()):
        raise ValueError(f"{name} must be non-negative")
    return t[:, None]


def _keep_root(noisy: torch.Tensor, jl: torch.Tensor, keep_root: bool) -> torch.Tensor:
    if keep_root:
        noisy[:, 0] = jl[:, 0]
    return noisy


def gaussian_noise(
    jl: torch.Tensor,
    generator: torch.Generator,
    std: float | torch.Tensor = 0.02,
    keep_root: bool = True,
) -> torch.Tensor:
    """``jl + N(0, std²)`` per coordinate; ``std`` in metres, a number or ``(42,)`` per point."""
    _check_jl(jl)
    sigma = _per_point(std, jl, "std")
    noise = torch.randn(jl.shape, generator=generator, device=jl.device, dtype=jl.dtype)
    return _keep_root(jl + sigma * noise, jl, keep_root)


# Mean error (metres) of the paper's stacked-hourglass CNN per body part (Table 1,
# row SHN), keyed by the SMPL joints of each evaluation group (DESIGN.md); the hands
# take the wrists' value.
_SHN_PART_ERROR: tuple[tuple[tuple[int, ...], float], ...] = (
    ((12, 15), 0.046),  # head: neck, head
    ((3, 6, 9), 0.023),  # torso: spine1-3
    ((13, 14, 16, 17), 0.043),  # shoulders: collars, shoulders
    ((18, 19), 0.076),  # elbows
    ((20, 21, 22, 23), 0.110),  # wrists and hands
    ((1, 2), 0.015),  # hips
    ((4, 5), 0.061),  # knees
    ((7, 8, 10, 11), 0.102),  # feet: ankles, toes
)


def _default_bounds() -> tuple[float, ...]:
    """Per-point uniform bounds: each joint's body-part error of the paper's CNN; each
    landmark takes the bound of the joint it hangs off in κ (the hips' for those on
    the pelvis); the root gets 0."""
    joint_bound = [0.0] * NUM_JOINTS
    for joints, error in _SHN_PART_ERROR:
        for j in joints:
            joint_bound[j] = error
    hips = joint_bound[1]
    return tuple(joint_bound) + tuple(joint_bound[p] if p else hips for p in LANDMARK_PARENTS)


DEFAULT_BOUNDS: tuple[float, ...] = _default_bounds()
"""Default per-point bounds of :func:`bounded_uniform_noise`, metres, in JL order."""


def bounded_uniform_noise(
    jl: torch.Tensor,
    generator: torch.Generator,
    bounds: float | torch.Tensor | tuple[float, ...] = DEFAULT_BOUNDS,
    keep_root: bool = True,
) -> torch.Tensor:
    """``jl + U(−b, b)`` per coordinate, ``b`` per point (paper 4.4.2, "uniform noise
    with adapted bounds for each joint"); default :data:`DEFAULT_BOUNDS`."""
    _check_jl(jl)
    b = _per_point(torch.as_tensor(bounds), jl, "bounds")
    u = torch.rand(jl.shape, generator=generator, device=jl.device, dtype=jl.dtype)
    return _keep_root(jl + b * (2 * u - 1), jl, keep_root)


# ---------------------------------------------------------------------- structured noise
def _limb(points_of: tuple[str, ...]) -> list[int]:
    """Indices of the left-side JL points whose name contains one of ``points_of``."""
    return [i for i, n in enumerate(JL_NAMES) if "left" in n and any(p in n for p in points_of)]


LEFT_ARM: tuple[int, ...] = tuple(_limb(("elbow", "wrist", "hand", "biceps", "triceps")))
"""Left-arm JL points that a limb swap exchanges with their right twins."""
LEFT_LEG: tuple[int, ...] = tuple(_limb(("knee", "ankle", "foot")))
"""Left-leg JL points that a limb swap exchanges with their right twins."""
_LEVELS = kinematic_levels(JL_PARENTS)


@dataclass(frozen=True)
class StructuredNoise:
    """Parameters of :func:`structured_noise` (lengths in metres).

    Attributes:
        bone_scale_std: per-sample global scale of all bones, N(1, σ²), and
            ``limb_scale_std`` an extra per-bone factor N(1, σ²): a CNN's skeleton
            is consistently too big/small and individual limbs too long/short.
        depth_std: extra N(0, σ²) error on the depth axis only (monocular depth is
            the least certain coordinate) and ``depth_scale_std`` a per-sample
            scaling of all depths, N(1, σ²) (a squashed or stretched depth range).
        depth_axis: which coordinate is depth (2: Z, the camera axis of the view frame).
        swap_probability: per sample and limb pair (arms, legs), the chance that
            left and right are exchanged (the CNN mixes up the sides).
        outlier_probability: per point, the chance of an occlusion-like gross error,
            N(0, ``outlier_std``²) per coordinate.
        jitter_std: small i.i.d. Gaussian error on every point.
    """

    bone_scale_std: float = 0.03
    limb_scale_std: float = 0.03
    depth_std: float = 0.03
    depth_scale_std: float = 0.05
    depth_axis: int = 2
    swap_probability: float = 0.05
    outlier_probability: float = 0.02
    outlier_std: float = 0.12
    jitter_std: float = 0.01


def scale_bones(jl: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Rebuild ``jl (B, 42, 3)`` along κ with each bone ``i -> κ(i)`` scaled by
    ``scale (B, 42)`` (entry 0, the root, is ignored)."""
    out = jl.clone()
    for level in _LEVELS[1:]:
        parents = [JL_PARENTS[i] for i in level]
        bone = jl[:, level] - jl[:, parents]
        out[:, level] = out[:, parents] + scale[:, level, None] * bone
    return out


def swap_limbs(jl: torch.Tensor, arms: torch.Tensor, legs: torch.Tensor) -> torch.Tensor:
    """Exchange left and right arm points where ``arms (B,)`` and leg points where
    ``legs (B,)`` are True."""
    out = jl.clone()
    for limb, which in ((LEFT_ARM, arms), (LEFT_LEG, legs)):
        left = list(limb)
        right = [JL_MIRROR[i] for i in limb]
        both, swapped = left + right, right + left
        out[:, both] = torch.where(which[:, None, None], jl[:, swapped], jl[:, both])
    return out


def structured_noise(
    jl: torch.Tensor,
    generator: torch.Generator,
    params: StructuredNoise = StructuredNoise(),
    keep_root: bool = True,
) -> torch.Tensor:
    """CNN-like errors on ``jl (B, 42, 3)``, applied in this order:

    1. bone-length scaling (global and per bone) along the tree κ;
    2. left/right limb swaps;
    3. depth error: the depth coordinate scaled per sample and given extra noise;
    4. occlusion-like outliers on a few points;
    5. Gaussian jitter on every point.

    Set a parameter of :class:`StructuredNoise` to 0 to switch its step off.
    """
    _check_jl(jl)
    p = params
    batch, dev, dt = jl.shape[0], jl.device, jl.dtype

    def normal(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, device=dev, dtype=dt)

    def chance(probability: float, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=dev) < probability

    scale = 1 + p.bone_scale_std * normal(batch, 1) + p.limb_scale_std * normal(batch, NUM_JL)
    noisy = scale_bones(jl, scale.clamp_min(0.5))
    noisy = swap_limbs(noisy, chance(p.swap_probability, batch), chance(p.swap_probability, batch))
    depth = noisy[..., p.depth_axis]
    depth_scale = (1 + p.depth_scale_std * normal(batch, 1)).clamp_min(0.5)
    noisy[..., p.depth_axis] = depth * depth_scale + p.depth_std * normal(batch, NUM_JL)
    outlier = chance(p.outlier_probability, batch, NUM_JL)
    noisy = noisy + outlier[..., None] * p.outlier_std * normal(batch, NUM_JL, 3)
    noisy = noisy + p.jitter_std * normal(batch, NUM_JL, 3)
    return _keep_root(noisy, jl, keep_root)


def detector_noise(
    points: torch.Tensor,
    mirror: torch.Tensor,
    generator: torch.Generator,
    max_sigma: float = 0.03,
    outlier_rate: float = 0.03,
    outlier_sigma: float = 0.1,
    swap_rate: float = 0.05,
) -> torch.Tensor:
    """A keypoint detector's errors on ``points (B, P, 3)`` (metres, any P): Gaussian
    jitter with a per-body σ ~ U(0, ``max_sigma``), each point an outlier (an extra
    N(0, ``outlier_sigma``²) offset) with probability ``outlier_rate``, and with
    probability ``swap_rate`` per body one point swapped with its left/right
    counterpart (``mirror (P,)``: index of each point's mirror).
    """
    batch, count, _ = points.shape

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, device=generator.device).to(points)

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=generator.device).to(points)

    sigma = max_sigma * uniform(batch, 1, 1)
    noisy = points + sigma * draw(batch, count, 3)
    outlier = (uniform(batch, count, 1) < outlier_rate).to(points)
    noisy = noisy + outlier * outlier_sigma * draw(batch, count, 3)
    pick = (uniform(batch) * count).long().clamp_max(count - 1)
    swap = (uniform(batch) < swap_rate) & (mirror.to(pick.device)[pick] != pick)
    rows = torch.nonzero(swap).squeeze(1)
    if rows.numel():
        a, b = pick[rows], mirror.to(pick.device)[pick[rows]]
        first, second = noisy[rows, a].clone(), noisy[rows, b].clone()
        noisy[rows, a], noisy[rows, b] = second, first
    return noisy
