"""The shape side of one model: a 10-direction PCA shape space of T-posed bodies and a
sparse joint regressor exact on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smplr.body.skeleton import NUM_JOINTS
from smplr.open_model_build.bodies import TPosedBodies

NUM_BETAS = 10
#: Vertices (nearest to the joint in the template) that a joint's regressor row may use.
REGRESSOR_SUPPORT = 256
#: Ridge weight of the regressor's least-squares step, relative to its largest squared singular value.
REGRESSOR_RIDGE = 1e-6


@dataclass
class ShapeSpace:
    """A SMPL shape space: ``v_template (V, 3)``, ``shapedirs (V, 3, L)`` (one standard
    deviation per direction), the matching ``joint_template (24, 3)`` and
    ``joint_dirs (24, 3, L)``, and ``explained (L,)`` the fraction of the samples'
    vertex variance each direction explains."""

    v_template: np.ndarray
    shapedirs: np.ndarray
    joint_template: np.ndarray
    joint_dirs: np.ndarray
    explained: np.ndarray

    def betas(self, vertices: np.ndarray) -> np.ndarray:
        """Least-squares betas of ``vertices (N, V, 3)`` -> ``(N, L)``."""
        basis = self.shapedirs.reshape(-1, self.shapedirs.shape[2])
        centred = (vertices - self.v_template).reshape(vertices.shape[0], -1)
        return np.linalg.lstsq(basis, centred.T, rcond=None)[0].T

    def vertices(self, betas: np.ndarray) -> np.ndarray:
        return self.v_template + np.einsum("vcl,nl->nvc", self.shapedirs, betas)


def fit_shape_space(
    vertices: np.ndarray, joints: np.ndarray, num_betas: int = NUM_BETAS
) -> ShapeSpace:
    """PCA of ``vertices (N, V, 3)``; joints ``(N, 24, 3)`` follow by least squares on the betas.

    Directions are scaled by the standard deviation of their coefficient, so betas of the
    sampled population have zero mean and unit variance, as SMPL's.  Each direction's sign
    is fixed so that a positive beta moves the vertices away from the body's centroid on
    average (for the first direction: a larger body).
    """
    n = vertices.shape[0]
    mean = vertices.mean(axis=0)
    centred = (vertices - mean).reshape(n, -1)
    gram = centred @ centred.T
    eigval, eigvec = np.linalg.eigh(gram)
    order = np.argsort(eigval)[::-1][:num_betas]
    eigval, eigvec = eigval[order], eigvec[:, order]
    components = (centred.T @ eigvec) / np.sqrt(eigval)  # (3V, L), orthonormal columns
    outward = (mean - mean.mean(axis=0)).reshape(-1)
    components *= np.where(outward @ components < 0, -1.0, 1.0)
    std = np.sqrt(eigval / (n - 1))
    shapedirs = (components * std).reshape(*mean.shape, num_betas)
    betas = centred @ components / std  # (N, L), unit variance
    joint_mean = joints.mean(axis=0)
    joint_dirs = np.einsum("nl,njc->jcl", betas, joints - joint_mean) / (n - 1)
    return ShapeSpace(
        v_template=mean,
        shapedirs=shapedirs,
        joint_template=joint_mean,
        joint_dirs=joint_dirs,
        explained=eigval / np.trace(gram),
    )


def fit_joint_regressor(
    space: ShapeSpace,
    vertices: np.ndarray,
    joints: np.ndarray,
    support: int = REGRESSOR_SUPPORT,
    ridge: float = REGRESSOR_RIDGE,
) -> np.ndarray:
    """A sparse ``(24, V)`` joint regressor, exact on the shape space.

    Anny's joints are not averages of nearby vertices (a non-negative, local regressor
    misses them by ~5 mm), so each row is fitted with signed weights on the ``support``
    template vertices nearest to its joint:

    1. hard constraints: the row reproduces the template's joint and every shape
       direction's joint motion, and sums to one (so it follows translations);
       constraint combinations that the support cannot resolve (singular values below
       1e-6 of the largest) are left to step 2;
    2. within those constraints, ridge least squares of the samples' own joints
       ``(N, 24, 3)`` from their vertices ``(N, V, 3)`` (relative weight ``ridge`` of the
       largest squared singular value), which carries it to shapes beyond the 10
       directions.

    It is meant for rest-pose (shaped) vertices, as SMPL's layer uses it.
    """
    num_betas = space.shapedirs.shape[2]
    regressor = np.zeros((NUM_JOINTS, space.v_template.shape[0]))
    for j in range(NUM_JOINTS):
        distance = np.linalg.norm(space.v_template - space.joint_template[j], axis=1)
        ids = np.sort(np.argsort(distance)[:support])
        rows = [space.v_template[ids].T] + [space.shapedirs[ids, :, k].T for k in range(num_betas)]
        targets = [space.joint_template[j]] + [space.joint_dirs[j, :, k] for k in range(num_betas)]
        constraints = np.vstack([*rows, np.ones((1, ids.size))])
        wanted = np.concatenate([*targets, [1.0]])
        u, sv, vt = np.linalg.svd(constraints, full_matrices=True)
        rank = int(np.sum(sv > 1e-6 * sv[0]))
        exact = vt[:rank].T @ ((u[:, :rank].T @ wanted) / sv[:rank])  # min-norm solution
        free = vt[rank:].T  # (K, K - rank): directions that keep the constraints
        data = vertices[:, ids, :].transpose(0, 2, 1).reshape(-1, ids.size)  # (3N, K)
        residual = joints[:, j, :].reshape(-1) - data @ exact
        um, sm, vmt = np.linalg.svd(data @ free, full_matrices=False)
        shrink = sm / (sm**2 + ridge * sm[0] ** 2)
        regressor[j, ids] = exact + free @ (vmt.T @ (shrink * (um.T @ residual)))
    return regressor


@dataclass
class GenderResult:
    space: ShapeSpace
    regressor: np.ndarray
    heldout: TPosedBodies
