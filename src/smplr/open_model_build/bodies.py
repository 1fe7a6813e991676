"""Anny bodies for the build: adult phenotypes sampled from Anny's own prior, taken from
Anny's A-pose to the SMPL-like T-pose with its skinning merged onto SMPL's 24 joints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from smplr.body.kinematics import forward_kinematics
from smplr.open_model_build.anny_source import (
    AnnySource,
    relative_rotations,
    rigid_part_skinning,
    t_pose_rotations,
)

#: Anny's gender phenotype: 0 is male, 1 is female.
ANNY_GENDER = {"male": 0.0, "female": 1.0}
#: Adult ages sampled, in years (Anny's "morphological age"), as the CAESAR scans behind SMPL.
AGE_RANGE_YEARS = (18.0, 65.0)


def sample_phenotypes(source: AnnySource, gender: str, count: int, seed: int) -> torch.Tensor:
    """``count`` adult phenotypes of one sex from Anny's calibrated prior -> ``(count, P)``.

    Anny's ``SimpleShapeDistribution`` draws height, weight, muscle and proportions from
    Beta distributions fitted to WHO data given the age; ages are uniform over
    :data:`AGE_RANGE_YEARS`.  Deterministic in ``seed`` (the global torch RNG is restored).
    """
    from anny.shape_distribution import SimpleShapeDistribution

    dtype = torch.float64
    ages = torch.distributions.Uniform(
        torch.tensor(AGE_RANGE_YEARS[0], dtype=dtype), torch.tensor(AGE_RANGE_YEARS[1], dtype=dtype)
    )
    sexes = torch.distributions.Bernoulli(torch.tensor(ANNY_GENDER[gender], dtype=dtype))
    prior = SimpleShapeDistribution(
        source.model, morphological_age_distribution=ages, gender_distribution=sexes
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, phenotypes = prior.sample(count)
    return source.phenotype_tensor(phenotypes)


@dataclass
class TPosedBodies:
    """Bodies in the T-pose, SMPL axes, float64: ``vertices (N, V, 3)``, ``joints (N, 24, 3)``,
    plus what it takes to drive Anny for them: ``phenotypes (N, P)``, Anny's rest (A-pose)
    ``rest_joints (N, 24, 3)`` and the A→T ``t_pose (N, 24, 3, 3)`` world rotations."""

    vertices: torch.Tensor
    joints: torch.Tensor
    phenotypes: torch.Tensor
    rest_joints: torch.Tensor
    t_pose: torch.Tensor

    def __len__(self) -> int:
        return int(self.vertices.shape[0])

    def select(self, index: slice | torch.Tensor) -> TPosedBodies:
        return TPosedBodies(
            *(
                getattr(self, k)[index]
                for k in ("vertices", "joints", "phenotypes", "rest_joints", "t_pose")
            )
        )

    @staticmethod
    def concat(parts: list[TPosedBodies]) -> TPosedBodies:
        keys = ("vertices", "joints", "phenotypes", "rest_joints", "t_pose")
        return TPosedBodies(*(torch.cat([getattr(p, k) for p in parts]) for k in keys))


def t_posed_bodies(
    source: AnnySource,
    phenotypes: torch.Tensor,
    batch: int = 100,
    advance: Callable[[], None] | None = None,
) -> TPosedBodies:
    """Anny bodies for ``phenotypes (N, P)``, taken to the T-pose by Anny's skinning merged on 24 joints."""
    weights = torch.as_tensor(source.weights)
    parts = []
    for start in range(0, phenotypes.shape[0], batch):
        chunk = phenotypes[start : start + batch]
        rest = source.rest(chunk)
        rotations = t_pose_rotations(rest.joints)
        _, joints = forward_kinematics(relative_rotations(rotations), rest.joints)
        vertices = rigid_part_skinning(rest.vertices, weights, rotations, rest.joints, joints)
        parts.append(TPosedBodies(vertices, joints, chunk, rest.joints, rotations))
        if advance is not None:
            advance()
    return TPosedBodies.concat(parts)
