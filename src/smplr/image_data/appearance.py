"""How a synthetic person looks: skin, hair, clothes, lights; evaluated per pixel.

**Body parts.** Every vertex belongs to the SMPL part (one of 24, named after the joint)
whose skinning weight is largest; every face to the part with the largest summed weight
of its three corners.  The part segmentation of an image is the part of the visible face
at each pixel, so it is exact and costs one lookup.

**Clothing regions** (:data:`REGIONS`: skin, hair, top, bottom, shoes) are decided per
pixel from the part and three coordinates of the *rest pose* (T-pose, mean shape)
interpolated over the visible face: the position itself, the fraction along the arm
(0 at the shoulder joint, 1 at the wrist) and along the leg (0 at the hip, 1 at the
ankle).  Each person draws a sleeve length (sleeveless, short, three-quarter, long), a
leg length (shorts, knee, capri, long), a waist height, a shoe height and a hairline, so
region borders move smoothly from person to person instead of following triangles.

**Textures: 3D procedural ("solid") textures, no texture coordinates.**  A pattern is a
function of the rest-pose position, so it sticks to the body as it moves, never
stretches at a UV seam and needs no UV map of the open body model (which has none).
Patterns per region: plain, stripes, checks, noise (three summed sinusoids), dots
(prints); each with two colours, a frequency (cycles per metre) and a random direction.
Skin tones are interpolated along the ten tones of the Monk Skin Tone scale (the human
range, from lightest to darkest); hair colours from black through brown, red and blond to
grey.

**Lighting**: Lambert, a random directional light (mostly from the front and above, in
camera coordinates) over a random ambient share, with a slightly tinted light colour and a
random exposure (:func:`smplr.render.shading.diffuse_intensity`).

Example::

    table = ClothingTable.from_model(BodyModel.open("female"))
    look = sample_appearance(batch, generator)
    albedo = look.albedo(table, fragments, faces)  # (M, 3) per covered pixel
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from smplr.body.model import BodyModel
from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS
from smplr.render.rasterizer import Fragments, interpolate_visible

REGIONS: tuple[str, ...] = ("skin", "hair", "top", "bottom", "shoes")
PATTERNS: tuple[str, ...] = ("plain", "stripes", "checks", "noise", "dots")

# Monk Skin Tone scale, MST 1 (lightest) to MST 10 (darkest), sRGB.
MONK_SKIN_TONES: tuple[str, ...] = (
    "f6ede4",
    "f3e7db",
    "f7ead0",
    "eadaba",
    "d7bd96",
    "a07e56",
    "825c43",
    "604134",
    "3a312a",
    "292420",
)
HAIR_COLOURS: tuple[str, ...] = (
    "1b1512",  # black
    "3b2a1e",  # dark brown
    "5a3c26",  # brown
    "8d5b32",  # auburn
    "a8783f",  # light brown
    "d2b06e",  # blond
    "9a9a98",  # grey
    "6e2c16",  # red
)


def _hex(colours: tuple[str, ...]) -> torch.Tensor:
    return torch.tensor([[int(c[i : i + 2], 16) / 255 for i in (0, 2, 4)] for c in colours])


def _joint(name: str) -> int:
    return JOINT_NAMES.index(name)


_ARM_PARTS = [
    _joint(f"{side}_{name}")
    for side in ("left", "right")
    for name in ("shoulder", "elbow", "wrist", "hand")
]
_LEG_PARTS = [_joint(f"{side}_{name}") for side in ("left", "right") for name in ("hip", "knee")]
_FOOT_PARTS = [_joint(f"{side}_{name}") for side in ("left", "right") for name in ("ankle", "foot")]
_TORSO_PARTS = [_joint(n) for n in ("spine1", "spine2", "spine3", "left_collar", "right_collar")]


@dataclass
class ClothingTable:
    """Per-vertex and per-face constants of one mesh topology.

    Attributes:
        vertex_part: ``(V,)`` long, the SMPL part (0-23) of each vertex.
        face_part: ``(F,)`` long, the SMPL part of each face.
        coords: ``(V, 5)``: rest-pose x, y, z (metres, pelvis at 0), arm and leg fraction.
        joints: ``(24, 3)`` rest-pose joints (pelvis at 0).
    """

    vertex_part: torch.Tensor
    face_part: torch.Tensor
    coords: torch.Tensor
    joints: torch.Tensor

    @classmethod
    def from_model(cls, model: BodyModel) -> ClothingTable:
        """The table of ``model``'s topology (its mean shape in the rest pose)."""
        with torch.no_grad():
            out = model(betas=torch.zeros(1, model.num_betas, dtype=model.dtype))
        joints = (out.joints[0] - out.joints[0, :1]).float().cpu()
        rest = (out.vertices[0] - out.joints[0, :1]).float().cpu()
        weights = model.weights.float().cpu()  # (V, 24)
        faces = model.faces.long().cpu()
        vertex_part = weights.argmax(dim=1)
        face_part = weights[faces].sum(dim=1).argmax(dim=1)
        # Left side of the body is +x (SMPL faces +z).
        left = rest[:, 0] >= 0
        shoulder = torch.where(
            left[:, None], joints[_joint("left_shoulder")], joints[_joint("right_shoulder")]
        )
        wrist = torch.where(
            left[:, None], joints[_joint("left_wrist")], joints[_joint("right_wrist")]
        )
        axis = wrist - shoulder
        arm = ((rest - shoulder) * axis).sum(1) / (axis * axis).sum(1)
        hip = torch.where(left, joints[_joint("left_hip"), 1], joints[_joint("right_hip"), 1])
        ankle = torch.where(left, joints[_joint("left_ankle"), 1], joints[_joint("right_ankle"), 1])
        leg = (hip - rest[:, 1]) / (hip - ankle)
        coords = torch.cat([rest, arm[:, None], leg[:, None]], dim=1)
        return cls(vertex_part, face_part, coords, joints)


@dataclass
class Appearance:
    """Looks and lights of ``B`` people (draw them with :func:`sample_appearance`).

    Attributes:
        colour_a, colour_b: ``(B, R, 3)`` the two colours of each region's pattern (sRGB).
        pattern: ``(B, R)`` long, index into :data:`PATTERNS`.
        frequency: ``(B, R)`` cycles per metre.
        directions: ``(B, R, 2, 3)`` unit directions of the pattern.
        sleeve, leg, waist, shoe, hairline, hair_back: ``(B,)`` clothing and hair cut.
        light_direction: ``(B, 3)`` towards the light, camera coordinates.
        ambient: ``(B,)``; light_colour: ``(B, 3)`` (tint times exposure).
        skin_tone: ``(B,)`` position on the Monk scale, 0 (MST 1) to 9 (MST 10).
    """

    colour_a: torch.Tensor
    colour_b: torch.Tensor
    pattern: torch.Tensor
    frequency: torch.Tensor
    directions: torch.Tensor
    sleeve: torch.Tensor
    leg: torch.Tensor
    waist: torch.Tensor
    shoe: torch.Tensor
    hairline: torch.Tensor
    hair_back: torch.Tensor
    light_direction: torch.Tensor
    ambient: torch.Tensor
    light_colour: torch.Tensor
    skin_tone: torch.Tensor

    def regions(
        self, coords: torch.Tensor, part: torch.Tensor, image: torch.Tensor
    ) -> torch.Tensor:
        """Region index ``(M,)`` (into :data:`REGIONS`) of pixels with rest-pose ``coords
        (M, 5)`` (on the head: y and z relative to the head joint), SMPL ``part (M,)``, on
        images ``image (M,)``."""
        _x, y, z, arm, leg = coords.unbind(1)
        region = torch.zeros_like(part)  # skin
        is_arm = _member(part, _ARM_PARTS)
        top = _member(part, _TORSO_PARTS) | (is_arm & (arm < self.sleeve[image]))
        top &= y > self.waist[image]
        region = torch.where(top, 2, region)
        is_leg = _member(part, _LEG_PARTS) | _member(part, _FOOT_PARTS)
        bottom = (part == _joint("pelvis")) | (
            _member(part, _TORSO_PARTS) & (y <= self.waist[image])
        )
        bottom |= is_leg & (leg < self.leg[image])
        region = torch.where(bottom, 3, region)
        head = part == _joint("head")
        # On the head, y and z are relative to the rest head joint (see surface_at_pixels).
        hair = head & ((y > self.hairline[image]) | ((z < -0.02) & (y > self.hair_back[image])))
        region = torch.where(hair, 1, region)
        shoes = _member(part, _FOOT_PARTS) & (leg > self.shoe[image])
        return torch.where(shoes, 4, region)


def _member(values: torch.Tensor, members: list[int]) -> torch.Tensor:
    """Whether each part index of ``values`` is one of ``members`` (a table lookup)."""
    table = torch.zeros(NUM_JOINTS, dtype=torch.bool)
    table[members] = True
    return table[values]


def surface_at_pixels(
    look: Appearance, table: ClothingTable, fragments: Fragments, faces: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Albedo ``(M, 3)`` (sRGB in [0, 1]), SMPL part ``(M,)`` and clothing region ``(M,)``
    of the covered pixels (order of :meth:`Fragments.visible_pixels`)."""
    image, row, col = fragments.visible_pixels()
    part = table.face_part[fragments.face_index[image, row, col]]
    coords = interpolate_visible(table.coords, faces, fragments).float()  # (M, 5)
    head = table.joints[_joint("head")]
    local = coords.clone()
    local[:, 1] = torch.where(part == _joint("head"), coords[:, 1] - head[1], coords[:, 1])
    local[:, 2] = torch.where(part == _joint("head"), coords[:, 2] - head[2], coords[:, 2])
    region = look.regions(local, part, image)
    slot = image * len(REGIONS) + region
    flat = lambda t: t.reshape(-1, *t.shape[2:])  # noqa: E731  (B, R, ...) -> (B·R, ...)
    position = coords[:, :3]
    directions = flat(look.directions)[slot]  # (M, 2, 3)
    frequency = flat(look.frequency)[slot] * (2 * math.pi)
    s = (position * directions[:, 0]).sum(1) * frequency
    t = (position * directions[:, 1]).sum(1) * frequency
    pattern = flat(look.pattern)[slot]
    sin_s = torch.sin(s)
    sin_st = sin_s * torch.sin(t)
    stripes = (sin_s > 0).float()
    checks = (sin_st > 0).float()
    third = torch.linalg.cross(directions[:, 0], directions[:, 1], dim=1)
    u = (position * third).sum(1) * frequency
    noise = 0.5 + (torch.sin(s * 0.61 + 1.3) + torch.sin(t * 1.37 + 0.4) + torch.sin(u * 2.11)) / 6
    dots = (sin_st > 0.55).float()
    mix = torch.stack([torch.zeros_like(s), stripes, checks, noise, dots], dim=1)
    mix = mix.gather(1, pattern[:, None]).squeeze(1)
    colour_a, colour_b = flat(look.colour_a)[slot], flat(look.colour_b)[slot]
    albedo = colour_a + (colour_b - colour_a) * mix[:, None]
    return albedo, part, region


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] (any shape) -> RGB ``(..., 3)``."""
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], dim=-1)
    return v[..., None] - (v * s)[..., None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _uniform(shape: tuple[int, ...], generator: torch.Generator, low: float, high: float):
    return low + (high - low) * torch.rand(shape, generator=generator)


def sample_appearance(batch: int, generator: torch.Generator) -> Appearance:
    """Draw the looks and lights of ``batch`` people from ``generator`` (CPU)."""
    g, b, r = generator, batch, len(REGIONS)
    hue = torch.rand(b, r, 2, generator=g)
    sat = _uniform((b, r, 2), g, 0.0, 0.9)
    val = _uniform((b, r, 2), g, 0.12, 0.98)
    colours = _hsv_to_rgb(hue, sat, val)  # (B, R, 2, 3)
    colour_a, colour_b = colours[:, :, 0].clone(), colours[:, :, 1].clone()
    pattern = torch.randint(len(PATTERNS), (b, r), generator=g)
    pattern = torch.where(torch.rand(b, r, generator=g) < 0.3, 0, pattern)  # more plain
    frequency = torch.exp(_uniform((b, r), g, math.log(4.0), math.log(40.0)))
    directions = torch.nn.functional.normalize(torch.randn(b, r, 2, 3, generator=g), dim=-1)
    # Mostly horizontal stripes: the first direction leans towards the body's up axis.
    horizontal = torch.rand(b, r, generator=g) < 0.5
    directions[:, :, 0] = torch.where(
        horizontal[..., None], torch.tensor([0.0, 1.0, 0.0]), directions[:, :, 0]
    )
    # Skin: a Monk tone with a slight, low-contrast mottle.
    tones = _hex(MONK_SKIN_TONES)
    skin_tone = _uniform((b,), g, 0.0, len(MONK_SKIN_TONES) - 1.0)
    low = skin_tone.floor().long().clamp(max=len(MONK_SKIN_TONES) - 2)
    w = (skin_tone - low)[:, None]
    skin = tones[low] * (1 - w) + tones[low + 1] * w
    skin = skin * _uniform((b, 1), g, 0.85, 1.0)
    colour_a[:, 0] = skin
    colour_b[:, 0] = skin * 0.93
    pattern[:, 0] = PATTERNS.index("noise")
    frequency[:, 0] = 12.0
    hair = _hex(HAIR_COLOURS)[torch.randint(len(HAIR_COLOURS), (b,), generator=g)]
    colour_a[:, 1] = hair
    colour_b[:, 1] = hair * 0.75
    pattern[:, 1] = PATTERNS.index("stripes")
    frequency[:, 1] = 60.0
    directions[:, 1, 0] = torch.tensor([1.0, 0.0, 0.0])
    shoes_plain = torch.rand(b, generator=g) < 0.7
    pattern[:, 4] = torch.where(shoes_plain, 0, pattern[:, 4])
    # Clothing cut (fractions along arm / leg; heights in metres relative to the pelvis
    # or, for hair, to the head joint).
    sleeve = torch.tensor([0.08, 0.4, 0.75, 0.93])[torch.randint(4, (b,), generator=g)]
    leg = torch.tensor([0.25, 0.5, 0.8, 1.02])[torch.randint(4, (b,), generator=g)]
    waist = _uniform((b,), g, 0.0, 0.12)
    shoe = _uniform((b,), g, 0.82, 0.98)
    hairline = _uniform((b,), g, 0.04, 0.12)
    hair_back = _uniform((b,), g, -0.12, 0.06)
    bald = torch.rand(b, generator=g) < 0.08
    hairline = torch.where(bald, 1.0, hairline)
    hair_back = torch.where(bald, 1.0, hair_back)
    # Light: from the front half (towards the camera, -z), mostly from above (-y).
    azimuth = _uniform((b,), g, -math.pi * 0.6, math.pi * 0.6)
    elevation = _uniform((b,), g, -0.3, 1.2)
    light = torch.stack(
        [
            torch.sin(azimuth) * torch.cos(elevation),
            -torch.sin(elevation),
            -torch.cos(azimuth) * torch.cos(elevation),
        ],
        dim=1,
    )
    ambient = _uniform((b,), g, 0.25, 0.7)
    tint = 1.0 + _uniform((b, 3), g, -0.08, 0.08)
    exposure = _uniform((b, 1), g, 0.75, 1.25)
    return Appearance(
        colour_a=colour_a,
        colour_b=colour_b,
        pattern=pattern,
        frequency=frequency,
        directions=directions,
        sleeve=sleeve,
        leg=leg,
        waist=waist,
        shoe=shoe,
        hairline=hairline,
        hair_back=hair_back,
        light_direction=light,
        ambient=ambient,
        light_colour=tint * exposure,
        skin_tone=skin_tone,
    )
