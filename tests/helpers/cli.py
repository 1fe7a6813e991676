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
