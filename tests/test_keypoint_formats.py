"""Keypoint formats on the body model: counts, left/right, symmetry, the vertex picks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smplr.body.keypoints import (
    KEYPOINT_FORMATS,
    KEYPOINT_VERTEX_NAMES,
    OPEN_KEYPOINT_VERTEX_IDS,
    SITE_NAMES,
    SITES,
    SiteBody,
    keypoint_vertex_ids,
    mirror_name,
    site_readout,
)
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JOINT_NAMES, SMPL_NUM_VERTICES
from smplr.geometry.rotations import axis_angle_to_matrix


@pytest.fixture(scope="module")
def body() -> GenderedBodyModel:
    return GenderedBodyModel.open()


def test_counts_and_order_of_the_detectors() -> None:
    counts = {name: fmt.count for name, fmt in KEYPOINT_FORMATS.items()}
    assert counts == {"coco17": 17, "h36m17": 17, "blazepose33": 33, "openpose25": 25, "smpl24": 24}
    coco, h36m = KEYPOINT_FORMATS["coco17"], KEYPOINT_FORMATS["h36m17"]
    blaze, openpose = KEYPOINT_FORMATS["blazepose33"], KEYPOINT_FORMATS["openpose25"]
    assert coco.names[0] == "nose" and coco.names[15:] == ("left_ankle", "right_ankle")
    assert h36m.names[:4] == ("pelvis", "right_hip", "right_knee", "right_ankle")
    assert h36m.names[10] == "head" and h36m.names[16] == "right_wrist"
    assert blaze.names[11:13] == ("left_shoulder", "right_shoulder")
    assert blaze.names[31:] == ("left_foot_index", "right_foot_index")
    assert openpose.names[1] == "neck" and openpose.names[8] == "mid_hip"
    assert openpose.names[24] == "right_heel"
    assert KEYPOINT_FORMATS["smpl24"].names == JOINT_NAMES


@pytest.mark.parametrize("name", sorted(KEYPOINT_FORMATS))
def test_mirror_is_an_involution_that_swaps_sides(name: str) -> None:
    fmt = KEYPOINT_FORMATS[name]
    for k, m in enumerate(fmt.mirror):
        assert fmt.mirror[m] == k
        a, b = fmt.names[k], fmt.names[m]
        assert ("left" in a) == ("right" in b)
        assert mirror_name(fmt.sites[k]) == fmt.sites[m]


def test_every_site_has_its_mirror_and_weights_sum_to_one() -> None:
    for site, weights in SITES.items():
        assert mirror_name(site) in SITES
        assert sum(weights.values()) == pytest.approx(1.0)


def test_sites_are_mirror_symmetric_and_on_the_right_side(body: GenderedBodyModel) -> None:
    sites, _jl = SiteBody(body)(
        torch.tensor([-1.0, 1.0]), torch.zeros(2, 10), torch.eye(3).expand(2, 24, 3, 3)
    )
    mirror = [SITE_NAMES.index(mirror_name(s)) for s in SITE_NAMES]
    flipped = sites[:, mirror] * torch.tensor([-1.0, 1.0, 1.0])
    assert float((flipped - sites).abs().max()) < 0.01  # 1 cm: the templates are near-symmetric
    x = {name: sites[:, k, 0] for k, name in enumerate(SITE_NAMES)}
    for name in SITE_NAMES:
        if name.startswith("left_"):
            assert bool((x[name] > 0).all()), name  # SMPL: +X is the body's left
    y = {name: float(sites[0, k, 1]) for k, name in enumerate(SITE_NAMES)}
    z = {name: float(sites[0, k, 2]) for k, name in enumerate(SITE_NAMES)}
    assert y["left_eye"] > y["nose"] > y["left_mouth"] > y["neck"]
    assert z["nose"] > z["left_eye"] > z["left_ear"]
    assert z["left_heel"] < z["left_ankle"] < z["left_big_toe"]
    assert y["head_top"] > y["left_eye"]


def test_sites_match_the_full_mesh_when_posed(body: GenderedBodyModel) -> None:
    generator = torch.Generator().manual_seed(0)
    rotations = axis_angle_to_matrix(0.4 * torch.randn(3, 24, 3, generator=generator))
    betas = torch.randn(3, 10, generator=generator)
    gender = torch.tensor([-1.0, 1.0, 1.0])
    sites, jl = SiteBody(body)(gender, betas, rotations)
    out = body(gender, betas, rotations[:, :1], rotations[:, 1:])
    torch.testing.assert_close(jl, out.jl, atol=1e-5, rtol=0)
    ids = keypoint_vertex_ids(out.vertices.shape[1])
    for name in ("nose", "left_heel", "right_thumb"):
        torch.testing.assert_close(
            sites[:, SITE_NAMES.index(name)], out.vertices[:, ids[name]], atol=1e-5, rtol=0
        )


def test_the_picking_rules_give_the_shipped_vertex_ids() -> None:
    from smplr.open_model_build.keypoint_vertices import select_keypoint_vertices

    with _neutral() as data:
        vertices, faces = data["v_template"], data["f"]
        joints = data["J_regressor"] @ vertices
    picks = select_keypoint_vertices(vertices, faces, joints)
    assert tuple(picks[n] for n in KEYPOINT_VERTEX_NAMES) == OPEN_KEYPOINT_VERTEX_IDS


def _neutral():
    from smplr.body.model import open_model_path

    return np.load(open_model_path("neutral"), allow_pickle=False)


def test_smpl_topology_lacks_blazepose_vertices_with_a_clear_error() -> None:
    coco = tuple(KEYPOINT_FORMATS["coco17"].sites)
    readout, ids = site_readout(SMPL_NUM_VERTICES, coco)
    assert readout.shape == (17, 42 + len(ids)) and 332 in ids
    with pytest.raises(ValueError, match="eye_inner"):
        site_readout(SMPL_NUM_VERTICES, tuple(KEYPOINT_FORMATS["blazepose33"].sites))
