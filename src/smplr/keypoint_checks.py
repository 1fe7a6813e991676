"""Sanity checks of keypoints before SMPLR fits them: wrong units, frames and sides.

A network maps anything to some body, so keypoints in the wrong units or frame come
out as a confident, wrong fit.  :func:`check_keypoints` looks at each body's skeleton
and stops or warns, naming the bodies and the likely cause:

- **units** (raises ``ValueError``): the median ratio of the input's bone lengths to
  the template's (:func:`body_scale`) is ~1 for bodies in metres (0.55-1.3 measured on
  noisy synthetic input, 2D foreshortening included); above :data:`SCALE_HIGH` the
  error names the likely unit (millimetres: "divide by 1000"), below
  :data:`SCALE_LOW` it says the points are scaled down or collapsed.  Nothing sensible
  can be fitted to such input, so this is an error;
- **up axis** (warns; 3D: ±z or −y, 2D: −y): a body *stands along* an axis when its spine (pelvis to spine3)
  points along it and both legs (hip to ankle) point against it (within ~37°).  When
  more bodies of the call stand along another axis (z, −y, ...) than along +y, the
  frame is likely z-up (mocap) or y-down (camera): the warning names those bodies
  and the rotation into SMPL's y-up frame.  A warning, not an error: one body lying
  on its back in a y-up frame looks exactly like one standing in a z-up frame, and
  the fit is right in the input's own frame either way;
- **mirroring** (warns, ``jl42`` only): the facing direction given by the labels (left
  hip minus right hip, crossed with the spine) is compared with label-free cues of
  the front (toes, bent knees, and the landmarks of the belly, chest and front of the
  thighs).  When both the hips' and the shoulders' facing point backwards, the
  left/right labels are swapped.  A warning, because a detector may swap the sides of
  one frame of a sequence.  Not checked for ``joints24``: without landmarks only toes
  and knees tell the front, and on noisy synthetic joints (2 cm Gaussian) those cues
  overlap between normal and mirrored bodies (measured: no threshold gives zero false
  positives); nor for 2D: a 2D view of a body and of its mirror image in depth are
  the same points;
- **far from the origin** (handled, warns): coordinates beyond :data:`FAR_FROM_ORIGIN`
  (e.g. UTM coordinates) are made root-relative in float64 before the float32
  networks see them (:func:`smplr.pipeline.SMPLR.fit`), so the fit is exact; the
  warning says how much float32 outputs in the input's frame are rounded there.

Measured (``smplr bench refine --checks``, held-out synthetic
bodies, Gaussian / bounded-uniform / structured noise, each in jl42, joints24 and 2D):

- false positives, 2,000 noisy bodies per input checked in one call: 0 of 2,000 for
  all nine inputs.  Checked body by body, the up-axis rule flags 10-13 of 2,000 3D
  bodies (0.5-0.65 %: lying with straight legs and the head towards ±z — the
  ambiguity above) and 0-1 of 2,000 in 2D; nothing else fires;
- detection, 200 clean bodies each checked alone: millimetres, ×1e-4 and a 1e6 m
  offset 200 of 200 in every format; mirrored jl42 199 of 200; z-up 108 and upside
  down 109 of 200 (the bodies that stand; in a call with many frames the warning
  comes as soon as most standing bodies stand along the wrong axis).
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import torch

from smplr.body.keypoints import KEYPOINT_FORMATS, KeypointFormat, SiteBody
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JL_NAMES, JL_PARENTS

SCALE_HIGH = 3.0
"""Median bone-length ratio above which keypoints are not metres."""
SCALE_LOW = 0.25
"""Median bone-length ratio below which keypoints are scaled down or collapsed."""
FAR_FROM_ORIGIN = 1e4
"""Metres; beyond this float32 outputs are rounded by more than 0.5 mm."""
STANDING_COSINE = 0.8
"""cos(~37°): spine along an axis and legs against it."""
MIRROR_COSINE = 0.0
"""Every cue must say the labelled front is the back: all scores above this cosine."""

_UNITS = ((1000.0, "millimetres", "divide by 1000"), (100.0, "centimetres", "divide by 100"))
_UP_FIXES = {
    "+z": "a z-up frame (mocap); rotate into SMPL's y-up with (x, y, z) -> (x, z, -y)",
    "-z": "a (-z)-up frame; rotate into SMPL's y-up with (x, y, z) -> (x, -z, y)",
    "-y": "upside down (y pointing down, as in camera frames); use (x, y, z) -> (x, -y, -z)",
}
_UP_FIXES_2D = {"-y": "upside down (y pointing down, as in pixel rows); use (x, y) -> (-x, -y)"}


class KeypointWarning(UserWarning):
    """Keypoints that can be fitted but probably are not what the user meant."""


def _index(name: str) -> int:
    return JL_NAMES.index(name)


PELVIS, SPINE3 = _index("pelvis"), _index("spine3")
HIPS = (_index("left_hip"), _index("right_hip"))
SHOULDERS = (_index("left_shoulder"), _index("right_shoulder"))
KNEES = (_index("left_knee"), _index("right_knee"))
ANKLES = (_index("left_ankle"), _index("right_ankle"))
FEET = (_index("left_foot"), _index("right_foot"))
BELLY = _index("belly")
BREASTS = (_index("breast_left"), _index("breast_right"))
THIGH_FRONT = (_index("upper_leg_front_left"), _index("upper_leg_front_right"))
THIGH_BACK = (_index("upper_leg_back_left"), _index("upper_leg_back_right"))


def _bodies(mask: torch.Tensor) -> str:
    """``mask (N,)`` -> "body 3" / "bodies 3, 7, 9 and 12 more"."""
    rows = torch.nonzero(mask).squeeze(1).tolist()
    shown = ", ".join(str(r) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"{'body' if len(rows) == 1 else 'bodies'} {shown}{more}"


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    return vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def body_scale(points: torch.Tensor, template_lengths: torch.Tensor) -> torch.Tensor:
    """Median ratio of each body's bone lengths to the template's: ``points (N, P, D)``
    (the first P of the 42 JL, D = 2 or 3) and ``template_lengths (41,)`` -> ``(N,)``.

    ~1 in metres (2D: foreshortened bones make it a little smaller).
    """
    count = points.shape[1]
    parents = torch.tensor(JL_PARENTS[1:count], device=points.device)
    lengths = (points[:, 1:] - points[:, parents]).norm(dim=-1)
    template = template_lengths[: count - 1].to(points.device, points.dtype)
    return (lengths / template).median(dim=1).values


def _check_units(points: torch.Tensor, template_lengths: torch.Tensor) -> None:
    scale = body_scale(points, template_lengths)
    big, small = scale > SCALE_HIGH, scale < SCALE_LOW
    if bool(big.any()):
        ratio = float(scale[big].median())
        cause = "not metres"
        for factor, unit, fix in _UNITS:
            if abs(np.log(ratio / factor)) < np.log(2.0):
                cause = f"looks like {unit}; {fix}"
        raise ValueError(f"{_bodies(big)}: bones are ~{ratio:.3g}x a body's in metres: {cause}")
    if bool(small.any()):
        ratio = float(scale[small].median())
        raise ValueError(
            f"{_bodies(small)}: bones are ~{ratio:.2g}x a body's in metres: scaled down or "
            "collapsed towards one point (keypoints must be metres)"
        )


def standing_axis(points: torch.Tensor) -> list[str | None]:
    """Per body ``points (N, P, D)`` the signed axis ("+y", "+z", ...) it stands along,
    or None: spine along it and both legs against it (cosines above STANDING_COSINE)."""
    spine = _unit(points[:, SPINE3] - points[:, PELVIS])
    legs = _unit(points[:, list(ANKLES)] - points[:, list(HIPS)])  # (N, 2, D)
    names = "xyz"
    found: list[str | None] = [None] * points.shape[0]
    for axis in range(points.shape[2]):
        for sign, label in ((1.0, "+"), (-1.0, "-")):
            along = (sign * spine[:, axis] > STANDING_COSINE) & (
                -sign * legs[..., axis] > STANDING_COSINE
            ).all(dim=1)
            for row in torch.nonzero(along).squeeze(1).tolist():
                found[row] = label + names[axis]
    return found


def _check_up_axis(points: torch.Tensor) -> None:
    axes = standing_axis(points)
    upright = sum(a == "+y" for a in axes)
    fixes = _UP_FIXES if points.shape[2] == 3 else _UP_FIXES_2D
    counts = {a: sum(b == a for b in axes) for a in fixes}
    worst = max(counts, key=lambda a: counts[a])
    if counts[worst] > upright:
        mask = torch.tensor([a == worst for a in axes])
        warnings.warn(
            f"{_bodies(mask)}: standing along {worst}, not +y ({upright} of {len(axes)} "
            f"along +y): the keypoints look like {fixes[worst]}",
            KeypointWarning,
            stacklevel=3,
        )


def mirror_score(points: torch.Tensor) -> torch.Tensor:
    """How far each body's labelled facing points backwards: JL ``points (N, 42, 3)`` ->
    ``(N,)``: the smallest of minus the cosines between the label-free front cues (their
    sum, and each of the best four of the five) and the facing from the hips and from
    the shoulders (> 0: the labels' front is the body's back by every cue)."""
    up = _unit(points[:, SPINE3] - points[:, PELVIS])

    def flat(vectors: torch.Tensor) -> torch.Tensor:  # unit, perpendicular to the spine
        return _unit(vectors - (vectors * up).sum(-1, keepdim=True) * up)

    mid = (points[:, list(HIPS)] + points[:, list(ANKLES)]) / 2
    cues = torch.stack(
        [
            flat((points[:, list(FEET)] - points[:, list(ANKLES)]).sum(1)),
            flat((points[:, list(KNEES)] - mid).sum(1)),
            flat(points[:, BELLY] - points[:, PELVIS]),
            flat(points[:, list(BREASTS)].mean(1) - points[:, SPINE3]),
            flat((points[:, list(THIGH_FRONT)] - points[:, list(THIGH_BACK)]).sum(1)),
        ],
        dim=1,
    )  # (N, 5, 3)
    front = _unit(cues.sum(1))
    scores = []
    for left, right in (HIPS, SHOULDERS):
        facing = flat(torch.linalg.cross(points[:, left] - points[:, right], up, dim=-1))
        against = -(cues * facing[:, None]).sum(-1)  # (N, 5)
        scores.append(-(facing * front).sum(-1))
        scores.append(against.sort(dim=1, descending=True).values[:, 3])  # 4th best of 5
    return torch.stack(scores).amin(dim=0)


def _check_mirroring(points: torch.Tensor) -> None:
    mirrored = mirror_score(points) > MIRROR_COSINE
    if bool(mirrored.any()):
        warnings.warn(
            f"{_bodies(mirrored)}: left and right look swapped (the labelled left side is "
            "the body's right, judged from the toes, knees and front): swap the left and "
            "right keypoints",
            KeypointWarning,
            stacklevel=3,
        )


def _check_origin(points: torch.Tensor) -> None:
    distance = points[:, 0].abs().amax(dim=-1)
    far = distance > FAR_FROM_ORIGIN
    if bool(far.any()):
        largest = float(distance.max())
        rounding = float(np.spacing(np.float32(largest))) * 1000
        warnings.warn(
            f"{_bodies(far)}: up to {largest:.3g} m from the origin: fitted root-relative, "
            f"but float32 outputs in the input's frame (joints, transl, vertices) are rounded "
            f"to {rounding:.3g} mm there; subtract a common origin first",
            KeypointWarning,
            stacklevel=3,
        )


def check_keypoints(
    points: torch.Tensor, input_format: str, template_lengths: torch.Tensor
) -> None:
    """Raise or warn on implausible keypoints (see the module docstring).

    ``points (N, P, D)`` as given (any origin; float64 for far-away ones), in
    ``input_format`` ("jl42", "joints24" or "2d"); ``template_lengths (41,)`` the
    template's bone lengths (``SMPLR.template_lengths``).
    """
    relative = points - points[:, :1]
    _check_units(relative, template_lengths)
    _check_up_axis(relative)
    if input_format == "jl42":
        _check_mirroring(relative)
    _check_origin(points)


# --------------------------------------------------------------- detector formats
MIN_BONES = 5
"""Fewest visible bones a body needs for :func:`order_score`."""
ORDER_SCORE = {3: 0.45, 2: 0.9}
"""3D / 2D: median :func:`order_score` over the bodies above which keypoints do not look
like their format at all (measured on noisy synthetic keypoints, 0-40 % missing: batches
of 10 in the right format stay below 0.21 in 3D and 0.51 in 2D)."""
ORDER_RELATIVE = {3: 0.25, 2: 0.45}
"""3D / 2D: above this median score, another format with as many keypoints whose median
score is under half of it is named as the likely one."""


@cache
def _template_sites() -> torch.Tensor:
    """Every keypoint site of the open model's neutral rest pose ``(S, 3)``."""
    rest = torch.eye(3).expand(1, 24, 3, 3)
    sites, _ = SiteBody(GenderedBodyModel.open())(torch.ones(1), torch.zeros(1, 10), rest)
    return sites[0].double()


def _bone_log_ratios(
    points: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log(length / template length) (N, bones), both ends visible (N, bones))``."""
    a, b = (torch.tensor([bone[k] for bone in fmt.bones]) for k in (0, 1))
    template = _template_sites()[list(fmt.site_index)]
    expected = (template[a] - template[b]).norm(dim=-1)
    dims = points.shape[-1]
    expected_2d = (template[a, :dims] - template[b, :dims]).norm(dim=-1)
    expected = expected if dims == 3 else torch.maximum(expected, expected_2d)
    clean = torch.nan_to_num(points)
    length = (clean[:, a] - clean[:, b]).norm(dim=-1)
    ok = visible[:, a] & visible[:, b] & (length > 1e-9)
    return torch.log(length.clamp_min(1e-9) / expected), ok


def _median(values: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    """Per-row median of ``values (N, M)`` over ``ok``; NaN for rows with none."""
    masked = torch.where(ok, values, torch.full_like(values, float("nan")))
    return masked.nanmedian(dim=1).values


def order_score(points: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat) -> torch.Tensor:
    """How badly ``points (N, K, D)`` fit ``fmt``'s skeleton, scale-free, per body ``(N,)``:
    the median over its visible bones of ``|log(length ratio) − median log ratio|`` (0 for
    the template itself; NaN with fewer than 3 visible bones).  Keypoints read in the
    wrong order join the wrong points, whose bone lengths are off by factors of several."""
    logs, ok = _bone_log_ratios(points, visible, fmt)
    centre = _median(logs, ok)
    deviation = torch.where(ok, (logs - centre[:, None]).abs(), torch.zeros_like(logs))
    score = deviation.sum(1) / ok.sum(1).clamp_min(1)
    return torch.where(ok.sum(1) >= MIN_BONES, score, torch.full_like(score, float("nan")))


def bone_scale(points: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat) -> torch.Tensor:
    """Median ratio of each body's visible bone lengths to the template's ``(N,)`` (NaN
    where no bone is visible): ~1 for metres (2D: a little less, foreshortened)."""
    logs, ok = _bone_log_ratios(points, visible, fmt)
    return torch.exp(_median(logs, ok))


def order_problem(points: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat) -> str | None:
    """Why ``points`` do not look like ``fmt`` in its order (None when they do): the
    median :func:`order_score` of the bodies against :data:`ORDER_SCORE`, and against
    that of each format with as many keypoints (:data:`ORDER_RELATIVE`)."""
    dims = points.shape[-1]

    def median(kind: KeypointFormat) -> float | None:
        score = order_score(points, visible, kind)
        score = score[~torch.isnan(score)]
        return float(score.median()) if score.numel() else None

    mine = median(fmt)
    if mine is None:
        return None
    better = []
    if mine > ORDER_RELATIVE[dims]:
        for other in KEYPOINT_FORMATS.values():
            if other.name != fmt.name and other.count == fmt.count:
                theirs = median(other)
                if theirs is not None and theirs < mine / 2:
                    better.append(other.name)
    if not better and mine <= ORDER_SCORE[dims]:
        return None
    hint = (
        f"they look like {' or '.join(better)}: use --input-format "
        + (better[0] if dims == 3 else f"{better[0]}_2d")
        if better
        else "check the keypoint order (the detector's own order is expected)"
    )
    return (
        f"keypoints do not look like {fmt.name} (bone lengths off by {np.exp(mine):.1f}x "
        f"on average from its skeleton); {hint}"
    )


FORESHORTENING = 0.85
"""Mean ratio of 2D to 3D bone lengths on synthetic views: what weak perspective assumes."""


def metres_from_pixels(
    pixels: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat
) -> tuple[torch.Tensor, torch.Tensor]:
    """2D detector keypoints in pixels ``(N, K, 2)`` (image rows growing downwards) ->
    ``(root-plane metres (N, K, 2) with y up, pixels per metre (N,))`` by weak
    perspective: each body scaled so that its median bone is :data:`FORESHORTENING` of
    the template's (bodies with no visible bone take the median scale of the others).
    Without a camera this is a guess; ``smplr.geometry.projection.pixels_to_root_plane``
    is exact given intrinsics and the root's depth."""
    scale = bone_scale(pixels, visible, fmt)
    known = ~torch.isnan(scale)
    if not bool(known.any()):
        raise ValueError("no body has a visible bone: cannot scale pixels to metres")
    per_metre = torch.where(known, scale, scale[known].median()) / FORESHORTENING
    flip = torch.tensor([1.0, -1.0], dtype=pixels.dtype)
    return pixels / per_metre[:, None, None] * flip, per_metre


def check_keypoint_format(points: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat) -> None:
    """Raise a one-line ValueError when detector keypoints ``points (N, K, D)`` (NaN or
    ``visible (N, K)`` False where missing) are not in ``fmt``'s order or not metres, and
    warn when their left and right look swapped (3D, with a face to tell the front).

    - order (:func:`order_problem`): the error names the format with as many keypoints
      that fits (e.g. COCO-17 given as Human3.6M-17), or says the order is wrong;
    - units: the median bone-length ratio to the template must lie within
      :data:`SCALE_LOW`..:data:`SCALE_HIGH` (millimetres, centimetres, pixels are named);
    - sides (warning): the facing given by the labels ((left − right) × up) against the
      face's (nose − mid-ears), as :func:`mirror_score` does for JL.
    """
    problem = order_problem(points, visible, fmt)
    if problem is not None:
        raise ValueError(problem)
    scale = bone_scale(points, visible, fmt)
    scale = scale[~torch.isnan(scale)]
    if scale.numel():
        typical = float(scale.median())
        if typical > SCALE_HIGH:
            causes = [
                f"{name}? {fix}" for factor, name, fix in _UNITS if 0.3 < typical / factor < 3
            ]
            if points.shape[-1] == 2 or not causes:
                causes.append("pixels? give the camera ('intrinsics' and 'root_depth')")
            cause = "; ".join(causes)
            raise ValueError(
                f"keypoints are not in metres (bones {typical:.3g}x the template's): {cause}"
            )
        if typical < SCALE_LOW:
            raise ValueError(
                f"keypoints are scaled down or collapsed (bones {typical:.2g}x the template's)"
            )
    _check_keypoint_sides(points, visible, fmt)


def _check_keypoint_sides(points: torch.Tensor, visible: torch.Tensor, fmt: KeypointFormat) -> None:
    names = (
        "nose",
        "left_ear",
        "right_ear",
        "left_shoulder",
        "right_shoulder",
        "left_hip",
        "right_hip",
    )
    if points.shape[-1] != 3 or not all(n in fmt.names for n in names):
        return
    idx = [fmt.names.index(n) for n in names]
    ok = visible[:, idx].all(1)
    if not bool(ok.any()):
        return
    nose, lear, rear, lsh, rsh, lhip, rhip = (points[:, i] for i in idx)
    up = (lsh + rsh - lhip - rhip) / 2
    labelled = torch.linalg.cross(lsh - rsh + lhip - rhip, up)
    face = nose - (lear + rear) / 2
    backwards = (_unit(labelled) * _unit(face)).sum(-1) < -0.3
    backwards &= ok
    if int(backwards.sum()) * 2 > int(ok.sum()):
        warnings.warn(
            f"{_bodies(backwards)}: left and right look swapped (the labelled left side is "
            "the body's right, judged from the face): swap the left and right keypoints",
            KeypointWarning,
            stacklevel=3,
        )


__all__ = [
    "FAR_FROM_ORIGIN",
    "ORDER_RELATIVE",
    "ORDER_SCORE",
    "SCALE_HIGH",
    "SCALE_LOW",
    "KeypointWarning",
    "body_scale",
    "check_keypoint_format",
    "check_keypoints",
    "metres_from_pixels",
    "mirror_score",
    "order_problem",
    "order_score",
    "standing_axis",
]
