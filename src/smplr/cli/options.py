"""Command-line options that several ``smplr`` commands share: one name, one help and one
check each.  A bad value is a ``typer.BadParameter``, which the entry point prints as one
``smplr: error: Invalid value for '--option': ...`` line (exit code 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import torch
import typer


def check_device(text: str) -> str:
    """``--device``: a torch device this machine has (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError) as exc:
        raise typer.BadParameter(
            f"'{text}' is not a torch device; expected cpu, cuda, cuda:N or mps"
        ) from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise typer.BadParameter(
                f"'{text}': this torch has no CUDA device (torch {torch.__version__}, "
                "torch.cuda.is_available() is False); use --device cpu"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise typer.BadParameter(f"'{text}': this machine has {count} CUDA device(s)")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise typer.BadParameter(f"'{text}': MPS is not available here; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise typer.BadParameter(f"'{text}': smplr runs on cpu, cuda or mps devices")
    return text


Weights = Annotated[
    Path | None,
    typer.Option("--weights", help="Weight bundle from `smplr train` (default: the shipped one)."),
]
Device = Annotated[
    str,
    typer.Option("--device", help="torch device: cpu, cuda, cuda:1, ...", callback=check_device),
]
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


def batch_size_option(help_text: str) -> typer.models.OptionInfo:
    """``--batch-size``: a positive integer (each command has its own default and help)."""
    return typer.Option("--batch-size", min=1, help=help_text)


Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace the files an earlier smplr run wrote into --mesh-dir / --render "
        "(without it, a folder holding them is refused).",
    ),
]
