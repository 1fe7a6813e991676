"""smplr.synthetic and smplr.geometry.projection: pose prior, shapes, bodies, noise, 2D."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model import BodyModel, GenderedBodyModel
from smplr.body.model_file import ModelFileError, model_data_from_arrays
from smplr.body.skeleton import JL_MIRROR, JL_PARENTS, JOINT_MIRROR, NUM_JL
from smplr.geometry.projection import (
    pixels_to_root_plane,
    project_to_pixels,
    random_view_2d,
    random_views,
)
from smplr.geometry.rotations import axis_angle_to_matrix, axis_rotation
from smplr.synthetic.bodies import SyntheticBodies, held_out_set
from smplr.synthetic.joint_limits import (
    MAX_SWING_DEGREES,
    angles_to_body_pose,
    body_joint,
    body_pose_to_angles,
    clamp_to_limits,
    limits,
    within_limits,
)
from smplr.synthetic.noise import (
    DEFAULT_BOUNDS,
    LEFT_ARM,
    LEFT_LEG,
    StructuredNoise,
    bounded_uniform_noise,
    gaussian_noise,
    scale_bones,
    structured_noise,
)
from smplr.synthetic.poses import FAMILY_NAMES, PosePrior, mirror_angles, self_collisions
from smplr.synthetic.reference_skeleton import pose_reference_skeleton
from smplr.synthetic.shapes import sample_shapes

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _gen(seed: int, device="cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def _fake_body(dtype: torch.dtype = torch.float32) -> GenderedBodyModel:
    female, male = fake_smpl_arrays(seed=0), fake_smpl_arrays(seed=1)
    male["f"] = female["f"]
    return GenderedBodyModel(
        BodyModel(model_data_from_arrays(female), "female", dtype),
        BodyModel(model_data_from_arrays(male), "male", dtype),
    )


@pytest.fixture(scope="module")
def body() -> GenderedBodyModel:
    return _fake_body()


@pytest.fixture(scope="module")
def prior() -> PosePrior:
    return PosePrior()


def _is_rotation(r: torch.Tensor, atol: float = 1e-5) -> bool:
    eye = torch.eye(3, dtype=r.dtype, device=r.device)
    orthonormal = torch.allclose(r @ r.transpose(-1, -2), eye.expand_as(r), atol=atol)
    return orthonormal and torch.allclose(torch.linalg.det(r), torch.ones(()).to(r), atol=atol)


def _hip_and_knee_flexion(global_orient, body_pose, side: int = 1) -> tuple[torch.Tensor, ...]:
    """Thigh flexion in the pelvis frame (forward +) and knee bend, degrees, on the
    reference skeleton (side 1 = left, 2 = right)."""
    joints, world = pose_reference_skeleton(global_orient, body_pose)
    hip, knee, ankle = side, side + 3, side + 6
    thigh = torch.nn.functional.normalize(joints[:, knee] - joints[:, hip], dim=-1)
    shin = torch.nn.functional.normalize(joints[:, ankle] - joints[:, knee], dim=-1)
    local = torch.einsum("bji,bj->bi", world[:, 0], thigh)
    flexion = torch.rad2deg(torch.atan2(local[:, 2], -local[:, 1]))
    bend = torch.rad2deg(torch.acos((thigh * shin).sum(-1).clamp(-1, 1)))
    return flexion, bend


# ---------------------------------------------------------------------- joint limits
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_swing_twist_angles_round_trip(seed: int) -> None:
    lo, hi = limits(dtype=torch.float64)
    angles = clamp_to_limits(
        lo + (hi - lo) * torch.rand(64, 23, 3, generator=_gen(seed), dtype=torch.float64)
    )
    pose = angles_to_body_pose(angles)
    assert _is_rotation(pose, 1e-10)
    torch.testing.assert_close(body_pose_to_angles(pose), angles, atol=1e-9, rtol=0)
    assert bool(within_limits(pose).all())


def test_clamp_keeps_inside_and_is_idempotent() -> None:
    wild = math.pi * (2 * torch.rand(256, 23, 3, generator=_gen(0), dtype=torch.float64) - 1)
    clamped = clamp_to_limits(wild)
    lo, hi = limits(dtype=torch.float64)
    assert bool(((clamped >= lo - 1e-12) & (clamped <= hi + 1e-12)).all())
    torch.testing.assert_close(clamp_to_limits(clamped), clamped)
    assert bool(within_limits(angles_to_body_pose(clamped)).all())


def _single_joint_pose(joint: str, rotvec: tuple[float, float, float]) -> torch.Tensor:
    pose = torch.eye(3, dtype=torch.float64).repeat(1, 23, 1, 1)
    pose[0, body_joint(joint)] = axis_angle_to_matrix(torch.tensor(rotvec, dtype=torch.float64))
    return pose


@pytest.mark.parametrize(
    ("joint", "rotvec", "allowed"),
    [
        ("left_knee", (math.radians(60), 0, 0), True),  # knees flex about +X
        ("right_knee", (math.radians(60), 0, 0), True),
        ("left_knee", (math.radians(-30), 0, 0), False),  # ... never backwards
        ("left_elbow", (0, math.radians(-90), 0), True),  # left elbow flexes about −Y
        ("right_elbow", (0, math.radians(90), 0), True),  # right elbow about +Y
        ("left_elbow", (0, math.radians(40), 0), False),
        ("left_elbow", (0, 0, math.radians(60)), False),  # not a ball joint
        ("left_hip", (math.radians(-90), 0, 0), True),  # hip flexion (−X)
        ("left_hip", (math.radians(60), 0, 0), False),  # hyperextension beyond 25°
        ("left_shoulder", (0, 0, math.radians(-80)), True),  # arm down at the side
        ("left_shoulder", (math.radians(170), 0, 0), False),  # humerus twisted 170°
        ("neck", (0, math.radians(80), 0), False),  # neck twist beyond 45°
        ("spine1", (math.radians(30), 0, 0), True),
    ],
)
def test_anatomical_limits(joint: str, rotvec, allowed: bool) -> None:
    inside = within_limits(_single_joint_pose(joint, rotvec))[0, body_joint(joint)]
    assert bool(inside) is allowed


# ---------------------------------------------------------------------- pose prior
@pytest.mark.parametrize("device", DEVICES)
def test_prior_shapes_dtypes_devices(device: str) -> None:
    for dtype in (torch.float32, torch.float64):
        prior = PosePrior(device, dtype=dtype)
        global_orient, body_pose = prior.sample(17, _gen(0, device))
        assert global_orient.shape == (17, 3, 3) and body_pose.shape == (17, 23, 3, 3)
        assert global_orient.dtype == body_pose.dtype == dtype
        assert global_orient.device.type == body_pose.device.type == device


def test_prior_is_deterministic_by_seed(prior: PosePrior) -> None:
    a = prior.sample(64, _gen(3))
    b = prior.sample(64, _gen(3))
    c = prior.sample(64, _gen(4))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[1], c[1])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_prior_samples_are_valid_rotations_within_limits(seed: int) -> None:
    prior = PosePrior(dtype=torch.float64)
    s = prior.sample_detailed(128, _gen(seed))
    assert _is_rotation(s.global_orient, 1e-10) and _is_rotation(s.body_pose, 1e-10)
    assert bool(within_limits(s.body_pose, tolerance_degrees=1e-6).all())
    torch.testing.assert_close(body_pose_to_angles(s.body_pose), s.angles, atol=1e-9, rtol=0)
    assert not bool(self_collisions(s.global_orient, s.body_pose).any())


def test_every_family_is_drawn_and_weights_are_respected() -> None:
    s = PosePrior().sample_detailed(3000, _gen(0))
    counts = torch.bincount(s.family, minlength=len(FAMILY_NAMES))
    assert bool((counts > 0).all())
    only = PosePrior(family_weights={"sitting": 1.0}).sample_detailed(50, _gen(0))
    assert bool((only.family == FAMILY_NAMES.index("sitting")).all())


def _family(name: str, n: int = 600, **options) -> tuple[torch.Tensor, torch.Tensor]:
    prior = PosePrior(family_weights={name: 1.0}, **options)
    return prior.sample(n, _gen(1))


def test_sitting_flexes_hips_about_ninety_degrees() -> None:
    flexion, knee = _hip_and_knee_flexion(*_family("sitting"))
    assert 75 < float(flexion.mean()) < 100 and float(flexion.min()) > 40
    assert 70 < float(knee.mean()) < 120


def test_standing_is_upright_with_straight_legs() -> None:
    global_orient, body_pose = _family("standing", tilt_probability=0.0)
    flexion, knee = _hip_and_knee_flexion(global_orient, body_pose)
    assert abs(float(flexion.mean())) < 10 and float(knee.mean()) < 25
    up = global_orient[:, :, 1]  # the pelvis' up axis in the world
    assert float(up[:, 1].min()) > 0.9


def test_squatting_bends_knees_deeply() -> None:
    flexion, knee = _hip_and_knee_flexion(*_family("squatting"))
    assert float(flexion.mean()) > 100 and float(knee.mean()) > 110


def test_lying_bodies_are_horizontal() -> None:
    global_orient, _ = _family("lying")
    assert float(global_orient[:, 1, 1].abs().max()) < 0.35  # pelvis up axis ~ horizontal


def test_locomotion_couples_legs_and_arms_in_anti_phase() -> None:
    global_orient, body_pose = _family("locomotion", n=1000)
    left, _ = _hip_and_knee_flexion(global_orient, body_pose, side=1)
    right, _ = _hip_and_knee_flexion(global_orient, body_pose, side=2)
    assert float(torch.corrcoef(torch.stack([left, right]))[0, 1]) < -0.5
    # The left arm swings forward (shoulder swing y < 0) when the left leg is back.
    arm = body_pose_to_angles(body_pose)[:, body_joint("left_shoulder"), 1]
    assert float(torch.corrcoef(torch.stack([left, arm]))[0, 1]) > 0.5


def test_mirroring_mirrors_the_skeleton() -> None:
    s = PosePrior(dtype=torch.float64).sample_detailed(32, _gen(5))
    torch.testing.assert_close(mirror_angles(mirror_angles(s.angles)), s.angles)
    m = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
    joints, _ = pose_reference_skeleton(s.global_orient, s.body_pose)
    mirrored, _ = pose_reference_skeleton(
        m @ s.global_orient @ m, angles_to_body_pose(mirror_angles(s.angles))
    )
    torch.testing.assert_close(mirrored, (joints @ m)[:, list(JOINT_MIRROR)], atol=1e-9, rtol=0)


def test_prior_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown pose families"):
        PosePrior(family_weights={"dancing": 1.0})
    with pytest.raises(ValueError, match="not all zero"):
        PosePrior(family_weights={"sitting": 0.0})
    with pytest.raises(ValueError, match="positive"):
        PosePrior().sample(0, _gen(0))


def test_max_swing_is_below_half_turn() -> None:
    assert max(MAX_SWING_DEGREES) <= 180 and min(MAX_SWING_DEGREES) > 90


# ---------------------------------------------------------------------- shapes
def test_shapes_distribution_and_determinism() -> None:
    betas, gender = sample_shapes(20000, _gen(0))
    assert betas.shape == (20000, 10) and gender.shape == (20000,)
    assert set(gender.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(gender.mean())) < 0.03
    assert 0.98 < float(betas.std()) < 1.15 and abs(float(betas.mean())) < 0.03
    assert float(betas.abs().max()) <= 3.0
    again = sample_shapes(20000, _gen(0))
    assert torch.equal(betas, again[0]) and torch.equal(gender, again[1])


# ---------------------------------------------------------------------- bodies
def test_synthetic_batch_shapes_and_root(body: GenderedBodyModel) -> None:
    b = SyntheticBodies(body, seed=0).sample(9, with_vertices=True)
    assert b.betas.shape == (9, 10) and b.gender.shape == (9,)
    assert b.global_orient.shape == (9, 3, 3) and b.body_pose.shape == (9, 23, 3, 3)
    assert b.jl.shape == (9, NUM_JL, 3) and b.vertices is not None
    assert b.vertices.shape == (9, body.female.num_vertices, 3)
    assert torch.equal(b.jl[:, 0], torch.zeros(9, 3))
    assert SyntheticBodies(body, seed=0).sample(4).vertices is None


def test_synthetic_jl_matches_the_full_body_model(body: GenderedBodyModel) -> None:
    b = SyntheticBodies(body, seed=1).sample(12)
    out = body(b.gender, b.betas, b.global_orient.unsqueeze(1), b.body_pose)
    torch.testing.assert_close(b.jl, out.jl - out.joints[:, :1], atol=1e-5, rtol=0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), cut=st.integers(1, 30))
def test_stream_is_fixed_by_seed_whatever_the_batch_sizes(seed: int, cut: int) -> None:
    body = _fake_body()
    whole = SyntheticBodies(body, seed=seed, block_size=16).sample(31)
    parts = SyntheticBodies(body, seed=seed, block_size=16)
    first, second = parts.sample(cut), parts.sample(31 - cut)
    torch.testing.assert_close(torch.cat([first.jl, second.jl]), whole.jl)
    assert torch.equal(torch.cat([first.body_pose, second.body_pose]), whole.body_pose)


def test_landmark_model_gives_the_same_jl() -> None:
    full = BodyModel(model_data_from_arrays(fake_smpl_arrays(seed=2)), dtype=torch.float64)
    small = full.jl_model()
    go, bp = PosePrior(dtype=torch.float64).sample(8, _gen(0))
    betas = torch.randn(8, 10, generator=_gen(1), dtype=torch.float64)
    a = full(betas=betas, global_orient=go.unsqueeze(1), body_pose=bp)
    b = small(betas=betas, global_orient=go.unsqueeze(1), body_pose=bp)
    torch.testing.assert_close(b.jl, a.jl, atol=1e-12, rtol=0)
    assert small.num_vertices == 18 + 24


def test_held_out_set_is_deterministic(body: GenderedBodyModel) -> None:
    a = held_out_set(body, num=40, chunk=16)
    b = held_out_set(body, num=40, chunk=40)
    assert len(a) == 40
    assert torch.equal(a.body_pose, b.body_pose)
    torch.testing.assert_close(a.jl, b.jl)
    assert not torch.equal(held_out_set(body, num=40, seed=1).body_pose, a.body_pose)
    in_float64 = held_out_set(_fake_body(torch.float64), num=40)
    torch.testing.assert_close(in_float64.body_pose.float(), a.body_pose)
    torch.testing.assert_close(in_float64.jl.float(), a.jl, atol=1e-5, rtol=0)


def test_bodies_reject_a_model_without_landmarks() -> None:
    arrays = fake_smpl_arrays()
    del arrays["landmark_vertex_ids"]
    model = BodyModel(model_data_from_arrays(arrays))
    with pytest.raises(ValueError, match="no landmarks"):
        SyntheticBodies(GenderedBodyModel(model, model))


# ---------------------------------------------------------------------- noise
@pytest.fixture(scope="module")
def jl(body: GenderedBodyModel) -> torch.Tensor:
    return SyntheticBodies(body, seed=2).sample(4000).jl.double()


def test_gaussian_noise_has_the_asked_std(jl: torch.Tensor) -> None:
    noisy = gaussian_noise(jl, _gen(0), std=0.03)
    err = (noisy - jl)[:, 1:]
    assert abs(float(err.std()) - 0.03) < 0.001 and abs(float(err.mean())) < 0.001
    assert torch.equal(noisy[:, 0], jl[:, 0])
    per_point = torch.linspace(0.0, 0.05, NUM_JL, dtype=torch.float64)
    err = gaussian_noise(jl, _gen(1), std=per_point, keep_root=False) - jl
    torch.testing.assert_close(err.std(dim=(0, 2)), per_point, atol=0.002, rtol=0.05)


def test_bounded_uniform_noise_stays_within_its_bounds(jl: torch.Tensor) -> None:
    noisy = bounded_uniform_noise(jl, _gen(0))
    err = (noisy - jl).abs().amax(dim=(0, 2))
    bounds = torch.tensor(DEFAULT_BOUNDS, dtype=torch.float64)
    assert bool((err <= bounds + 1e-12).all())
    assert bool((err >= 0.98 * bounds).all())  # the whole range is used
    assert DEFAULT_BOUNDS[20] > DEFAULT_BOUNDS[18] > DEFAULT_BOUNDS[3]  # wrist > elbow > spine


def test_structured_swaps_really_swap_left_and_right(jl: torch.Tensor) -> None:
    only_swaps = StructuredNoise(
        bone_scale_std=0, limb_scale_std=0, depth_std=0, depth_scale_std=0,
        swap_probability=1.0, outlier_probability=0, jitter_std=0,
    )  # fmt: skip
    noisy = structured_noise(jl, _gen(0), only_swaps)
    for limb in (LEFT_ARM, LEFT_LEG):
        right = [JL_MIRROR[i] for i in limb]
        assert torch.equal(noisy[:, list(limb)], jl[:, right])
        assert torch.equal(noisy[:, right], jl[:, list(limb)])
    untouched = [
        i
        for i in range(NUM_JL)
        if i not in LEFT_ARM + LEFT_LEG and JL_MIRROR[i] not in LEFT_ARM + LEFT_LEG
    ]
    assert torch.equal(noisy[:, untouched], jl[:, untouched])


def test_structured_depth_noise_only_moves_depth(jl: torch.Tensor) -> None:
    only_depth = StructuredNoise(
        bone_scale_std=0, limb_scale_std=0, swap_probability=0, outlier_probability=0, jitter_std=0
    )
    noisy = structured_noise(jl, _gen(0), only_depth)
    assert torch.equal(noisy[..., :2], jl[..., :2])
    assert float((noisy[:, 1:, 2] - jl[:, 1:, 2]).std()) > 0.02


def test_structured_outliers_hit_the_asked_share_of_points(jl: torch.Tensor) -> None:
    only_outliers = StructuredNoise(
        bone_scale_std=0, limb_scale_std=0, depth_std=0, depth_scale_std=0,
        swap_probability=0, outlier_probability=0.1, outlier_std=0.2, jitter_std=0,
    )  # fmt: skip
    moved = (structured_noise(jl, _gen(0), only_outliers) - jl).norm(dim=-1)[:, 1:] > 0
    assert abs(float(moved.double().mean()) - 0.1) < 0.01


def test_bone_scaling_scales_bone_lengths(jl: torch.Tensor) -> None:
    scale = 0.8 + 0.4 * torch.rand(jl.shape[0], NUM_JL, generator=_gen(0), dtype=torch.float64)
    scaled = scale_bones(jl, scale)
    parents = list(JL_PARENTS[1:])
    before = (jl[:, 1:] - jl[:, parents]).norm(dim=-1)
    after = (scaled[:, 1:] - scaled[:, parents]).norm(dim=-1)
    torch.testing.assert_close(after, before * scale[:, 1:])


def test_noise_rejects_bad_jl() -> None:
    with pytest.raises(ValueError, match="expected"):
        gaussian_noise(torch.zeros(2, 41, 3), _gen(0))
    bad = torch.zeros(2, NUM_JL, 3)
    bad[0, 3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        structured_noise(bad, _gen(0))
    with pytest.raises(ValueError, match="non-negative"):
        gaussian_noise(torch.zeros(2, NUM_JL, 3), _gen(0), std=-1.0)


# ---------------------------------------------------------------------- projection
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_projection_round_trip_at_root_depth(seed: int) -> None:
    g = _gen(seed)
    views = random_views(16, g, dtype=torch.float64)
    points = 0.5 * torch.randn(16, NUM_JL, 3, generator=g, dtype=torch.float64)
    points[:, 0] = 0
    points[..., 2] = 0  # on the plane through the root, perpendicular to the camera axis
    pixels = project_to_pixels(points, views.root, views.intrinsics)
    back = pixels_to_root_plane(pixels, views.intrinsics, views.root[:, 2])
    torch.testing.assert_close(back, points, atol=1e-9, rtol=0)


def test_random_view_2d_gives_depthless_root_relative_input(jl: torch.Tensor) -> None:
    jl_view, jl_2d, views = random_view_2d(jl[:256], _gen(0))
    assert jl_2d.shape == jl_view.shape == (256, NUM_JL, 3)
    assert torch.equal(jl_2d[..., 2], torch.zeros_like(jl_2d[..., 2]))
    assert float(jl_2d[:, 0].abs().max()) < 1e-9
    # Same shape up to perspective: the 2D form is close to the view's x, y.
    assert float((jl_2d[..., :2] - jl_view[..., :2]).abs().mean()) < 0.02
    torch.testing.assert_close(jl_view.norm(dim=-1), jl[:256].norm(dim=-1))  # a rotation
    assert _is_rotation(views.rotation, 1e-10)


def test_axis_rotation_is_right_handed() -> None:
    angle = torch.tensor([0.3, -1.2], dtype=torch.float64)
    x_axis = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    expected = torch.stack([angle.cos(), angle.sin(), torch.zeros(2, dtype=torch.float64)], -1)
    torch.testing.assert_close(axis_rotation(angle, 2) @ x_axis, expected)


def test_projection_rejects_bad_inputs() -> None:
    pixels = torch.zeros(2, NUM_JL, 2)
    with pytest.raises(ValueError, match="focal"):
        pixels_to_root_plane(pixels, torch.tensor([0.0, 1.0, 0.0, 0.0]), 3.0)
    with pytest.raises(ValueError, match="root_depth"):
        pixels_to_root_plane(pixels, torch.tensor([1.0, 1.0, 0.0, 0.0]), -1.0)
    with pytest.raises(ValueError, match="intrinsics"):
        pixels_to_root_plane(pixels, torch.tensor([1.0, 1.0, 0.0]), 3.0)
    with pytest.raises(ValueError, match="behind"):
        project_to_pixels(torch.ones(1, 3, 3) * 5, torch.tensor([[0.0, 0.0, 2.0]]), torch.ones(4))


# ---------------------------------------------------------------------- figures
def test_pose_grid_writes_pictures(tmp_path, body: GenderedBodyModel) -> None:
    from smplr.synthetic.figures import pose_grid

    for name, options in (
        ("skeleton.png", {}),
        ("jl.png", {"body": body}),
        ("mesh.png", {"body": body, "mesh": True}),
    ):
        path = pose_grid(tmp_path / name, per_family=1, families=("sitting",), **options)
        assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="needs a body model"):
        pose_grid(tmp_path / "x.png", mesh=True)


def _open_body() -> GenderedBodyModel:
    try:
        return GenderedBodyModel.open()
    except ModelFileError:
        pytest.skip("the open body model is not installed")


def test_open_model_bodies_have_human_proportions() -> None:
    body = _open_body()
    b = SyntheticBodies(body, seed=0, block_size=256).sample(256, with_vertices=True)
    thigh = (b.jl[:, 4] - b.jl[:, 1]).norm(dim=-1)  # left hip -> knee
    assert float(thigh.min()) > 0.2 and float(thigh.max()) < 0.6
    # JL through the landmark-only model equals the full mesh's.
    full = body(b.gender, b.betas, b.global_orient.unsqueeze(1), b.body_pose)
    torch.testing.assert_close(b.jl, full.jl - full.joints[:, :1], atol=1e-5, rtol=0)
    # Pelvis-relative heights: the head is above the pelvis for upright families.
    upright = SyntheticBodies(body, seed=1, pose_prior=PosePrior(family_weights={"standing": 1}))
    head_height = upright.sample(64).jl[:, 15, 1]
    assert float(head_height.min()) > 0.4
