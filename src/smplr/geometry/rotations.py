"""Rotation representations used across smplr (thin, validated wrappers over roma).

SMPL pose parameters come as axis-angle vectors (``(B, 3)`` per joint, ``(B, 69)``
for the 23 body joints) or as rotation matrices (``(B, J, 3, 3)``).  Everything in
smplr computes on rotation matrices.
"""

from __future__ import annotations

import roma
import torch


def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """Rodrigues: ``rotvec (..., 3)`` axis-angle in radians -> ``(..., 3, 3)`` rotation matrices.

    >>> import math, torch
    >>> quarter_turn_z = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    >>> (quarter_turn_z @ torch.tensor([1.0, 0.0, 0.0])).round(decimals=6) + 0.0  # x -> y
    tensor([0., 1., 0.])
    """
    return roma.rotvec_to_rotmat(rotvec)


def matrix_to_axis_angle(rotmat: torch.Tensor) -> torch.Tensor:
    """``rotmat (..., 3, 3)`` rotation matrices -> ``(..., 3)`` axis-angle, angle in [0, π].

    The inverse of :func:`axis_angle_to_matrix` for angles below π:

    >>> import torch
    >>> rotvec = torch.tensor([[0.3, -0.2, 0.5]], dtype=torch.float64)
    >>> torch.allclose(matrix_to_axis_angle(axis_angle_to_matrix(rotvec)), rotvec)
    True
    """
    return roma.rotmat_to_rotvec(rotmat)


def project_to_so3(matrix: torch.Tensor) -> torch.Tensor:
    """Nearest rotation (Frobenius norm) to each ``(..., 3, 3)`` matrix, through SVD.

    Differentiable; used to turn a network's 9 unconstrained outputs into a valid rotation.

    >>> import torch
    >>> r = project_to_so3(torch.randn(5, 3, 3, dtype=torch.float64))
    >>> torch.allclose(r @ r.transpose(-1, -2), torch.eye(3, dtype=torch.float64))
    True
    >>> torch.allclose(torch.linalg.det(r), torch.ones(5, dtype=torch.float64))
    True
    """
    return roma.special_procrustes(matrix)


def sixd_to_matrix(sixd: torch.Tensor) -> torch.Tensor:
    """Zhou et al.'s continuous 6D representation ``(..., 6)`` -> ``(..., 3, 3)``.

    The two 3-vectors are the first two columns before Gram-Schmidt orthonormalisation.

    >>> import torch
    >>> sixd_to_matrix(torch.tensor([2.0, 0.0, 0.0, 1.0, 1.0, 0.0]))  # columns x, then y
    tensor([[1., 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.]])
    """
    return roma.special_gramschmidt(sixd.reshape(*sixd.shape[:-1], 2, 3).transpose(-1, -2))


def pose_to_matrices(pose: torch.Tensor, num_joints: int, name: str) -> torch.Tensor:
    """Accept ``pose`` in any of SMPL's layouts and return ``(B, num_joints, 3, 3)``.

    Layouts: axis-angle ``(B, 3*num_joints)`` or ``(B, num_joints, 3)``; rotation
    matrices ``(B, num_joints, 3, 3)`` (or ``(B, 3, 3)`` when ``num_joints == 1``).
    ``name`` is used in the error message.
    """
    if pose.ndim == 2 and pose.shape[1] == 3 * num_joints:
        return axis_angle_to_matrix(pose.reshape(pose.shape[0], num_joints, 3))
    if pose.ndim == 3 and pose.shape[1:] == (num_joints, 3):
        return axis_angle_to_matrix(pose)
    if pose.ndim == 4 and pose.shape[1:] == (num_joints, 3, 3):
        return pose
    if num_joints == 1 and pose.ndim == 3 and pose.shape[1:] == (3, 3):
        return pose.unsqueeze(1)
    raise ValueError(
        f"{name} has shape {tuple(pose.shape)}; expected axis-angle (B, {3 * num_joints}) "
        f"or rotation matrices (B, {num_joints}, 3, 3)"
    )


def axis_rotation(angle: torch.Tensor, axis: int) -> torch.Tensor:
    """Rotations ``(..., 3, 3)`` by ``angle (...)`` radians about coordinate axis
    ``axis`` (0 = X, 1 = Y, 2 = Z), right-handed.

    >>> import math, torch
    >>> half_turn_y = axis_rotation(torch.tensor(math.pi, dtype=torch.float64), axis=1)
    >>> half_turn_y.round(decimals=6) + 0.0  # X and Z flip, Y stays
    tensor([[-1.,  0.,  0.],
            [ 0.,  1.,  0.],
            [ 0.,  0., -1.]], dtype=torch.float64)
    """
    rotvec = torch.zeros(*angle.shape, 3, device=angle.device, dtype=angle.dtype)
    rotvec[..., axis] = angle
    return axis_angle_to_matrix(rotvec)
