"""Random arrays shaped like an SMPL model file (the official layouts), for tests."""

from __future__ import annotations

import numpy as np

from smplr.body.skeleton import NUM_JOINTS, PARENTS


def _random_triangles(rng: np.random.Generator, num_vertices: int, count: int) -> np.ndarray:
    """``(count, 3)`` triangles of three distinct random vertices each."""
    first = rng.integers(0, num_vertices, count)
    second = (first + rng.integers(1, num_vertices, count)) % num_vertices
    low, high = np.minimum(first, second), np.maximum(first, second)
    third = rng.integers(0, num_vertices - 2, count)
    third += third >= low
    third += third >= high
    return np.stack([first, second, third], axis=1)


def fake_smpl_arrays(
    num_vertices: int = 240, num_betas: int = 10, seed: int = 0, posedirs: bool = True
) -> dict:
    """Random arrays shaped like an SMPL model: a stick figure with vertices scattered
    around its joints, skinned mostly to the nearest joint.  Every third vertex is
    skinned to its joint alone and every fourth has no pose blend shapes, so both
    the layer's rigid and blended skinning and its sparse pose blend shapes are used."""
    rng = np.random.default_rng(seed)
    joints = np.zeros((NUM_JOINTS, 3))
    for j in range(1, NUM_JOINTS):
        joints[j] = joints[PARENTS[j]] + rng.normal(0, 0.12, 3)
    owner = np.arange(num_vertices) % NUM_JOINTS
    v_template = joints[owner] + rng.normal(0, 0.05, (num_vertices, 3))
    weights = rng.random((num_vertices, NUM_JOINTS)) ** 8
    weights[np.arange(num_vertices), owner] += 2.0
    weights[::3] = np.eye(NUM_JOINTS)[owner[::3]]
    weights /= weights.sum(axis=1, keepdims=True)
    regressor = np.zeros((NUM_JOINTS, num_vertices))
    for j in range(NUM_JOINTS):
        ids = np.flatnonzero(owner == j)
        w = rng.random(ids.size)
        regressor[j, ids] = w / w.sum()
    faces = _random_triangles(rng, num_vertices, 2 * num_vertices)
    pose_dirs = rng.normal(0, 0.002, (num_vertices, 3, 207)) if posedirs else None
    if pose_dirs is not None:
        pose_dirs[::4] = 0.0
    return {
        "v_template": v_template,
        "shapedirs": rng.normal(0, 0.01, (num_vertices, 3, num_betas)),
        "posedirs": pose_dirs if pose_dirs is not None else np.zeros((num_vertices, 3, 207)),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": np.stack([np.array([4294967295, *PARENTS[1:]]), np.arange(NUM_JOINTS)]),
        "f": faces.astype(np.uint32),
        "landmark_vertex_ids": rng.choice(num_vertices, 18, replace=False),
    }
