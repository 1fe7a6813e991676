"""Running the ``smplr`` command line in-process, for tests."""

from __future__ import annotations

import sys


def run_smplr(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``smplr ARGS`` through the real entry point: (exit code, stdout, stderr)."""
    from smplr.cli import main

    monkeypatch.setattr(sys, "argv", ["smplr", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def run_cli(*args: str) -> tuple[int, str, str]:
    """``smplr ARGS`` in-process without pytest fixtures (usable inside hypothesis
    tests): (exit code, stdout, stderr)."""
    import contextlib
    import io

    from smplr.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def write_fake_fit_files(folder) -> dict:
    """Files for running ``smplr fit`` / ``smplr body pose`` fast, in ``folder``: an
    untrained tiny bundle (``weights``) for the fake gendered body, its ``female`` and
    ``male`` model files (.npz), the female model as a pickle (``model_pkl``), a parameter
    file of 2 bodies (``params``) and the JL of 3 fake bodies (``jl``, .npy)."""
    from pathlib import Path

    import numpy as np
    import torch

    from helpers.bundles import tiny_fake_bundle
    from helpers.fake_model import fake_smpl_arrays
    from helpers.fakes import fake_gendered, random_params
    from smplr.body.model_file import model_data_from_arrays, save_model_data
    from smplr.weights import save_bundle

    folder = Path(folder)
    paths = {"weights": save_bundle(tiny_fake_bundle(), folder / "w.pt")}
    for seed, gender in ((1, "female"), (2, "male")):
        arrays = fake_smpl_arrays(seed=seed)
        arrays["f"] = fake_smpl_arrays(seed=0)["f"]
        data = model_data_from_arrays(arrays)
        paths[gender] = save_model_data(data, folder / f"{gender}.npz")
        if gender == "female":
            paths["model_pkl"] = save_model_data(data, folder / "female.pkl")
    params = {"betas": np.zeros((2, 10)), "global_orient": np.zeros((2, 3))}
    np.savez(folder / "params.npz", body_pose=np.full((2, 69), 0.1), **params)
    paths["params"] = folder / "params.npz"
    body = fake_gendered()
    p = random_params(3, torch.Generator().manual_seed(0))
    out = body(p["gender"], p["betas"], p["rotations"][:, :1], p["rotations"][:, 1:])
    paths["jl"] = folder / "jl.npy"
    np.save(paths["jl"], out.jl.numpy())
    return paths


def fake_model_args(files: dict, weights=None) -> list[str]:
    """``--weights`` (``weights`` or the tiny bundle), ``--female``, ``--male`` of
    :func:`write_fake_fit_files`."""
    return [
        "--weights",
        str(weights or files["weights"]),
        "--female",
        str(files["female"]),
        "--male",
        str(files["male"]),
    ]
