"""SMPLR's input features (paper 3.2): N (Eq. 1) for Ω and B (Eqs. 2-3) for Ψ.

A "bone" here is the segment from a point of JL to its parent in κ
(:data:`smplr.body.skeleton.JL_PARENTS`): 41 bones for the 42 points, one per point but
the root, in point order (bone ``k`` ends at point ``k + 1``).

- ``N_i = (JL_i − JL_κ(i)) / ‖JL_i − JL_κ(i)‖``: unit bone directions ``(B, 41, 3)``;
  pose lives in the directions, so Ω never sees bone lengths.
- ``B_i = ‖JL_i − JL_κ(i)‖ − B*_i``: bone lengths minus the template's ``(B, 41)``;
  shape (and gender) live in the lengths, so Ψ never sees directions.

Example::

    >>> import torch
    >>> from smplr.reverse.features import relative_directions
    >>> jl = torch.randn(2, 42, 3)
    >>> relative_directions(jl).norm(dim=-1).allclose(torch.ones(2, 41))
    True
"""

from __future__ import annotations

import torch

from smplr.body.model import BodyModel, GenderedBodyModel
from smplr.body.skeleton import JL_NAMES, JL_PARENTS, NUM_JL

NUM_BONES = NUM_JL - 1  # 41
_PARENT_INDEX = torch.tensor(JL_PARENTS[1:], dtype=torch.long)
# Bones shorter than this (metres) count as zero length: the direction is undefined.
MIN_BONE_LENGTH = 1e-8


def _check_jl(jl: torch.Tensor) -> None:
    if jl.ndim != 3 or jl.shape[1:] != (NUM_JL, 3):
        raise ValueError(f"JL has shape {tuple(jl.shape)}; expected (B, {NUM_JL}, 3)")


def bone_vectors(jl: torch.Tensor) -> torch.Tensor:
    """``jl (B, 42, 3)`` -> ``JL_i − JL_κ(i)`` for the 41 non-root points, ``(B, 41, 3)``."""
    _check_jl(jl)
    return jl[:, 1:] - jl[:, _PARENT_INDEX.to(jl.device)]


def bone_lengths(jl: torch.Tensor) -> torch.Tensor:
    """``jl (B, 42, 3)`` -> Euclidean length of each of the 41 bones, ``(B, 41)``."""
    return bone_vectors(jl).norm(dim=-1)


def _raise_zero_bones(jl: torch.Tensor, lengths: torch.Tensor) -> None:
    short = lengths <= MIN_BONE_LENGTH
    if not bool(short.any()):
        return
    sample, bone = (int(v) for v in torch.nonzero(short)[0])
    if bool((jl[sample] == jl[sample, :1]).all()):
        raise ValueError(
            f"sample {sample}: all {NUM_JL} points are identical (all-zero input?); "
            "SMPLR needs distinct joint and landmark positions"
        )
    child, parent = bone + 1, JL_PARENTS[bone + 1]
    raise ValueError(
        f"sample {sample}: points {child} ({JL_NAMES[child]}) and {parent} ({JL_NAMES[parent]}) "
        "coincide, so that bone has no direction"
    )


def relative_directions(jl: torch.Tensor) -> torch.Tensor:
    """Eq. 1: unit bone directions N, ``jl (B, 42, 3)`` -> ``(B, 41, 3)``.

    Raises ValueError naming the first zero-length bone (e.g. an all-zero input).
    """
    vectors = bone_vectors(jl)
    lengths = vectors.norm(dim=-1, keepdim=True)
    _raise_zero_bones(jl, lengths[..., 0])
    return vectors / lengths


def relative_distances(jl: torch.Tensor, template_lengths: torch.Tensor) -> torch.Tensor:
    """Eqs. 2-3: bone lengths minus the template's, ``jl (B, 42, 3)`` -> ``(B, 41)``.

    ``template_lengths (41,)`` is B*, e.g. from :func:`template_bone_lengths`.
    """
    if template_lengths.shape != (NUM_BONES,):
        raise ValueError(
            f"template_lengths has shape {tuple(template_lengths.shape)}; expected ({NUM_BONES},)"
        )
    return bone_lengths(jl) - template_lengths


def template_bone_lengths(body: BodyModel | GenderedBodyModel) -> torch.Tensor:
    """B* (Eq. 2): bone lengths ``(41,)`` of the mean-shape body in the rest pose.

    For a :class:`GenderedBodyModel` the female and male templates are averaged, so one
    reference serves both genders (Ψ learns the rest).
    """
    with torch.no_grad():
        if isinstance(body, GenderedBodyModel):
            parts = [template_bone_lengths(body.female), template_bone_lengths(body.male)]
            return torch.stack(parts).mean(dim=0)
        rest = body(betas=torch.zeros(1, body.num_betas, dtype=body.dtype, device=body.device))
        return bone_lengths(rest.jl)[0]
