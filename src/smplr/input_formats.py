"""The keypoint input formats SMPLR accepts: the one registry every other module reads.

Each format is a per-body point array ``(points, dims)`` that is a leading part of the
DAE's ``(42, 3)`` JL: the first ``points`` of the 42 points (24 joints, then 18
landmarks) and their first ``dims`` coordinates.  :func:`dae_input` fills the rest with
zeros.  Each format has its own DAE (weight-bundle network ``dae_<name>``), training
stage and command-line choice, all derived from :data:`INPUT_FORMATS`:

- ``"jl42"``: 3D joints and landmarks — denoising;
- ``"joints24"``: the 24 joints with the 18 landmarks set to 0 — completing the landmarks
  SMPL reverse needs (this project's answer for joint-only data; not in the paper);
- ``"2d"``: x, y on the root plane with depth set to 0 — lifting 2D to 3D (paper 4.4.2).

Adding a format: an entry here; a 2D one is trained on projected views
(:meth:`smplr.training.data.Corruption.dae_example`), a 3D one on the noisy JL's first
``points``; :func:`smplr.refine.point_weights` says which coordinates it observes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional

from smplr.body.skeleton import NUM_JL, NUM_JOINTS


@dataclass(frozen=True)
class InputFormat:
    """One input format: ``points`` points of ``dims`` coordinates per body."""

    name: str
    points: int
    dims: int
    help: str

    @property
    def shape(self) -> tuple[int, int]:
        """Per-body point array shape ``(points, dims)``."""
        return self.points, self.dims

    @property
    def network(self) -> str:
        """Name of this format's DAE in the weight bundle and of its training stage."""
        return f"dae_{self.name}"


INPUT_FORMATS: dict[str, InputFormat] = {
    fmt.name: fmt
    for fmt in (
        InputFormat("jl42", NUM_JL, 3, "24 SMPL joints + 18 landmarks (N,42,3), metres: denoise"),
        InputFormat("joints24", NUM_JOINTS, 3, "SMPL's 24 joints (N,24,3), metres: complete"),
        InputFormat("2d", NUM_JL, 2, "the 42 points in an image (N,42,2): lift to 3D"),
    )
}


def input_format(name: str) -> InputFormat:
    """The registered format called ``name``; an unknown name raises a one-line ValueError."""
    if name not in INPUT_FORMATS:
        raise ValueError(
            f"unknown input format '{name}': expected one of {', '.join(INPUT_FORMATS)}"
        )
    return INPUT_FORMATS[name]


def check_input_format(name: str) -> str:
    """``name`` if it is a registered input format (else a one-line ValueError)."""
    return input_format(name).name


def input_shape(name: str) -> tuple[int, int]:
    """Per-sample point array shape of an input format: (42, 3), (24, 3) or (42, 2)."""
    return input_format(name).shape


def check_points_shape(shape: tuple[int, ...], name: str) -> None:
    """Raise a one-line ValueError unless ``shape`` is ``(N, points, dims)`` or
    ``(points, dims)`` of format ``name``; the message names the formats that would fit."""
    fmt = input_format(name)
    if len(shape) in (2, 3) and tuple(shape[-2:]) == fmt.shape:
        return
    exact = [
        f.name for f in INPUT_FORMATS.values() if len(shape) in (2, 3) and f.shape == shape[-2:]
    ]
    same_dims = [
        f.name for f in INPUT_FORMATS.values() if len(shape) in (2, 3) and f.dims == shape[-1]
    ]
    if exact:
        hint = f"; use input format {' or '.join(exact)}"
    elif same_dims and shape[-1] != fmt.dims:
        hint = f"; {shape[-1]}D points: use input format {' or '.join(same_dims)}"
    else:
        hint = ""
    raise ValueError(
        f"{name} input must have shape (N, {fmt.points}, {fmt.dims}) or "
        f"({fmt.points}, {fmt.dims}), got {tuple(shape)}{hint}"
    )


def formats_help() -> str:
    """One line per format for ``--help`` texts: ``name: what it is``."""
    return "; ".join(f"{fmt.name}: {fmt.help}" for fmt in INPUT_FORMATS.values())


def dae_input(points: torch.Tensor, name: str) -> torch.Tensor:
    """Root-relative points of format ``name`` -> the DAE's ``(B, 42, 3)`` input.

    ``points``: ``(B, points, dims)`` of the format; the points and coordinates it lacks
    become zeros (``"joints24"``: the landmarks; ``"2d"``: depth).
    """
    fmt = input_format(name)
    if points.ndim != 3 or tuple(points.shape[1:]) != fmt.shape:
        raise ValueError(
            f"{name} input has shape {tuple(points.shape)}; expected (B, {fmt.points}, {fmt.dims})"
        )
    if fmt.shape == (NUM_JL, 3):
        return points
    return functional.pad(points, (0, 3 - fmt.dims, 0, NUM_JL - fmt.points))
