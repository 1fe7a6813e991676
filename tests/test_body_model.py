"""The SMPL-format layer: agreement with a plain reference, input forms, gradients, genders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model import MIN_RIGID_GROUP, BodyModel, GenderedBodyModel
from smplr.body.model_file import model_data_from_arrays
from smplr.body.params import load_body_params
from smplr.body.pose_blendshapes import PoseBlendShapes
from smplr.body.reference_lbs import reference_lbs
from smplr.body.skeleton import NUM_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix


def _model(seed: int = 0, posedirs: bool = True, dtype: torch.dtype = torch.float64) -> BodyModel:
    """A fake model; every seed shares seed 0's triangles so any two form a gendered pair."""
    arrays = fake_smpl_arrays(seed=seed, posedirs=posedirs)
    arrays["f"] = fake_smpl_arrays(seed=0)["f"]
    return BodyModel(model_data_from_arrays(arrays), dtype=dtype)


def _params(batch: int, seed: int, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "betas": torch.randn(batch, 10, generator=g, dtype=dtype),
        "global_orient": torch.randn(batch, 3, generator=g, dtype=dtype),
        "body_pose": 0.6 * torch.randn(batch, 69, generator=g, dtype=dtype),
        "transl": torch.randn(batch, 3, generator=g, dtype=dtype),
    }


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 4), posedirs=st.booleans())
def test_layer_matches_plain_reference(seed: int, batch: int, posedirs: bool) -> None:
    model = _model(seed % 7, posedirs)
    p = _params(batch, seed)
    out = model(**p)
    pose = torch.cat([p["global_orient"], p["body_pose"]], dim=1)
    ref_v, ref_j = reference_lbs(
        model_data_from_arrays(fake_smpl_arrays(seed=seed % 7, posedirs=posedirs)),
        p["betas"],
        pose,
        p["transl"],
    )
    torch.testing.assert_close(out.vertices, ref_v, atol=1e-10, rtol=0)
    torch.testing.assert_close(out.joints, ref_j, atol=1e-10, rtol=0)
    assert out.landmarks is not None and out.landmarks.shape == (batch, 18, 3)


def test_large_rigid_groups_match_plain_reference_with_gradients() -> None:
    """A model with enough one-joint vertices per joint for the per-joint skinning path."""
    arrays = fake_smpl_arrays(num_vertices=NUM_JOINTS * 3 * MIN_RIGID_GROUP, seed=4)
    model = BodyModel(model_data_from_arrays(arrays), dtype=torch.float64)
    assert len(model._rigid_groups) == NUM_JOINTS // 3  # every third vertex: joints 0, 3, ...
    p = _params(2, 11)
    out = model(**p)
    pose = torch.cat([p["global_orient"], p["body_pose"]], dim=1)
    ref_v, _ = reference_lbs(model_data_from_arrays(arrays), p["betas"], pose, p["transl"])
    torch.testing.assert_close(out.vertices, ref_v, atol=1e-10, rtol=0)
    torch.testing.assert_close(
        BodyModel(model.to_data(), dtype=torch.float64)(**p).vertices, ref_v, atol=1e-10, rtol=0
    )

    def run(betas: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        return model(betas=betas, body_pose=pose).vertices[:, ::1009]

    inputs = (p["betas"][:1].requires_grad_(True), p["body_pose"][:1].requires_grad_(True))
    assert torch.autograd.gradcheck(run, inputs)


@pytest.mark.parametrize("gendered", [False, True])
def test_batches_of_many_skinning_chunks_match_one_body_at_a_time(
    gendered: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunked skinning (3 bodies a chunk here) equals skinning each body alone, values and
    gradients, with and without autograd, for one model and for a gendered pair skinned
    together."""
    female, male = _pair(shared_skinning=True)
    pair = GenderedBodyModel(female, male)
    assert pair.shared_skinning  # one pass through both genders' blend shapes
    p = _params(8, 5)
    gender = torch.tensor([1.0, -1, -1, 1, 1, -1, 1, -1], dtype=torch.float64)

    def run(params: dict[str, torch.Tensor], rows: slice) -> torch.Tensor:
        sub = {k: v[rows] for k, v in params.items()}
        return (pair(gender[rows], **sub) if gendered else female(**sub)).vertices

    alone = torch.cat([run(p, slice(b, b + 1)) for b in range(8)])
    monkeypatch.setattr("smplr.body.model.SKIN_CHUNK_COORDINATES", 3 * 3 * female.num_vertices)
    # Without gradients the chunks are written into preallocated buffers; with them, put
    # together from autograd's results: both equal the bodies skinned alone.
    torch.testing.assert_close(run(p, slice(None)), alone, atol=1e-12, rtol=0)
    leaf = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    chunked = run(leaf, slice(None))
    torch.testing.assert_close(chunked, alone, atol=1e-12, rtol=0)
    chunked[5:7].sum().backward()
    expected = torch.autograd.grad(
        run(p | {"body_pose": leaf["body_pose"]}, slice(5, 7)).sum(), leaf["body_pose"]
    )[0]
    assert leaf["body_pose"].grad is not None
    torch.testing.assert_close(leaf["body_pose"].grad, expected, atol=1e-12, rtol=0)
    assert (
        leaf["body_pose"].grad[:5].abs().max() == 0 and leaf["body_pose"].grad[7].abs().max() == 0
    )


def test_rotation_matrices_and_axis_angle_agree() -> None:
    model = _model()
    p = _params(3, 1)
    by_axis_angle = model(**p)
    as_matrices = dict(p)
    as_matrices["global_orient"] = axis_angle_to_matrix(p["global_orient"]).unsqueeze(1)
    as_matrices["body_pose"] = axis_angle_to_matrix(p["body_pose"].view(3, 23, 3))
    by_matrix = model(**as_matrices)
    torch.testing.assert_close(by_matrix.vertices, by_axis_angle.vertices, atol=1e-12, rtol=0)
    torch.testing.assert_close(by_matrix.joints, by_axis_angle.joints, atol=1e-12, rtol=0)


def test_zero_parameters_give_the_template() -> None:
    arrays = fake_smpl_arrays()
    model = _model()
    out = model(betas=torch.zeros(2, 10, dtype=torch.float64))
    expected = torch.as_tensor(arrays["v_template"]).expand(2, -1, -1)
    torch.testing.assert_close(out.vertices, expected, atol=1e-12, rtol=0)
    rest = torch.as_tensor(arrays["J_regressor"] @ arrays["v_template"])
    torch.testing.assert_close(out.joints[0], rest, atol=1e-12, rtol=0)


def test_fewer_betas_are_padded_with_zeros() -> None:
    model = _model()
    betas = torch.randn(2, 4, dtype=torch.float64)
    padded = torch.cat([betas, torch.zeros(2, 6, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(model(betas=betas).vertices, model(betas=padded).vertices)


def test_gradcheck_float64() -> None:
    model = _model(seed=3)

    def run(
        betas: torch.Tensor, orient: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor
    ) -> torch.Tensor:
        out = model(betas=betas, global_orient=orient, body_pose=pose, transl=transl)
        return out.vertices[:, ::17]

    p = {k: v.clone().requires_grad_(True) for k, v in _params(2, 5).items()}
    assert torch.autograd.gradcheck(
        run, (p["betas"], p["global_orient"], p["body_pose"], p["transl"])
    )


def _pair(shared_skinning: bool) -> tuple[BodyModel, BodyModel]:
    """Two fake models of one topology; with ``shared_skinning`` they differ only in
    shape (template, shape and pose blend shapes, regressor), as the open models do."""
    female = fake_smpl_arrays(seed=1)
    male = fake_smpl_arrays(seed=2)
    male["f"] = female["f"]
    if shared_skinning:
        male["weights"] = female["weights"]
        male["landmark_vertex_ids"] = female["landmark_vertex_ids"]
    return tuple(BodyModel(model_data_from_arrays(a), dtype=torch.float64) for a in (female, male))  # type: ignore[return-value]


@pytest.mark.parametrize("shared_skinning", [True, False])
def test_gendered_batch_picks_model_by_sign(shared_skinning: bool) -> None:
    female, male = _pair(shared_skinning)
    both = GenderedBodyModel(female, male)
    assert both.shared_skinning == shared_skinning
    p = _params(5, 7)
    p["betas"] = p["betas"][:, :7]  # fewer betas than the models have
    gender = torch.tensor([-1.0, 0.8, -0.2, 1.0, -1.0], dtype=torch.float64)
    out = both(gender, **p)
    f_out, m_out = female(**p), male(**p)
    for i, g in enumerate(gender.tolist()):
        ref = m_out if g >= 0 else f_out
        torch.testing.assert_close(out.vertices[i], ref.vertices[i])
        torch.testing.assert_close(out.joints[i], ref.joints[i])
        torch.testing.assert_close(out.landmarks[i], ref.landmarks[i])
    rest = both(gender)  # gender alone: each sample's template in the rest pose
    for i, g in enumerate(gender.tolist()):
        model = male if g >= 0 else female
        torch.testing.assert_close(rest.vertices[i], model.v_template)


@pytest.mark.parametrize("shared_skinning", [True, False])
@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_single_gender_batch_runs_that_model_alone(
    shared_skinning: bool, sign: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    female, male = _pair(shared_skinning)
    both = GenderedBodyModel(female, male)

    def two_gender_pass(*args: object) -> None:
        raise AssertionError("a single-gender batch went through the two-gender pass")

    monkeypatch.setattr(both, "_skin_together", two_gender_pass)
    monkeypatch.setattr("smplr.body.model._merge_outputs", two_gender_pass)
    p = _params(3, 11)
    out = both(torch.full((3,), sign, dtype=torch.float64), **p)
    ref = (male if sign > 0 else female)(**p)
    torch.testing.assert_close(out.vertices, ref.vertices)
    torch.testing.assert_close(out.joints, ref.joints)


@pytest.mark.parametrize("shared_skinning", [True, False])
def test_gendered_batch_backpropagates_to_every_sample(shared_skinning: bool) -> None:
    both = GenderedBodyModel(*_pair(shared_skinning))
    p = _params(4, 3)
    betas = p.pop("betas").requires_grad_(True)
    out = both(torch.tensor([-1.0, 1.0, 1.0, -1.0]), betas=betas, **p)
    out.vertices.sum().backward()
    assert betas.grad is not None and bool((betas.grad.abs().sum(dim=1) > 0).all())
    gender = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    small = _params(2, 8)

    def run(betas: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        return both(gender, betas=betas, body_pose=pose).vertices[:, ::29]

    inputs = (small["betas"].requires_grad_(True), small["body_pose"].requires_grad_(True))
    assert torch.autograd.gradcheck(run, inputs)


def test_every_dtype_and_device_agrees_with_float64_on_cpu(dtype, device) -> None:
    p64 = _params(3, 9)
    reference = _model(dtype=torch.float64)(**p64)
    model = _model(dtype=dtype).to(device)
    out = model(**{k: v.to(device, dtype) for k, v in p64.items()})
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    for name in ("vertices", "joints", "landmarks"):
        value = getattr(out, name)
        assert value.dtype == dtype and value.device.type == device.type, name
        torch.testing.assert_close(
            value.cpu().double(), getattr(reference, name), atol=tol, rtol=0, msg=name
        )


def test_zero_parameters_give_the_template_on_every_dtype_and_device(dtype, device) -> None:
    arrays = fake_smpl_arrays()
    out = _model(dtype=dtype).to(device)(betas=torch.zeros(2, 10, dtype=dtype, device=device))
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    expected = torch.as_tensor(arrays["v_template"], dtype=dtype).expand(2, -1, -1)
    torch.testing.assert_close(out.vertices.cpu(), expected, atol=tol, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"body_pose": torch.zeros(2, 68)}, "body_pose has shape"),
        ({"global_orient": torch.zeros(2, 4)}, "global_orient has shape"),
        ({"betas": torch.zeros(2, 11)}, "betas has shape"),
        ({"betas": torch.zeros(2, 10), "body_pose": torch.zeros(3, 69)}, "batch size"),
        ({"body_pose": torch.full((1, 69), float("nan"))}, "NaN"),
        ({"transl": torch.tensor([[0.0, float("inf"), 0.0]])}, "NaN or inf"),
        ({"transl": torch.zeros(2, 2)}, "transl has shape"),
        ({"betas": torch.zeros(2, 10, dtype=torch.long)}, "floating-point"),
        ({}, "at least one"),
    ],
)
def test_bad_inputs_name_the_problem(kwargs: dict, message: str) -> None:
    model = _model(dtype=torch.float32)
    with pytest.raises(ValueError, match=message):
        model(**kwargs)


def test_gendered_rejects_bad_gender() -> None:
    both = GenderedBodyModel(_model(seed=1), _model(seed=2))
    with pytest.raises(ValueError, match="gender"):
        both(torch.tensor([[1.0]]), betas=torch.zeros(1, 10, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        both(torch.tensor([float("nan")]), betas=torch.zeros(1, 10, dtype=torch.float64))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    body=st.integers(0, 3),
    joint=st.integers(0, 22),
    damage=st.sampled_from(["scale", "mirror", "shear"]),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_matrices_that_are_not_rotations_are_refused(
    seed: int, body: int, joint: int, damage: str, dtype: torch.dtype
) -> None:
    """Rotations (float32 or 64) pass; 2R, a mirror or a shear of one joint of one body
    is refused naming that body and joint."""
    model = _model(dtype=dtype)
    g = torch.Generator().manual_seed(seed)
    rotations = axis_angle_to_matrix(2.0 * torch.randn(4, 24, 3, generator=g, dtype=dtype))
    root, pose = rotations[:, :1], rotations[:, 1:]
    assert model(global_orient=root, body_pose=pose).vertices.isfinite().all()
    bad = pose.clone()
    change = {
        "scale": torch.eye(3, dtype=dtype) * 2.0,
        "mirror": torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=dtype)),
        "shear": torch.tensor([[1.0, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype),
    }[damage]
    bad[body, joint] = bad[body, joint] @ change
    with pytest.raises(
        ValueError, match=f"body_pose of body {body}, joint {joint} is not a rotation"
    ):
        model(global_orient=root, body_pose=bad)
    with pytest.raises(
        ValueError, match=f"global_orient of body {body}, joint 0 is not a rotation"
    ):
        bad_root = root.clone()
        bad_root[body, 0] = bad_root[body, 0] @ change
        model(global_orient=bad_root[:, 0], body_pose=pose)  # (B, 3, 3) form


@pytest.mark.parametrize("name", ["betas", "global_orient", "body_pose", "transl"])
def test_nan_names_the_body(name: str) -> None:
    params = _params(4, 3)
    params[name][2, -1] = float("inf") if name == "transl" else float("nan")
    with pytest.raises(ValueError, match=f"{name} of body 2 contains NaN or inf"):
        _model()(**params)


def test_gendered_refuses_gender_outside_minus_one_to_one() -> None:
    both = GenderedBodyModel(_model(seed=1), _model(seed=2))
    betas = torch.zeros(3, 10, dtype=torch.float64)
    both(torch.tensor([-1.0, 0.0, 1.0]), betas=betas)  # the ends are allowed
    with pytest.raises(
        ValueError, match=r"gender of body 1 is 1\.5; expected a value in \[-1, 1\]"
    ):
        both(torch.tensor([-1.0, 1.5, 1.0]), betas=betas)
    with pytest.raises(ValueError, match="gender of body 2 contains NaN or inf"):
        both(torch.tensor([-1.0, 1.0, float("inf")]), betas=betas)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), max_blocks=st.integers(1, 8))
def test_sparse_pose_blend_shapes_equal_the_dense_product(seed: int, max_blocks: int) -> None:
    rng = np.random.default_rng(seed)
    posedirs = np.zeros((60, 3, 207))
    for row in rng.choice(60, 40, replace=False):  # some rows, each with a few joints
        for joint in rng.choice(23, rng.integers(1, 5), replace=False):
            posedirs[row, :, 9 * joint : 9 * joint + 9] = rng.normal(0, 0.01, (3, 9))
    blend = PoseBlendShapes(posedirs, torch.float64, max_blocks)
    assert len(blend.sizes) <= max_blocks and len(blend) == 40
    features = torch.as_tensor(rng.normal(0, 0.3, (4, 207)))
    dense = torch.einsum("bf,vcf->bcv", features, torch.as_tensor(posedirs))
    torch.testing.assert_close(blend(features), dense[:, :, blend.rows], atol=1e-12, rtol=0)
    np.testing.assert_array_equal(blend.dense(60), posedirs)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("body_pose", np.nan, "body_pose of body 1 contains NaN or inf"),
        ("transl", np.inf, "transl of body 1 contains NaN or inf"),
        ("gender", 1.5, r"gender of body 1 is 1\.5; gender values must be finite and in \[-1, 1\]"),
        ("gender", np.nan, "gender of body 1 is nan"),
    ],
)
def test_parameter_file_names_the_bad_body(tmp_path, key: str, value: float, message: str) -> None:
    arrays = {
        "betas": np.zeros((3, 10)),
        "global_orient": np.zeros((3, 3)),
        "body_pose": np.zeros((3, 69)),
        "transl": np.zeros((3, 3)),
        "gender": np.array([-1.0, 1.0, 0.0]),
    }
    arrays[key][1, ...] = value
    np.savez(tmp_path / "params.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load_body_params(tmp_path / "params.npz")
