"""The pieces of the open-model generator that need no Anny: bone map, T-pose, skinning
helpers, shape space, joint regressor, landmark rays."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.fake_model import fake_smpl_arrays
from smplr.body.kinematics import forward_kinematics
from smplr.body.model import BodyModel
from smplr.body.model_file import model_data_from_arrays
from smplr.body.pose_blendshapes import pose_features
from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.open_model_build.anny_source import (
    T_POSE_GROUPS,
    bone_joint_map,
    check_bone_tree,
    joint_site_matrix,
    merge_weights,
    relative_rotations,
    rigid_part_skinning,
    rotation_between,
    t_pose_rotations,
)
from smplr.open_model_build.checks import random_poses
from smplr.open_model_build.landmarks import surface_point
from smplr.open_model_build.pose_correctives import solve_pose_correctives
from smplr.open_model_build.shape_space import fit_joint_regressor, fit_shape_space

J = {name: i for i, name in enumerate(JOINT_NAMES)}

# A small rig in Anny's naming: one chain per SMPL joint, two finger and two toe roots.
MINI_RIG = [
    ("root", -1), ("pelvis.L", 0), ("upperleg01.L", 1), ("upperleg02.L", 2), ("lowerleg01.L", 3),
    ("foot.L", 4), ("toe1-1.L", 5), ("toe2-1.L", 5), ("pelvis.R", 0), ("upperleg01.R", 8),
    ("lowerleg01.R", 9), ("foot.R", 10), ("toe1-1.R", 11), ("spine05", 0), ("spine04", 13),
    ("spine03", 14), ("spine02", 15), ("spine01", 16), ("neck01", 17), ("head", 18),
    ("eye.L", 19), ("clavicle.L", 17), ("shoulder01.L", 21), ("upperarm01.L", 22),
    ("lowerarm01.L", 23), ("wrist.L", 24), ("metacarpal1.L", 25), ("finger2-1.L", 26),
    ("finger1-1.L", 25), ("finger3-1.L", 26), ("clavicle.R", 17), ("upperarm01.R", 30),
    ("lowerarm01.R", 31), ("wrist.R", 32), ("finger2-1.R", 33),
]  # fmt: skip
LABELS = [label for label, _ in MINI_RIG]
PARENT_BONES = [parent for _, parent in MINI_RIG]


def test_bone_map_follows_smpl_tree() -> None:
    joint_of_bone = bone_joint_map(LABELS)
    assert [JOINT_NAMES[j] for j in joint_of_bone[:8]] == [
        "pelvis", "pelvis", "left_hip", "left_hip", "left_knee", "left_ankle", "left_foot", "left_foot"
    ]  # fmt: skip
    assert JOINT_NAMES[joint_of_bone[LABELS.index("finger1-1.L")]] == "left_hand"
    assert JOINT_NAMES[joint_of_bone[LABELS.index("metacarpal1.L")]] == "left_wrist"
    check_bone_tree(PARENT_BONES, joint_of_bone)
    with pytest.raises(ValueError, match="no SMPL joint"):
        bone_joint_map(["root", "tail01"])
    skipping = list(PARENT_BONES)
    skipping[LABELS.index("lowerarm01.L")] = LABELS.index("clavicle.L")  # elbow hung on the collar
    with pytest.raises(ValueError, match="neither that joint nor its SMPL parent"):
        check_bone_tree(skipping, joint_of_bone)


def test_joint_sites_and_merged_weights() -> None:
    joint_of_bone = bone_joint_map(LABELS)
    sites = joint_site_matrix(LABELS, PARENT_BONES, joint_of_bone)
    np.testing.assert_allclose(sites.sum(axis=1), 1.0)
    hand = sites[J["left_hand"]]  # the knuckles of fingers 2-5, not the thumb
    assert hand[LABELS.index("finger2-1.L")] == hand[LABELS.index("finger3-1.L")] == 0.5
    assert hand[LABELS.index("finger1-1.L")] == 0
    assert sites[J["left_elbow"], LABELS.index("lowerarm01.L")] == 1.0
    rng = np.random.default_rng(0)
    bone_weights = rng.random((50, len(LABELS)))
    bone_weights /= bone_weights.sum(axis=1, keepdims=True)
    merged = merge_weights(bone_weights, joint_of_bone)
    np.testing.assert_allclose(merged.sum(axis=1), 1.0)
    assert merged[:, J["left_foot"]] == pytest.approx(bone_weights[:, 6] + bone_weights[:, 7])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=6, max_size=6))
def test_rotation_between_maps_a_onto_b(values: list[float]) -> None:
    a, b = (
        torch.tensor(values[:3], dtype=torch.float64),
        torch.tensor(values[3:], dtype=torch.float64),
    )
    if a.norm() < 0.1 or b.norm() < 0.1 or torch.cosine_similarity(a, b, dim=0) < -0.99:
        return
    rot = rotation_between(a, b)
    torch.testing.assert_close(rot @ rot.T, torch.eye(3, dtype=torch.float64))
    assert torch.det(rot) == pytest.approx(1.0)
    torch.testing.assert_close(rot @ (a / a.norm()), b / b.norm())


def _a_posed_skeleton(seed: int) -> torch.Tensor:
    """A T-posed skeleton shaped like the open model's, with the arms lowered and bent and
    the legs bent a little (an A-pose), randomly varied."""
    joints = BodyModel.open("neutral", dtype=torch.float64).joint_template.clone()[None]
    g = torch.Generator().manual_seed(seed)
    local = torch.eye(3, dtype=torch.float64).repeat(1, NUM_JOINTS, 1, 1)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        turns = {
            "shoulder": [0, 0, -0.8 * sign],
            "elbow": [0, 0.7 * sign, 0],
            "hip": [0.1, 0, 0.05 * sign],
            "knee": [-0.2, 0, 0],
        }
        for part, rotvec in turns.items():
            noise = 0.1 * torch.randn(3, generator=g, dtype=torch.float64)
            local[0, J[f"{side}_{part}"]] = axis_angle_to_matrix(
                torch.tensor(rotvec, dtype=torch.float64) + noise
            )
    return forward_kinematics(local, joints)[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_t_pose_rotations_straighten_limbs(seed: int) -> None:
    a_pose = _a_posed_skeleton(seed)
    world = t_pose_rotations(a_pose)
    again, t_pose = forward_kinematics(relative_rotations(world), a_pose)
    torch.testing.assert_close(again, world)
    t_pose = t_pose[0]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        chain = [t_pose[J[f"{side}_{p}"]] for p in ("shoulder", "elbow", "wrist", "hand")]
        for a, b in itertools.pairwise(chain):
            torch.testing.assert_close(
                (b - a) / (b - a).norm(), t_pose.new_tensor([sign, 0.0, 0.0])
            )
        hip, knee, ankle = (t_pose[J[f"{side}_{p}"]] for p in ("hip", "knee", "ankle"))
        assert abs(float(knee[2] - hip[2])) < 1e-9 and abs(float(ankle[2] - hip[2])) < 1e-9
        torch.testing.assert_close(
            (knee - hip) / (knee - hip).norm(), (ankle - knee) / (ankle - knee).norm()
        )
    for group in T_POSE_GROUPS:  # one rotation per group, the trunk's the identity
        for name in group[1:]:
            torch.testing.assert_close(world[0, J[name]], world[0, J[group[0]]])
    torch.testing.assert_close(world[0, J["pelvis"]], torch.eye(3, dtype=torch.float64))


def test_skinning_helpers_agree_with_the_layer() -> None:
    arrays = fake_smpl_arrays(posedirs=False)
    model = BodyModel(model_data_from_arrays(arrays), dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    betas = torch.randn(2, 10, generator=g, dtype=torch.float64)
    pose = 0.5 * torch.randn(2, 72, generator=g, dtype=torch.float64)
    transl = torch.randn(2, 3, generator=g, dtype=torch.float64)
    out = model(betas=betas, global_orient=pose[:, :3], body_pose=pose[:, 3:], transl=transl)
    shapedirs = torch.as_tensor(model.to_data().shapedirs)
    rest_vertices = model.v_template + torch.einsum("vcl,bl->bvc", shapedirs, betas)
    rest_joints = model.rest_joints(betas)
    world, moved = forward_kinematics(
        axis_angle_to_matrix(pose.view(2, NUM_JOINTS, 3)), rest_joints
    )
    moved = moved + transl[:, None]
    torch.testing.assert_close(moved, out.joints)
    torch.testing.assert_close(
        rigid_part_skinning(rest_vertices, model.weights, world, rest_joints, moved), out.vertices
    )


def _linear_bodies(count: int, rank: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bodies whose vertices and joints are both linear in ``rank`` hidden factors."""
    rng = np.random.default_rng(seed)
    num_vertices = 300
    base = rng.normal(size=(num_vertices, 3))
    dirs = rng.normal(scale=0.05, size=(num_vertices, 3, rank))
    factors = rng.normal(size=(count, rank)) * np.linspace(2, 0.5, rank)
    vertices = base + np.einsum("vcl,nl->nvc", dirs, factors)
    mix = rng.random((NUM_JOINTS, num_vertices)) ** 6
    mix /= mix.sum(axis=1, keepdims=True)
    joints = (
        np.einsum("jv,nvc->njc", mix, vertices)
        + 0.01 * np.einsum("nl,jl->nj", factors, rng.normal(size=(NUM_JOINTS, rank)))[..., None]
    )
    return vertices, joints


def test_shape_space_standardises_betas_and_spans_the_samples() -> None:
    vertices, joints = _linear_bodies(200, rank=6, seed=0)
    space = fit_shape_space(vertices, joints, num_betas=6)
    betas = space.betas(vertices)
    np.testing.assert_allclose(betas.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(betas.std(axis=0, ddof=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(space.vertices(betas), vertices, atol=1e-9)
    assert space.explained.sum() == pytest.approx(1.0)
    assert (np.diff(space.explained) <= 0).all()
    predicted = space.joint_template + np.einsum("jcl,nl->njc", space.joint_dirs, betas)
    np.testing.assert_allclose(predicted, joints, atol=1e-9)


def test_joint_regressor_is_exact_on_the_shape_space() -> None:
    vertices, joints = _linear_bodies(120, rank=5, seed=1)
    space = fit_shape_space(vertices, joints, num_betas=5)
    regressor = fit_joint_regressor(space, vertices, joints, support=60)
    np.testing.assert_allclose(regressor.sum(axis=1), 1.0, atol=1e-9)
    assert ((regressor != 0).sum(axis=1) <= 60).all()
    betas = np.random.default_rng(5).normal(size=(10, 5))
    shaped = space.vertices(betas)
    expected = space.joint_template + np.einsum("jcl,nl->njc", space.joint_dirs, betas)
    np.testing.assert_allclose(np.einsum("jv,nvc->njc", regressor, shaped), expected, atol=1e-8)
    moved = np.einsum("jv,vc->jc", regressor, space.v_template + 0.3)  # follows translations
    np.testing.assert_allclose(moved, space.joint_template + 0.3, atol=1e-8)


def test_surface_point_finds_where_a_ray_leaves_the_mesh() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    vertices, faces = np.asarray(sphere.vertices), np.asarray(sphere.faces)
    for direction in np.eye(3):
        hit = surface_point(vertices, faces, np.zeros(3), direction)
        assert vertices[hit] @ direction > 0.48
    with pytest.raises(ValueError, match="does not cross"):
        surface_point(vertices, faces, np.array([2.0, 0, 0]), np.array([1.0, 0, 0]))


def test_random_poses_are_reproducible() -> None:
    first, again = random_poses(4, seed=7), random_poses(4, seed=7)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert first["body_pose"].shape == (4, 69) and first["global_orient"].shape == (4, 3)
    assert (np.linalg.norm(first["global_orient"], axis=1) <= np.pi + 1e-9).all()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_pose_correctives_recover_offsets_linear_in_the_skinning_joints(seed: int) -> None:
    """Offsets made linear in each vertex's own joints' features are found again, and
    nothing is put on other vertices or other joints' features."""
    rng = np.random.default_rng(seed)
    weights = fake_smpl_arrays(num_vertices=72, seed=seed % 5)["weights"]
    weights[weights < 0.05] = 0.0  # two to a few joints per blended vertex
    vertices = np.flatnonzero((weights > 0).sum(axis=1) > 1)[:12]
    truth = np.zeros((72, 3, 207))
    for v in vertices:
        for j in np.flatnonzero(weights[v] > 0):
            if j > 0:
                truth[v, :, 9 * (j - 1) : 9 * j] = rng.normal(0, 0.01, (3, 9))
    rotations = axis_angle_to_matrix(torch.as_tensor(rng.normal(0, 0.5, (300, NUM_JOINTS, 3))))
    features = pose_features(rotations).numpy()
    corrections = np.einsum("nf,vcf->nvc", features, truth[vertices])
    found = solve_pose_correctives(features, corrections, weights, vertices, ridge=1e-12)
    np.testing.assert_allclose(found, truth, atol=1e-8)
