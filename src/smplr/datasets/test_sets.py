"""Named test sets of poses and shapes, defined once and drawn deterministically.

Each entry of :data:`TEST_SETS` names a pose source (:mod:`smplr.synthetic.pose_sources`
or real motion capture), a shape source, a seed and a size; :func:`draw_test_set` draws
it the same way on every machine (CPU, float64, like
:func:`~smplr.synthetic.bodies.held_out_set`).  Every seed is one kept for test sets
(:mod:`smplr.synthetic.seeds`), which :class:`~smplr.synthetic.mixture.MixtureBodies`
refuses.

Every set is labelled honestly: ``held_out=True`` when its *source* never feeds
training (the hand-designed extreme poses; the test clips of real motion capture),
``False`` when the training mixture draws from the same source (``overlap`` says how:
another seed, or the very poses for the motion-capture train clips).

The motion-capture sets read the shipped pose file
(:func:`smplr.datasets.real_mocap.load_real_mocap_poses`, one split each) when it
exists; :func:`draw_test_set` returns None otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from smplr.datasets import real_mocap
from smplr.datasets.real_mocap import load_real_mocap_poses
from smplr.synthetic.pose_sources import (
    Poses,
    extreme,
    mirror,
    perturbed,
    uniform_limits,
    wide_shapes,
)
from smplr.synthetic.poses import PosePrior
from smplr.synthetic.seeds import HELD_OUT_SEED, is_test_seed
from smplr.synthetic.shapes import sample_shapes

ShapeSource = Callable[[int, torch.Generator, int], tuple[torch.Tensor, torch.Tensor]]
"""``(batch, generator, num_betas) -> betas (B, num_betas), gender (B,)``."""


def _prior(batch: int, generator: torch.Generator) -> Poses:
    return Poses.from_matrices(*PosePrior("cpu", dtype=torch.float64).sample(batch, generator))


def _perturbed_mix(batch: int, generator: torch.Generator) -> Poses:
    """Half around rest, half around the prior's families."""
    rest = batch // 2
    parts = [perturbed(batch - rest, generator, "families", dtype=torch.float64)]
    if rest:
        parts.insert(0, perturbed(rest, generator, "rest", dtype=torch.float64))
    return Poses.cat(parts)


def _standard_shapes(batch: int, generator: torch.Generator, num_betas: int):
    return sample_shapes(batch, generator, num_betas=num_betas, dtype=torch.float64)


def _wide_shapes(batch: int, generator: torch.Generator, num_betas: int):
    return wide_shapes(batch, generator, num_betas=num_betas, dtype=torch.float64)


def _mocap(split: str) -> Callable[[int, torch.Generator], Poses]:
    """Up to ``batch`` poses of the motion-capture ``split``, picked at random, in file order."""

    def draw(batch: int, generator: torch.Generator) -> Poses:
        poses = load_real_mocap_poses(split=split).poses()
        if batch >= len(poses):
            return poses
        rows = torch.randperm(len(poses), generator=generator)[:batch].sort().values
        return poses.index(rows)

    return draw


@dataclass(frozen=True)
class TestSet:
    """One named test set: ``poses(size, generator)``, ``shapes(size, generator, num_betas)``."""

    description: str
    held_out: bool
    seed: int
    size: int
    poses: Callable[[int, torch.Generator], Poses]
    shapes: ShapeSource = _standard_shapes
    overlap: str = "other seed"
    needs_mocap: bool = False

    def __post_init__(self) -> None:
        if not is_test_seed(self.seed):
            raise ValueError(f"test set seed {self.seed} is not kept for test sets")

    @property
    def label(self) -> str:
        return "held-out source" if self.held_out else f"source seen in training ({self.overlap})"


IN_DISTRIBUTION_SEED = HELD_OUT_SEED  # the model card's held-out draw of the pose prior

TEST_SETS: dict[str, TestSet] = {
    "in_distribution": TestSet(
        "pose prior, the model card's held-out seed", False, IN_DISTRIBUTION_SEED, 400, _prior
    ),
    "uniform_limits": TestSet(
        "every joint uniform within its limits, upright root", False, 7_001_001, 400,
        lambda b, g: uniform_limits(b, g, dtype=torch.float64),
    ),
    "perturbed": TestSet(
        "wide perturbations around rest and around prior families", False, 7_001_002, 400,
        _perturbed_mix,
    ),
    "mirrored": TestSet(
        "left/right mirror of perturbed prior families", False, 7_001_003, 400,
        lambda b, g: mirror(perturbed(b, g, "families", dtype=torch.float64)),
    ),
    "extreme": TestSet(
        "hand-designed extreme poses (squats, kneeling, lying, handstands, ...)", True,
        7_001_004, 400, lambda b, g: extreme(b, g, dtype=torch.float64),
    ),
    "wide_shapes": TestSet(
        "pose prior with betas up to ±4σ", False, 7_001_005, 400, _prior, _wide_shapes
    ),
    "real_mocap_test": TestSet(
        "real motion capture, test clips (needs real_mocap_poses.npz)", True, 7_001_006, 908,
        _mocap("test"), needs_mocap=True,
    ),
    "real_mocap_train": TestSet(
        "real motion capture, train clips (needs real_mocap_poses.npz)", False, 7_001_007,
        2196, _mocap("train"), overlap="same poses, other headings and shapes",
        needs_mocap=True,
    ),
}  # fmt: skip
"""Name -> definition.  Sizes are defaults; :func:`draw_test_set` takes another."""

TEST_SEEDS: frozenset[int] = frozenset(s.seed for s in TEST_SETS.values())


def available(name: str) -> bool:
    """False only for the motion-capture sets when the pose file is missing."""
    return not TEST_SETS[name].needs_mocap or real_mocap.SHIPPED_PATH.is_file()


def draw_test_set(
    name: str, num_betas: int = 10, size: int | None = None
) -> tuple[Poses, torch.Tensor, torch.Tensor] | None:
    """Poses, ``betas (N, num_betas)`` and ``gender (N,)`` of test set ``name`` (float64,
    CPU), or None when its data file is missing."""
    if name not in TEST_SETS:
        raise ValueError(f"unknown test set '{name}': expected one of {', '.join(TEST_SETS)}")
    if not available(name):
        return None
    spec = TEST_SETS[name]
    size = spec.size if size is None else size
    if size < 1:
        raise ValueError(f"size must be a positive integer, got {size}")
    generator = torch.Generator().manual_seed(spec.seed)
    poses = spec.poses(size, generator)
    betas, gender = spec.shapes(len(poses), generator, num_betas)
    return poses, betas, gender
