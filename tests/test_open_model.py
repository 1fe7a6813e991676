"""The shipped open body model (derived from Anny): files, T-pose, axes, shape space,
landmarks, and agreement with Anny itself.

Fast tests read the shipped files and the fixture ``tests/data/anny_reference.npz``
(Anny's own posed meshes, written by the generator); the tests marked slow rebuild
the model or drive Anny live and are skipped when the optional ``anny`` package is
absent.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from smplr.body.model import GENDERS, BodyModel, open_model_path
from smplr.body.model_file import load_model_data
from smplr.body.skeleton import JOINT_NAMES, LANDMARK_MIRROR, LANDMARK_NAMES
from smplr.checksum import sha256_file
from smplr.open_model_build.anny_source import rigid_under_t_pose
from smplr.open_model_build.checks import probe_weights
from smplr.open_model_build.pose_correctives import exact_rest_layer, layer_vertices

ASSETS = open_model_path("neutral").parent
REFERENCE = Path(__file__).parent / "data" / "anny_reference.npz"
NUM_VERTICES = 13718
HAS_ANNY = importlib.util.find_spec("anny") is not None
J = {name: i for i, name in enumerate(JOINT_NAMES)}
L = {name: i for i, name in enumerate(LANDMARK_NAMES)}


@pytest.fixture(scope="module", params=GENDERS)
def model(request: pytest.FixtureRequest) -> BodyModel:
    return BodyModel.open(request.param, dtype=torch.float64)


def _rest(model: BodyModel, betas: torch.Tensor):
    with torch.no_grad():
        return model(betas=betas)


def _betas(count: int, seed: int = 0) -> torch.Tensor:
    betas = torch.randn(
        count, 10, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    betas[0] = 0.0  # the template first
    return betas


# ------------------------------------------------------------------------------ files
@pytest.mark.parametrize("gender", GENDERS)
def test_files_hold_the_documented_arrays(gender: str) -> None:
    path = open_model_path(gender)
    with np.load(path) as raw:
        for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights"):
            assert raw[key].dtype == np.float32, key
    data = load_model_data(path)
    assert data.v_template.shape == (NUM_VERTICES, 3)
    assert data.shapedirs.shape == (NUM_VERTICES, 3, 10)
    assert data.posedirs.shape == (NUM_VERTICES, 3, 207)
    # pose correctives only where re-posing the T-pose differs from Anny's skinning
    corrected = np.any(data.posedirs != 0, axis=(1, 2))
    assert corrected.any() and not (corrected & rigid_under_t_pose(data.weights)).any()
    assert data.J_regressor.shape == (24, NUM_VERTICES)
    np.testing.assert_allclose(data.J_regressor.sum(axis=1), 1.0, atol=1e-5)
    assert data.weights.shape == (NUM_VERTICES, 24) and data.weights.min() >= 0
    np.testing.assert_allclose(data.weights.sum(axis=1), 1.0, atol=1e-5)
    assert data.faces.shape == (27420, 3)
    assert data.landmark_vertex_ids is not None and data.landmark_vertex_ids.shape == (18,)
    assert data.metadata["gender"] == gender
    assert "anny" in data.metadata["source"] and "CC0" in data.metadata["licence"]
    body = BodyModel.open(gender)
    assert body.has_pose_blendshapes and body.has_landmarks


def test_the_three_models_share_topology_and_landmarks() -> None:
    datas = [load_model_data(open_model_path(g)) for g in GENDERS]
    for other in datas[1:]:
        np.testing.assert_array_equal(other.faces, datas[0].faces)
        np.testing.assert_array_equal(other.weights, datas[0].weights)
        np.testing.assert_array_equal(other.landmark_vertex_ids, datas[0].landmark_vertex_ids)


def test_build_info_licence_and_size() -> None:
    info = json.loads((ASSETS / "build_info.json").read_text())
    total = 0
    for gender in GENDERS:
        entry = info["models"][gender]
        path = ASSETS / entry["file"]
        assert sha256_file(path) == entry["sha256"], f"{path.name} differs from build_info.json"
        assert entry["explained_variance_total"] > 0.999
        total += path.stat().st_size
    assert total < 10e6, f"the three open models take {total / 1e6:.1f} MB"
    ids = load_model_data(open_model_path("neutral")).landmark_vertex_ids
    assert list(info["landmark_vertex_ids"].values()) == ids.tolist()
    licence = (ASSETS / "LICENSE-anny.txt").read_text()
    assert "NAVER" in licence and "Apache License" in licence
    credits = (ASSETS / "CREDITS.md").read_text()
    assert "MakeHuman" in credits and "CC0" in credits and info["anny_version"] in credits


# ------------------------------------------------------------------------------ rest pose and axes
def _direction(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d = b - a
    return d / d.norm(dim=-1, keepdim=True)


def _degrees(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.rad2deg(torch.arccos((u * v).sum(-1).clamp(-1, 1)))


def test_rest_pose_is_a_t_pose(model: BodyModel) -> None:
    joints = _rest(model, _betas(16)).joints
    for side, sign in (("left", 1.0), ("right", -1.0)):
        lateral = joints.new_tensor([sign, 0.0, 0.0])
        chain = [joints[:, J[f"{side}_{part}"]] for part in ("shoulder", "elbow", "wrist", "hand")]
        for a, b in itertools.pairwise(chain):  # arms straight along ±X
            assert _degrees(_direction(a, b), lateral).max() < 1.5
        assert (chain[2][:, 1] - chain[0][:, 1]).abs().max() < 0.01  # wrist at shoulder height
        hip, knee, ankle = (joints[:, J[f"{side}_{part}"]] for part in ("hip", "knee", "ankle"))
        assert _degrees(_direction(hip, knee), _direction(knee, ankle)).max() < 1.5  # straight knee
        assert _degrees(_direction(hip, ankle), joints.new_tensor([0.0, -1.0, 0.0])).max() < 10
        assert (knee[:, 2] - hip[:, 2]).abs().max() < 0.005  # no forward/backward lean
        toes = joints[:, J[f"{side}_foot"]] - ankle
        assert (toes[:, 2] > 0.08).all() and (
            toes[:, 2] > 3 * toes[:, 0].abs()
        ).all()  # feet forward


def test_axes_are_smpl_y_up_facing_plus_z(model: BodyModel) -> None:
    out = _rest(model, _betas(8, seed=1))
    j = out.joints
    assert (j[:, J["head"], 1] > j[:, J["neck"], 1]).all()
    assert (j[:, J["neck"], 1] > j[:, J["pelvis"], 1]).all()
    assert (j[:, J["pelvis"], 1] > j[:, J["left_knee"], 1]).all()
    for name, i in J.items():  # the body's left is +X (collars start at the sternum, as Anny's)
        if name.startswith("left_"):
            assert (j[:, i, 0] > 0.015).all() and (
                j[:, J[name.replace("left_", "right_")], 0] < -0.015
            ).all()
    face = out.vertices[:, :, 1] > j[:, J["head"], 1:2] - 0.05
    nose_z = torch.where(face, out.vertices[:, :, 2], -torch.inf).max(dim=1).values
    assert (nose_z > j[:, J["head"], 2] + 0.08).all()  # the face looks towards +Z


def _heights(model: BodyModel, betas: torch.Tensor) -> torch.Tensor:
    y = _rest(model, betas).vertices[..., 1]
    return y.max(dim=1).values - y.min(dim=1).values


def test_betas_change_height_plausibly() -> None:
    betas = torch.randn(128, 10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    heights = {g: _heights(BodyModel.open(g, dtype=torch.float64), betas) for g in GENDERS}
    for gender, h in heights.items():
        assert float(h.min()) > 1.35 and float(h.max()) < 2.15, gender
        assert 0.03 < float(h.std()) < 0.15, gender
    assert float(heights["male"].mean()) > float(heights["female"].mean()) + 0.08
    assert (
        float(heights["female"].mean())
        < float(heights["neutral"].mean())
        < float(heights["male"].mean())
    )
    for gender in GENDERS:  # one direction alone moves height by centimetres, not metres
        model = BodyModel.open(gender, dtype=torch.float64)
        sweep = torch.zeros(3, 10, dtype=torch.float64)
        sweep[:, 0] = torch.tensor([-2.0, 0.0, 2.0])
        h = _heights(model, sweep)
        assert 0.02 < float((h[2] - h[0]).abs()) < 0.5, gender


def test_shape_directions_are_ordered_by_variance(model: BodyModel) -> None:
    norms = np.linalg.norm(model.to_data().shapedirs, axis=(0, 1))
    assert (norms[:-1] >= norms[1:]).all()


# ------------------------------------------------------------------------------ landmarks
def test_landmarks_sit_on_the_region_they_name(model: BodyModel) -> None:
    out = _rest(model, _betas(8, seed=2))
    lm, j = out.landmarks, out.joints
    x, y, z = lm[..., 0], lm[..., 1], lm[..., 2]

    def at(name: str) -> torch.Tensor:
        return j[:, J[name]]

    for side, s in (("left", 1.0), ("right", -1.0)):
        b = L[f"breast_{side}"]
        assert (s * x[:, b] > 0.03).all() and (z[:, b] > at("spine3")[:, 2] + 0.05).all()
        assert ((y[:, b] > at("spine3")[:, 1]) & (y[:, b] < at("neck")[:, 1])).all()
        hip = L[f"hip_{side}"]
        assert (s * x[:, hip] > s * at(f"{side}_hip")[:, 0] + 0.03).all()
        assert ((y[:, hip] - at(f"{side}_hip")[:, 1]).abs() < 0.08).all()
        thigh = (at(f"{side}_hip") + at(f"{side}_knee")) / 2
        assert (z[:, L[f"upper_leg_front_{side}"]] > thigh[:, 2] + 0.03).all()
        assert (z[:, L[f"upper_leg_back_{side}"]] < thigh[:, 2] - 0.03).all()
        for key in ("upper_leg_front", "upper_leg_back"):
            assert ((y[:, L[f"{key}_{side}"]] - thigh[:, 1]).abs() < 0.05).all()
        foot = L[f"foot_{side}"]
        assert (z[:, foot] > at(f"{side}_foot")[:, 2]).all()
        assert ((lm[:, foot] - at(f"{side}_foot")).norm(dim=-1) < 0.12).all()
        hand = L[f"hand_{side}"]
        assert (s * x[:, hand] > s * at(f"{side}_hand")[:, 0]).all()  # beyond the knuckles
        assert ((lm[:, hand] - at(f"{side}_hand")).norm(dim=-1) < 0.03).all()
        arm = (at(f"{side}_shoulder") + at(f"{side}_elbow")) / 2
        biceps, triceps = L[f"biceps_{side}"], L[f"triceps_{side}"]
        assert (z[:, biceps] > arm[:, 2] + 0.02).all() and (z[:, triceps] < arm[:, 2] - 0.02).all()
        for k in (biceps, triceps):
            assert ((lm[:, k, :2] - arm[:, :2]).norm(dim=-1) < 0.06).all()
    belly = L["belly"]
    assert (x[:, belly].abs() < 0.02).all() and (z[:, belly] > at("spine1")[:, 2] + 0.05).all()
    assert ((y[:, belly] - at("spine1")[:, 1]).abs() < 0.08).all()
    top = L["head_top"]
    assert (x[:, top].abs() < 0.02).all()
    assert (y[:, top] > out.vertices[..., 1].max(dim=1).values - 0.01).all()


def test_landmarks_are_mirror_symmetric(model: BodyModel) -> None:
    lm = _rest(model, _betas(1)).landmarks[0]
    mirrored = lm[list(LANDMARK_MIRROR)] * lm.new_tensor([-1.0, 1.0, 1.0])
    assert (mirrored - lm).norm(dim=-1).max() < 0.002


# ------------------------------------------------------------------------------ against Anny
def _rigid_vertices(model: BodyModel) -> torch.Tensor:
    """Vertices that the A-pose -> T-pose change moves rigidly: on them the layer must give
    Anny's own mesh exactly.  Vertices blending two differently turned parts carry the
    error of re-posing a linear-blend-skinned mesh (see docs/open_body_model.md)."""
    return torch.as_tensor(rigid_under_t_pose(model.weights.numpy()))


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {key: data[key] for key in data.files}


def _case(reference: dict, gender: str, i: int):
    pose = torch.as_tensor(reference[f"{gender}/pose"][i : i + 1])
    transl = torch.as_tensor(reference[f"{gender}/transl"][i : i + 1])
    target = torch.as_tensor(reference[f"{gender}/anny_vertices"][i], dtype=torch.float64)
    return pose, transl, target


def test_reference_fixture_matches_the_shipped_models(reference: dict) -> None:
    for gender in GENDERS:
        assert str(reference[f"{gender}/model_sha256"]) == sha256_file(open_model_path(gender)), (
            f"tests/data/anny_reference.npz was written for another open_{gender}.npz: regenerate both"
        )


@pytest.mark.parametrize("gender", GENDERS)
def test_layer_reproduces_anny_on_heldout_bodies(reference: dict, gender: str) -> None:
    """Exact rest of a held-out body through the layer vs Anny's own posed mesh."""
    model = BodyModel.open(gender, dtype=torch.float64)
    rigid = _rigid_vertices(model)
    assert rigid.float().mean() > 0.7
    rest_v, rest_j = reference[f"{gender}/rest_vertices"], reference[f"{gender}/rest_joints"]
    for i, s in enumerate(reference[f"{gender}/shape"]):
        layer = exact_rest_layer(model, rest_v[s].astype(np.float64), rest_j[s])
        pose, transl, target = _case(reference, gender, i)
        err = (layer_vertices(layer, pose, transl)[0] - target).norm(dim=-1)
        assert err[rigid].max() < 2e-5  # float32 fixture; exact otherwise
        if not pose[0, 3:].any():  # the T-pose, turned and moved: Anny's mesh, everywhere
            assert err.max() < 2e-5
        else:  # re-posing a skinned mesh: only where arms and legs blend with the trunk
            assert err.max() < 0.025 and err.mean() < 0.0002
            assert float(torch.quantile(err, 0.99)) < 0.003


@pytest.mark.parametrize("gender", GENDERS)
def test_pose_correctives_bring_the_layer_closer_to_anny(reference: dict, gender: str) -> None:
    """The same comparison with and without the shipped posedirs."""
    model = BodyModel.open(gender, dtype=torch.float64)
    plain_data = model.to_data()
    plain_data.posedirs[:] = 0.0
    plain = BodyModel(plain_data, gender, torch.float64)
    rest_v, rest_j = reference[f"{gender}/rest_vertices"], reference[f"{gender}/rest_joints"]
    errors: dict[str, list[torch.Tensor]] = {"corrected": [], "plain": []}
    for i, s in enumerate(reference[f"{gender}/shape"]):
        pose, transl, target = _case(reference, gender, i)
        if not pose[0, 3:].any():
            continue
        for name, base in (("corrected", model), ("plain", plain)):
            layer = exact_rest_layer(base, rest_v[s].astype(np.float64), rest_j[s])
            errors[name].append((layer_vertices(layer, pose, transl)[0] - target).norm(dim=-1))
    corrected, plain_err = torch.cat(errors["corrected"]), torch.cat(errors["plain"])
    assert corrected.mean() < 0.5 * plain_err.mean()
    assert torch.quantile(corrected, 0.99) < 0.5 * torch.quantile(plain_err, 0.99)


@pytest.mark.parametrize("gender", GENDERS)
def test_layer_from_betas_stays_close_to_anny(reference: dict, gender: str) -> None:
    """The full model: the held-out body's 10-beta projection through the layer."""
    model = BodyModel.open(gender, dtype=torch.float64)
    for i, s in enumerate(reference[f"{gender}/shape"]):
        pose, transl, target = _case(reference, gender, i)
        betas = torch.as_tensor(reference[f"{gender}/betas"][s : s + 1])
        err = (layer_vertices(model, pose, transl, betas)[0] - target).norm(dim=-1)
        mean_bound = 0.006 if gender == "neutral" else 0.0015  # neutral: two sexes in 10 directions
        assert err.mean() < mean_bound and err.max() < 0.04


@pytest.mark.parametrize("gender", GENDERS)
def test_pose_gradients_agree_with_anny(reference: dict, gender: str) -> None:
    model = BodyModel.open(gender, dtype=torch.float64)
    probe = torch.as_tensor(probe_weights(NUM_VERTICES))
    rigid_probe = probe * _rigid_vertices(model)[:, None]
    rest_v, rest_j = reference[f"{gender}/rest_vertices"], reference[f"{gender}/rest_joints"]
    for i, s in enumerate(reference[f"{gender}/shape"]):
        layer = exact_rest_layer(model, rest_v[s].astype(np.float64), rest_j[s])
        pose, transl, _ = _case(reference, gender, i)
        pose.requires_grad_(True)
        (grad,) = torch.autograd.grad((layer_vertices(layer, pose, transl) * probe).sum(), pose)
        expected = torch.as_tensor(reference[f"{gender}/anny_pose_grad"][i])
        assert (grad[0] - expected).norm() < 0.03 * expected.norm()
        (grad,) = torch.autograd.grad(
            (layer_vertices(layer, pose, transl) * rigid_probe).sum(), pose
        )
        expected = torch.as_tensor(reference[f"{gender}/anny_rigid_pose_grad"][i])
        assert (grad[0] - expected).norm() < 1e-5 * expected.norm()


# ------------------------------------------------------------------------------ with anny installed
@pytest.mark.slow
@pytest.mark.skipif(
    not HAS_ANNY, reason="needs the optional anny package (smplr[build-open-model])"
)
def test_rebuild_reproduces_the_shipped_models(tmp_path: Path) -> None:
    from smplr.open_model_build.build import build_open_models

    info = json.loads((ASSETS / "build_info.json").read_text())
    build_open_models(
        tmp_path,
        seed=info["seed"],
        num_samples=info["samples_per_sex"]["train"],
        num_heldout=info["samples_per_sex"]["heldout"],
        progress=False,
    )
    for gender in GENDERS:
        with (
            np.load(ASSETS / f"open_{gender}.npz") as shipped,
            np.load(tmp_path / f"open_{gender}.npz") as rebuilt,
        ):
            assert sorted(shipped.files) == sorted(rebuilt.files)
            for key in shipped.files:
                if shipped[key].dtype.kind == "f":
                    np.testing.assert_allclose(
                        rebuilt[key], shipped[key], atol=1e-5, rtol=1e-4, err_msg=key
                    )
                else:
                    np.testing.assert_array_equal(rebuilt[key], shipped[key], err_msg=key)


@pytest.mark.slow
@pytest.mark.skipif(
    not HAS_ANNY, reason="needs the optional anny package (smplr[build-open-model])"
)
def test_layer_reproduces_anny_live() -> None:
    from smplr.open_model_build.anny_source import AnnySource
    from smplr.open_model_build.bodies import sample_phenotypes, t_posed_bodies
    from smplr.open_model_build.checks import random_poses
    from smplr.open_model_build.pose_correctives import anny_posed

    source = AnnySource()
    for k, gender in enumerate(("male", "female")):
        model = BodyModel.open(gender, dtype=torch.float64)
        rigid = _rigid_vertices(model)
        bodies = t_posed_bodies(source, sample_phenotypes(source, gender, 3, seed=9000 + k))
        inputs = random_poses(3, seed=9100 + k)
        pose = torch.as_tensor(
            np.concatenate([inputs["global_orient"], inputs["body_pose"]], axis=1)
        )
        transl = torch.as_tensor(inputs["transl"])
        for i in range(3):
            body = bodies.select(slice(i, i + 1))
            p = pose[i : i + 1].clone().requires_grad_(True)
            target = anny_posed(source, body, p, transl[i : i + 1])
            layer = exact_rest_layer(model, body.vertices[0].numpy(), body.joints[0].numpy())
            ours = layer_vertices(layer, p, transl[i : i + 1])
            err = (ours - target).detach()[0].norm(dim=-1)
            assert err[rigid].max() < 1e-6
            assert err.max() < 0.035 and err.mean() < 0.0006
            probe = torch.as_tensor(probe_weights(NUM_VERTICES))
            (g_anny,) = torch.autograd.grad((target * probe).sum(), p)
            (g_ours,) = torch.autograd.grad((ours * probe).sum(), p)
            assert (g_ours - g_anny).norm() < 0.03 * g_anny.norm()
