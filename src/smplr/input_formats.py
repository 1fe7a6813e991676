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

Detector formats (``keypoints`` set: COCO-17, Human3.6M-17, BlazePose-33, OpenPose
BODY-25, SMPL-24, each in 3D and as ``<name>_2d``) are not JL slices: each keypoint is a
site on the body (:mod:`smplr.body.keypoints`), some may be missing.  They share one DAE,
``dae_keypoints`` (:class:`smplr.dae.KeypointDAE`), that reads the 57 sites of every
format with a visibility mask (:func:`keypoint_dae_input`) and outputs the JL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from smplr.body.keypoints import KEYPOINT_FORMATS, NUM_SITES, KeypointFormat
from smplr.body.skeleton import NUM_JL, NUM_JOINTS

KEYPOINT_DAE = "dae_keypoints"
"""The one DAE of every detector format (:class:`smplr.dae.KeypointDAE`)."""
MIN_VISIBLE = 3
"""Fewest visible keypoints a body needs to be fitted."""
VISIBILITY_THRESHOLD = 0.5
"""Default: keypoints whose visibility / confidence is below this are missing."""


@dataclass(frozen=True)
class InputFormat:
    """One input format: ``points`` points of ``dims`` coordinates per body."""

    name: str
    points: int
    dims: int
    help: str
    keypoints: KeypointFormat | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Per-body point array shape ``(points, dims)``."""
        return self.points, self.dims

    @property
    def network(self) -> str:
        """Name of this format's DAE in the weight bundle and of its training stage."""
        return KEYPOINT_DAE if self.keypoints is not None else f"dae_{self.name}"

    @property
    def is_jl(self) -> bool:
        """Whether the points are a leading slice of JL (``jl42``, ``joints24``, ``2d``)."""
        return self.keypoints is None


def _detector_formats() -> tuple[InputFormat, ...]:
    formats = []
    for kp in KEYPOINT_FORMATS.values():
        for dims in (3, 2):
            name = kp.name if dims == 3 else f"{kp.name}_2d"
            unit = "metres" if dims == 3 else "root-plane metres or pixels + intrinsics"
            formats.append(InputFormat(name, kp.count, dims, f"{kp.title} ({unit})", kp))
    return tuple(formats)


INPUT_FORMATS: dict[str, InputFormat] = {
    fmt.name: fmt
    for fmt in (
        InputFormat("jl42", NUM_JL, 3, "24 SMPL joints + 18 landmarks (N,42,3), metres: denoise"),
        InputFormat("joints24", NUM_JOINTS, 3, "SMPL's 24 joints (N,24,3), metres: complete"),
        InputFormat("2d", NUM_JL, 2, "the 42 points in an image (N,42,2): lift to 3D"),
        *_detector_formats(),
    )
}
JL_FORMATS: tuple[str, ...] = tuple(n for n, f in INPUT_FORMATS.items() if f.is_jl)
KEYPOINT_INPUTS: tuple[str, ...] = tuple(n for n, f in INPUT_FORMATS.items() if not f.is_jl)


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
    if not fmt.is_jl:
        raise ValueError(f"{name} is a detector format: use keypoint_dae_input")
    if points.ndim != 3 or tuple(points.shape[1:]) != fmt.shape:
        raise ValueError(
            f"{name} input has shape {tuple(points.shape)}; expected (B, {fmt.points}, {fmt.dims})"
        )
    if fmt.shape == (NUM_JL, 3):
        return points
    return functional.pad(points, (0, 3 - fmt.dims, 0, NUM_JL - fmt.points))


def keypoint_format(name: str) -> KeypointFormat:
    """The detector keypoint list of input format ``name`` (ValueError for JL formats)."""
    fmt = input_format(name)
    if fmt.keypoints is None:
        raise ValueError(f"{name} is not a detector keypoint format")
    return fmt.keypoints


def visibility_mask(
    points: np.ndarray | torch.Tensor,
    confidence: np.ndarray | torch.Tensor | None = None,
    threshold: float = VISIBILITY_THRESHOLD,
) -> torch.Tensor:
    """Which keypoints count as observed: ``points (N, K, D)`` (NaN marks a missing
    keypoint), ``confidence (N, K)`` visibility or detector scores (None: all 1) ->
    ``(N, K)`` bool, finite and with confidence ``>= threshold``."""
    tensor = torch.as_tensor(np.asarray(points) if not isinstance(points, torch.Tensor) else points)
    visible = torch.isfinite(tensor).all(-1)
    if confidence is not None:
        conf = torch.as_tensor(np.asarray(confidence, dtype=np.float64)).to(visible.device)
        if tuple(conf.shape) != tuple(visible.shape):
            raise ValueError(
                f"visibility has shape {tuple(conf.shape)}; expected {tuple(visible.shape)}, "
                "one value per keypoint"
            )
        if bool(torch.isnan(conf).any()):
            raise ValueError("visibility contains NaN")
        visible &= conf >= threshold
    return visible


def keypoint_dae_input(
    points: torch.Tensor, visible: torch.Tensor, name: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Detector keypoints -> the keypoint DAE's input, in the 57 site slots.

    ``points (B, K, D)`` of format ``name`` (NaN allowed where not visible),
    ``visible (B, K)`` bool.  Returns ``sites (B, 57, 3)`` centred on the mean of the
    visible keypoints (zero where missing; depth 0 for 2D), ``mask (B, 57)`` float,
    ``planar (B,)`` (1 for 2D input) and ``centre (B, 3)`` (depth 0 for 2D): the DAE's JL
    is relative to ``centre``.
    """
    fmt = input_format(name)
    kp = keypoint_format(name)
    if points.ndim != 3 or tuple(points.shape[1:]) != fmt.shape:
        raise ValueError(
            f"{name} input has shape {tuple(points.shape)}; expected (B, {fmt.points}, {fmt.dims})"
        )
    if tuple(visible.shape) != tuple(points.shape[:2]):
        raise ValueError(
            f"visible has shape {tuple(visible.shape)}; expected {tuple(points.shape[:2])}"
        )
    clean = torch.where(visible[..., None], points, torch.zeros_like(points))
    batch = points.shape[0]
    index = torch.as_tensor(kp.site_index, device=points.device)
    sites = points.new_zeros(batch, NUM_SITES, 3)
    mask = points.new_zeros(batch, NUM_SITES)
    sites[:, index] = functional.pad(clean, (0, 3 - fmt.dims))
    mask[:, index] = visible.to(points.dtype)
    centred, centre = centre_sites(sites, mask)
    planar = points.new_full((batch,), 1.0 if fmt.dims == 2 else 0.0)
    return centred, mask, planar, centre


def centre_sites(sites: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``sites (B, S, 3)``, ``mask (B, S)`` -> (sites minus the mean of the visible ones,
    zero where not visible; that mean ``(B, 3)``): the keypoint DAE's frame."""
    weight = mask[..., None]
    centre = (sites * weight).sum(1) / weight.sum(1).clamp_min(1.0)
    return (sites - centre[:, None]) * weight, centre


def fittable_bodies(
    points: np.ndarray | torch.Tensor,
    confidence: np.ndarray | torch.Tensor | None = None,
    threshold: float = VISIBILITY_THRESHOLD,
) -> torch.Tensor:
    """``(N,)`` bool: the bodies with at least :data:`MIN_VISIBLE` visible keypoints
    (:func:`visibility_mask`), the ones :meth:`smplr.SMPLR.fit` accepts."""
    return visibility_mask(points, confidence, threshold).sum(1) >= MIN_VISIBLE
