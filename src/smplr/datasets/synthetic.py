"""The synthetic benchmark as dataset samples: :func:`smplr.synthetic.held_out_set`.

The deterministic held-out set (same bodies for a given body model, ``num`` and
``seed``) becomes :class:`~smplr.datasets.record.Sample` records so that it is
evaluated exactly like the real datasets.  Joints are root-relative in the body
model's frame (``coordinates="world"``, pelvis at the origin); the SMPL parameters are
the generating ones (``transl`` None: the body sits on its root joint).  Ground-truth
landmarks and vertices come from posing the *same* body model
(:meth:`SyntheticSet.ground_truth_bodies`).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.datasets.record import Sample
from smplr.geometry.rotations import matrix_to_axis_angle
from smplr.synthetic import held_out_set


class SyntheticSet:
    """``num`` synthetic bodies drawn with ``seed`` from ``body`` (a female/male pair).

    >>> from smplr.body import GenderedBodyModel                   # doctest: +SKIP
    >>> for sample in SyntheticSet(GenderedBodyModel.open()): ...  # doctest: +SKIP
    """

    def __init__(
        self, body: GenderedBodyModel, num: int = 2000, seed: int = 12345, split: str = "test"
    ) -> None:
        self.body = body
        self.num = num
        self.seed = seed
        self.split = split
        self.batch = held_out_set(body, num=num, seed=seed)

    def ground_truth_bodies(self):  # -> smplr.evaluation.GroundTruthBodies
        """The body models that generated the set, for landmarks and vertices."""
        from smplr.evaluation.ground_truth import GroundTruthBodies

        return GroundTruthBodies(
            {"female": self.body.female, "male": self.body.male},
            "the body model that generated the synthetic set",
        )

    def __len__(self) -> int:
        return self.num

    def __iter__(self) -> Iterator[Sample]:
        batch = self.batch
        jl = batch.jl.detach().cpu().to(torch.float64).numpy()
        orient = matrix_to_axis_angle(batch.global_orient).detach().cpu().to(torch.float64).numpy()
        pose = (
            matrix_to_axis_angle(batch.body_pose)
            .detach()
            .cpu()
            .to(torch.float64)
            .numpy()
            .reshape(self.num, -1)
        )
        betas = batch.betas.detach().cpu().to(torch.float64).numpy()
        gender = batch.gender.detach().cpu().numpy()
        for i in range(self.num):
            yield Sample(
                dataset="synthetic",
                split=self.split,
                key=f"synthetic/{self.seed}/{i}",
                joints3d=jl[i, :NUM_JOINTS].copy(),
                coordinates="world",
                betas=betas[i],
                body_pose=pose[i],
                global_orient=orient[i],
                transl=None,
                gender="male" if gender[i] > 0 else "female",
                source={"jl": jl[i].copy()},
            )
