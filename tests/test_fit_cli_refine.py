"""``smplr fit --refine``: its range, and per-keypoint confidence from the input file."""

from __future__ import annotations

import numpy as np
import pytest

from test_fit_cli import files, fit_args, run_cli  # noqa: F401 (files is a fixture)


@pytest.mark.parametrize("refine", ["-1", "1001", "99999999999999999999"])
def test_refine_out_of_range_is_a_one_line_error(files, tmp_path, monkeypatch, capsys, refine):  # noqa: F811
    out = tmp_path / "o.npz"
    args = fit_args(files, str(files["jl"]), "-o", str(out), "--refine", refine)
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and "refine must be an integer in 0..1000" in err, err
    assert not out.exists()


def test_confidence_from_the_npz(files, tmp_path, monkeypatch, capsys) -> None:  # noqa: F811
    points = np.load(files["jl"])
    good = tmp_path / "good.npz"
    np.savez(good, points=points, confidence=np.full(points.shape[:2], 0.5))
    out = tmp_path / "o.npz"
    code, _, err = run_cli(
        monkeypatch, capsys, *fit_args(files, str(good), "-o", str(out), "-k", "2")
    )
    assert code == 0, err
    assert np.load(out)["betas"].shape == (len(points), 10)
    bad = tmp_path / "bad.npz"
    np.savez(bad, points=points, confidence=np.ones((len(points), 24)))
    code, _, err = run_cli(
        monkeypatch, capsys, *fit_args(files, str(bad), "-o", str(out), "-k", "2")
    )
    assert code == 2 and err.count("\n") == 1, err
    assert "'confidence' has shape" in err
