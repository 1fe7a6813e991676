"""The crop frame of the image model: pixel-aligned heatmaps, depth from the root."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from smplr.body.skeleton import NUM_JOINTS
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.image_model.config import DOWNSAMPLE
from smplr.image_model.crop_frame import camera_points, crop_points, resized_intrinsics
from smplr.image_model.volume import metres_to_cells
from smplr.predict.image_route import Crop
from smplr.training.image import collate

SIZE, R = 64, 1.25
TINY = ImageModelConfig(
    stacks=1, features=16, input_size=SIZE, depth_bins=4, hourglass_depth=1, frame="crop"
)


def _bodies(seed: int, n: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Random camera-frame JL ``(n, 42, 3)`` 3-8 m away and crop intrinsics that follow
    the convention (the 24 joints' mean depth is ``f · 2r / S``), principal point anywhere."""
    g = torch.Generator().manual_seed(seed)
    jl = torch.randn(n, 42, 3, generator=g, dtype=torch.float64) * 0.4
    jl[..., 2] += 3.0 + 5.0 * torch.rand(n, 1, generator=g, dtype=torch.float64)
    focal = SIZE * jl[:, :NUM_JOINTS, 2].mean(dim=1) / (2 * R)
    K = torch.zeros(n, 3, 3, dtype=torch.float64)
    K[:, 0, 0] = K[:, 1, 1] = focal
    K[:, :2, 2] = SIZE * torch.rand(n, 2, generator=g, dtype=torch.float64)
    K[:, 2, 2] = 1.0
    return jl, K


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_camera_points_invert_crop_points_under_the_crop_convention(seed: int) -> None:
    jl, K = _bodies(seed)
    volume = crop_points(jl, K, SIZE, R, 41)
    assert volume.shape == (3, 42, 3)
    assert torch.allclose(volume[:, -1, 2], torch.zeros(3, dtype=torch.float64))
    back = camera_points(volume, K, SIZE, R)
    assert torch.allclose(back, jl[:, 1:] - jl[:, :1], atol=1e-9)


def test_a_point_lands_on_the_heatmap_cell_under_its_pixel() -> None:
    jl, K = _bodies(1)
    volume = crop_points(jl, K, SIZE, R, 41)
    pixels = torch.einsum("bij,bpj->bpi", K, jl / jl[..., 2:])[..., :2]
    pixels = torch.cat([pixels[:, 1:], pixels[:, :1]], dim=1)
    cells = metres_to_cells(volume[..., :2], SIZE // DOWNSAMPLE, R)
    assert torch.allclose(cells, (pixels + 0.5) / DOWNSAMPLE - 0.5, atol=1e-9)


def test_weak_perspective_without_intrinsics_is_the_plane_offset() -> None:
    jl, K = _bodies(2)
    volume = crop_points(jl, K, SIZE, R, 41)
    weak = camera_points(volume, None, SIZE, R)
    assert torch.allclose(weak, volume[:, :-1] - volume[:, -1:])
    # close to the truth for bodies far from the camera
    error = (weak - (jl[:, 1:] - jl[:, :1])).norm(dim=-1).mean()
    assert float(error) < 0.15


def test_camera_points_gradients() -> None:
    jl, K = _bodies(3, n=1)
    volume = crop_points(jl, K, SIZE, R, 23)[:, :24].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: camera_points(v, K, SIZE, R), (volume,))


def test_resized_intrinsics_follow_the_pixels() -> None:
    jl, K = _bodies(4)
    small = resized_intrinsics(K, SIZE, 32)
    u = torch.einsum("bij,bpj->bpi", K, jl / jl[..., 2:])[..., :2]
    v = torch.einsum("bij,bpj->bpi", small, jl / jl[..., 2:])[..., :2]
    assert torch.allclose(v, (u + 0.5) * 32 / SIZE - 0.5, atol=1e-9)
    assert resized_intrinsics(K, SIZE, SIZE) is K


def test_a_photo_crop_camera_sees_the_pixel_where_the_crop_shows_it() -> None:
    photo = np.zeros((300, 400, 3), dtype=np.uint8)
    K = np.array([[500.0, 0, 200], [0, 500.0, 150], [0, 0, 1]])
    point = np.array([0.3, -0.2, 4.0])
    u, v = (K @ (point / point[2]))[:2]
    photo[round(v) - 2 : round(v) + 3, round(u) - 2 : round(u) + 3] = 255
    crop = Crop(centre_x=230.0, centre_y=130.0, side=160.0)
    pixels = crop.pixels(photo, 64).astype(float).sum(axis=-1)
    ys, xs = np.nonzero(pixels > 0.5 * pixels.max())
    seen = np.array([xs.mean(), ys.mean()])
    camera = crop.intrinsics(K, 64)
    expected = (camera @ (point / point[2]))[:2]
    expected_from_rounded = (camera @ np.linalg.solve(K, [round(u), round(v), 1.0]))[:2]
    assert np.abs(seen - expected_from_rounded).max() < 0.3
    assert np.abs(expected - expected_from_rounded).max() < 0.5 * 64 / 160 + 1e-9


def test_flip_test_reading_is_mirror_equivariant() -> None:
    torch.manual_seed(0)
    model = build_image_model(TINY).eval()
    order = list(model.mirror_order)
    assert sorted(order) == list(range(TINY.num_volume_points))
    assert [order[i] for i in order] == list(range(TINY.num_volume_points))
    images = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        plain = model.predict(images, flip_test=True)
        mirrored = model.predict(images.flip(-1), flip_test=True)
    # points are JL without the root: mirror with JL's order
    back = mirrored[:, [i for i in order[: TINY.num_points]]] * torch.tensor([-1.0, 1, 1])
    assert torch.allclose(plain, back, atol=1e-5)


def test_collate_makes_crop_targets_and_needs_the_camera() -> None:
    jl, K = _bodies(5, n=2)
    samples = [
        {"image": torch.rand(3, 2 * SIZE, 2 * SIZE), "jl3d": jl[i], "K": K[i] * 1.0}
        for i in range(2)
    ]
    for s in samples:  # the images are twice the input size: so is the camera
        s["K"][:2] *= 2
        s["K"][:2, 2] += 0.5
    batch = collate(samples, TINY)
    assert batch.targets.shape == (2, 42, 3) and batch.valid.shape == (2, 42)
    assert batch.points.shape == (2, 41, 3)
    assert torch.allclose(batch.intrinsics.double(), K, atol=1e-4)
    assert torch.allclose(batch.targets.double(), crop_points(jl, K, SIZE, R, 41), atol=1e-4)
    with pytest.raises(ValueError, match="needs samples with 'jl3d' and 'K'"):
        collate([{"image": s["image"], "jl3d": s["jl3d"]} for s in samples], TINY)


def test_frame_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown image model frame"):
        ImageModelConfig(frame="world")
    with pytest.raises(ValueError, match="needs a volumetric architecture"):
        ImageModelConfig(architecture="alexnet", frame="crop")
    assert TINY.num_volume_points == 42 and TINY.num_maps == 42
    assert ImageModelConfig(frame="crop", landmarks=False, limbs=True).num_maps == 28
