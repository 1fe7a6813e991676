"""``smplr bench``: each benchmark is a subcommand; ``all`` (``make bench``) runs the speed ones."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import run_smplr
from smplr.benchmarks import body, core, core_accuracy, images, ood, render, synthetic


def _record(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    for module in (body, synthetic, render, images, core, core_accuracy, ood):
        name = module.__name__.rsplit(".", 1)[1]
        monkeypatch.setattr(module, "run", lambda *a, _name=name, **k: calls.append((_name, a, k)))
    return calls


def test_bench_all_runs_every_speed_benchmark_in_order(monkeypatch, capsys) -> None:
    calls = _record(monkeypatch)
    code, _, err = run_smplr(monkeypatch, capsys, "bench", "all")
    assert code == 0, err
    assert [c[0] for c in calls] == ["body", "synthetic", "render", "images", "core"]


def test_bench_options_reach_the_benchmark(monkeypatch, capsys) -> None:
    calls = _record(monkeypatch)
    code, _, err = run_smplr(
        monkeypatch,
        capsys,
        "bench",
        "accuracy",
        "--num",
        "5",
        "--weights",
        "w.pt",
        "--skip-conditions",
    )
    assert code == 0, err
    assert calls == [("core_accuracy", (Path("w.pt"), 5, 10, None, 2, None, False), {"ood_num": 0})]
    code, _, err = run_smplr(monkeypatch, capsys, "bench", "accuracy", "--ood-num", "300")
    assert code == 0, err
    assert calls[-1] == (
        "core_accuracy",
        (None, 2000, 10, None, 2, None, True),
        {"ood_num": 300},
    )
    code, _, err = run_smplr(
        monkeypatch, capsys, "bench", "render", "--no-baseline", "--size", "64"
    )
    assert code == 0, err
    assert calls[-1] == ("render", (64, 1, "cpu", False, None), {})


def test_bench_ood_options_reach_the_benchmark(monkeypatch, capsys) -> None:
    calls = _record(monkeypatch)
    code, _, err = run_smplr(monkeypatch, capsys, "bench", "ood")
    assert code == 0, err
    assert calls == [("ood", (None, None, None, "cpu", 1, None, 0), {})]
    args = ["--num", "7", "--sets", "in_distribution,real_mocap_test", "--json", "rows.json"]
    code, _, err = run_smplr(
        monkeypatch, capsys, "bench", "ood", *args, "--threads", "3", "--refine", "10"
    )
    assert code == 0, err
    expected = (None, 7, "in_distribution,real_mocap_test", "cpu", 3, Path("rows.json"), 10)
    assert calls[-1] == ("ood", expected, {})
