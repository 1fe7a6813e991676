"""An image model on rendered crops (``smplr.evaluation.images``, ``smplr evaluate images``):
a perfect-points oracle scores ~0 through the points path, the true mesh has IoU ~1, the
baselines sit on the true root, and the command reads weights files and checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.cli import run_smplr
from helpers.crops import write_crops
from smplr.body.model import BodyModel
from smplr.datasets.ground_truth import GroundTruthBodies, ground_truth_batch
from smplr.evaluation import Prediction, PredictorInputs, evaluate
from smplr.evaluation.images import (
    FixedBodyPredictor,
    ImageBodyPredictor,
    ImagePointsPredictor,
    image_sample,
    mean_body_baseline,
    mean_jl,
    mean_jl_baseline,
)
from smplr.image_data.dataset import ImageShards
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.render import render_camera_silhouettes

TINY = ImageModelConfig(stacks=1, features=8, input_size=32, depth_bins=4, hourglass_depth=1)


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("data") / "crops"
    write_crops(out, 6, 11, 3, split="test", size=64)
    return out


@pytest.fixture(scope="module")
def samples(shards):
    data = ImageShards(shards)
    return [image_sample(data.record(i), f"{i:07d}") for i in range(len(data))]


@pytest.fixture(scope="module")
def bodies() -> GroundTruthBodies:
    return GroundTruthBodies.open_models()


class Oracle(ImagePointsPredictor):
    """The image model's path with the true root-relative points instead of its output."""

    def points(self, samples):
        jl = np.stack([s.source["jl3d"] for s in samples])
        return (jl - jl[:, :1])[:, 1:]


class TrueMesh:
    name = "true mesh"

    def __init__(self, bodies: GroundTruthBodies) -> None:
        self.bodies = bodies

    def predict(self, inputs: PredictorInputs) -> Prediction:
        truth = ground_truth_batch(inputs.samples, self.bodies)
        return Prediction(truth.joints, truth.landmarks, truth.vertices, truth.faces)


def test_samples_hold_the_crop_in_the_camera_frame(samples, bodies) -> None:
    truth = ground_truth_batch(samples, bodies)
    jl = np.stack([s.source["jl3d"] for s in samples])
    # the open body model posed with the stored parameters gives the stored JL
    np.testing.assert_allclose(truth.landmarks, jl[:, 24:], atol=1e-4)
    assert {s.gender for s in samples} <= {"female", "male"}
    assert all(s.source["image"].shape == (3, 64, 64) for s in samples)


def test_perfect_points_score_zero_and_the_true_mesh_fills_the_silhouette(samples, bodies) -> None:
    oracle = Oracle(build_image_model(TINY), "oracle")
    summary = evaluate(samples, oracle, bodies=bodies).summary()
    assert summary["protocol_1"]["joints"] < 1e-3
    assert summary["protocol_2"]["joints"] < 1e-3
    assert summary["protocol_1"]["landmarks"] < 0.1  # stored float32 vs posed float64
    mesh = evaluate(samples, TrueMesh(bodies), bodies=bodies, renderer=render_camera_silhouettes)
    assert mesh.summary()["silhouette_iou"] > 0.95
    assert mesh.summary()["protocol_1"]["surface"] < 1e-6


def test_true_points_through_smplr_give_a_close_body(samples, bodies) -> None:
    from smplr.pipeline import SMPLR

    smplr = SMPLR.pretrained()
    oracle = Oracle(build_image_model(TINY), "oracle")
    for use_dae in (True, False):
        method = ImageBodyPredictor(oracle, smplr, use_dae=use_dae)
        assert method.name == ("oracle → DAE → SMPLR" if use_dae else "oracle → SMPLR")
        run = evaluate(samples, method, bodies=bodies, renderer=render_camera_silhouettes)
        summary = run.summary()
        assert summary["protocol_1"]["joints"] < 60.0  # SMPLR on exact JL (paper Ψ: 14 mm)
        assert summary["silhouette_iou"] > 0.6
        assert 0.0 <= summary["gender_accuracy"] <= 1.0
    # Refined on exact points, the body comes closer to them (as `smplr predict --refine`).
    one_shot = evaluate(samples, ImageBodyPredictor(oracle, smplr), bodies=bodies).summary()
    refined = ImageBodyPredictor(oracle, smplr, refine=5)
    assert refined.name == "oracle → DAE → SMPLR → refine 5"
    closer = evaluate(samples, refined, bodies=bodies).summary()
    assert closer["protocol_1"]["joints"] < 0.75 * one_shot["protocol_1"]["joints"]
    with pytest.raises(ValueError, match="DAE"):
        nl = ImageModelConfig(**{**TINY.to_dict(), "landmarks": False})
        ImageBodyPredictor(Oracle(build_image_model(nl)), smplr, use_dae=False)


def test_a_tiny_model_predicts_root_relative_points_on_the_true_root(samples) -> None:
    model = build_image_model(TINY)
    prediction = ImagePointsPredictor(model).predict(PredictorInputs(samples=samples))
    roots = np.stack([s.joints3d[0] for s in samples])
    np.testing.assert_allclose(prediction.joints[:, 0], roots)
    assert prediction.joints.shape == (6, 24, 3) and prediction.landmarks.shape == (6, 18, 3)
    no_landmarks = build_image_model(ImageModelConfig(**{**TINY.to_dict(), "landmarks": False}))
    assert ImagePointsPredictor(no_landmarks).predict(PredictorInputs(samples)).landmarks is None


def test_baselines_are_one_body_on_every_true_root(samples, bodies) -> None:
    jl = np.stack([s.source["jl3d"] for s in samples])
    centre = mean_jl(jl)
    assert np.allclose(centre[0], 0.0)
    flat = mean_jl_baseline(jl).predict(PredictorInputs(samples))
    np.testing.assert_allclose(
        flat.joints - flat.joints[:, :1], np.broadcast_to(centre[:24], (6, 24, 3))
    )
    body = mean_body_baseline(jl, BodyModel.open("neutral", dtype=torch.float64))
    shown = body.predict(PredictorInputs(samples))
    np.testing.assert_allclose(shown.joints[:, 0], np.stack([s.joints3d[0] for s in samples]))
    assert shown.vertices.shape[1] == bodies.model("neutral").num_vertices
    # the rotation is proper and about the root: bone lengths of the rest pose survive
    rest = BodyModel.open("neutral", dtype=torch.float64)(betas=torch.zeros(1, 10))
    assert np.isclose(
        np.linalg.norm(shown.joints[0, 1] - shown.joints[0, 0]),
        float((rest.joints[0, 1] - rest.joints[0, 0]).norm()),
    )
    with pytest.raises(ValueError, match="jl"):
        FixedBodyPredictor(np.zeros((24, 3)), "bad")


def test_image_sample_refuses_incomplete_records(shards) -> None:
    record = dict(ImageShards(shards).record(0))
    del record["silhouette"]
    with pytest.raises(ValueError, match="silhouette"):
        image_sample(record, "x")


def test_command_reads_weights_and_checkpoints(shards, tmp_path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"
    code, _, err = run_smplr(
        monkeypatch, capsys, "train", "image", "--data", str(shards), "--val-data", str(shards),
        "--run-dir", str(run), "--stacks", "1", "--features", "8", "--input-size", "32",
        "--hourglass-depth", "1", "--depth-bins", "4", "--steps", "2", "--batch-size", "2",
        "--threads", "1", "--val-size", "2", "--no-augment",
    )  # fmt: skip
    assert code == 0, err
    stage = run / "image_shn"
    for path in (stage / "image_model.pt", stage / "checkpoint.pt"):
        out = tmp_path / f"{path.stem}.json"
        code, text, err = run_smplr(
            monkeypatch, capsys, "evaluate", "images", "--image-model", str(path),
            "--data", str(shards), "--num", "4", "--baseline-data", str(shards),
            "--json", str(out), "--no-iou", "--threads", "1", "--methods", "points,baselines",
        )  # fmt: skip
        assert code == 0, err
        summaries = json.loads(out.read_text())
        names = [s["method"] for s in summaries]
        assert names[0] == "image_shn" and len(names) == 3
        assert all(s["num_samples"] == 4 for s in summaries)
        assert summaries[0]["image_model"]["steps"] == 2
        assert "Paper (SURREAL)" in text
    code, _, err = run_smplr(
        monkeypatch, capsys, "evaluate", "images", "--image-model", str(stage / "checkpoint.pt"),
        "--data", str(shards), "--methods", "baselines",
    )  # fmt: skip
    assert code == 2 and "--baseline-data" in err
    code, _, err = run_smplr(
        monkeypatch, capsys, "evaluate", "images", "--image-model", str(stage / "checkpoint.pt"),
        "--data", str(shards), "--methods", "points", "--refine", "3",
    )  # fmt: skip
    assert code == 2 and "refined 'dae' or 'image-dae' row" in err


def _summary(method: str, joints: float) -> dict:
    from smplr.metrics import PART_GROUPS

    return {
        "method": method,
        "protocol_1": {"parts": dict.fromkeys(PART_GROUPS, joints), "joints": joints},
        "protocol_2": {"joints": joints / 2},
        "bones": 5.0,
    }


def test_report_section_checks_the_paper_claims_on_stored_runs(tmp_path) -> None:
    from smplr.evaluation.reproduction.image_ablations import render_image_ablations

    def run(stage, row, dae_row, points, dae):
        return {
            "stage": stage,
            "paper_row": row,
            "paper_dae_row": dae_row,
            "command": f"smplr train image {stage}",
            "steps": 10,
            "batch_size": 2,
            "wall_s": 1.0,
            "evaluations": {"points": _summary(stage, points), "dae": _summary("d", dae)},
        }

    results = {
        "description": "Tiny.",
        "data": {"train": "a", "test": "b"},
        "runs": [
            run("image_shn", "SHN", "DAE_SHN", 100.0, 90.0),
            run("image_alexnet_nl", "Alexnet", "DAE_Alexnet", 80.0, 95.0),
        ],
        "baselines": [_summary("mean training JL", 120.0)],
    }
    path = tmp_path / "ablations.json"
    path.write_text(json.dumps(results))
    text = render_image_ablations(path)
    assert text.startswith("## Table 1 (image ablations)")
    rows = [line.split("|") for line in text.splitlines() if line.startswith("|")]
    claims = {cells[1].strip(): cells[-2].strip() for cells in rows if " < " in cells[1]}
    assert claims["SHN < Alexnet"] == "does not hold"  # 100 vs 80
    assert claims["DAE_SHN < SHN"] == "holds"  # 90 vs 100
    assert claims["DAE_Alexnet < Alexnet"] == "does not hold"
    assert claims["SHN^final < SHN"] == "not measured"
    assert "baseline: mean training JL" in text
    assert "No measured" in render_image_ablations(tmp_path / "missing.json")
