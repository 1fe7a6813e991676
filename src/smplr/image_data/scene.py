"""Synthetic people rendered over backgrounds, with exact annotations (SURREAL-style).

:class:`ImageSynthesizer` turns a batch of bodies (:class:`~smplr.synthetic.mixture.
MixtureBodies`: pose sources, shapes, genders) into pictures with
:mod:`smplr.render` (the z-buffer rasteriser, Lambert light), the looks of
:mod:`smplr.image_data.appearance`, the backgrounds of :mod:`smplr.image_data.backgrounds`
and the occluders of :mod:`smplr.image_data.occluders`.

Cameras (:class:`SynthConfig` ``mode``):

- ``crop`` (the paper, 4.1): a random view (:func:`~smplr.geometry.projection.random_views`:
  any heading, elevation −10°..35°, the body 3-8 m away) and the paper's crop: a
  ``2.5 m × scale`` square centred on the mean joint, perpendicular to the optical axis,
  fills the ``size``² image.  ``rotation_degrees`` rolls the camera about its optical axis;
  ``truncation`` shifts the crop so the body is cut by the border.
- ``full``: a ``height × width`` frame from a camera with a field of view of 40-75° over
  the short side; the pelvis projects anywhere inside the frame at 2.5-10 m.  The person
  box is then the main annotation for a detector.

Annotations of one image (:data:`RECORD_KEYS`; camera frame = OpenCV axes: x right, y
down, z forward, metres):

==============  ====================  ==================================================
key             shape, type           meaning
==============  ====================  ==================================================
image           (H, W, 3) uint8       the picture (sRGB)
jl3d            (42, 3) float32       24 SMPL joints then 18 landmarks, camera frame
jl2d            (42, 2) float32       their pixels (u right, v down, centres on integers)
in_image        (42,) bool            inside the image
occluded        (42,) bool            under an occluder, or (landmarks) behind the body
visible         (42,) bool            in_image and not occluded
K               (3, 3) float32        intrinsics
betas           (10,) float32         shape
gender          () int8               −1 female, +1 male
global_orient   (3,) float32          axis-angle, root rotation in the camera frame
body_pose       (69,) float32         axis-angle, 23 joints relative to their parents
transl          (3,) float32          SMPL translation: the body model's output with
                                      these parameters is jl3d (within float precision)
pelvis_rest     (3,) float32          the rest-pose pelvis of ``betas`` (for transforms)
silhouette      (H, W) bool           the person's mask (occluders not removed)
parts           (H, W) uint8          0 background, 1 + SMPL part (24 parts, joint order)
depth           (H, W) float32        camera z of the body, 0 on background
occluders       (H, W) bool           the occluders' mask
box             (4,) float32          person box x0, y0, x1, y1 (pixels, inclusive)
==============  ====================  ==================================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.datasets.synthetic import CROP_METRES, crop_intrinsics
from smplr.geometry.projection import VIEW_TO_OPENCV, random_views
from smplr.geometry.rotations import axis_rotation, matrix_to_axis_angle
from smplr.image_data.appearance import ClothingTable, sample_appearance, surface_at_pixels
from smplr.image_data.backgrounds import Backgrounds
from smplr.image_data.occluders import draw_occluders
from smplr.render.camera import PinholeCamera, focal_from_fov
from smplr.render.rasterizer import rasterize
from smplr.render.shading import diffuse_intensity
from smplr.synthetic.bodies import SyntheticBatch

MODES = ("crop", "full")
RECORD_KEYS: tuple[str, ...] = (
    "image",
    "jl3d",
    "jl2d",
    "in_image",
    "occluded",
    "visible",
    "K",
    "betas",
    "gender",
    "global_orient",
    "body_pose",
    "transl",
    "pelvis_rest",
    "silhouette",
    "parts",
    "depth",
    "occluders",
    "box",
)
LANDMARK_DEPTH_TOLERANCE = 0.03
"""Metres: a landmark is seen when the body shown around its pixel is this close to its
depth (:func:`_visibility`)."""


@dataclass(frozen=True)
class SynthConfig:
    """What varies and how much (see the module docstring).

    Attributes:
        mode: ``crop`` (the paper's 2.5 m crop) or ``full`` (person anywhere, with a box).
        size: crop side in pixels (``crop``) or frame width (``full``).
        height: frame height of ``full`` (default: ``size * 3 // 4``).
        occluders: probability that an image gets occluders.
        truncation: probability that the crop is shifted so the border cuts the body.
        blur, noise: probability of a Gaussian blur / of pixel noise.
        procedural: share of procedural backgrounds among photos.
        rotation_degrees: in-plane camera roll, uniform in ± this (augmentation).
        scale: range of the crop size factor (augmentation; 1 = the paper's 2.5 m).
    """

    mode: str = "crop"
    size: int = 256
    height: int | None = None
    occluders: float = 0.3
    truncation: float = 0.1
    blur: float = 0.2
    noise: float = 0.3
    procedural: float = 0.3
    rotation_degrees: float = 0.0
    scale: tuple[float, float] = field(default=(1.0, 1.0))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not 16 <= self.size <= 4096 or (
            self.height is not None and not 16 <= self.height <= 4096
        ):
            raise ValueError(f"image size must be 16..4096 pixels, got {self.size}x{self.height}")
        for name in ("occluders", "truncation", "blur", "noise", "procedural"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        if not 0.0 <= self.rotation_degrees <= 180.0:
            raise ValueError(f"rotation_degrees must be in [0, 180], got {self.rotation_degrees}")
        low, high = self.scale
        if not 0.2 <= low <= high <= 5.0:
            raise ValueError(f"scale must be a range within [0.2, 5], got {self.scale}")

    @property
    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` of the images."""
        if self.mode == "crop":
            return self.size, self.size
        return (self.height or self.size * 3 // 4), self.size

    def to_json(self) -> dict:
        out = asdict(self)
        out["scale"] = list(self.scale)
        return out


def _rand(n: int, generator: torch.Generator, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


class ImageSynthesizer:
    """Renders batches of bodies into annotated pictures (see the module docstring).

    Args:
        body: the female/male body models that posed the bodies.
        config: what varies.
        backgrounds: background (and occluder texture) source.
    """

    def __init__(
        self, body: GenderedBodyModel, config: SynthConfig, backgrounds: Backgrounds
    ) -> None:
        self.body = body
        self.config = config
        self.backgrounds = backgrounds
        self.table = ClothingTable.from_model(body.female)
        self.faces = body.faces.long().cpu()

    # ------------------------------------------------------------------ cameras
    def cameras(
        self, jl: np.ndarray, generator: torch.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Intrinsics ``(B, 3, 3)``, world-to-camera rotations ``(B, 3, 3)`` and
        translations ``(B, 3)`` (float64) for root-relative ``jl (B, 42, 3)``."""
        cfg, batch = self.config, jl.shape[0]
        views = random_views(batch, generator, dtype=torch.float64)
        roll = torch.deg2rad(_rand(batch, generator, -1.0, 1.0) * cfg.rotation_degrees)
        turn = axis_rotation(roll, 2).numpy()
        rotations = turn @ (np.diag(VIEW_TO_OPENCV) @ views.rotation.numpy())
        height, width = cfg.image_size
        if cfg.mode == "crop":
            translations = np.einsum("nij,nj->ni", turn, views.root.numpy())
            scale = _rand(batch, generator, *cfg.scale).numpy()
            K = crop_intrinsics(
                jl[:, :NUM_JOINTS], rotations, translations, CROP_METRES * scale, width
            )
            cut = (torch.rand(batch, generator=generator) < cfg.truncation).numpy()
            shift = _rand(2 * batch, generator, 0.2, 0.45).numpy().reshape(batch, 2) * width
            sign = np.where(torch.rand(batch, 2, generator=generator).numpy() < 0.5, -1.0, 1.0)
            K[:, :2, 2] += np.where(cut[:, None], shift * sign, 0.0)
            return K, rotations, translations
        fov = _rand(batch, generator, 40.0, 75.0).numpy()
        focal = np.array([focal_from_fov(float(f), width, height) for f in fov])
        depth = _rand(batch, generator, 2.5, 10.0).numpy()
        u = _rand(batch, generator, 0.05, 0.95).numpy() * (width - 1)
        v = _rand(batch, generator, 0.1, 0.9).numpy() * (height - 1)
        K = np.zeros((batch, 3, 3))
        K[:, 0, 0] = K[:, 1, 1] = focal
        K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = (width - 1) / 2, (height - 1) / 2, 1.0
        root = np.stack(
            [(u - K[:, 0, 2]) / focal * depth, (v - K[:, 1, 2]) / focal * depth, depth], 1
        )
        return K, rotations, root

    # ------------------------------------------------------------------ rendering
    @torch.no_grad()
    def render(self, bodies: SyntheticBatch, generator: torch.Generator) -> dict[str, np.ndarray]:
        """Pictures and annotations of ``bodies`` (drawn with vertices): a dict of arrays
        with a leading batch dimension (keys :data:`RECORD_KEYS`) plus ``background``
        (names of the backgrounds' sources)."""
        if bodies.vertices is None:
            raise ValueError(
                "render needs bodies drawn with vertices (sample(..., with_vertices=True))"
            )
        cfg = self.config
        height, width = cfg.image_size
        batch = len(bodies)
        jl_world = bodies.jl.detach().cpu().double().numpy()
        K, R, T = self.cameras(jl_world, generator)
        Rt, Tt, Kt = (torch.as_tensor(a, dtype=torch.float32) for a in (R, T, K))
        vertices = bodies.vertices.detach().cpu().float() @ Rt.transpose(1, 2) + Tt[:, None]
        jl3d = torch.as_tensor(jl_world @ R.transpose(0, 2, 1) + T[:, None], dtype=torch.float32)
        camera = PinholeCamera.from_intrinsics(Kt, width, height)
        screen = camera.to_screen(vertices)  # (B, V, 3): pixels and depth, used twice
        fragments = rasterize(screen, self.faces, (height, width), True)
        look = sample_appearance(batch, generator)
        albedo, part, _ = surface_at_pixels(look, self.table, fragments, self.faces)
        light = diffuse_intensity(
            vertices, self.faces, fragments, look.light_direction, look.ambient
        )
        image_of_pixel = fragments.visible_pixels()[0]
        colour = (albedo * light * look.light_colour[image_of_pixel]).clamp(0.0, 1.0)
        mask = fragments.mask
        covered = fragments.visible_pixels()
        parts = torch.zeros(batch, height, width, dtype=torch.uint8)
        parts.index_put_(covered, (part + 1).to(torch.uint8))
        # The person painted straight into the backgrounds (no separate person image).
        images, names = self.backgrounds.draw(batch, height, width, generator)
        images.index_put_(covered, colour)
        jl2d = camera.project(jl3d)[0]
        boxes = _boxes(mask, screen[..., :2], width, height)
        images, occluders = draw_occluders(
            images, boxes, generator, cfg.occluders, self.backgrounds
        )
        images = _degrade(images, generator, cfg.blur, cfg.noise)
        depth = torch.where(mask, fragments.depth, torch.zeros_like(fragments.depth)).float()
        in_image, occluded = _visibility(jl2d, jl3d, depth, occluders)
        params = self._smpl_in_camera(bodies, torch.as_tensor(R), jl3d)
        return {
            "image": images.mul_(255).add_(0.5).clamp_(0, 255).to(torch.uint8).numpy(),
            "jl3d": jl3d.numpy(),
            "jl2d": jl2d.numpy(),
            "in_image": in_image.numpy(),
            "occluded": occluded.numpy(),
            "visible": (in_image & ~occluded).numpy(),
            "K": Kt.numpy(),
            **params,
            "silhouette": mask.numpy(),
            "parts": parts.numpy(),
            "depth": depth.numpy(),
            "occluders": occluders.numpy(),
            "box": boxes.numpy(),
            "background": np.array(names),
        }

    def _smpl_in_camera(
        self, bodies: SyntheticBatch, rotations: torch.Tensor, jl3d: torch.Tensor
    ) -> dict[str, np.ndarray]:
        """SMPL parameters whose body is the rendered one, in the camera frame."""
        orient = rotations.to(bodies.global_orient.dtype) @ bodies.global_orient.cpu()
        betas = bodies.betas.detach().cpu()
        gender = bodies.gender.detach().cpu()
        rest = torch.where(
            (gender > 0)[:, None],
            self.body.male.rest_joints(betas.to(self.body.male.dtype))[:, 0],
            self.body.female.rest_joints(betas.to(self.body.female.dtype))[:, 0],
        ).float()
        # A global rotation turns the body about its root joint: the body model's root with
        # zero translation is the rest pelvis, so the translation moves it onto jl3d's root.
        return {
            "betas": betas.float().numpy(),
            "gender": gender.sign().to(torch.int8).numpy(),
            "global_orient": matrix_to_axis_angle(orient).float().numpy(),
            "body_pose": matrix_to_axis_angle(bodies.body_pose.cpu())
            .reshape(len(bodies), -1)
            .float()
            .numpy(),
            "transl": (jl3d[:, 0] - rest).numpy(),
            "pelvis_rest": rest.numpy(),
        }


def _boxes(mask: torch.Tensor, pixels: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Person boxes ``(B, 4)`` x0, y0, x1, y1: the silhouette's extent, or where it is
    empty the projected vertices' extent clipped to the image."""
    batch = mask.shape[0]
    cols, rows = mask.any(dim=1), mask.any(dim=2)  # (B, W), (B, H)
    xs = torch.arange(width, dtype=torch.float32)
    ys = torch.arange(height, dtype=torch.float32)
    big = 1e9
    x0 = torch.where(cols, xs, big).amin(1)
    x1 = torch.where(cols, xs, -big).amax(1)
    y0 = torch.where(rows, ys, big).amin(1)
    y1 = torch.where(rows, ys, -big).amax(1)
    boxes = torch.stack([x0, y0, x1, y1], 1)
    lo = pixels.amin(1).clamp(min=0.0)
    hi = torch.minimum(pixels.amax(1), torch.tensor([width - 1.0, height - 1.0]))
    fallback = torch.cat([lo, hi], 1).float()
    empty = ~mask.reshape(batch, -1).any(1)
    return torch.where(empty[:, None], fallback, boxes)


def _visibility(
    jl2d: torch.Tensor, jl3d: torch.Tensor, depth: torch.Tensor, occluders: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``in_image`` and ``occluded`` ``(B, 42)`` bool (see :data:`RECORD_KEYS`).

    A landmark (a mesh vertex) is behind the body unless some pixel of the 3 × 3 window
    around it shows the body within :data:`LANDMARK_DEPTH_TOLERANCE` of its depth (a
    window, because a vertex on the contour may fall just outside the pixel centres that
    its own faces cover).  Joints lie inside the body: no such test.
    """
    batch, height, width = depth.shape
    u, v = jl2d[..., 0].round(), jl2d[..., 1].round()
    in_image = (u >= 0) & (u <= width - 1) & (v >= 0) & (v <= height - 1) & (jl3d[..., 2] > 0)
    col = u.clamp(0, width - 1).long()
    row = v.clamp(0, height - 1).long()
    image = torch.arange(batch)[:, None].expand_as(col)
    occluded = occluders[image, row, col] & in_image
    offsets = torch.tensor([-1, 0, 1])
    rows = (row[..., None, None] + offsets[:, None]).clamp(0, height - 1)  # (B, K, 3, 1)
    cols = (col[..., None, None] + offsets[None, :]).clamp(0, width - 1)  # (B, K, 1, 3)
    window = depth[image[..., None, None], rows, cols].flatten(2)  # (B, K, 9)
    seen = ((window - jl3d[..., 2:]).abs() < LANDMARK_DEPTH_TOLERANCE) & (window > 0)
    behind = ~seen.any(-1)
    behind[:, :NUM_JOINTS] = False
    return in_image, occluded | (behind & in_image)


def _degrade(
    images: torch.Tensor, generator: torch.Generator, blur: float, noise: float
) -> torch.Tensor:
    """Random Gaussian blur (σ 0.5-1.5 px) and uniform pixel noise (σ up to 0.04) on some
    of ``images (B, H, W, 3)`` in [0, 1], changed in place (and returned): only the
    images that get either are touched."""
    batch = images.shape[0]
    blurred = torch.rand(batch, generator=generator) < blur
    sigma = 0.5 + torch.rand(batch, generator=generator)
    noisy = torch.rand(batch, generator=generator) < noise
    strength = 0.04 * torch.rand(batch, generator=generator)
    if bool(blurred.any()):
        rows = torch.nonzero(blurred).flatten()
        taps = torch.arange(-2, 3, dtype=torch.float32)
        kernels = torch.exp(-(taps**2) / (2 * sigma[rows, None] ** 2))
        kernels = (kernels / kernels.sum(1, keepdim=True)).repeat_interleave(3, 0)  # (3n, 5)
        # A separable 5-tap Gaussian, one group per channel of each image (measured: the
        # fastest of grouped convolution, shared-kernel convolution and shifted sums).
        chw = images[rows].permute(0, 3, 1, 2).reshape(1, -1, *images.shape[1:3])
        groups = chw.shape[1]
        x = F.conv2d(
            F.pad(chw, (2, 2, 0, 0), mode="replicate"), kernels.view(groups, 1, 1, 5), groups=groups
        )
        x = F.conv2d(
            F.pad(x, (0, 0, 2, 2), mode="replicate"), kernels.view(groups, 1, 5, 1), groups=groups
        )
        x = x.view(len(rows), 3, *images.shape[1:3]).permute(0, 2, 3, 1)
        images.index_copy_(0, rows, x)
    rows_noisy = torch.nonzero(noisy).flatten()
    if rows_noisy.numel():
        # Uniform grain with standard deviation `strength` (cheaper to draw than Gaussian).
        grain = torch.rand((rows_noisy.numel(), *images.shape[1:]), generator=generator)
        grain = (grain - 0.5) * 12**0.5
        images.index_add_(0, rows_noisy, strength[rows_noisy, None, None, None] * grain)
    for row in torch.nonzero(blurred | noisy).flatten().tolist():
        images[row].clamp_(0.0, 1.0)  # the others are in [0, 1] already
    return images
