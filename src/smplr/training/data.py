"""Training data: a fixed pool of synthetic bodies, minibatches from it, input corruption.

SMPLR's networks train on "millions of generated mocap-like data" (paper 3.2).  Drawing
poses is the slow part of generating bodies, so a run draws a pool once (cached in the
run folder, keyed by seed and size) and every step picks a random minibatch from it; the
corruption (noise models, 2D projection, masked landmarks) is drawn fresh each step, so
the DAE never sees the same input twice.  All randomness of a step comes from one
``torch.Generator`` whose state is checkpointed: a resumed run draws exactly what an
uninterrupted one would.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from rich.progress import Progress

from smplr.atomic_io import save_npz_atomic
from smplr.body.keypoints import KEYPOINT_FORMATS, NUM_SITES, SITE_NAMES, mirror_name
from smplr.geometry.projection import pixels_to_root_plane, project_to_pixels, random_views
from smplr.input_formats import INPUT_FORMATS, MIN_VISIBLE, centre_sites
from smplr.synthetic.noise import (
    bounded_uniform_noise,
    detector_noise,
    gaussian_noise,
    structured_noise,
)


@dataclass
class PoolBatch:
    """Ground truth of B bodies: ``jl (B, 42, 3)`` root-relative metres,
    ``rotations (B, 24, 3, 3)`` (global_orient then body_pose), ``betas (B, 10)``,
    ``gender (B,)`` in {−1, +1}."""

    jl: torch.Tensor
    rotations: torch.Tensor
    betas: torch.Tensor
    gender: torch.Tensor

    def __len__(self) -> int:
        return self.jl.shape[0]

    def index(self, rows: torch.Tensor) -> PoolBatch:
        return PoolBatch(*(getattr(self, f.name)[rows] for f in fields(self)))

    def to(self, device: torch.device | str) -> PoolBatch:
        return PoolBatch(*(getattr(self, f.name).to(device) for f in fields(self)))


class BodySampler(Protocol):
    """What draws synthetic bodies (``smplr.synthetic.bodies.SyntheticBodies``)."""

    def sample(self, batch: int, with_vertices: bool = False): ...


def draw_pool(
    sampler: BodySampler, size: int, chunk: int = 4096, label: str = "bodies"
) -> PoolBatch:
    """``size`` bodies from ``sampler``, drawn in chunks, with a progress bar."""
    parts = []
    with Progress(transient=True) as progress:
        task = progress.add_task(f"drawing {size} {label}", total=size)
        for start in range(0, size, chunk):
            batch = sampler.sample(min(chunk, size - start))
            rotations = torch.cat([batch.global_orient[:, None], batch.body_pose], dim=1)
            parts.append(PoolBatch(batch.jl, rotations, batch.betas, batch.gender))
            progress.advance(task, len(batch.jl))
    return PoolBatch(
        *(torch.cat([getattr(p, f.name) for p in parts]).float() for f in fields(PoolBatch))
    )


_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)


def _unreadable(path: Path, exc: Exception) -> None:
    warnings.warn(
        f"{path}: unreadable pool cache ({type(exc).__name__}), drawing it again", stacklevel=3
    )


def pool_key(path: Path) -> dict[str, str] | None:
    """The key the pool cached at ``path`` was drawn with (values as strings), or None
    when there is no readable cache there."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {
                n.removeprefix("key_"): str(data[n]) for n in data.files if n.startswith("key_")
            }
    except _UNREADABLE as exc:
        _unreadable(path, exc)
        return None


def cached_pool(
    path: Path, make: Callable[[], PoolBatch], key: dict, fixed: tuple[str, ...] = ()
) -> PoolBatch:
    """The pool stored at ``path`` if it was made with ``key``, else ``make()`` stored there
    (atomically).  An unreadable cache (truncated, foreign) is drawn again, with a warning;
    a cache made with other values of the ``fixed`` keys is refused (ValueError)."""
    stored = pool_key(path)
    if stored is not None:
        for name in fixed:
            if stored.get(name) != str(key[name]):
                raise ValueError(
                    f"{path}: drawn with {name} '{stored.get(name, 'unrecorded')}', not "
                    f"'{key[name]}'; use another run folder"
                )
        if all(stored.get(k) == str(v) for k, v in key.items()):
            try:
                with np.load(path, allow_pickle=False) as data:
                    return PoolBatch(*(torch.from_numpy(data[f.name]) for f in fields(PoolBatch)))
            except _UNREADABLE as exc:
                _unreadable(path, exc)
    pool = make()
    arrays = {f.name: getattr(pool, f.name).cpu().numpy() for f in fields(PoolBatch)}
    arrays.update({f"key_{k}": np.array(str(v)) for k, v in key.items()})
    save_npz_atomic(path, arrays, compress=False)
    return pool


def minibatch(pool: PoolBatch, batch_size: int, generator: torch.Generator) -> PoolBatch:
    """``batch_size`` bodies drawn uniformly (with replacement) from the pool."""
    rows = torch.randint(0, len(pool), (batch_size,), generator=generator, device=generator.device)
    return pool.index(rows.to(pool.jl.device))


NoiseModel = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def view_rotations(batch: PoolBatch, generator: torch.Generator, fraction: float) -> torch.Tensor:
    """Per sample, the rotation into a random camera's view frame
    (:func:`smplr.geometry.projection.random_views`) with probability ``fraction``, else
    the identity: ``(B, 3, 3)``."""
    views = random_views(len(batch), generator, batch.jl.device, batch.jl.dtype)
    keep = torch.rand(len(batch), generator=generator, device=generator.device) >= fraction
    eye = torch.eye(3, dtype=batch.jl.dtype, device=batch.jl.device)
    return torch.where(keep.to(batch.jl.device)[:, None, None], eye, views.rotation)


def rotate(batch: PoolBatch, rotation: torch.Tensor) -> PoolBatch:
    """The bodies turned by ``rotation (B, 3, 3)`` about the root: JL and global orientation."""
    rotations = batch.rotations.clone()
    rotations[:, 0] = rotation @ batch.rotations[:, 0]
    return PoolBatch(batch.jl @ rotation.transpose(1, 2), rotations, batch.betas, batch.gender)


@dataclass
class Corruption:
    """How the DAE's training pairs are made from ground truth.

    ``noise_models``: functions ``(jl, generator) -> noisy jl``; each sample gets one of
    them, or stays clean with probability ``clean_fraction``.  3D inputs are seen from a
    random camera with probability ``view_fraction`` (else in the body's own frame);
    2D inputs always are: the noisy JL is projected by a random perspective camera and
    brought back to the metric root-plane form (:mod:`smplr.geometry.projection`) —
    the form ``smplr fit --input-format 2d`` produces from pixels.
    """

    noise_models: tuple[NoiseModel, ...]
    clean_fraction: float = 0.2
    view_fraction: float = 0.5

    def noisy(self, jl: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Each sample clean or corrupted by one noise model, chosen at random."""
        count = len(self.noise_models)
        pick = torch.randint(0, count, (jl.shape[0],), generator=generator, device=generator.device)
        clean = (
            torch.rand(jl.shape[0], generator=generator, device=generator.device)
            < self.clean_fraction
        )
        out = jl.clone()
        for k, model in enumerate(self.noise_models):
            rows = torch.nonzero((pick == k) & ~clean).squeeze(1).to(jl.device)
            if rows.numel():
                out[rows] = model(jl[rows], generator)
        return out - out[:, :1]  # the input is root-relative, like the user's

    def dae_example(
        self, batch: PoolBatch, input_format: str, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(input, target)``: the corrupted input in ``input_format``'s shape (see
        :mod:`smplr.input_formats`: the first ``points`` of the noisy JL; 2D formats a
        projected view of it) and the clean JL ``(B, 42, 3)`` it should become."""
        fmt = INPUT_FORMATS[input_format]
        if fmt.dims == 2:
            views = random_views(len(batch), generator, batch.jl.device, batch.jl.dtype)
            turn = views.rotation.transpose(1, 2)
            # Noise in the camera's frame, so depth-type errors are errors along its axis.
            pixels = project_to_pixels(
                self.noisy(batch.jl @ turn, generator), views.root, views.intrinsics
            )
            flat = pixels_to_root_plane(pixels, views.intrinsics, views.root[:, 2])
            return flat[..., :2], batch.jl @ turn
        turned = rotate(batch, view_rotations(batch, generator, self.view_fraction))
        noisy = self.noisy(turned.jl, generator)
        return noisy[:, : fmt.points], turned.jl


# Sites lost when a picture ends at the hips (a truncated body).
_LOWER_SITES = tuple(
    k
    for k, n in enumerate(SITE_NAMES)
    if any(p in n for p in ("knee", "ankle", "foot", "heel", "toe"))
)


@dataclass
class KeypointCorruption:
    """How the keypoint DAE's training examples are made (:class:`smplr.dae.KeypointDAE`).

    Per body: a detector format drawn uniformly (its keypoints are the observed sites),
    2D with probability ``planar_fraction`` (seen by a random perspective camera and
    brought back to the root plane, :mod:`smplr.geometry.projection`) else 3D (from a
    random camera with probability ``view_fraction``), detector-like noise
    (:func:`smplr.synthetic.noise.detector_noise`: jitter up to ``max_sigma`` metres,
    outliers, left/right swaps), then each keypoint missing with a per-body probability
    ~ U(0, ``max_missing``), and with probability ``truncate_rate`` the legs below the
    hips all missing (a picture cut at the waist).  At least :data:`MIN_VISIBLE`
    keypoints stay.
    """

    max_missing: float = 0.45
    max_sigma: float = 0.03
    truncate_rate: float = 0.1
    planar_fraction: float = 0.5
    view_fraction: float = 0.5

    def example(
        self, sites: torch.Tensor, jl: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``sites (B, 57, 3)`` and ``jl (B, 42, 3)`` root-relative ground truth ->
        ``(sites, mask, planar, target)``: the DAE's inputs (centred on the visible
        keypoints, as :func:`smplr.input_formats.keypoint_dae_input` makes them) and the
        JL ``(B, 42, 3)`` it should output, in the same frame."""
        batch, device = sites.shape[0], sites.device

        def uniform(*shape: int) -> torch.Tensor:
            return torch.rand(*shape, generator=generator, device=generator.device).to(device)

        formats = torch.zeros(len(KEYPOINT_FORMATS), NUM_SITES, dtype=torch.bool, device=device)
        for k, fmt in enumerate(KEYPOINT_FORMATS.values()):
            formats[k, list(fmt.site_index)] = True
        observed = formats[(uniform(batch) * len(formats)).long().clamp_max(len(formats) - 1)]
        planar = uniform(batch) < self.planar_fraction
        views = random_views(batch, generator, device, sites.dtype)
        turn = (uniform(batch) < self.view_fraction) | planar
        eye = torch.eye(3, dtype=sites.dtype, device=device).expand(batch, 3, 3)
        rotation = torch.where(turn[:, None, None], views.rotation, eye).transpose(1, 2)
        sites, jl = sites @ rotation, jl @ rotation
        mirror = torch.tensor([SITE_NAMES.index(mirror_name(n)) for n in SITE_NAMES])
        noisy = detector_noise(sites, mirror, generator, max_sigma=self.max_sigma)
        # Relative to the true root (appended as a last point), not a noisy keypoint:
        # the target frame must not move with the noise.
        with_root = torch.cat([noisy, torch.zeros_like(noisy[:, :1])], dim=1)
        pixels = project_to_pixels(with_root, views.root, views.intrinsics)
        plane = pixels_to_root_plane(pixels, views.intrinsics, views.root[:, 2], NUM_SITES)
        points = torch.where(planar[:, None, None], plane[:, :NUM_SITES], noisy)
        missing = uniform(batch, NUM_SITES) < self.max_missing * uniform(batch, 1)
        truncated = uniform(batch) < self.truncate_rate
        missing[:, list(_LOWER_SITES)] |= truncated[:, None]
        visible = observed & ~missing
        few = visible.sum(1) < MIN_VISIBLE
        visible = torch.where(few[:, None], observed, visible)
        mask = visible.to(sites.dtype)
        centred, centre = centre_sites(points, mask)
        return centred, mask, planar.to(sites.dtype), jl - centre[:, None]


def default_corruption() -> Corruption:
    """The three noise models of :mod:`smplr.synthetic.noise` with their defaults."""
    return Corruption(noise_models=(gaussian_noise, bounded_uniform_noise, structured_noise))


def jitter(jl: torch.Tensor, max_sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Ω/Ψ input augmentation: Gaussian noise with a per-sample σ ~ U(0, max_sigma) metres
    on every point but the root."""
    sigma = max_sigma * torch.rand(jl.shape[0], 1, 1, generator=generator, device=generator.device)
    noise = torch.randn(jl.shape, generator=generator, device=generator.device) * sigma
    noise[:, 0] = 0
    return jl + noise.to(jl.device)
