"""Metrics: closed-form cases, an independent Umeyama reference, properties, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from smplr import metrics
from smplr.body.skeleton import JL_PARENTS, NUM_JL, PARENTS


# ---------------------------------------------------------------------------- references
def umeyama_numpy(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Closed-form similarity (Umeyama 1991, eqs. 40-42) for one (K, 3) pair, in numpy."""
    mu_x, mu_y = source.mean(0), target.mean(0)
    x, y = source - mu_x, target - mu_y
    sigma_x2 = (x**2).sum() / len(x)
    cov = y.T @ x / len(x)
    u, d, vt = np.linalg.svd(cov)
    s = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        s[2, 2] = -1.0
    rotation = u @ s @ vt
    scale = np.trace(np.diag(d) @ s) / sigma_x2
    translation = mu_y - scale * rotation @ mu_x
    return scale, rotation, translation


def reference_pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    out = []
    for p, g in zip(pred, gt, strict=True):
        s, r, t = umeyama_numpy(p, g)
        out.append(np.linalg.norm(s * p @ r.T + t - g, axis=-1).mean() * 1000.0)
    return np.array(out)


def random_similarity(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rot = Rotation.random(n, random_state=rng.integers(1 << 31)).as_matrix()
    scale = rng.uniform(0.3, 3.0, n)
    trans = rng.normal(0, 2.0, (n, 3))
    return scale, rot, trans


def apply(scale, rot, trans, points):
    return scale[:, None, None] * np.einsum("nij,nkj->nki", rot, points) + trans[:, None]


# ---------------------------------------------------------------------------- closed form
def test_mpjpe_known_offsets():
    gt = np.zeros((2, 3, 3))
    gt[:, 1] = [1.0, 0, 0]
    gt[:, 2] = [0, 1.0, 0]
    pred = gt.copy()
    pred[0, 1, 0] += 0.003  # 3 mm on joint 1 of sample 0
    pred[1] += 5.0  # global shift of sample 1: free under protocol 1
    np.testing.assert_allclose(metrics.mpjpe(pred, gt), [1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(metrics.mpjpe(pred, gt, joints=[1]), [3.0, 0.0], atol=1e-9)


def test_root_index_is_configurable():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(3, 5, 3))
    pred = gt.copy()
    pred[:, 2] += [0.01, 0, 0]  # move only joint 2
    # root 0: only joint 2 is off (10 mm), mean over 5 joints = 2 mm
    np.testing.assert_allclose(metrics.mpjpe(pred, gt, root=0), 2.0, atol=1e-9)
    # root 2: every other joint appears off by 10 mm: 4 of 5 joints
    np.testing.assert_allclose(metrics.mpjpe(pred, gt, root=2), 8.0, atol=1e-9)


def test_protocol2_recovers_known_similarity_exactly():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(16, 24, 3))
    scale, rot, trans = random_similarity(rng, 16)
    pred = apply(scale, rot, trans, gt)
    assert metrics.mpjpe(pred, gt).max() > 10.0  # far off before alignment
    np.testing.assert_allclose(metrics.pa_mpjpe(pred, gt), 0.0, atol=1e-8)
    np.testing.assert_allclose(metrics.point_errors(pred, gt, protocol=2), 0.0, atol=1e-8)


def test_protocol2_never_uses_a_reflection():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(8, 24, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # a pure reflection of the ground truth
    pa = metrics.pa_mpjpe(mirrored, gt)
    # an orthogonal Procrustes that allowed det = -1 would reach 0 here
    assert (pa > 50.0).all()
    # and the proper-rotation optimum agrees with the independent Umeyama
    np.testing.assert_allclose(pa, reference_pa_mpjpe(mirrored, gt), atol=1e-6)


def test_protocol2_matches_independent_umeyama_to_1e6_mm():
    rng = np.random.default_rng(4)
    gt = rng.normal(0, 0.4, size=(512, 24, 3))
    pred = gt + rng.normal(0, 0.05, size=gt.shape)  # ~5 cm noise
    scale, rot, trans = random_similarity(rng, 512)
    pred = apply(scale, rot, trans, pred)
    ours = metrics.pa_mpjpe(pred, gt)
    ref = reference_pa_mpjpe(pred, gt)
    assert np.abs(ours - ref).max() < 1e-6


def test_protocol2_aligns_on_evaluated_joints_only():
    rng = np.random.default_rng(5)
    gt = rng.normal(size=(4, 24, 3))
    pred = gt.copy()
    pred[:, 23] += 1.0  # a wild joint outside the evaluated set
    np.testing.assert_allclose(metrics.pa_mpjpe(pred, gt, joints=range(23)), 0.0, atol=1e-8)
    assert (metrics.pa_mpjpe(pred, gt) > 1.0).all()


def test_torch_in_torch_out_on_the_device_computed_in_float64(dtype, device):
    rng = np.random.default_rng(6)
    gt = rng.normal(size=(5, 24, 3))
    pred = gt + rng.normal(0, 0.01, size=gt.shape)
    as_torch = lambda a: torch.tensor(a, dtype=dtype, device=device)  # noqa: E731
    rounded = lambda a: as_torch(a).cpu().double().numpy()  # noqa: E731
    for metric, reference in (
        (metrics.pa_mpjpe, reference_pa_mpjpe),
        (
            metrics.mpjpe,
            lambda p, g: 1000 * np.linalg.norm(p - p[:, :1] - g + g[:, :1], axis=-1).mean(1),
        ),
    ):
        out = metric(as_torch(pred), as_torch(gt))
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
        assert out.device.type == device.type
        np.testing.assert_allclose(
            out.cpu().numpy(), reference(rounded(pred), rounded(gt)), atol=1e-6
        )
    assert isinstance(metrics.mpjpe(pred, gt), np.ndarray)


def test_surface_error_protocols():
    rng = np.random.default_rng(7)
    gt_v = rng.normal(size=(3, 100, 3))
    gt_root = rng.normal(size=(3, 3))
    shift = np.array([0.2, -0.1, 0.3])
    pred_v, pred_root = gt_v + shift, gt_root + shift
    np.testing.assert_allclose(
        metrics.surface_error(pred_v, gt_v, pred_root=pred_root, gt_root=gt_root), 0.0, atol=1e-9
    )
    # a 2 mm offset of every vertex relative to the root -> exactly 2 mm under protocol 1
    off = gt_v + np.array([0.002, 0, 0])
    np.testing.assert_allclose(
        metrics.surface_error(off, gt_v, pred_root=gt_root, gt_root=gt_root), 2.0, atol=1e-9
    )
    scale, rot, trans = random_similarity(rng, 3)
    np.testing.assert_allclose(
        metrics.surface_error(apply(scale, rot, trans, gt_v), gt_v, protocol=2), 0.0, atol=1e-8
    )
    with pytest.raises(ValueError, match="pred_root and gt_root"):
        metrics.surface_error(pred_v, gt_v)


def test_landmark_error():
    rng = np.random.default_rng(9)
    gt = rng.normal(size=(3, NUM_JL, 3))
    pred = gt.copy()
    pred[:, 24:] += np.array([0.0, 0.006, 0.0])  # every landmark 6 mm off, joints exact
    np.testing.assert_allclose(metrics.landmark_error(pred, gt), 6.0, atol=1e-9)
    scale, rot, trans = random_similarity(rng, 3)
    np.testing.assert_allclose(
        metrics.landmark_error(apply(scale, rot, trans, gt), gt, protocol=2), 0.0, atol=1e-8
    )
    with pytest.raises(ValueError, match="needs JL"):
        metrics.landmark_error(gt[:, :24], gt[:, :24])


def test_metrics_are_differentiable_for_torch_inputs():
    rng = np.random.default_rng(10)
    gt = torch.tensor(rng.normal(size=(2, 10, 3)))
    pred = (gt + 0.05 * torch.tensor(rng.normal(size=(2, 10, 3)))).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: metrics.mpjpe(p, gt), (pred,))
    assert torch.autograd.gradcheck(lambda p: metrics.pa_mpjpe(p, gt), (pred,))


def test_part_groups_and_all():
    errors = np.tile(np.arange(24, dtype=float), (2, 1))  # joint j has error j
    parts = metrics.part_errors(errors)
    assert parts["Head"][0] == pytest.approx((12 + 15) / 2)
    assert parts["Foot"][0] == pytest.approx((7 + 8 + 10 + 11) / 4)
    assert parts["All"][0] == pytest.approx(np.mean(metrics.ALL_JOINTS))
    assert set(parts) == {*metrics.PART_GROUPS, "All"}
    # a subset of joints (e.g. Human3.6M's): groups use what is present, empty ones drop out
    ids = [0, 1, 2, 4, 5, 12, 15]
    sub = metrics.part_errors(errors[:, ids], joint_ids=ids)
    assert set(sub) == {"Head", "Hip", "Knee", "All"}
    assert sub["All"][0] == pytest.approx(np.mean([1, 2, 4, 5, 12, 15]))


def test_bone_length_error():
    rng = np.random.default_rng(8)
    gt = rng.normal(size=(2, NUM_JL, 3))
    _, rot, trans = random_similarity(rng, 2)
    moved = apply(np.ones(2), rot, trans, gt)  # rigid: bone lengths unchanged
    np.testing.assert_allclose(metrics.bone_length_error(moved, gt), 0.0, atol=1e-9)
    # lengthen one bone (point 5's, parent 2) by exactly 4 mm
    longer = gt.copy()
    d = gt[:, 5] - gt[:, JL_PARENTS[5]]
    longer[:, 5] += 0.004 * d / np.linalg.norm(d, axis=-1, keepdims=True)
    # point 5 is also the parent of point 8: that bone changes too, so compare only its own bone
    single = metrics.bone_length_error(longer[:, :6], gt[:, :6], parents=JL_PARENTS[:6])
    np.testing.assert_allclose(single, 4.0 / 5, atol=1e-9)
    assert metrics.bone_length_error(gt[:, :24], gt[:, :24]).shape == (2,)
    with pytest.raises(ValueError, match="no default kinematic tree"):
        metrics.bone_length_error(gt[:, :10], gt[:, :10])
    assert len(PARENTS) == 24


def test_silhouette_iou():
    a = np.zeros((3, 4, 4), bool)
    b = np.zeros((3, 4, 4), bool)
    a[0, :2] = True  # 8 pixels
    b[0, 1:3] = True  # 8 pixels, 4 shared -> 4 / 12
    a[1] = b[1] = True
    iou = metrics.silhouette_iou(a, b)
    np.testing.assert_allclose(iou[:2], [1 / 3, 1.0])
    assert np.isnan(iou[2])  # both empty: undefined
    with pytest.raises(ValueError, match="boolean"):
        metrics.silhouette_iou(a.astype(np.uint8), b)


def test_gender():
    pred = np.array([0.9, -0.2, 0.0, -1.0])
    gt = np.array([1.0, 1.0, 1.0, -1.0])
    np.testing.assert_array_equal(metrics.gender_correct(pred, gt), [True, False, True, True])
    assert metrics.gender_accuracy(pred, gt) == pytest.approx(0.75)


# ---------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    ("pred", "gt", "message"),
    [
        (np.zeros((3, 24, 3)), np.zeros((4, 24, 3)), "3 predicted samples but 4 ground-truth"),
        (np.zeros((3, 24, 3)), np.zeros((3, 17, 3)), "different numbers of points"),
        (np.zeros((3, 24)), np.zeros((3, 24, 3)), r"expected \(N, K, 3\)"),
        (np.full((3, 24, 3), np.nan), np.zeros((3, 24, 3)), "NaN or inf"),
        (np.zeros((0, 24, 3)), np.zeros((0, 24, 3)), r"no (points|joints) to evaluate"),
    ],
)
def test_bad_inputs_raise_one_line_value_errors(pred, gt, message):
    for fn in (metrics.mpjpe, metrics.pa_mpjpe):
        with pytest.raises(ValueError, match=message) as info:
            fn(pred, gt)
        assert "\n" not in str(info.value)


def test_bad_indices_and_protocol():
    x = np.zeros((2, 24, 3))
    with pytest.raises(ValueError, match="root index 30"):
        metrics.mpjpe(x, x, root=30)
    with pytest.raises(ValueError, match="out of range"):
        metrics.pa_mpjpe(x, x, joints=[0, 99])
    with pytest.raises(ValueError, match="unknown protocol"):
        metrics.point_errors(x, x, protocol=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="counts must match"):
        metrics.gender_accuracy(np.ones(3), np.ones(2))


# ---------------------------------------------------------------------------- properties
finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
clouds = arrays(np.float64, (3, 8, 3), elements=finite)
seeds = st.integers(0, 2**31 - 1)


def _spread(points: np.ndarray) -> bool:
    centred = points - points.mean(1, keepdims=True)
    # well-conditioned clouds: Procrustes is unique when the cross-covariance is full-rank
    return bool((np.linalg.svd(centred, compute_uv=False)[:, -1] > 0.05).all())


@settings(max_examples=40, deadline=None)
@given(clouds, clouds, seeds)
def test_mpjpe_is_translation_invariant_per_set(pred, gt, seed):
    rng = np.random.default_rng(seed)
    shifted_pred = pred + rng.normal(0, 3, (3, 1, 3))
    shifted_gt = gt + rng.normal(0, 3, (3, 1, 3))
    np.testing.assert_allclose(
        metrics.mpjpe(shifted_pred, shifted_gt), metrics.mpjpe(pred, gt), atol=1e-7
    )
    assert (metrics.mpjpe(pred, gt) >= 0).all()
    np.testing.assert_allclose(metrics.mpjpe(pred, gt), metrics.mpjpe(gt, pred), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(clouds, clouds, seeds)
def test_pa_mpjpe_invariant_to_similarity_of_prediction(pred, gt, seed):
    if not (_spread(pred) and _spread(gt)):
        return
    rng = np.random.default_rng(seed)
    scale, rot, trans = random_similarity(rng, 3)
    before = metrics.pa_mpjpe(pred, gt)
    after = metrics.pa_mpjpe(apply(scale, rot, trans, pred), gt)
    np.testing.assert_allclose(after, before, atol=1e-6)
    np.testing.assert_allclose(before, reference_pa_mpjpe(pred, gt), atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(clouds, seeds)
def test_pa_mpjpe_zero_for_any_similarity_of_truth(gt, seed):
    if not _spread(gt):
        return
    rng = np.random.default_rng(seed)
    scale, rot, trans = random_similarity(rng, 3)
    np.testing.assert_allclose(metrics.pa_mpjpe(apply(scale, rot, trans, gt), gt), 0.0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(arrays(np.bool_, (2, 5, 6)), arrays(np.bool_, (2, 5, 6)))
def test_iou_properties(a, b):
    iou = metrics.silhouette_iou(a, b)
    np.testing.assert_array_equal(iou, metrics.silhouette_iou(b, a))
    valid = ~np.isnan(iou)
    assert ((iou[valid] >= 0) & (iou[valid] <= 1)).all()
    np.testing.assert_array_equal(np.isnan(iou), ~(a | b).any(axis=(1, 2)))
    self_iou = metrics.silhouette_iou(a, a)
    assert (self_iou[a.any(axis=(1, 2))] == 1).all()
