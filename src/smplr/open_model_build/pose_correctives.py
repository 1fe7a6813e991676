"""Posing with Anny and with the SMPL layer, and the pose correctives (``posedirs``)
fitted so that the layer follows Anny."""

from __future__ import annotations

import numpy as np
import torch

from smplr.body.kinematics import forward_kinematics
from smplr.body.model import BodyModel
from smplr.body.model_file import POSE_FEATURES, model_data_from_arrays
from smplr.body.pose_blendshapes import pose_features
from smplr.body.skeleton import NUM_JOINTS, PARENTS
from smplr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from smplr.open_model_build.anny_source import (
    AnnySource,
    rigid_under_t_pose,
)
from smplr.open_model_build.bodies import TPosedBodies
from smplr.synthetic.poses import PosePrior

#: Pose correctives (posedirs): training bodies per model and poses per body they are
#: fitted on, and the ridge weight relative to the mean squared feature.
CORRECTIVE_BODIES = 20
CORRECTIVE_POSES = 50
CORRECTIVE_RIDGE = 1e-3


def anny_posed(
    source: AnnySource, bodies: TPosedBodies, pose: torch.Tensor, transl: torch.Tensor
) -> torch.Tensor:
    """Anny's own vertices for SMPL pose inputs ``pose (N, 72)`` (global_orient then body_pose,
    axis-angle, relative to the T-pose) and ``transl (N, 3)``: each SMPL part turns by its
    T-pose rotation, then by the pose's world rotation.  Differentiable in both inputs."""
    world, new_joints = forward_kinematics(
        axis_angle_to_matrix(pose.reshape(-1, NUM_JOINTS, 3)), bodies.joints
    )
    new_joints = new_joints + transl[:, None]
    return source.pose(bodies.phenotypes, world @ bodies.t_pose, bodies.rest_joints, new_joints)


def plausible_poses(count: int, seed: int) -> torch.Tensor:
    """``(N, 72)`` axis-angle poses (global_orient then body_pose) from smplr's pose prior
    (:class:`smplr.synthetic.poses.PosePrior`), float64."""
    prior = PosePrior(dtype=torch.float64)
    orient, body = prior.sample(count, torch.Generator().manual_seed(seed))
    rotations = torch.cat([orient[:, None], body], dim=1)
    return matrix_to_axis_angle(rotations).reshape(count, 3 * NUM_JOINTS)


def corrective_poses(count: int, seed: int) -> torch.Tensor:
    """``(N, 72)`` poses the correctives are fitted on: half plausible
    (:func:`plausible_poses`), half per-axis Gaussian with a standard deviation of 0.1,
    0.3 or 0.5 rad per pose (:func:`random_poses`' style, no translation)."""
    half = count // 2
    rng = np.random.default_rng(seed)
    spread = rng.choice([0.1, 0.3, 0.5], size=(count - half, 1))
    gaussian = rng.normal(0.0, 1.0, size=(count - half, 3 * NUM_JOINTS)) * spread
    return torch.cat([plausible_poses(half, seed), torch.as_tensor(gaussian)])


def corrective_vertices(weights: np.ndarray) -> np.ndarray:
    """``(V,)`` bool: the vertices that need pose correctives: skinned across parts that
    the A-pose -> T-pose change moves differently (the others re-pose exactly)."""
    return ~rigid_under_t_pose(weights)


def fit_pose_correctives(
    source: AnnySource,
    model: BodyModel,
    bodies: TPosedBodies,
    poses_per_body: int,
    seed: int,
    ridge: float = CORRECTIVE_RIDGE,
) -> np.ndarray:
    """SMPL ``posedirs (V, 3, 207)`` that make LBS from the T-pose follow Anny.

    ``model`` (float64, no pose blend shapes) gives the skinning weights and the mesh.
    For each body (its exact T-pose rest) and pose, the correction each vertex needs is
    Anny's posed vertex minus the layer's, taken back to the rest frame through the
    vertex's blended rotation.  Per group of vertices with the same skinning joints, a
    ridge least-squares fit makes it linear in the pose features (R_j − I) of those
    joints only (sparse: zero elsewhere and on :func:`corrective_vertices`' complement).
    """
    weights = np.asarray(source.weights)
    needs = np.flatnonzero(corrective_vertices(weights))
    weights_t = torch.as_tensor(weights)
    poses = corrective_poses(len(bodies) * poses_per_body, seed)
    features, corrections = [], []
    if model.has_pose_blendshapes:
        raise ValueError("fit pose correctives on a model without pose blend shapes")
    with torch.no_grad():
        for i in range(len(bodies)):
            body = bodies.select(slice(i, i + 1))
            layer = exact_rest_layer(model, body.vertices[0].numpy(), body.joints[0].numpy())
            for pose in poses[i * poses_per_body : (i + 1) * poses_per_body].split(1):
                transl = torch.zeros(1, 3, dtype=torch.float64)
                target = anny_posed(source, body, pose, transl)[0, needs]
                ours = layer_vertices(layer, pose, transl)[0, needs]
                rotations = axis_angle_to_matrix(pose.view(1, NUM_JOINTS, 3))
                world, _ = forward_kinematics(rotations, body.joints)
                blended = torch.einsum("vj,jab->vab", weights_t[needs], world[0])
                back = torch.linalg.solve(blended, (target - ours)[..., None])[..., 0]
                corrections.append(back.float())
                features.append(pose_features(rotations)[0])
    return solve_pose_correctives(
        torch.stack(features).numpy(), torch.stack(corrections).numpy(), weights, needs, ridge
    )


def solve_pose_correctives(
    features: np.ndarray,
    corrections: np.ndarray,
    weights: np.ndarray,
    vertices: np.ndarray,
    ridge: float = CORRECTIVE_RIDGE,
) -> np.ndarray:
    """Least-squares pose blend shapes: ``features (N, 207)`` (R_j − I of the 23 body
    joints per sample), ``corrections (N, K, 3)`` the rest-frame offsets that the K
    ``vertices (K,)`` need in each sample, ``weights (V, 24)`` skinning weights ->
    ``posedirs (V, 3, 207)``.  Each vertex uses only the features of the non-root joints
    it is skinned to; vertices with the same joints share one ridge-regularised solve."""
    posedirs = np.zeros((weights.shape[0], 3, POSE_FEATURES))
    joint_sets: dict[tuple[int, ...], list[int]] = {}
    for k, v in enumerate(vertices):
        joint_sets.setdefault(tuple(np.flatnonzero(weights[v] > 0)), []).append(k)
    for joints, rows in joint_sets.items():
        cols = np.concatenate([np.arange(9 * (j - 1), 9 * j) for j in joints if j > 0])
        x = features[:, cols]
        y = corrections[:, rows].reshape(len(x), -1).astype(np.float64)
        gram = x.T @ x
        gram += ridge * np.trace(gram) / len(cols) * np.eye(len(cols))
        solution = np.linalg.solve(gram, x.T @ y).reshape(len(cols), len(rows), 3)
        posedirs[np.ix_(vertices[rows], np.arange(3), cols)] = solution.transpose(1, 2, 0)
    return posedirs


def exact_rest_layer(
    model: BodyModel, vertices: np.ndarray, joints: np.ndarray | None
) -> BodyModel:
    """The layer of ``model`` with one body's exact T-pose rest ``vertices (V, 3)`` as its
    template (no shape directions; ``model``'s pose correctives) and, when given, its
    exact rest ``joints (24, 3)`` instead of the regressed ones."""
    arrays = {
        "v_template": vertices,
        "shapedirs": np.zeros((*vertices.shape, 1)),
        "posedirs": model.to_data().posedirs,
        "J_regressor": model.J_regressor.cpu().numpy(),
        "weights": model.weights.cpu().numpy(),
        "kintree_table": np.stack([np.array([-1, *PARENTS[1:]]), np.arange(NUM_JOINTS)]),
        "f": model.faces.cpu().numpy(),
    }
    layer = BodyModel(model_data_from_arrays(arrays, "<exact rest>"), dtype=model.dtype)
    if joints is not None:
        layer.joint_template.copy_(torch.as_tensor(joints, dtype=model.dtype))
    return layer


def layer_vertices(
    layer: BodyModel, pose: torch.Tensor, transl: torch.Tensor, betas: torch.Tensor | None = None
) -> torch.Tensor:
    return layer(
        betas=betas, global_orient=pose[:, :3], body_pose=pose[:, 3:], transl=transl
    ).vertices
