"""SMPLR end to end (paper Fig. 2): keypoints -> DAE -> N, B -> Ω, Ψ -> body model -> mesh.

    points ─► root-relative ─► DAE ─► JL ─┬► N (Eq. 1) ─► Ω ─► rotations R ─┐
                                          └► B (Eq. 3) ─► Ψ ─► betas, g ────┴► body model ─► mesh
                                                                            [─► refine K steps]
                                                                            [─► Procrustes onto the input]

Example::

    >>> import smplr, numpy as np                                   # doctest: +SKIP
    >>> model = smplr.SMPLR.pretrained()                            # doctest: +SKIP
    >>> result = model.fit(np.load("jl.npy"))   # (N, 42, 3) metres  # doctest: +SKIP
    >>> result.vertices.shape, result.body_pose.shape               # doctest: +SKIP
    ((N, 13718, 3), (N, 69))
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from smplr.body.keypoints import SiteBody
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.geometry.alignment import similarity_procrustes
from smplr.geometry.rotations import matrix_to_axis_angle
from smplr.input_formats import (
    INPUT_FORMATS,
    KEYPOINT_DAE,
    MIN_VISIBLE,
    VISIBILITY_THRESHOLD,
    check_input_format,
    check_points_shape,
    dae_input,
    keypoint_dae_input,
    keypoint_format,
    visibility_mask,
)
from smplr.keypoint_checks import KeypointError, check_keypoint_format, check_keypoints
from smplr.networks import DAE_NAMES, NETWORK_NAMES, build_networks
from smplr.nn_blocks import fold_batchnorm
from smplr.refine import (
    MAX_STEPS,
    BodyParams,
    FitPrior,
    fit_bodies,
    point_confidence,
    point_weights,
)
from smplr.reverse.features import relative_directions, relative_distances
from smplr.weights import WeightBundle, load_bundle, shipped_path

BODY_KEYS: tuple[str, ...] = (
    "betas",
    "gender",
    "global_orient",
    "body_pose",
    "transl",
    "joints",
    "landmarks",
)
"""The SMPL parameters and posed points every smplr output file holds, in the field's
naming (``smplr fit``'s ``.npz``, ``smplr predict``'s ``predictions.npz``)."""


@dataclass
class SMPLRResult:
    """What :meth:`SMPLR.fit` returns for N bodies (float32 tensors on the model's device).

    ``betas (N, 10)``, ``gender (N,)`` g in [−1, 1] (sign: −1 female, +1 male),
    ``global_orient (N, 3)`` and ``body_pose (N, 69)`` axis-angle, ``transl (N, 3)``,
    ``joints (N, 24, 3)``, ``landmarks (N, 18, 3)``, ``vertices (N, V, 3)`` (None when not
    asked for), ``scale (N,)`` — 1 unless Procrustes post-processing scaled the body:
    the outputs are then ``scale · (body(params) − root) + root`` with ``root`` the root
    joint of ``body(params)``, and ``denoised (N, 42, 3)`` the JL the encoder saw
    (root-relative).  Detector formats (``coco17``, ...) also give ``keypoints (N, K, 3)``:
    the fitted body's keypoints of that format (2D input: in the root-plane frame, depth
    relative to the root).
    """

    betas: torch.Tensor
    gender: torch.Tensor
    global_orient: torch.Tensor
    body_pose: torch.Tensor
    transl: torch.Tensor
    joints: torch.Tensor
    landmarks: torch.Tensor
    vertices: torch.Tensor | None
    scale: torch.Tensor
    denoised: torch.Tensor
    keypoints: torch.Tensor | None = None

    # Mapping-style access (``result["joints"]``, ``"vertices" in result``, ``.get``), so
    # code written for dict results (e.g. smplr.evaluation's FitPredictor) works too.
    def __getitem__(self, key: str) -> torch.Tensor | None:
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in {f.name for f in fields(self)} and getattr(self, str(key)) is not None

    def get(self, key: str, default=None):
        return getattr(self, key) if key in self else default

    def numpy(self) -> dict[str, np.ndarray]:
        """Every present field as a float32 numpy array."""
        return {
            f.name: getattr(self, f.name).detach().cpu().numpy()
            for f in fields(self)
            if getattr(self, f.name) is not None
        }


def _as_points(points: np.ndarray | torch.Tensor, input_format: str) -> torch.Tensor:
    """Validate user points and give them a batch axis: ``(N, P, D)`` float64 (cast to
    float32 only once root-relative, so far-away coordinates keep their precision)."""
    tensor = torch.as_tensor(np.asarray(points) if not isinstance(points, torch.Tensor) else points)
    check_points_shape(tuple(tensor.shape), input_format)
    if tensor.ndim == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.shape[0] == 0:
        raise KeypointError("the input holds no bodies")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    if not bool(torch.isfinite(tensor).all()):
        bad = int(torch.nonzero(~torch.isfinite(tensor).reshape(tensor.shape[0], -1).all(1))[0])
        raise KeypointError(f"body {bad} of the input contains NaN or inf points")
    spread = (tensor - tensor[:, :1]).abs().amax(dim=(1, 2))
    if bool((spread == 0).any()):
        bad = int(torch.nonzero(spread == 0)[0])
        raise KeypointError(f"body {bad}: all points are identical (all-zero input?)")
    return tensor.double()


class NetworkOutputError(ValueError):
    """The networks gave no valid body (NaN, inf, a degenerate rotation): damaged weights
    or weights trained for another body model."""


_NETWORK_CAUSE = (
    "the weights (or the body model) give no valid body for this input; are they damaged "
    "or trained for another body model?"
)


MAX_ABS_BETA = 100.0
"""Betas are ~N(0, 1) in SMPL's shape space; Ψ giving more than this is no body."""


def _check_encoding(
    rotations: torch.Tensor, betas: torch.Tensor, gender: torch.Tensor, first: int
) -> None:
    """Ω's rotations ``(B, 24, 3, 3)`` and Ψ's betas and gender finite, the rotations
    orthonormal (Ω's 6D output always is unless its vectors degenerate), the betas within
    ±:data:`MAX_ABS_BETA`; ``first``: the index of the batch's first body in the call."""
    eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
    error = (rotations.transpose(-1, -2) @ rotations - eye).abs().flatten(1).amax(dim=1)
    valid = (error < 1e-3) & (betas.abs() <= MAX_ABS_BETA).all(dim=1) & torch.isfinite(gender)
    if not bool(valid.all()):
        body = int(torch.nonzero(~valid)[0])
        raise NetworkOutputError(
            f"body {first + body}: Ω, Ψ give NaN, inf, |betas| > {MAX_ABS_BETA:g} or a "
            f"degenerate rotation: {_NETWORK_CAUSE}"
        )


def _check_finite_result(result: SMPLRResult) -> None:
    """Raise rather than return NaN / inf bodies (damaged weights, a model out of range)."""
    for name in ("betas", "gender", "global_orient", "body_pose", "transl", "joints"):
        value = getattr(result, name)
        bad = ~torch.isfinite(value.reshape(value.shape[0], -1)).all(dim=1)
        if bool(bad.any()):
            body = int(torch.nonzero(bad)[0])
            raise NetworkOutputError(
                f"the fit of body {body} has NaN or inf {name}: {_NETWORK_CAUSE}"
            )


def _check_refine(refine: object) -> None:
    if isinstance(refine, bool) or not isinstance(refine, int | np.integer):
        raise ValueError(f"refine must be an integer in 0..{MAX_STEPS} steps, got {refine!r}")
    if not 0 <= refine <= MAX_STEPS:
        raise ValueError(f"refine must be an integer in 0..{MAX_STEPS} steps, got {refine}")


def _merge(parts: list[SMPLRResult]) -> SMPLRResult:
    """One result from the results of consecutive batches."""
    if len(parts) == 1:
        return parts[0]
    merged: dict[str, Any] = {
        f.name: None
        if getattr(parts[0], f.name) is None
        else torch.cat([getattr(p, f.name) for p in parts])
        for f in fields(SMPLRResult)
    }
    return SMPLRResult(**merged)


class SMPLR(nn.Module):
    """The trained SMPLR: the DAEs (one per JL input format, one for every detector format), Ω, Ψ and the body model.

    Build it with :meth:`pretrained` (shipped weights, open body model) or
    :meth:`from_bundle` (your own training run and body model).
    """

    template_lengths: torch.Tensor  # buffer

    def __init__(
        self,
        body: GenderedBodyModel,
        pose_net: nn.Module,
        shape_net: nn.Module,
        daes: dict[str, nn.Module],
        template_lengths: torch.Tensor,
    ) -> None:
        super().__init__()
        self.body = body
        self.jl_body = body.jl_model()
        self.pose_net = pose_net
        self.shape_net = shape_net
        self.daes = nn.ModuleDict(daes)
        self.register_buffer("template_lengths", template_lengths.float())
        self._site_bodies: dict[tuple[str, torch.device, torch.dtype], SiteBody] = {}
        self.eval()

    def site_body(self, input_format: str, dtype: torch.dtype = torch.float32) -> SiteBody:
        """The model posing the keypoints of detector format ``input_format`` (cached)."""
        kp = keypoint_format(input_format)
        key = (kp.name, self.device, dtype)
        if key not in self._site_bodies:
            site_body = SiteBody(self.body, kp.sites)
            site_body.model.to(self.device, dtype)
            self._site_bodies[key] = site_body
        return self._site_bodies[key]

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_bundle(
        cls, bundle: WeightBundle | str | Path, body: GenderedBodyModel, device: str = "cpu"
    ) -> SMPLR:
        """SMPLR from a weight bundle (or its path) and the body model it was trained for."""
        if not isinstance(bundle, WeightBundle):
            bundle = load_bundle(bundle)
        nets = build_networks(
            bundle.network_config, [n for n in NETWORK_NAMES if n in bundle.networks]
        )
        try:
            for name, net in nets.items():
                net.load_state_dict(bundle.networks[name])
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise ValueError(f"weight bundle does not match its own config: {first}") from exc
        for net in nets.values():
            fold_batchnorm(net)
        daes = {name.removeprefix("dae_"): nets[name] for name in DAE_NAMES if name in nets}
        model = cls(body.float(), nets["pose"], nets["shape"], daes, bundle.template_lengths)
        return model.to(device)

    @classmethod
    def pretrained(cls, device: str = "cpu") -> SMPLR:
        """The shipped networks with the shipped open body model (female and male)."""
        return cls.load(shipped_path(), device)

    @classmethod
    def load(
        cls, path: str | Path, device: str = "cpu", body: GenderedBodyModel | None = None
    ) -> SMPLR:
        """A weight bundle from ``smplr train`` with ``body`` (default: the open model)."""
        return cls.from_bundle(path, body or GenderedBodyModel.open(), device)

    @property
    def device(self) -> torch.device:
        return self.template_lengths.device

    # ------------------------------------------------------------------ stages
    def denoise(self, points: torch.Tensor, input_format: str) -> torch.Tensor:
        """DAE stage: root-relative points of ``input_format`` -> JL ``(B, 42, 3)``."""
        return self.daes[check_input_format(input_format)](dae_input(points, input_format))

    def encode(self, jl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """SMPL reverse: JL ``(B, 42, 3)`` -> rotations ``(B, 24, 3, 3)``, betas ``(B, 10)``,
        gender ``(B,)`` in [-1, 1] (Ψ's regressed g may overshoot; it is clamped)."""
        rotations = self.pose_net(relative_directions(jl))
        betas, gender = self.shape_net(relative_distances(jl, self.template_lengths))
        return rotations, betas, gender.clamp(-1.0, 1.0)

    # ------------------------------------------------------------------ the whole thing
    def fit(
        self,
        points: np.ndarray | torch.Tensor,
        input_format: str = "jl42",
        procrustes: bool = False,
        refine: int = 0,
        use_dae: bool = True,
        return_vertices: bool = True,
        batch_size: int = 1024,
        confidence: np.ndarray | torch.Tensor | None = None,
        prior: FitPrior | None = None,
        threshold: float = VISIBILITY_THRESHOLD,
        checks: bool = True,
    ) -> SMPLRResult:
        """Bodies from keypoints.

        Args:
            points: ``"jl42"``: ``(N, 42, 3)`` joints + landmarks, metres, any frame;
                ``"joints24"``: ``(N, 24, 3)`` SMPL joints, metres; ``"2d"``: ``(N, 42, 2)``
                on the root's image plane in metres, root-relative or not (see
                :mod:`smplr.geometry.projection` to get there from pixels).  A single body
                may drop the N axis.
            procrustes: align the output onto the input by a similarity (paper 4.5):
                onto the input points for 3D input, onto the DAE's output for 2D.
            refine: Levenberg-Marquardt steps fitting the body to the input points (best
                on accurate 3D keypoints: it fits noise as well; on 2D input it fits an
                orthographic view of a perspective form and was measured worse).
            use_dae: pass ``"jl42"`` input through the DAE (the other formats need it).
            return_vertices: skin the full mesh (else ``vertices`` is None; faster).
            batch_size: bodies per forward pass.
            confidence: ``(N, P)`` per-keypoint weights >= 0 of the refinement's data
                term (e.g. a detector's scores; needs ``refine > 0``).
            prior: the refinement's priors and robust loss (default :class:`FitPrior`).
            threshold: detector formats: keypoints with confidence below it are missing.
            checks: JL formats: the input checks below (units, axes, mirroring).  Turn
                them off to score a network's raw output, where a collapsed skeleton is a
                prediction to measure, not an input error.

        Detector formats (``coco17``, ``h36m17``, ``blazepose33``, ``openpose25``,
        ``smpl24``; ``<name>_2d`` for image keypoints in root-plane metres): ``points
        (N, K, 3 | 2)`` in the detector's order, NaN where missing; ``confidence (N, K)``
        the detector's visibility or scores: below ``threshold`` a keypoint is missing,
        above it weights the refinement (clipped to 1); works with ``refine = 0`` too.
        A body with fewer than :data:`smplr.input_formats.MIN_VISIBLE` visible keypoints
        raises a ValueError naming it (select the others with
        :func:`smplr.input_formats.fittable_bodies`); keypoints in another format's order
        (e.g. COCO given as Human3.6M) raise one naming the likely format
        (:func:`smplr.keypoint_checks.check_keypoint_format`).

        Raises :class:`smplr.keypoint_checks.KeypointError` (a ValueError) on keypoints
        that look like millimetres, pixels or collapsed, and
        warns (:class:`smplr.keypoint_checks.KeypointWarning`) on z-up or mirrored
        skeletons and far-away coordinates: :func:`smplr.keypoint_checks.check_keypoints`.
        """
        input_format = check_input_format(input_format)
        if not INPUT_FORMATS[input_format].is_jl:
            if procrustes or not use_dae:
                raise ValueError(f"{input_format}: --procrustes and --no-dae are for JL formats")
            return self._fit_keypoints(
                points,
                input_format,
                refine,
                return_vertices,
                batch_size,
                confidence,
                prior,
                threshold,
            )
        if not use_dae and input_format != "jl42":
            raise ValueError(f"{input_format} input needs the DAE (use_dae=True)")
        _check_refine(refine)
        refine = int(refine)
        if confidence is not None and refine == 0:
            raise ValueError("confidence weights only the refinement: give refine > 0")
        tensor = _as_points(points, input_format)
        if checks:
            check_keypoints(tensor, input_format, self.template_lengths.cpu())
        weights = (
            None
            if confidence is None
            else point_confidence(confidence, (tensor.shape[0], tensor.shape[1]))
        )
        tensor = tensor.to(self.device)
        parts = [
            self._fit_batch(
                tensor[s : s + batch_size],
                input_format,
                procrustes,
                refine,
                use_dae,
                return_vertices,
                None if weights is None else weights[s : s + batch_size],
                prior,
                first=s,
            )
            for s in range(0, tensor.shape[0], batch_size)
        ]
        result = _merge(parts)
        _check_finite_result(result)
        return result

    @torch.no_grad()
    def vertices(self, result: SMPLRResult, rows: slice = slice(None)) -> torch.Tensor:
        """The posed meshes of bodies ``rows`` of ``result``: ``(n, V, 3)`` on the model's
        device, as ``fit(..., return_vertices=True)`` gives them (Procrustes scale included).

        Fit without vertices and mesh a slice at a time to keep memory flat in N::

            result = model.fit(points, return_vertices=False)
            for start in range(0, len(points), 256):
                meshes = model.vertices(result, slice(start, start + 256))  # (<=256, V, 3)
        """
        if not isinstance(rows, slice) or rows.step not in (None, 1):
            raise ValueError(f"rows must be a contiguous slice, got {rows!r}")
        part = {
            name: getattr(result, name)[rows].to(self.device)
            for name in ("gender", "betas", "global_orient", "body_pose", "transl", "scale")
        }
        out = self.body(
            part["gender"], part["betas"], part["global_orient"], part["body_pose"], part["transl"]
        )
        if bool((part["scale"] == 1).all()):
            return out.vertices
        root = out.joints[:, :1]
        return part["scale"][:, None, None] * (out.vertices - root) + root

    @torch.no_grad()
    def _fit_batch(
        self,
        points: torch.Tensor,
        input_format: str,
        procrustes: bool,
        refine: int,
        use_dae: bool,
        return_vertices: bool,
        confidence: torch.Tensor | None = None,
        prior: FitPrior | None = None,
        first: int = 0,
    ) -> SMPLRResult:
        relative = (points - points[:, :1]).float()  # float64 points: exact at any offset
        root = nn.functional.pad(points[:, 0], (0, 3 - points.shape[2])).float()  # 2D: depth 0
        jl = self.denoise(relative, input_format) if use_dae else relative
        rotations, betas, gender = self.encode(jl)
        _check_encoding(rotations, betas, gender, first)
        rest_root = self._rest_root(betas, gender)
        transl = -rest_root  # root joint at the origin
        observed = dae_input(relative, input_format)
        if refine > 0:
            refined = fit_bodies(
                copy.deepcopy(self.jl_body).double(),  # LM's normal equations want float64
                observed.double(),
                gender,
                BodyParams(rotations, betas, transl),
                refine,
                point_weights(observed, input_format),
                prior=prior,
                confidence=confidence,
            ).params
            rotations, betas, transl = (
                t.float() for t in (refined.rotations, refined.betas, refined.transl)
            )
        scale = torch.ones_like(gender)
        if procrustes:
            decoded = self.jl_body(gender, betas, rotations[:, :1], rotations[:, 1:], transl)
            fmt = INPUT_FORMATS[input_format]
            count = fmt.points
            target = jl if fmt.dims == 2 else observed
            fit = similarity_procrustes(decoded.jl[:, :count], target[:, :count])
            rotations = torch.cat([fit.rotation[:, None] @ rotations[:, :1], rotations[:, 1:]], 1)
            new_root = fit.apply(decoded.joints[:, :1])[:, 0]
            transl = new_root - self._rest_root(betas, gender)
            scale = fit.scale
        model = self.body if return_vertices else self.jl_body
        out = model(gender, betas, rotations[:, :1], rotations[:, 1:], transl + root)
        body_root = out.joints[:, :1]

        def scaled(points: torch.Tensor) -> torch.Tensor:
            if not procrustes:  # scale is 1: skip three passes over the mesh
                return points
            return scale[:, None, None] * (points - body_root) + body_root

        axis_angle = matrix_to_axis_angle(rotations)  # (B, 24, 3)
        return SMPLRResult(
            betas=betas,
            gender=gender,
            global_orient=axis_angle[:, 0],
            body_pose=axis_angle[:, 1:].reshape(-1, 3 * (NUM_JOINTS - 1)),
            transl=transl + root,
            joints=scaled(out.joints),
            landmarks=scaled(out.landmarks),
            vertices=scaled(out.vertices) if return_vertices else None,
            scale=scale,
            denoised=jl,
        )

    def _fit_keypoints(
        self,
        points: np.ndarray | torch.Tensor,
        input_format: str,
        refine: int,
        return_vertices: bool,
        batch_size: int,
        confidence: np.ndarray | torch.Tensor | None,
        prior: FitPrior | None,
        threshold: float,
    ) -> SMPLRResult:
        """:meth:`fit` for a detector format (see there)."""
        if KEYPOINT_DAE not in {f"dae_{name}" for name in self.daes}:
            raise ValueError(
                f"{input_format} needs the keypoint DAE, which this weight bundle lacks "
                "(train it: smplr train dae --input-format coco17)"
            )
        _check_refine(refine)
        tensor = torch.as_tensor(
            np.asarray(points) if not isinstance(points, torch.Tensor) else points
        )
        check_points_shape(tuple(tensor.shape), input_format)
        tensor = (tensor[None] if tensor.ndim == 2 else tensor).double().cpu()
        if tensor.shape[0] == 0:
            raise ValueError("the input holds no bodies")
        if bool(torch.isinf(tensor).any()):
            raise ValueError("the keypoints contain inf (mark missing keypoints with NaN)")
        if confidence is not None:
            confidence = torch.as_tensor(np.asarray(confidence, dtype=np.float64))
            if confidence.ndim == 1 and tensor.shape[0] == 1:
                confidence = confidence[None]
        visible = visibility_mask(tensor, confidence, threshold)
        few = visible.sum(1) < MIN_VISIBLE
        if bool(few.any()):
            bad = ", ".join(str(int(i)) for i in torch.nonzero(few)[:10, 0])
            raise ValueError(
                f"bodies {bad}: fewer than {MIN_VISIBLE} of {tensor.shape[1]} keypoints visible "
                f"(threshold {threshold}); fit the others (smplr.input_formats.fittable_bodies)"
            )
        check_keypoint_format(tensor, visible, keypoint_format(input_format))
        weights = visible.double()
        if confidence is not None:
            weights = weights * confidence.double().clamp(0.0, 1.0)
        parts = [
            self._fit_keypoint_batch(
                tensor[s : s + batch_size].to(self.device),
                visible[s : s + batch_size].to(self.device),
                weights[s : s + batch_size].to(self.device),
                input_format,
                refine,
                return_vertices,
                prior,
            )
            for s in range(0, tensor.shape[0], batch_size)
        ]
        return _merge(parts)

    @torch.no_grad()
    def _fit_keypoint_batch(
        self,
        points: torch.Tensor,
        visible: torch.Tensor,
        weights: torch.Tensor,
        input_format: str,
        refine: int,
        return_vertices: bool,
        prior: FitPrior | None,
    ) -> SMPLRResult:
        sites, mask, planar, centre = keypoint_dae_input(points, visible, input_format)
        jl = self.daes[KEYPOINT_DAE.removeprefix("dae_")](
            sites.float(), mask.float(), planar.float()
        )
        rotations, betas, gender = self.encode(jl)
        transl = jl[:, 0] - self._rest_root(betas, gender)  # relative to ``centre``
        dims = points.shape[2]
        if refine > 0:
            targets = torch.nn.functional.pad(
                torch.where(visible[..., None], points - centre[:, None, :dims], 0.0),
                (0, 3 - dims),
            )
            mask3 = torch.ones_like(targets)
            mask3[..., dims:] = 0  # 2D: depth unobserved
            site_body = self.site_body(input_format, torch.float64)
            refined = fit_bodies(
                site_body.model,
                targets,
                gender,
                BodyParams(rotations, betas, transl),
                refine,
                mask3,
                prior=prior,
                confidence=weights,
                readout=site_body.readout,
            ).params
            rotations, betas, transl = (
                t.float() for t in (refined.rotations, refined.betas, refined.transl)
            )
        transl = transl + centre.float()
        model = self.body if return_vertices else self.jl_body
        out = model(gender, betas, rotations[:, :1], rotations[:, 1:], transl)
        keypoints, _ = self.site_body(input_format)(gender, betas, rotations, transl)
        axis_angle = matrix_to_axis_angle(rotations)
        return SMPLRResult(
            betas=betas,
            gender=gender,
            global_orient=axis_angle[:, 0],
            body_pose=axis_angle[:, 1:].reshape(-1, 3 * (NUM_JOINTS - 1)),
            transl=transl,
            joints=out.joints,
            landmarks=out.landmarks,
            vertices=out.vertices if return_vertices else None,
            scale=torch.ones_like(gender),
            denoised=jl - jl[:, :1],
            keypoints=keypoints,
        )

    def _rest_root(self, betas: torch.Tensor, gender: torch.Tensor) -> torch.Tensor:
        """Root joint ``(B, 3)`` of the shaped body: where SMPL rotates the body about."""
        female = self.body.female.rest_joints(betas)[:, 0]
        male = self.body.male.rest_joints(betas)[:, 0]
        return torch.where((gender >= 0)[:, None], male, female)
