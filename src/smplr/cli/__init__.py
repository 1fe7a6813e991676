"""The ``smplr`` command line.  Each sub-command group lives in its own module."""

from __future__ import annotations

import functools
import sys
import warnings

import typer
from typer._click.exceptions import NoArgsIsHelpError  # typer vendors click

from smplr.cli import bench, body, data, demo, evaluate, fit, predict, report, train

app = typer.Typer(
    name="smplr",
    help="SMPLR: turn 3D/2D keypoints, photos and videos into SMPL body meshes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.add_typer(body.app, name="body")
app.add_typer(evaluate.app, name="evaluate")
app.command("fit")(fit.fit)
app.command("predict")(predict.predict)
app.add_typer(train.app, name="train")
app.command("demo")(demo.demo)
app.command("report")(report.report)
app.add_typer(bench.app, name="bench")
app.add_typer(data.app, name="data")


@functools.cache
def _command():
    """The click command typer builds from ``app`` (built once per process)."""
    return typer.main.get_command(app)


def fail(message: object) -> None:
    """Print ``smplr: error: MESSAGE`` on one line (newlines folded) and exit with code 2."""
    line = " ".join(str(message).split())
    print(f"smplr: error: {line}", file=sys.stderr)
    sys.exit(2)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (e.g. keypoints that look z-up) as one ``smplr: warning:`` line."""
    print(f"smplr: warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def main(args: list[str] | None = None) -> None:
    """Entry point: run the CLI on ``args`` (default ``sys.argv[1:]``).  Bad options and
    known input errors (``ValueError``, ``OSError``) print one ``smplr: error:`` line and
    exit with code 2; warnings print one ``smplr: warning:`` line each; ``smplr`` or a
    command group alone prints its help."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code = _command()(args=args, standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors: bad or missing options
        fail(exc.format_message())
    except typer.Abort:
        fail("aborted")
    except (ValueError, OSError) as exc:
        fail(exc)
    sys.exit(code if isinstance(code, int) else 0)
