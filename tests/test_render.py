"""smplr.render: camera conventions, rasteriser against brute force and closed forms,
shading, compositing, PNG files and ``smplr body show``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.cli import run_smplr
from helpers.fake_model import fake_smpl_arrays
from smplr.body.model_file import model_data_from_arrays, save_model_data
from smplr.render import (
    PinholeCamera,
    composite,
    fit_camera,
    front_view_camera,
    interpolate,
    lambert,
    load_image,
    look_at,
    overlay,
    rasterize,
    render_shaded,
    render_silhouette,
    save_png,
    vertex_normals,
)
from smplr.render.reference import rasterize_brute_force
from smplr.render.renderer import render_camera_silhouettes, write_pictures

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def triangle_soup(
    seed: int, batch: int, faces: int, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Independent random triangles (no shared corners, so depth ties have probability 0),
    partly off screen, float64 screen coordinates."""
    g = torch.Generator().manual_seed(seed)
    centre = (
        torch.rand(batch, faces, 1, 2, generator=g, dtype=torch.float64)
        * torch.tensor([width + 8.0, height + 8.0], dtype=torch.float64)
        - 4.0
    )
    spread = 1.0 + 8.0 * torch.rand(batch, faces, 1, 1, generator=g, dtype=torch.float64)
    uv = centre + spread * torch.randn(batch, faces, 3, 2, generator=g, dtype=torch.float64)
    z = 0.5 + 5.0 * torch.rand(batch, faces, 3, 1, generator=g, dtype=torch.float64)
    vertices = torch.cat([uv, z], dim=-1).reshape(batch, faces * 3, 3)
    return vertices, torch.arange(faces * 3).reshape(faces, 3)


def square(
    x0: float, y0: float, x1: float, y1: float, z: float = 2.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """An axis-aligned screen-space rectangle as two triangles, ``(1, 4, 3)`` and ``(2, 3)``."""
    vertices = torch.tensor(
        [[[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]]], dtype=torch.float64
    )
    return vertices, torch.tensor([[0, 1, 2], [0, 2, 3]])


def pixel_centres_in(lo: float, hi: float, size: int) -> int:
    """Integer pixel centres c in [0, size) with lo <= c < hi (top-left rule on a rectangle)."""
    return max(0, min(math.ceil(hi), size) - max(math.ceil(lo), 0))


def ellipsoid(subdivisions: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions)
    vertices = torch.tensor(mesh.vertices, dtype=torch.float64) * torch.tensor(
        [0.3, 0.9, 0.2], dtype=torch.float64
    )
    return vertices[None], torch.tensor(mesh.faces, dtype=torch.long)


dyadic = st.integers(-80, 400).map(lambda k: k / 8.0)  # exact in floating point


# ---------------------------------------------------------------------- camera
def test_projection_matches_intrinsic_matrix():
    g = torch.Generator().manual_seed(0)
    R, _ = torch.linalg.qr(torch.randn(3, 3, 3, generator=g, dtype=torch.float64))
    R = R * torch.linalg.det(R)[:, None, None]  # proper rotations
    t = torch.tensor([[0.1, -0.2, 4.0], [0.0, 0.3, 5.0], [0.2, 0.1, 6.0]], dtype=torch.float64)
    K = torch.tensor([[500.0, 0, 120.5], [0, 480.0, 90.0], [0, 0, 1]], dtype=torch.float64)
    camera = PinholeCamera.from_intrinsics(K, 240, 180, rotation=R, translation=t)
    points = torch.randn(3, 7, 3, generator=g, dtype=torch.float64)
    pixels, depth = camera.project(points)
    cam = points @ R.transpose(1, 2) + t[:, None]
    homogeneous = cam @ K.T
    torch.testing.assert_close(pixels, homogeneous[..., :2] / homogeneous[..., 2:])
    torch.testing.assert_close(depth, cam[..., 2])
    torch.testing.assert_close(camera.K, K.expand(3, 3, 3))
    torch.testing.assert_close(
        camera.world_to_camera(camera.centre[:, None]), torch.zeros(3, 1, 3, dtype=torch.float64)
    )


def test_camera_arguments_broadcast_over_the_batch():
    camera = PinholeCamera(
        focal=100.0,
        principal=(31.5, 23.5),
        rotation=torch.eye(3),
        translation=torch.zeros(2, 3),
        width=64,
        height=48,
    )
    assert (
        camera.batch_size == 2
        and camera.focal.shape == (2, 2)
        and camera.rotation.shape == (2, 3, 3)
    )
    pixels, _ = camera.project(torch.tensor([[[0.0, 0.0, 2.0]], [[0.2, 0.0, 2.0]]]))
    torch.testing.assert_close(pixels[:, 0], torch.tensor([[31.5, 23.5], [41.5, 23.5]]))
    single = PinholeCamera(100.0, (31.5, 23.5), torch.eye(3), torch.zeros(3), 64, 48).expand(3)
    assert single.batch_size == 3 and single.width == 64
    with pytest.raises(ValueError, match="single camera"):
        camera.expand(4)
    with pytest.raises(ValueError, match="translation has shape"):
        PinholeCamera(
            focal=1.0,
            principal=0.0,
            rotation=torch.eye(3),
            translation=torch.zeros(2),
            width=4,
            height=4,
        )
    with pytest.raises(ValueError, match="focal contains NaN"):
        PinholeCamera(float("nan"), 0.0, torch.eye(3), torch.zeros(3), 4, 4)
    with pytest.raises(ValueError, match="image size"):
        PinholeCamera(1.0, 0.0, torch.eye(3), torch.zeros(3), 0, 4)


def test_look_at_puts_target_on_axis_and_up_at_the_top():
    eye = torch.tensor([[1.0, 2.0, 5.0]], dtype=torch.float64)
    target = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    R, t = look_at(eye, target)
    torch.testing.assert_close(R @ R.transpose(1, 2), torch.eye(3, dtype=torch.float64)[None])
    assert torch.linalg.det(R).item() == pytest.approx(1.0)
    camera = PinholeCamera.from_intrinsics(
        torch.tensor([[100.0, 0, 50], [0, 100.0, 40], [0, 0, 1]]).double(), 100, 80, R, t
    )
    pixels, depth = camera.project(
        torch.stack([target, target + torch.tensor([0.0, 0.5, 0.0]).double()], dim=1)
    )
    torch.testing.assert_close(pixels[0, 0], torch.tensor([50.0, 40.0], dtype=torch.float64))
    assert depth[0, 0].item() == pytest.approx(float((eye - target).norm()))
    assert pixels[0, 1, 1] < 40.0  # world up is image up (smaller row)


def test_front_view_sees_the_body_from_the_front():
    # A body-like point set: Y up, facing +Z, a marker on its left (+X) and its nose (+Z).
    head, left_hand, nose = [0.0, 1.7, 0.0], [0.8, 1.4, 0.0], [0.0, 1.6, 0.12]
    points = torch.tensor(
        [[head, left_hand, nose, [0.0, 0.0, 0.0], [-0.8, 1.4, 0.0]]], dtype=torch.float64
    )
    camera = front_view_camera(points, width=200, height=300)
    pixels, depth = camera.project(points)
    assert pixels[0, 1, 0] > pixels[0, 4, 0]  # the body's left appears on the right
    assert pixels[0, 0, 1] < pixels[0, 3, 1]  # the head is above the feet
    assert depth[0, 2] < depth[0, 0]  # the nose is nearer than the head's centre
    assert camera.centre[0, 2] > 0.12


@pytest.mark.parametrize("azimuth", [0.0, 35.0, 90.0])
def test_fit_camera_frames_points_tightly(azimuth):
    g = torch.Generator().manual_seed(1)
    points = (
        torch.randn(2, 50, 3, generator=g, dtype=torch.float64)
        * torch.tensor([0.3, 0.8, 0.2]).double()
        + 2.0
    )
    margin = 0.1
    camera = front_view_camera(
        points, width=160, height=120, azimuth_degrees=azimuth, margin=margin
    )
    pixels, depth = camera.project(points)
    assert bool((depth > 0).all())
    lo = torch.tensor([160 * margin - 0.5, 120 * margin - 0.5], dtype=torch.float64)
    hi = torch.tensor([160 * (1 - margin) - 0.5, 120 * (1 - margin) - 0.5], dtype=torch.float64)
    assert bool((pixels >= lo - 1e-6).all() and (pixels <= hi + 1e-6).all())
    touching = torch.minimum((pixels - lo).abs(), (pixels - hi).abs()).amin(dim=(1, 2))
    assert bool((touching < 1e-6).all())  # the nearest framing: some point touches the border
    if azimuth == 90.0:  # looking at the body's left side from +X
        assert bool((camera.centre[:, 0] > points[..., 0].amax(dim=1)).all())


def test_camera_bad_inputs():
    points = torch.zeros(1, 4, 3)
    with pytest.raises(ValueError, match="expected \\(B, N, 3\\)"):
        fit_camera(torch.zeros(4, 3), torch.tensor([0.0, 0, -1]), 64, 64)
    with pytest.raises(ValueError, match="NaN"):
        front_view_camera(torch.full((1, 4, 3), float("nan")), 64, 64)
    with pytest.raises(ValueError, match="parallel"):
        fit_camera(points + torch.rand(1, 4, 3), torch.tensor([0.0, 1.0, 0.0]), 64, 64)
    with pytest.raises(ValueError, match="fov"):
        front_view_camera(torch.rand(1, 4, 3), 64, 64, fov_degrees=180)
    camera = front_view_camera(torch.rand(1, 4, 3), 64, 64)
    with pytest.raises(ValueError, match="batch size"):
        camera.project(torch.rand(2, 4, 3))
    with pytest.raises(ValueError, match="skew"):
        PinholeCamera.from_intrinsics(torch.tensor([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]), 8, 8)


# ---------------------------------------------------------------------- rasteriser
@pytest.mark.parametrize(
    ("seed", "batch", "faces", "size", "cull"),
    [
        (0, 1, 3, (9, 13), False),
        (1, 2, 12, (17, 23), False),
        (2, 3, 30, (24, 19), True),
        (3, 1, 60, (32, 32), False),
    ],
)
def test_rasterize_matches_brute_force(seed, batch, faces, size, cull):
    vertices, tri = triangle_soup(seed, batch, faces, *size)
    fast = rasterize(vertices, tri, size, cull_backfaces=cull, max_pairs=37)
    slow = rasterize_brute_force(vertices, tri, size, cull_backfaces=cull)
    assert fast.mask.any()
    assert torch.equal(fast.face_index, slow.face_index)
    torch.testing.assert_close(fast.depth, slow.depth)
    torch.testing.assert_close(fast.barycentrics, slow.barycentrics)


def test_rasterize_result_does_not_depend_on_chunking_or_batching():
    vertices, tri = triangle_soup(4, 3, 40, 20, 30)
    whole = rasterize(vertices, tri, (20, 30))
    for max_pairs in (1, 5, 1000):
        chunked = rasterize(vertices, tri, (20, 30), max_pairs=max_pairs)
        assert torch.equal(chunked.face_index, whole.face_index)
    for b in range(3):
        single = rasterize(vertices[b : b + 1], tri, (20, 30))
        assert torch.equal(single.face_index[0], whole.face_index[b])


@settings(max_examples=60, deadline=None)
@given(dyadic, dyadic, dyadic, dyadic)
def test_rectangle_covers_its_closed_form_area(a, b, c, d):
    x0, x1, y0, y1 = min(a, c), max(a, c), min(b, d), max(b, d)
    vertices, tri = square(x0, y0, x1, y1)
    mask = rasterize(vertices, tri, (40, 48)).mask[0]
    expected = pixel_centres_in(x0, x1, 48) * pixel_centres_in(y0, y1, 40)
    assert int(mask.sum()) == expected


def test_jittered_grid_mesh_is_watertight():
    # A triangulated rectangle with jittered inner vertices on the pixel lattice's
    # half-grid: many pixel centres lie exactly on shared edges and vertices.
    g = torch.Generator().manual_seed(5)
    n = 9
    ys, xs = torch.meshgrid(torch.arange(n + 1.0), torch.arange(n + 1.0), indexing="ij")
    grid = torch.stack([xs, ys], dim=-1).double() * 3.0 + 2.0  # corners 2 .. 29
    jitter = (torch.randint(-2, 3, (n + 1, n + 1, 2), generator=g) * 0.5).double()
    jitter[[0, -1]] = 0.0
    jitter[:, [0, -1]] = 0.0
    uv = (grid + jitter).reshape(-1, 2)
    vertices = torch.cat([uv, torch.full((uv.shape[0], 1), 3.0, dtype=torch.float64)], dim=1)[None]
    idx = torch.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    tri = torch.cat([torch.stack([a, b, c], -1), torch.stack([a, c, d], -1)]).reshape(-1, 3)
    mask = rasterize(vertices, tri, (32, 32)).mask[0]
    assert int(mask.sum()) == 27 * 27  # centres 2 .. 28 in both directions, no cracks
    assert bool(mask[2:29, 2:29].all())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(dyadic, dyadic), min_size=3, max_size=3),
    st.integers(-20, 20),
    st.integers(-20, 20),
)
def test_coverage_is_invariant_to_integer_translation(corners, dx, dy):
    uv = torch.tensor(corners, dtype=torch.float64) / 4.0 + 40.0  # in [37.5, 52.5]: stays in view
    vertices = torch.cat([uv, torch.full((3, 1), 2.0, dtype=torch.float64)], dim=1)[None]
    tri = torch.tensor([[0, 1, 2]])
    moved = vertices + torch.tensor([dx, dy, 0.0], dtype=torch.float64)
    before = rasterize(vertices, tri, (100, 100)).mask[0]
    after = rasterize(moved, tri, (100, 100)).mask[0]
    assert torch.equal(torch.roll(before, shifts=(dy, dx), dims=(0, 1)), after)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(dyadic, dyadic), min_size=3, max_size=3), st.booleans())
def test_coverage_ignores_corner_order_and_depth(corners, flip):
    uv = torch.tensor(corners, dtype=torch.float64) / 4.0
    vertices = torch.cat([uv, torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)], dim=1)[
        None
    ]
    order = torch.tensor([[0, 2, 1]] if flip else [[1, 2, 0]])
    reference = rasterize(vertices, torch.tensor([[0, 1, 2]]), (24, 24)).mask
    assert torch.equal(rasterize(vertices, order, (24, 24)).mask, reference)


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_nearer_triangle_wins(order):
    near, far = square(2, 2, 12, 12, z=1.0), square(6, 6, 18, 18, z=4.0)
    vertices = torch.cat([near[0], far[0]], dim=1)
    quads = [near[1], far[1] + 4]
    tri = torch.cat([quads[i] for i in order])
    fragments = rasterize(vertices, tri, (20, 20))
    near_faces = [0, 1] if order == [0, 1] else [2, 3]
    assert int(fragments.face_index[0, 8, 8]) in near_faces
    assert fragments.depth[0, 8, 8].item() == pytest.approx(1.0)
    assert fragments.depth[0, 15, 15].item() == pytest.approx(4.0)
    assert fragments.depth[0, 0, 0].item() == math.inf and int(fragments.face_index[0, 0, 0]) == -1


def test_perspective_correct_barycentrics_hit_the_surface():
    # Interpolating camera-space positions must give a point on the ray through each
    # pixel centre, at the returned depth, also for a steeply tilted triangle.
    camera_points = torch.tensor(
        [[[-0.5, -0.4, 1.0], [0.6, -0.3, 3.0], [0.0, 0.5, 6.0]]], dtype=torch.float64
    )
    K = torch.tensor([[60.0, 0, 31.5], [0, 60.0, 31.5], [0, 0, 1]], dtype=torch.float64)
    camera = PinholeCamera.from_intrinsics(K, 64, 64)
    tri = torch.tensor([[0, 1, 2]])
    fragments = rasterize(camera.to_screen(camera_points), tri, camera.image_size)
    surface = interpolate(camera_points, tri, fragments)[fragments.mask]  # (M, 3)
    rows, cols = torch.nonzero(fragments.mask[0], as_tuple=True)
    assert surface.shape[0] > 200
    torch.testing.assert_close(surface[:, 2], fragments.depth[fragments.mask])
    torch.testing.assert_close(surface[:, 0] / surface[:, 2] * 60 + 31.5, cols.double())
    torch.testing.assert_close(surface[:, 1] / surface[:, 2] * 60 + 31.5, rows.double())
    torch.testing.assert_close(
        fragments.barycentrics[fragments.mask].sum(-1), torch.ones(surface.shape[0]).double()
    )


def test_faces_behind_the_camera_or_degenerate_are_not_drawn():
    vertices = torch.tensor(
        [[[2, 2, 1.0], [12, 2, -1.0], [2, 12, 1.0], [2, 2, 1.0], [8, 8, 1.0], [14, 14, 1.0]]],
        dtype=torch.float64,
    )
    fragments = rasterize(vertices, torch.tensor([[0, 1, 2], [3, 4, 5]]), (16, 16))
    assert not fragments.mask.any()


def test_backface_culling_keeps_closed_mesh_silhouette_and_front_faces():
    vertices, faces = ellipsoid()
    camera = front_view_camera(vertices, 64, 96)
    screen = camera.to_screen(vertices)
    both = rasterize(screen, faces, camera.image_size)
    front = rasterize(screen, faces, camera.image_size, cull_backfaces=True)
    assert torch.equal(both.mask, front.mask)
    assert torch.equal(both.face_index, front.face_index)
    # Visible faces of an outward-oriented closed mesh face the camera.
    corners = camera.world_to_camera(vertices)[0, faces[front.face_index[front.mask]]]
    normal = torch.linalg.cross(
        corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0], dim=-1
    )
    assert bool(((normal * corners[:, 0]).sum(-1) < 0).all())


def test_interpolated_attributes_are_differentiable_in_vertices():
    vertices = torch.tensor(
        [[[1.3, 1.1, 2.0], [9.6, 2.2, 3.0], [3.1, 8.7, 4.0]]],
        dtype=torch.float64,
        requires_grad=True,
    )
    values = torch.tensor(
        [[1.0, 0.0], [0.0, 2.0], [0.5, 1.0]], dtype=torch.float64, requires_grad=True
    )
    tri = torch.tensor([[0, 1, 2]])
    torch.autograd.gradcheck(
        lambda v, a: interpolate(a, tri, rasterize(v, tri, (10, 10))), (vertices, values)
    )


def test_rasterize_bad_inputs():
    vertices, tri = square(1, 1, 5, 5)
    with pytest.raises(ValueError, match="\\(B, V, 3\\)"):
        rasterize(vertices[0], tri, (8, 8))
    with pytest.raises(ValueError, match="NaN"):
        rasterize(vertices * float("nan"), tri, (8, 8))
    with pytest.raises(ValueError, match="outside"):
        rasterize(vertices, tri + 3, (8, 8))
    with pytest.raises(ValueError, match="integer"):
        rasterize(vertices, tri.double(), (8, 8))
    with pytest.raises(ValueError, match="image_size"):
        rasterize(vertices, tri, (0, 8))
    with pytest.raises(ValueError, match="max_pairs"):
        rasterize(vertices, tri, (8, 8), max_pairs=0)


# ---------------------------------------------------------------------- shading and renderer
def test_vertex_normals_of_a_sphere_point_outwards():
    mesh = trimesh.creation.icosphere(subdivisions=2)
    vertices = torch.tensor(mesh.vertices, dtype=torch.float64)[None]
    normals = vertex_normals(vertices, torch.tensor(mesh.faces))
    assert bool(((normals * vertices).sum(-1) > 0.99).all())


@pytest.mark.parametrize("winding", [[0, 1, 2], [0, 2, 1]])
def test_lambert_on_a_plane_is_the_cosine_law(winding):
    # A plane facing the camera; light 60 degrees off its normal.
    camera_vertices = torch.tensor(
        [[[-1, -1, 2.0], [1, -1, 2.0], [1, 1, 2.0], [-1, 1, 2.0]]], dtype=torch.float64
    )
    faces = torch.tensor([winding, [0, 2, 3] if winding == [0, 1, 2] else [0, 3, 2]])
    camera = PinholeCamera.from_intrinsics(
        torch.tensor([[10.0, 0, 9.5], [0, 10.0, 9.5], [0, 0, 1]]).double(), 20, 20
    )
    fragments = rasterize(camera.to_screen(camera_vertices), faces, camera.image_size)
    light = (math.sin(math.radians(60)), 0.0, -math.cos(math.radians(60)))
    rgb = lambert(
        camera_vertices,
        faces,
        fragments,
        colour=(1.0, 0.5, 0.25),
        light_direction=light,
        ambient=0.2,
    )
    expected = (0.2 + 0.8 * 0.5) * torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    torch.testing.assert_close(rgb[fragments.mask], expected.expand(int(fragments.mask.sum()), 3))
    assert bool((rgb[~fragments.mask] == 0).all())
    from_behind = lambert(
        camera_vertices,
        faces,
        fragments,
        colour=(1.0, 1.0, 1.0),
        light_direction=(0, 0, 1.0),
        ambient=0.2,
    )
    torch.testing.assert_close(
        from_behind[fragments.mask], torch.full((int(fragments.mask.sum()), 3), 0.2).double()
    )


def test_sphere_silhouette_area_matches_its_projection():
    mesh = trimesh.creation.icosphere(subdivisions=4)
    radius, distance, focal = 1.0, 6.0, 80.0
    vertices = (
        torch.tensor(mesh.vertices, dtype=torch.float64)[None] * radius
        + torch.tensor([0, 0, distance]).double()
    )
    camera = PinholeCamera.from_intrinsics(
        torch.tensor([[focal, 0, 63.5], [0, focal, 63.5], [0, 0, 1]]).double(), 128, 128
    )
    mask = render_silhouette(vertices, torch.tensor(mesh.faces), camera)
    # The silhouette of a sphere centred on the axis is a disc of radius f·r / sqrt(d² − r²).
    disc = math.pi * (focal * radius / math.sqrt(distance**2 - radius**2)) ** 2
    assert int(mask.sum()) == pytest.approx(disc, rel=0.02)
    numpy_mask = render_camera_silhouettes(
        vertices.numpy(), mesh.faces, camera.K[0].numpy(), (128, 128)
    )
    assert numpy_mask.dtype == bool and np.array_equal(numpy_mask, mask.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_render_shaded_supersampling_gives_soft_edges(device):
    vertices, faces = ellipsoid()
    vertices, faces = vertices.to(device), faces.to(device)
    camera = front_view_camera(vertices, 48, 64).to(device)
    hard = render_shaded(vertices, faces, camera)
    soft = render_shaded(vertices, faces, camera, supersample=3)
    assert hard.shape == soft.shape == (1, 64, 48, 4)
    assert set(hard[..., 3].unique().tolist()) == {0.0, 1.0}
    partial = (soft[..., 3] > 0) & (soft[..., 3] < 1)
    assert int(partial.sum()) > 20  # the outline
    assert float(soft[..., 3].sum()) == pytest.approx(float(hard[..., 3].sum()), rel=0.05)
    assert bool((soft[..., :3] >= 0).all() and (soft[..., :3] <= 1 + 1e-6).all())
    torch.testing.assert_close(
        hard[..., 3].bool(), render_silhouette(vertices, faces, camera).float().bool()
    )


def test_write_pictures_one_png_per_body(tmp_path):
    vertices, faces = ellipsoid(2)
    bodies = torch.cat([vertices, vertices * 1.5, vertices + 1.0]).float()
    paths = write_pictures(bodies, faces, tmp_path / "pics", size=32, batch_size=2)
    assert [p.name for p in paths] == ["body_00000.png", "body_00001.png", "body_00002.png"]
    image = load_image(paths[1])
    assert image.shape == (32, 32, 3)
    assert 0.1 < float((image.amax(-1) < 0.99).float().mean()) < 0.9  # a framed body on white


# ---------------------------------------------------------------------- images
def test_composite_and_overlay():
    rgba = torch.zeros(2, 3, 4)
    rgba[0] = torch.tensor([1.0, 0.0, 0.0, 1.0])
    rgba[1] = torch.tensor([0.0, 1.0, 0.0, 0.5])
    out = composite(rgba, (0.0, 0.0, 1.0))
    torch.testing.assert_close(out[0], torch.tensor([[1.0, 0, 0]]).expand(3, 3))
    torch.testing.assert_close(out[1], torch.tensor([[0.0, 0.5, 0.5]]).expand(3, 3))
    photo = np.full((2, 3, 3), 255, dtype=np.uint8)
    torch.testing.assert_close(
        overlay(photo, rgba, opacity=0.5)[0], torch.tensor([[1.0, 0.5, 0.5]]).expand(3, 3)
    )
    with pytest.raises(ValueError, match="pixels"):
        composite(rgba, np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="opacity"):
        overlay(photo, rgba, opacity=2.0)


def test_png_round_trip(tmp_path):
    g = torch.Generator().manual_seed(0)
    image = torch.randint(0, 256, (7, 9, 3), generator=g).to(torch.uint8)
    path = save_png(tmp_path / "sub" / "x.png", image)
    torch.testing.assert_close(load_image(path), image.double().float() / 255.0, atol=1e-6, rtol=0)
    mask = save_png(tmp_path / "mask.png", torch.eye(4, dtype=torch.bool))
    torch.testing.assert_close(load_image(mask)[..., 0], torch.eye(4))
    with pytest.raises(ValueError, match=r"\.png"):
        save_png(tmp_path / "x.jpg", image)
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(tmp_path / "broken.png")


# ---------------------------------------------------------------------- smplr body show
def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return run_smplr(monkeypatch, capsys, "body", *args)


def test_body_show_writes_a_picture(monkeypatch, capsys, tmp_path):
    model_file = save_model_data(
        model_data_from_arrays(fake_smpl_arrays(num_vertices=120)), tmp_path / "fake.npz"
    )
    out = tmp_path / "show.png"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "show", "--model", str(model_file), "--out", str(out), "--size", "40"
    )
    assert code == 0, err
    assert "wrote" in stdout
    image = load_image(out)
    assert image.shape[0] > 80 and image.shape[1] >= 5 * 30  # two rows of five bodies
    background = torch.tensor([0.93, 0.94, 0.95])
    assert (
        float(((image - background).abs().amax(-1) > 0.1).float().mean()) > 0.01
    )  # bodies and labels drawn
    code, _, err = run_cli(
        monkeypatch, capsys, "show", "--model", str(model_file), "--out", str(tmp_path / "x.jpg")
    )
    assert code == 2 and "png" in err


@pytest.mark.parametrize("group_side", [0, 1, 64])
def test_grouped_and_paired_face_tests_give_identical_fragments(monkeypatch, group_side):
    """Faces tested in groups of one box size (small boxes) and as enumerated (face,
    pixel) pairs (large boxes) give the same fragments whichever path a face takes."""
    from smplr.render import rasterizer

    vertices, tri = triangle_soup(7, 2, 80, 40, 48)
    default = rasterize(vertices, tri, (40, 48), max_pairs=50)
    monkeypatch.setattr(rasterizer, "_GROUP_SIDE", group_side)
    other = rasterize(vertices, tri, (40, 48), max_pairs=50)
    slow = rasterize_brute_force(vertices, tri, (40, 48))
    assert torch.equal(other.face_index, default.face_index)
    assert torch.equal(other.face_index, slow.face_index)
    assert torch.equal(other.depth, default.depth)
