"""Small stand-ins for the SMPLR core's tests: a fake gendered body model, a fake body
sampler (random poses, not the synthetic pose prior) and a fake corruption.

They live in tests/ only: the package code uses the open body model and
``smplr.synthetic``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model import BodyModel, GenderedBodyModel
from smplr.body.model_file import model_data_from_arrays
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.training.data import Corruption


def fake_body(seed: int, gender: str, dtype: torch.dtype = torch.float32) -> BodyModel:
    arrays = fake_smpl_arrays(seed=seed)
    arrays["f"] = fake_smpl_arrays(seed=0)["f"]  # one topology for both genders
    return BodyModel(model_data_from_arrays(arrays), gender, dtype=dtype)


def fake_gendered(dtype: torch.dtype = torch.float32) -> GenderedBodyModel:
    return GenderedBodyModel(fake_body(1, "female", dtype), fake_body(2, "male", dtype))


@dataclass
class FakeBatch:
    betas: torch.Tensor
    gender: torch.Tensor
    global_orient: torch.Tensor
    body_pose: torch.Tensor
    jl: torch.Tensor


def random_params(batch: int, generator: torch.Generator, dtype=torch.float32) -> dict:
    """Random bodies: betas N(0, 1), gender ±1, joint angles N(0, 0.3 rad), any heading."""
    betas = torch.randn(batch, 10, generator=generator, dtype=dtype)
    gender = torch.where(torch.rand(batch, generator=generator) < 0.5, -1.0, 1.0).to(dtype)
    pose = 0.3 * torch.randn(batch, 24, 3, generator=generator, dtype=dtype)
    pose[:, 0] = 0
    pose[:, 0, 1] = (torch.rand(batch, generator=generator, dtype=dtype) * 2 - 1) * torch.pi
    rotations = axis_angle_to_matrix(pose)
    return {"betas": betas, "gender": gender, "rotations": rotations}


class FakeSampler:
    """Quacks like ``SyntheticBodies``: ``sample(batch)`` -> betas, gender, rotations, jl."""

    def __init__(self, body: GenderedBodyModel, seed: int) -> None:
        self.jl_body = body.jl_model()
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def sample(self, batch: int, with_vertices: bool = False) -> FakeBatch:
        p = random_params(batch, self.generator)
        out = self.jl_body(p["gender"], p["betas"], p["rotations"][:, :1], p["rotations"][:, 1:])
        jl = out.jl - out.joints[:, :1]
        return FakeBatch(p["betas"], p["gender"], p["rotations"][:, 0], p["rotations"][:, 1:], jl)


def gaussian(jl: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return jl + 0.02 * torch.randn(jl.shape, generator=generator, device=generator.device)


def fake_corruption() -> Corruption:
    return Corruption(noise_models=(gaussian,))
