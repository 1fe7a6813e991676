"""Training bodies from a mixture of pose sources: the pose prior plus independent ones.

:class:`MixtureBodies` is a drop-in :class:`~smplr.synthetic.bodies.SyntheticBodies`
(so a :class:`~smplr.training.recipe.Recipe` can use it as its ``sampler``) whose
poses come from, per body, one component drawn with :data:`DEFAULT_WEIGHTS`:

========================  ======  ==============================================
component                 weight  poses
========================  ======  ==============================================
``prior``                 0.40    the pose prior's families (what SMPLR trained on)
``uniform_limits``        0.20    every joint uniform within its limits
``perturbed_rest``        0.10    wide Gaussian perturbations around rest
``perturbed_families``    0.30    wide perturbations around prior draws
``mocap``                 0.25    real motion-capture poses (only when given)
========================  ======  ==============================================

(weights are relative; without motion capture the others are renormalised).  Every
component but the prior (which mirrors half its own draws) is mirrored left/right for
half of its bodies; ``any_orientation_share`` of the uniform and rest-perturbed bodies
get a uniformly random root orientation (upside down included) instead of an upright
one; motion-capture poses get a random heading.  ``wide_shape_share`` of the bodies
get shapes out to ±4σ (:func:`~smplr.synthetic.pose_sources.wide_shapes`), the rest
the usual :func:`~smplr.synthetic.shapes.sample_shapes`.

Held out on purpose (never drawn here): the hand-designed extreme poses and the test
clips of motion capture, so that :mod:`smplr.datasets.test_sets` keeps honest
out-of-distribution sets.
"""

from __future__ import annotations

import math

import torch

from smplr.body.model import GenderedBodyModel
from smplr.geometry.rotations import axis_angle_to_matrix, axis_rotation, matrix_to_axis_angle
from smplr.synthetic.bodies import SyntheticBodies
from smplr.synthetic.joint_limits import Y
from smplr.synthetic.pose_sources import (
    Poses,
    mirror_some,
    perturbed,
    random_orientation,
    uniform_limits,
    wide_shapes,
)
from smplr.synthetic.seeds import is_test_seed
from smplr.synthetic.shapes import sample_shapes

DEFAULT_WEIGHTS: dict[str, float] = {
    "prior": 0.40,
    "uniform_limits": 0.20,
    "perturbed_rest": 0.10,
    "perturbed_families": 0.30,
    "mocap": 0.25,
}
COMPONENTS: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)


class MixtureBodies(SyntheticBodies):
    """Endless batches of bodies from the pose-source mixture (see the module docstring).

    Args:
        body: the female/male body model pair (must define landmarks).
        seed: seed of the sampler's generator; the seeds kept for test sets
            (:mod:`smplr.synthetic.seeds`) are refused.
        device: where poses, shapes and bodies are built.
        weights: relative weight per component name (missing names: 0).
        mocap: real motion-capture training poses to draw from (``mocap`` component),
            or None to leave that component out.
        any_orientation_share: share of uniform and rest-perturbed bodies whose root
            orientation is uniform on SO(3).
        wide_shape_share: share of bodies with wide shapes.
        block_size: bodies drawn at a time.
    """

    def __init__(
        self,
        body: GenderedBodyModel,
        seed: int = 0,
        device="cpu",
        weights: dict[str, float] | None = None,
        mocap: Poses | None = None,
        any_orientation_share: float = 0.25,
        wide_shape_share: float = 0.2,
        block_size: int = 4096,
    ) -> None:
        if is_test_seed(seed):
            raise ValueError(f"seed {seed} is kept for test sets (smplr.synthetic.seeds)")
        weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = sorted(set(weights) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown components {unknown}; expected names from {COMPONENTS}")
        if mocap is None:
            weights["mocap"] = 0.0
        values = [float(weights.get(n, 0.0)) for n in COMPONENTS]
        if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        for name, share in (
            ("any_orientation_share", any_orientation_share),
            ("wide_shape_share", wide_shape_share),
        ):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {share}")
        super().__init__(body, seed=seed, device=device, block_size=block_size)
        self.weights = dict(zip(COMPONENTS, values, strict=True))
        self._weights = torch.tensor(values, dtype=torch.float64, device=self.device)
        self.dtype = self.body.female.dtype
        self.mocap = (
            None
            if mocap is None
            else Poses(
                *(t.to(self.device, self.dtype) for t in (mocap.global_orient, mocap.body_pose))
            )
        )
        self.any_orientation_share = any_orientation_share
        self.wide_shape_share = wide_shape_share

    def _component(self, name: str, n: int) -> Poses:
        g, dt = self.generator, self.dtype
        if name == "prior":
            return Poses.from_matrices(*self.pose_prior.sample(n, g))
        if name == "perturbed_families":
            poses = perturbed(n, g, "families", dtype=dt)
        elif name == "mocap":
            assert self.mocap is not None
            rows = torch.randint(len(self.mocap), (n,), generator=g, device=self.device)
            poses = self.mocap.index(rows)
            yaw = (torch.rand(n, generator=g, device=self.device, dtype=dt) * 2 - 1) * math.pi
            turned = axis_rotation(yaw, Y) @ axis_angle_to_matrix(poses.global_orient)
            poses = Poses(matrix_to_axis_angle(turned), poses.body_pose)
        else:
            poses = (uniform_limits if name == "uniform_limits" else perturbed)(n, g, dtype=dt)
            tumble = torch.rand(n, generator=g, device=self.device) < self.any_orientation_share
            root = random_orientation(n, g, "any", dtype=dt)
            root = torch.where(tumble[:, None], matrix_to_axis_angle(root), poses.global_orient)
            poses = Poses(root, poses.body_pose)
        return mirror_some(poses, 0.5, g)

    def _draw_block(self) -> list[torch.Tensor]:
        n, g, dt = self.block_size, self.generator, self.dtype
        pick = torch.multinomial(self._weights, n, replacement=True, generator=g)
        global_orient = torch.zeros(n, 3, 3, device=self.device, dtype=dt)
        body_pose = torch.zeros(n, 23, 3, 3, device=self.device, dtype=dt)
        for k, name in enumerate(COMPONENTS):
            rows = torch.nonzero(pick == k).squeeze(1)
            if rows.numel():
                global_orient[rows], body_pose[rows] = self._component(
                    name, rows.numel()
                ).matrices()
        betas, gender = sample_shapes(n, g, self.device, num_betas=self.body.num_betas, dtype=dt)
        wide_betas, _ = wide_shapes(n, g, num_betas=self.body.num_betas, dtype=dt)
        wide = torch.rand(n, generator=g, device=self.device) < self.wide_shape_share
        betas = torch.where(wide[:, None], wide_betas, betas)
        return [betas, gender, global_orient, body_pose]
