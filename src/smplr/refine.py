"""Fitting a body to keypoints by Levenberg-Marquardt, with priors (beyond the paper).

SMPLR's one-shot estimate is a few centimetres off; a few Gauss-Newton steps of the
decoded body onto the input points close most of that gap.  The same fitter started from
the rest pose is the optimisation-only baseline (SMPLify-style fitting to 3D keypoints)
that SMPLR is compared with.

Unknowns per body: a rotation increment per joint (axis-angle, applied on the right of
the current rotation, so the parametrisation has no singularity at the estimate),
betas and translation — 24·3 + 10 + 3 = 85.  The objective is a sum of squared
residuals, all in metres (weights of :class:`FitPrior`):

- data, robust: per keypoint ``k`` the masked error ``e_k = w_k ⊙ (JL_model − JL_target)``
  (``w`` masks what was not observed: landmarks of joint-only input, depth of 2D input)
  enters as ``c_k · ρ(‖e_k‖)`` with Huber's ``ρ(n) = n²`` up to ``δ`` = ``robust_scale``
  metres and ``2δn − δ²`` beyond (a keypoint far off pulls with a constant force, not
  one growing with its error), and ``c_k ≥ 0`` the keypoint's confidence (default 1).
  As a least-squares residual that is ``√c_k · e_k · √(ρ(‖e_k‖)) / ‖e_k‖``
  (:func:`robust_residual`), so Gauss-Newton needs no reweighting loop.  Huber rather
  than a redescending loss (Geman-McClure): it stays convex, so a start 10+ cm off
  (the rest pose of the baseline) is still pulled in — measured on the test suite's
  fake model from a start perturbed by 0.15 rad per joint, 15 steps: Geman-McClure
  with σ = 10 cm left the worst body 140 mm off, Huber with δ = 10 cm 3.5 mm;
- joint limits: ``limit_weight ·`` how far (radians) each of the 23 body joints lies
  outside the project's anatomical limits
  (:func:`smplr.synthetic.joint_limits.limit_violation`, the limits the synthetic pose
  prior is drawn within) — zero inside, so it never biases a plausible pose;
- pose: ``pose_weight · (R_j − R_j^start)`` on the 23 body joints' matrices, a pull
  towards the starting estimate (SMPLR's pose; from the rest pose the baseline's
  :data:`FROM_REST_PRIOR` pulls 20× weaker): keypoints do not fix
  a limb's twist, and with a weaker pull (0.005-0.05) fits to mismatched joints twisted
  the limbs (vertices worse than the one-shot estimate);
- shape: ``shape_weight · β`` — betas are N(0, I) in SMPL's PCA, so this is the Gaussian
  prior for keypoints with a per-coordinate error of ``shape_weight`` metres.

The defaults (:class:`FitPrior`) were chosen on exact and mismatched keypoints,
``smplr bench refine`` (numbers in its docstring).

Each step solves ``(JᵀJ + λ diag(JᵀJ) + εI) Δ = −Jᵀr`` per body (the Jacobian comes from
85 batched forward-mode passes) and keeps it only where the cost went down, adapting λ
per body.  A body stops when an accepted step lowers its cost by less than
``tolerance`` (relative), or when no step is accepted even at the largest damping; the
batch stops when every body has.  Everything is batched; bodies never interact.

Example::

    jl_body = GenderedBodyModel.open().jl_model().double()
    fitted = fit_bodies(jl_body, targets, gender, start, steps=10)
    fitted.params.rotations  # (B, 24, 3, 3)
    fitted.iterations        # (B,) steps each body took before it converged
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from smplr.body.model import BodyModel, GenderedBodyModel, gender_sign_to_index
from smplr.body.skeleton import NUM_JL, NUM_JOINTS
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.synthetic.joint_limits import limit_violation

NUM_PARAMS = 3 * NUM_JOINTS + 10 + 3  # 85
MAX_STEPS = 1000
"""The most LM steps one call may ask for (each costs ~2 ms per body on a CPU core)."""
MAX_DAMPING = 1e7


@dataclass
class BodyParams:
    """A batch of bodies: ``rotations (B, 24, 3, 3)``, ``betas (B, 10)``, ``transl (B, 3)``."""

    rotations: torch.Tensor
    betas: torch.Tensor
    transl: torch.Tensor

    def index(self, rows: torch.Tensor) -> BodyParams:
        return BodyParams(self.rotations[rows], self.betas[rows], self.transl[rows])


@dataclass(frozen=True)
class FitPrior:
    """Weights of the regularisers and the robust loss (see the module docstring).

    ``pose_weight``: metres per rotation-matrix entry away from the start;
    ``shape_weight``: metres per beta; ``limit_weight``: metres per radian outside the
    joint limits (0: off); ``robust_scale``: Huber's δ in metres (None: plain
    least squares); ``tolerance``: a body stops once a step lowers its cost by less than
    this fraction (0: run every step).
    """

    pose_weight: float = 0.1
    shape_weight: float = 0.02
    limit_weight: float = 3.0
    robust_scale: float | None = 0.1
    tolerance: float = 1e-4

    def __post_init__(self) -> None:
        for name in ("pose_weight", "shape_weight", "limit_weight", "tolerance"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"FitPrior.{name} must be >= 0, got {getattr(self, name)}")
        if self.robust_scale is not None and not self.robust_scale > 0:
            raise ValueError(f"FitPrior.robust_scale must be > 0 or None, got {self.robust_scale}")


@dataclass
class FitResult:
    """Fitted bodies, the final cost ``(B,)`` (the objective, m²) and the LM steps each
    body took ``iterations (B,)`` (fewer than asked where it converged)."""

    params: BodyParams
    cost: torch.Tensor
    iterations: torch.Tensor


def _unpack(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    delta = params[:, : 3 * NUM_JOINTS].reshape(-1, NUM_JOINTS, 3)
    return delta, params[:, 3 * NUM_JOINTS : -3], params[:, -3:]


def robust_residual(error: torch.Tensor, scale: float | None) -> torch.Tensor:
    """Huber as a residual: ``error (..., 3)`` -> ``(..., 3)`` whose squared norm is
    ``ρ(n) = n²`` for ``n = ‖e‖ ≤ δ`` and ``2δn − δ²`` beyond (``scale`` = δ, metres;
    None: ``error`` itself, plain least squares).

    The factor ``√(x(2 − x))``, ``x = δ / max(n, δ)``, is 1 inside and smooth at 0.
    """
    if scale is None:
        return error
    squared = error.square().sum(-1, keepdim=True)
    ratio = scale / squared.clamp_min(scale**2).sqrt()
    return error * (ratio * (2 - ratio)).sqrt()


class _Problem:
    """Residuals of one gender's bodies around the current rotations."""

    def __init__(
        self,
        model: BodyModel,
        targets: torch.Tensor,
        weights: torch.Tensor,
        confidence: torch.Tensor,
        prior_rotations: torch.Tensor,
        prior: FitPrior,
        readout: torch.Tensor | None = None,
    ) -> None:
        self.model = model
        self.targets = targets
        self.weights = weights
        self.confidence = confidence
        self.prior_rotations = prior_rotations
        self.prior = prior
        self.readout = readout

    def index(self, rows: torch.Tensor) -> _Problem:
        return _Problem(
            self.model,
            self.targets[rows],
            self.weights[rows],
            self.confidence[rows],
            self.prior_rotations[rows],
            self.prior,
            self.readout,
        )

    def residuals(self, rotations: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        delta, betas, transl = _unpack(params)
        posed = rotations @ axis_angle_to_matrix(delta)
        out = self.model.skin(betas, posed, transl)
        assert out.landmarks is not None  # the fit needs a body model with landmarks
        points = torch.cat([out.joints, out.landmarks], dim=1)
        if self.readout is not None:  # detector keypoints: fixed mixes of joints and vertices
            points = torch.einsum("kp,bpc->bkc", self.readout, points)
        error = (points - self.targets) * self.weights
        data = robust_residual(error, self.prior.robust_scale) * self.confidence.sqrt()[..., None]
        pose = self.prior.pose_weight * (posed[:, 1:] - self.prior_rotations[:, 1:])
        parts = [data.flatten(1), pose.flatten(1), self.prior.shape_weight * betas]
        if self.prior.limit_weight > 0:
            parts.append(self.prior.limit_weight * limit_violation(posed[:, 1:]))
        return torch.cat(parts, dim=1)

    def cost(self, rotations: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return self.residuals(rotations, params).square().sum(dim=1)

    def jacobian(self, rotations: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """``(B, R, 85)``: one forward-mode pass per parameter, batched with vmap."""
        basis = torch.eye(NUM_PARAMS, dtype=params.dtype, device=params.device)
        tangents = basis[:, None, :].expand(NUM_PARAMS, params.shape[0], NUM_PARAMS)

        def column(tangent: torch.Tensor) -> torch.Tensor:
            return torch.func.jvp(lambda p: self.residuals(rotations, p), (params,), (tangent,))[1]

        with warnings.catch_warnings():  # torch's forward-AD set-up warns about its own jit use
            warnings.filterwarnings(
                "ignore", "`torch.jit.script` is deprecated", DeprecationWarning
            )
            return torch.func.vmap(column)(tangents).permute(1, 2, 0)


def _levenberg_marquardt(problem: _Problem, start: BodyParams, steps: int) -> FitResult:
    rotations = start.rotations.clone()
    batch = start.betas.shape[0]
    zeros = start.betas.new_zeros(batch, 3 * NUM_JOINTS)
    params = torch.cat([zeros, start.betas, start.transl], dim=1)
    cost = problem.cost(rotations, params)
    damping = torch.full_like(cost, 1e-3)
    iterations = torch.zeros(batch, dtype=torch.long, device=cost.device)
    active = torch.ones(batch, dtype=torch.bool, device=cost.device)
    eye = torch.eye(NUM_PARAMS, dtype=params.dtype, device=params.device)
    for _ in range(steps):
        rows = torch.nonzero(active).squeeze(1)
        if rows.numel() == 0:
            break
        part, rot, par, lam = problem.index(rows), rotations[rows], params[rows], damping[rows]
        jac = part.jacobian(rot, par)
        jtj = jac.transpose(1, 2) @ jac
        grad = (jac.transpose(1, 2) @ part.residuals(rot, par).unsqueeze(-1)).squeeze(-1)
        system = jtj + lam[:, None, None] * torch.diag_embed(jtj.diagonal(dim1=1, dim2=2))
        trial = par + torch.linalg.solve(system + 1e-9 * eye, -grad)
        trial_cost = part.cost(rot, trial)
        old_cost = cost[rows]
        better = trial_cost < old_cost
        delta, betas, transl = _unpack(torch.where(better[:, None], trial, par))
        rotations[rows] = rot @ axis_angle_to_matrix(delta)
        params[rows] = torch.cat([zeros[rows], betas, transl], dim=1)
        cost[rows] = torch.where(better, trial_cost, old_cost)
        damping[rows] = torch.where(better, lam / 3, lam * 4).clamp(1e-7, MAX_DAMPING)
        iterations[rows] += 1
        converged = better & (old_cost - trial_cost <= problem.prior.tolerance * old_cost)
        stuck = ~better & (lam >= MAX_DAMPING)
        active[rows] = ~(converged | stuck)
    _, betas, transl = _unpack(params)
    return FitResult(BodyParams(rotations, betas, transl), cost, iterations)


def default_steps(input_format: str) -> int:
    """What ``smplr fit`` refines when not told: 10 steps for 3D keypoints, none for 2D.

    Measured (``smplr bench refine``): on 3D keypoints 10 steps
    with the priors beat the one-shot estimate on the body's own points and on a
    mismatched skeleton alike (joints 13.5 -> 5.0 and 38 -> 28 mm on jl42) for ~20 ms
    per body; on 2D input refinement fits an orthographic view of a perspective form
    and still makes the joints worse (:func:`smplr.benchmarks.refine_priors.measure_2d`).
    """
    return 0 if input_format == "2d" or input_format.endswith("_2d") else 10


def point_weights(targets: torch.Tensor, observed: str = "jl42") -> torch.Tensor:
    """Data-term mask ``(B, 42, 3)``: ``"jl42"`` all ones, ``"joints24"`` landmarks off,
    ``"2d"`` depth (z) off."""
    weights = torch.ones_like(targets)
    if observed == "joints24":
        weights[:, NUM_JOINTS:] = 0
    elif observed == "2d":
        weights[..., 2] = 0
    elif observed != "jl42":
        raise ValueError(f"unknown observation kind '{observed}'")
    return weights


def point_confidence(confidence, shape: tuple[int, int]) -> torch.Tensor:
    """Check per-keypoint confidences for points of ``shape (N, P)`` and pad them to the
    42 JL: ``confidence (N, P)`` (or ``(P,)`` for one body), finite, >= 0 ->
    ``(N, 42)`` float64 (landmarks of 24-joint input get 1; they are masked anyway)."""
    count, points = shape
    tensor = torch.as_tensor(confidence).detach().cpu().to(torch.float64)
    if tensor.ndim == 1 and count == 1:
        tensor = tensor[None]
    if tuple(tensor.shape) != (count, points):
        raise ValueError(
            f"confidence has shape {tuple(tensor.shape)}; expected ({count}, {points}), "
            "one weight per keypoint"
        )
    if not bool(torch.isfinite(tensor).all()) or bool((tensor < 0).any()):
        raise ValueError("confidence must be finite and >= 0")
    return torch.cat([tensor, tensor.new_ones(count, NUM_JL - points)], dim=1)


def fit_bodies(
    body: GenderedBodyModel,
    targets: torch.Tensor,
    gender: torch.Tensor,
    start: BodyParams,
    steps: int,
    weights: torch.Tensor | None = None,
    prior: FitPrior | None = None,
    confidence: torch.Tensor | None = None,
    readout: torch.Tensor | None = None,
) -> FitResult:
    """Fit up to ``steps`` LM iterations of bodies onto ``targets (B, 42, 3)``, from ``start``.

    ``readout (K, P)``: fit keypoints that are fixed mixes of the model's ``P`` joints and
    landmarks instead (``readout @ points``; targets, weights and confidence then have
    ``K`` points): detector keypoints on a site model
    (:class:`smplr.body.keypoints.SiteBody`).

    ``gender (B,)`` picks each body's model by its sign.  ``weights (B, 42, 3)`` (default
    all ones) masks the data residuals, see :func:`point_weights`; ``confidence (B, 42)``
    (default ones) weights each keypoint's robust term, see :func:`point_confidence`.
    The pose prior pulls towards ``start.rotations``.  ``steps`` is 0..:data:`MAX_STEPS`;
    bodies stop earlier once converged (``FitResult.iterations``).  ``body`` is best a
    JL-only model (:meth:`GenderedBodyModel.jl_model`), in float64.
    """
    count = NUM_JL if readout is None else readout.shape[0]
    if targets.ndim != 3 or targets.shape[1:] != (count, 3):
        raise ValueError(f"targets have shape {tuple(targets.shape)}; expected (B, {count}, 3)")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in 0..{MAX_STEPS}, got {steps!r}")
    dtype = body.female.dtype
    targets = targets.to(dtype)
    weights = torch.ones_like(targets) if weights is None else weights.to(dtype)
    if confidence is None:
        confidence = targets.new_ones(targets.shape[:2])
    elif tuple(confidence.shape) != tuple(targets.shape[:2]):
        raise ValueError(
            f"confidence has shape {tuple(confidence.shape)}; expected {tuple(targets.shape[:2])}"
        )
    confidence = confidence.to(targets.device, dtype)
    start = BodyParams(*(t.to(dtype) for t in (start.rotations, start.betas, start.transl)))
    prior = prior or FitPrior()
    index = gender_sign_to_index(gender.to(targets.device))
    rotations = torch.empty_like(start.rotations)
    betas = torch.empty_like(start.betas)
    transl = torch.empty_like(start.transl)
    cost = targets.new_empty(targets.shape[0])
    iterations = torch.zeros(targets.shape[0], dtype=torch.long, device=targets.device)
    for which in (0, 1):
        rows = torch.nonzero(index == which).squeeze(1)
        if rows.numel() == 0:
            continue
        part = start.index(rows)
        problem = _Problem(
            body.by_index(which),
            targets[rows],
            weights[rows],
            confidence[rows],
            part.rotations,
            prior,
            None if readout is None else readout.to(targets.device, dtype),
        )
        result = _levenberg_marquardt(problem, part, steps)
        rotations[rows] = result.params.rotations
        betas[rows] = result.params.betas
        transl[rows] = result.params.transl
        cost[rows] = result.cost
        iterations[rows] = result.iterations
    return FitResult(BodyParams(rotations, betas, transl), cost, iterations)


def rest_start(body: GenderedBodyModel, targets: torch.Tensor, gender: torch.Tensor) -> BodyParams:
    """The rest pose, mean shape, translated so that its root joint sits on the target's."""
    batch = targets.shape[0]
    dtype, device = body.female.dtype, body.female.device
    rotations = torch.eye(3, dtype=dtype, device=device).expand(batch, NUM_JOINTS, 3, 3).clone()
    betas = torch.zeros(batch, body.num_betas, dtype=dtype, device=device)
    roots = torch.stack([body.female.joint_template[0], body.male.joint_template[0]])
    transl = targets[:, 0].to(dtype) - roots[gender_sign_to_index(gender)]
    return BodyParams(rotations, betas, transl)


FROM_REST_PRIOR = FitPrior(pose_weight=0.005, limit_weight=0.0, robust_scale=None)
"""The baseline's priors: a weak pull towards its start (the rest pose), the shape prior,
and neither joint limits nor the robust loss.  From the rest pose the residuals start at
decimetres: a robust loss turns down exactly the residuals that must move the body, and
the limits stop limbs on their way, so with the refinement's defaults the baseline stalled
(275 mm joints on 256 held-out bodies, against 12.7 mm without them on 16)."""


def fit_from_rest(
    body: GenderedBodyModel,
    targets: torch.Tensor,
    steps: int,
    weights: torch.Tensor | None = None,
    prior: FitPrior | None = None,
) -> tuple[FitResult, torch.Tensor]:
    """Optimisation-only baseline: fit both genders from the rest pose, keep the better.

    The default prior is :data:`FROM_REST_PRIOR`.  Returns the fit and the chosen
    gender values ``(B,)`` (−1 or +1).
    """
    prior = prior or FROM_REST_PRIOR
    results = []
    for value in (-1.0, 1.0):
        gender = torch.full((targets.shape[0],), value, device=targets.device)
        start = rest_start(body, targets, gender)
        results.append(fit_bodies(body, targets, gender, start, steps, weights, prior))
    female, male = results
    male_better = male.cost < female.cost
    pick = lambda f, m: torch.where(male_better.view(-1, *[1] * (f.ndim - 1)), m, f)  # noqa: E731
    params = BodyParams(
        pick(female.params.rotations, male.params.rotations),
        pick(female.params.betas, male.params.betas),
        pick(female.params.transl, male.params.transl),
    )
    gender = torch.where(male_better, 1.0, -1.0).to(targets.dtype)
    iterations = torch.where(male_better, male.iterations, female.iterations)
    return FitResult(params, torch.minimum(female.cost, male.cost), iterations), gender


__all__ = [
    "FROM_REST_PRIOR",
    "MAX_STEPS",
    "BodyParams",
    "FitPrior",
    "FitResult",
    "default_steps",
    "fit_bodies",
    "fit_from_rest",
    "point_confidence",
    "point_weights",
    "rest_start",
    "robust_residual",
]
