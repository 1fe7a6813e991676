"""Command-line options that several ``smplr`` commands share: one name and one help each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Weights = Annotated[
    Path | None,
    typer.Option("--weights", help="Weight bundle from `smplr train` (default: the shipped one)."),
]
Device = Annotated[str, typer.Option("--device", help="torch device: cpu, cuda, cuda:1, ...")]
Female = Annotated[
    Path | None,
    typer.Option(
        "--female", help="Female SMPL-format model file, with --male (default: the open model)."
    ),
]
Male = Annotated[
    Path | None,
    typer.Option(
        "--male", help="Male SMPL-format model file, with --female (default: the open model)."
    ),
]
