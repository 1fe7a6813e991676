"""Evaluation: ground truth + predictions -> scores, tables, JSON and plots."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers.dataset_files import fake_bodies, write_surreal_clip, write_up3d
from smplr.body.model import GenderedBodyModel
from smplr.datasets import SurrealReader, Up3dReader
from smplr.datasets.synthetic import SyntheticSet
from smplr.evaluation import (
    FitPredictor,
    GroundTruthBodies,
    PrecomputedPredictions,
    Prediction,
    PredictorInputs,
    evaluate,
    format_report,
    ground_truth_batch,
    save_predictions,
    table1,
    table4,
    write_json,
    write_plots,
)


@pytest.fixture(scope="module")
def bodies():
    return GroundTruthBodies(fake_bodies(), "fake test bodies")


@pytest.fixture
def surreal_samples(tmp_path, bodies):
    write_surreal_clip(tmp_path, bodies.models, seq="01_01", frames=6, step=0.06, gender=1, seed=1)
    write_surreal_clip(tmp_path, bodies.models, seq="02_01", frames=4, step=0.06, gender=0, seed=2)
    return list(SurrealReader(tmp_path, split="test"))


class Echo:
    """A predictor returning the ground truth, optionally edited (test double)."""

    name = "echo"

    def __init__(self, bodies, edit=None):
        self.bodies = bodies
        self.edit = edit

    def predict(self, inputs: PredictorInputs) -> Prediction:
        truth = ground_truth_batch(inputs.samples, self.bodies)
        pred = Prediction(
            joints=np.nan_to_num(truth.joints.copy()),
            landmarks=truth.landmarks.copy(),
            vertices=truth.vertices.copy(),
            faces=truth.faces,
            gender=truth.gender,
        )
        return self.edit(pred) if self.edit else pred


def test_perfect_prediction_scores_zero(surreal_samples, bodies):
    run = evaluate(surreal_samples, Echo(bodies), bodies=bodies, batch_size=4)
    s = run.summary()
    assert s["num_samples"] == len(surreal_samples) == 10
    for protocol in ("protocol_1", "protocol_2"):
        assert s[protocol]["joints"] == pytest.approx(0, abs=1e-6)
        assert s[protocol]["landmarks"] == pytest.approx(0, abs=1e-6)
        assert s[protocol]["surface"] == pytest.approx(0, abs=1e-6)
        assert all(v == pytest.approx(0, abs=1e-6) for v in s[protocol]["parts"].values())
    assert s["bones"] == pytest.approx(0, abs=1e-6)
    assert s["gender_accuracy"] == 1.0
    assert s["joints_evaluated"] == list(range(24))
    assert "pelvis" in s["protocols"]["1"] and "det=+1" in s["protocols"]["2"]
    assert s["ground_truth_body"] == "fake test bodies" and s["coordinates"] == "camera"


def test_known_offsets_give_hand_computed_table(surreal_samples, bodies):
    def move_left_knee(pred):
        pred.joints[:, 4, 0] += 0.010  # 10 mm
        pred.gender = -pred.gender  # every gender wrong
        return pred

    s = evaluate(surreal_samples, Echo(bodies, move_left_knee), bodies=bodies).summary()
    p1 = s["protocol_1"]
    assert p1["parts"]["Knee"] == pytest.approx(5.0)  # (10 + 0) / 2
    assert p1["joints"] == pytest.approx(10.0 / 16)  # left knee is one of the 16 "All" joints
    assert p1["parts"]["Head"] == pytest.approx(0.0, abs=1e-9)
    assert p1["per_joint"]["left_knee"] == pytest.approx(10.0)
    assert p1["landmarks"] == pytest.approx(0.0, abs=1e-9)
    # bone error: the knee's two bones (hip-knee, knee-ankle) change, averaged over κ's 41 bones
    assert 0 < s["bones"] <= 2 * 10.0 / 41 + 1e-9
    assert 0 < s["protocol_2"]["joints"] < p1["joints"] + 1.0
    assert s["gender_accuracy"] == 0.0
    text = table1([{**s, "method": "moved knee"}])
    assert "Hd" in text and "Avg. Bn" in text and "moved knee" in text and "5.0" in text


def test_precomputed_predictions_roundtrip_and_count_checks(tmp_path, surreal_samples, bodies):
    truth = ground_truth_batch(surreal_samples, bodies)
    keys = [s.key for s in surreal_samples]
    path = save_predictions(
        tmp_path / "mine.npz", keys, Prediction(joints=truth.joints, gender=truth.gender)
    )
    run = evaluate(surreal_samples, PrecomputedPredictions(path), bodies=bodies)
    assert run.summary()["protocol_1"]["joints"] == pytest.approx(0, abs=1e-9)
    assert run.method == "mine"
    assert "landmarks" not in run.summary()["protocol_1"]  # not predicted: not reported

    short = save_predictions(
        tmp_path / "short.npz", keys[:-1], Prediction(joints=truth.joints[:-1])
    )
    with pytest.raises(ValueError, match=f"no prediction for sample '{keys[-1]}'"):
        evaluate(surreal_samples, PrecomputedPredictions(short))
    extra_keys = [*keys, "somewhere/else#0"]
    extra = save_predictions(
        tmp_path / "extra.npz", extra_keys, Prediction(joints=np.zeros((11, 24, 3)))
    )
    with pytest.raises(
        ValueError, match="11 predictions but 10 ground-truth samples: counts must match"
    ):
        evaluate(surreal_samples, PrecomputedPredictions(extra))
    with pytest.raises(ValueError, match="counts must match"):
        save_predictions(tmp_path / "bad.npz", keys, Prediction(joints=np.zeros((3, 24, 3))))
    with pytest.raises(ValueError, match="cannot be used with a predictions file"):
        evaluate(surreal_samples, PrecomputedPredictions(path), limit=3)
    np.savez(tmp_path / "nokeys.npz", joints=np.zeros((10, 24, 3)))
    with pytest.raises(ValueError, match=r"missing arrays \['keys'\]"):
        PrecomputedPredictions(tmp_path / "nokeys.npz")


def test_fit_predictor_plugs_a_keypoint_model(surreal_samples, bodies):
    class RootRelativeFit:
        """SMPLR-shaped test double: returns its input keypoints, root-relative, as the body."""

        def fit(self, points):
            centred = points - points[:, :1]
            return {
                "joints": centred[:, :24],
                "landmarks": centred[:, 24:],
                "gender": np.ones(len(points)),
            }

    predictor = FitPredictor(RootRelativeFit(), name="identity")
    truth = ground_truth_batch(surreal_samples, bodies)
    placed = predictor.predict(PredictorInputs(surreal_samples, truth.jl))
    np.testing.assert_allclose(
        placed.joints, truth.joints, atol=1e-12
    )  # put back on the input root
    s = evaluate(surreal_samples, predictor, bodies=bodies).summary()
    assert s["method"] == "identity"
    assert s["protocol_1"]["joints"] == pytest.approx(0, abs=1e-9)
    assert s["gender_accuracy"] == pytest.approx(6 / 10)  # the first clip (6 frames) is male
    with pytest.raises(ValueError, match="needs ground-truth joints and landmarks"):
        evaluate(surreal_samples, FitPredictor(RootRelativeFit()))  # no body model: no landmarks
    with pytest.raises(ValueError, match="has no fit"):
        FitPredictor(object())


def test_iou_with_a_silhouette_renderer(tmp_path, bodies):
    write_up3d(tmp_path / "up", {"test": [3, 4]}, size=(64, 48))
    samples = list(Up3dReader(tmp_path / "up", split="test"))
    seen = []

    def box_renderer(vertices, faces, intrinsics, size):
        seen.append((vertices.shape, faces.shape, intrinsics.shape, size))
        mask = np.zeros((len(vertices), *size), bool)
        mask[:, 10:30, 30:50] = True  # half of it overlaps the ground truth box [10:30, 20:40]
        return mask

    run = evaluate(samples, Echo(bodies), bodies=bodies, renderer=box_renderer)
    assert run.summary()["silhouette_iou"] == pytest.approx(200 / 600)
    # one call for the batch, at the ground-truth masks' size
    assert seen == [((2, 240, 3), (480, 3), (2, 3, 3), (48, 64))]
    assert "Table 4" in format_report([run.summary()])

    def with_masks(pred):
        pred.masks = np.stack([s.mask.load() for s in samples])
        return pred

    assert (
        evaluate(samples, Echo(bodies, with_masks), bodies=bodies).summary()["silhouette_iou"]
        == 1.0
    )


def test_synthetic_set_ground_truth_matches_the_generator():
    models = fake_bodies()
    pair = GenderedBodyModel(models["female"], models["male"])
    synthetic = SyntheticSet(pair, num=6, seed=3)
    samples = list(synthetic)
    truth = ground_truth_batch(samples, synthetic.ground_truth_bodies())
    np.testing.assert_allclose(truth.jl, np.stack([s.source["jl"] for s in samples]), atol=1e-9)
    assert set(truth.gender) <= {-1.0, 1.0}
    assert samples[0].key == "synthetic/3/0" and samples[0].coordinates == "world"


def test_report_json_and_plots(tmp_path, surreal_samples, bodies):
    run = evaluate(surreal_samples, Echo(bodies, lambda p: _noisy(p)), bodies=bodies)
    summaries = [run.summary()]
    text = format_report(summaries)
    for title in ("Table 1 layout", "Table 2 layout", "Table 3 layout", "Gender accuracy"):
        assert title in text
    assert "Protocol 2: similarity Procrustes" in text
    path = write_json(summaries, tmp_path / "out" / "eval.json")
    loaded = json.loads(path.read_text())
    assert loaded[0]["protocol_1"]["joints"] == pytest.approx(summaries[0]["protocol_1"]["joints"])
    pngs = write_plots(run, tmp_path / "plots")
    assert len(pngs) == 2
    for png in pngs:
        with Image.open(png) as image:
            assert image.format == "PNG" and image.size[0] > 100
    assert "-" in table4([{**summaries[0]}])  # no IoU measured


def _noisy(pred):
    rng = np.random.default_rng(0)
    pred.joints = pred.joints + rng.normal(0, 0.02, pred.joints.shape)
    return pred
