"""Bodies per second of the SMPL-format layer against two other ways of computing it.

- *reference*: :func:`~smplr.body.reference_lbs.reference_lbs`, SMPL as its paper states
  it (4×4 transforms chained one joint at a time, a blended 4×4 per vertex; the layout of
  the widely used SMPL layers);
- *dense*: :class:`DenseLBS`, the dense-matrix layout of fast fitting libraries such as
  ``smplfitter`` (shape and pose blend shapes as two matrix products over every vertex,
  one blended 3×4 transform per vertex from all 24 joint weights).

All three compute the same vertices; the table gives bodies/s with the full mesh.
Run: ``smplr bench body`` (part of ``make bench``).
"""

from __future__ import annotations

from functools import partial

import torch

from smplr.benchmarks import median_seconds
from smplr.body.kinematics import forward_kinematics
from smplr.body.model import BodyModel, open_model_path
from smplr.body.model_file import BodyModelData, load_model_data
from smplr.body.reference_lbs import reference_lbs
from smplr.geometry.rotations import axis_angle_to_matrix


class DenseLBS:
    """SMPL with dense matrices: ``betas (B, L)``, ``pose (B, 72)``, ``transl (B, 3)`` ->
    vertices ``(B, V, 3)``."""

    def __init__(self, data: BodyModelData, dtype: torch.dtype = torch.float32) -> None:
        t = partial(torch.as_tensor, dtype=dtype)
        num_v = data.num_vertices
        self.template = t(data.v_template).reshape(1, -1)  # (1, 3V)
        self.shapedirs = t(data.shapedirs).permute(2, 0, 1).reshape(data.num_betas, -1)
        self.posedirs = t(data.posedirs).permute(2, 0, 1).reshape(-1, 3 * num_v)  # (207, 3V)
        self.joint_template = t(data.J_regressor @ data.v_template)  # (24, 3)
        self.joint_shapedirs = t(
            (data.J_regressor @ data.shapedirs.reshape(num_v, -1)).reshape(24, 3, -1)
        )
        self.weights = t(data.weights)  # (V, 24)

    def __call__(
        self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor
    ) -> torch.Tensor:
        batch, num = betas.shape
        rot = axis_angle_to_matrix(pose.reshape(batch, 24, 3))
        features = (rot[:, 1:] - torch.eye(3, dtype=rot.dtype)).reshape(batch, -1)
        rest = self.template + betas @ self.shapedirs[:num] + features @ self.posedirs
        rest_joints = self.joint_template + torch.einsum(
            "jcl,bl->bjc", self.joint_shapedirs[..., :num], betas
        )
        world, joints = forward_kinematics(rot, rest_joints)
        shifts = joints - (world @ rest_joints.unsqueeze(-1)).squeeze(-1) + transl[:, None]
        transforms = torch.cat([world, shifts.unsqueeze(-1)], dim=3).reshape(batch, 24, 12)
        per_vertex = (self.weights @ transforms).view(batch, -1, 3, 4)  # (B, V, 3, 4)
        points = rest.view(batch, -1, 3)
        return (per_vertex[..., :3] @ points.unsqueeze(-1)).squeeze(-1) + per_vertex[..., 3]


def run(
    batches: tuple[int, ...] = (1, 64, 256, 1024), gender: str = "neutral", threads: int = 2
) -> list[dict[str, float]]:
    """Print and return bodies/s of :class:`BodyModel`, :class:`DenseLBS` and
    :func:`reference_lbs` per batch size (full mesh, float32, no gradient)."""
    torch.set_num_threads(threads)
    data = load_model_data(open_model_path(gender))
    model = BodyModel(data, gender, dtype=torch.float32)
    dense = DenseLBS(data)
    generator = torch.Generator().manual_seed(0)
    rows = []
    print(
        f"body model: open {gender}, {data.num_vertices} vertices, float32, {threads} threads, "
        "no grad, vertices + joints"
    )
    print(
        f"{'batch':>6} {'smplr ms':>9} {'smplr bodies/s':>15} {'dense bodies/s':>15} "
        f"{'reference bodies/s':>19} {'vs dense':>9} {'vs reference':>13}"
    )
    for batch in batches:
        betas = torch.randn(batch, 10, generator=generator)
        pose = 0.5 * torch.randn(batch, 72, generator=generator)
        transl = torch.zeros(batch, 3)
        inputs = {
            "betas": betas,
            "global_orient": pose[:, :3],
            "body_pose": pose[:, 3:],
            "transl": transl,
        }
        with torch.no_grad():
            ours = median_seconds(partial(model, **inputs))
            dense_s = median_seconds(partial(dense, betas, pose, transl), repeats=3)
            ref = median_seconds(partial(reference_lbs, data, betas, pose, transl), repeats=3)
        row = {
            "batch": batch,
            "smplr_ms": 1000 * ours,
            "smplr": batch / ours,
            "dense": batch / dense_s,
            "reference": batch / ref,
            "speedup_dense": dense_s / ours,
            "speedup": ref / ours,
        }
        rows.append(row)
        print(
            f"{batch:>6} {row['smplr_ms']:>9.2f} {row['smplr']:>15,.0f} {row['dense']:>15,.0f} "
            f"{row['reference']:>19,.0f} {row['speedup_dense']:>8.1f}x {row['speedup']:>12.1f}x"
        )
    return rows
