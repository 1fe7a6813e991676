"""``smplr fit --input-format`` with detector keypoints: each format through the CLI
(npz with visibility, OpenPose and COCO JSON) and the bad inputs, on an untrained tiny
bundle for the open body model (wiring and messages, not accuracy)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.bundles import write_tiny_open_bundle
from helpers.cli import run_smplr
from smplr.body.keypoints import KEYPOINT_FORMATS, SiteBody
from smplr.body.model import GenderedBodyModel


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("fitkp")
    weights = write_tiny_open_bundle(folder / "tiny.pt")
    body = GenderedBodyModel.open()
    rest = torch.eye(3).expand(3, 24, 3, 3).clone()
    points = {}
    for name, fmt in KEYPOINT_FORMATS.items():
        sites, jl = SiteBody(body, fmt.sites)(
            torch.tensor([1.0, -1.0, 1.0]), torch.zeros(3, 10), rest
        )
        points[name] = (sites - jl[:, :1]).numpy().astype(np.float64)
    return {"folder": folder, "weights": weights, "points": points}


def _fit(monkeypatch, capsys, setup, path: Path, fmt: str, *extra: str):
    out = setup["folder"] / f"{path.stem}_{fmt}.npz"
    code, stdout, err = run_smplr(
        monkeypatch, capsys, "fit", str(path), "-f", fmt, "--out", str(out),
        "--weights", str(setup["weights"]), *extra,
    )  # fmt: skip
    return code, stdout, err, out


@pytest.mark.parametrize(
    "fmt", ["coco17", "h36m17_2d", "blazepose33_2d", "openpose25", "smpl24_2d"]
)
def test_each_format_fits_with_visibility(monkeypatch, capsys, setup, fmt: str) -> None:
    name = fmt.removesuffix("_2d")
    dims = 2 if fmt.endswith("_2d") else 3
    points = setup["points"][name][..., :dims].copy()
    visibility = np.ones(points.shape[:2])
    visibility[0, :4] = 0.2  # below the threshold: missing
    points[1, 5] = np.nan  # missing
    path = setup["folder"] / f"{fmt}.npz"
    np.savez(path, keypoints=points, visibility=visibility)
    code, _, err, out = _fit(monkeypatch, capsys, setup, path, fmt, "-k", "1" if dims == 3 else "0")
    assert code == 0, err
    with np.load(out) as data:
        assert data["keypoints"].shape == (3, points.shape[1], 3)
        assert data["body_index"].tolist() == [0, 1, 2]
        assert data["joints"].shape == (3, 24, 3)


def test_body_without_visible_keypoints_is_skipped_and_others_fitted(
    monkeypatch, capsys, setup
) -> None:
    points = setup["points"]["coco17"]
    visibility = np.ones(points.shape[:2])
    visibility[1] = 0.3
    path = setup["folder"] / "one_empty.npz"
    np.savez(path, keypoints=points, visibility=visibility)
    code, _, err, out = _fit(monkeypatch, capsys, setup, path, "coco17", "-k", "0")
    assert code == 0, err
    assert "body 1: fewer than 3 of 17 keypoints visible (visibility threshold 0.5): skipped" in err
    with np.load(out) as data:
        assert data["body_index"].tolist() == [0, 2] and data["betas"].shape == (2, 10)
    np.savez(path, keypoints=np.full_like(points, np.nan))
    code, _, err, _ = _fit(monkeypatch, capsys, setup, path, "coco17")
    assert code == 2 and "smplr: error:" in err and "no body has 3 or more visible" in err


def test_coco_given_as_h36m_names_coco(monkeypatch, capsys, setup) -> None:
    path = setup["folder"] / "coco.npy"
    np.save(path, setup["points"]["coco17"])
    code, _, err, _ = _fit(monkeypatch, capsys, setup, path, "h36m17")
    assert code == 2
    assert err.strip().splitlines()[-1].endswith("use --input-format coco17")


def test_openpose_and_coco_json_in_pixels(monkeypatch, capsys, setup) -> None:
    pixels = 500 - 300 * setup["points"]["openpose25"][..., :2]  # y down, ~300 px/m
    people = [
        {"pose_keypoints_2d": np.concatenate([p, np.ones((25, 1))], 1).ravel().tolist()}
        for p in pixels
    ]
    path = setup["folder"] / "openpose.json"
    path.write_text(json.dumps({"version": 1.3, "people": people}))
    code, _, err, out = _fit(monkeypatch, capsys, setup, path, "openpose25_2d")
    assert code == 0, err
    assert "scaled to metres by the bone lengths" in err
    coco = 500 - 300 * setup["points"]["coco17"][..., :2]
    flags = np.full((3, 17, 1), 2.0)
    flags[2] = 0  # not labelled: missing
    annotations = [
        {"keypoints": np.concatenate([c, f], 1).ravel().tolist()}
        for c, f in zip(coco, flags, strict=True)
    ]
    path = setup["folder"] / "coco.json"
    path.write_text(json.dumps({"annotations": annotations}))
    code, _, err, out = _fit(monkeypatch, capsys, setup, path, "coco17_2d")
    assert code == 0, err
    assert "body 2: fewer than 3" in err
    with np.load(out) as data:
        assert data["body_index"].tolist() == [0, 1]
