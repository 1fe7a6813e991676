"""Checks of the written models against Anny on held-out bodies, the test fixture, and
the build summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from smplr.body.model import BodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.checksum import sha256_file
from smplr.open_model_build.anny_source import (
    AnnySource,
    rigid_under_t_pose,
)
from smplr.open_model_build.pose_correctives import (
    anny_posed,
    exact_rest_layer,
    layer_vertices,
    plausible_poses,
)
from smplr.open_model_build.shape_space import GenderResult

#: Per-axis standard deviation (radians) of the random body poses used for checks.
CHECK_POSE_STD = 0.3
CHECK_POSE_STDS = (0.1, 0.2, 0.3, 0.5)


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


def probe_weights(num_vertices: int) -> np.ndarray:
    """A fixed ``(V, 3)`` linear functional of the vertices, for comparing pose gradients."""
    return np.sin(0.37 * np.arange(3 * num_vertices)).reshape(num_vertices, 3)


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
    :func:`~smplr.open_model_build.anny_source.rigid_under_t_pose` vertices.  Each body's first
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
                f"{gender}/model_sha256": np.array(sha256_file(assets / f"open_{gender}.npz")),
            }
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy stub: **kwds may bind allow_pickle
    return path


def summarize(info: dict, out_dir: str | Path) -> str:
    """A few lines on what :func:`~smplr.open_model_build.build.build_open_models` measured."""
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
