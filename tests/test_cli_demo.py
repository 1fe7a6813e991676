"""`smplr demo` (what `make demo` runs): shipped weights end to end, outputs on disk."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from smplr.cli import app


def test_demo_writes_every_output_and_recovers_the_bodies(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--num", "3", "--refine", "2", "--size", "64"]
    )
    assert result.exit_code == 0, result.output
    keypoints = np.load(out / "keypoints.npz")["points"]
    assert keypoints.shape == (3, 42, 3)
    bodies = np.load(out / "bodies.npz")
    assert bodies["betas"].shape == (3, 10) and bodies["body_pose"].shape == (3, 69)
    assert len(list((out / "meshes").glob("*.obj"))) == 3
    assert (out / "comparison.png").stat().st_size > 1000
    # the image half: rendered people through smplr predict --keypoints shn
    assert len(list((out / "photos").glob("person_*.png"))) == 3
    predicted = np.load(out / "predict" / "predictions.npz")
    assert sorted(predicted["names"].tolist()) == [f"person_{i:02d}.png" for i in range(3)]
    assert len(list((out / "predict" / "overlays").glob("*.png"))) == 3
    assert (out / "side_by_side.png").stat().st_size > 1000
    assert re.search(r"^photo -> image model -> its DAE -> SMPLR\s+\d+\.\dmm", result.output, re.M)
    rows = re.findall(
        r"^keypoints -> SMPLR.*?(\d+\.\d)mm\s+(\d+\.\d)mm\s+(\d+\.\d)mm", result.output, re.M
    )
    assert len(rows) == 2
    for p1, p2, surface in rows:  # a working model recovers the bodies to centimetres
        assert float(p1) < 60 and float(p2) < 60 and float(surface) < 80


def test_demo_refuses_a_bad_count(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--num", "0"])
    assert result.exit_code != 0
    assert "--num must be a positive integer" in str(result.exception)
