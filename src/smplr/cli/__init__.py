"""The ``smplr`` command line.  Each sub-command group lives in its own module."""

from __future__ import annotations

import sys

import typer

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
app.command("evaluate")(evaluate.evaluate)
app.command("fit")(fit.fit)
app.command("predict")(predict.predict)
app.add_typer(train.app, name="train")
app.command("demo")(demo.demo)
app.command("report")(report.report)
app.add_typer(bench.app, name="bench")
app.add_typer(data.app, name="data")


def main() -> None:
    """Entry point: run the CLI; known input errors print one line and exit 2."""
    try:
        app()
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"smplr: error: {exc}", file=sys.stderr)
        sys.exit(2)
