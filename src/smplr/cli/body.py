"""``smplr body``: export, pose and look at SMPL-format body models."""

from __future__ import annotations

import typer

app = typer.Typer(help="Export, pose and render SMPL-format body models.", no_args_is_help=True)
