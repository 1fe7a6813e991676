"""A deliberately plain SMPL forward pass, written as the SMPL paper states it.

One joint at a time, 4×4 homogeneous transforms, no precomputation.  It exists to
cross-check :class:`smplr.body.BodyModel` in the tests and to serve as the baseline
of ``make bench``; it is not used for real work.
"""

from __future__ import annotations

import torch

from smplr.body.model_file import BodyModelData
from smplr.geometry.rotations import axis_angle_to_matrix


def reference_lbs(
    data: BodyModelData, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``betas (B, L)``, ``pose (B, 72)`` axis-angle, ``transl (B, 3)`` -> vertices ``(B, V, 3)``, joints ``(B, 24, 3)``."""
    dtype = betas.dtype
    t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    v_template, shapedirs, posedirs = t(data.v_template), t(data.shapedirs), t(data.posedirs)
    regressor, weights = t(data.J_regressor), t(data.weights)
    parents = data.parents.tolist()
    batch = betas.shape[0]
    num = betas.shape[1]
    v_shaped = v_template + torch.einsum("bl,vcl->bvc", betas, shapedirs[:, :, :num])
    joints = torch.einsum("jv,bvc->bjc", regressor, v_shaped)
    rot = axis_angle_to_matrix(pose.reshape(batch, 24, 3))
    eye = torch.eye(3, dtype=dtype)
    v_posed = v_shaped + torch.einsum(
        "bp,vcp->bvc", (rot[:, 1:] - eye).reshape(batch, -1), posedirs
    )
    world: list[torch.Tensor] = []
    for j in range(24):
        local = torch.zeros(batch, 4, 4, dtype=dtype)
        local[:, :3, :3] = rot[:, j]
        local[:, :3, 3] = joints[:, j] - (joints[:, parents[j]] if j > 0 else 0)
        local[:, 3, 3] = 1
        world.append(local if j == 0 else world[parents[j]] @ local)
    g = torch.stack(world, dim=1)  # (B, 24, 4, 4)
    posed_joints = g[:, :, :3, 3].clone()
    rest = torch.cat([joints, torch.zeros(batch, 24, 1, dtype=dtype)], dim=2).unsqueeze(-1)
    g_rel = g.clone()
    g_rel[:, :, :, 3:] = g[:, :, :, 3:] - g @ rest
    blended = torch.einsum("vj,bjrc->bvrc", weights, g_rel)
    homo = torch.cat([v_posed, torch.ones(batch, v_posed.shape[1], 1, dtype=dtype)], dim=2)
    vertices = torch.einsum("bvrc,bvc->bvr", blended, homo)[:, :, :3]
    return vertices + transl[:, None], posed_joints + transl[:, None]
