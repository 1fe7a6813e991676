"""People in a photo through MediaPipe's BlazePose, offline (``pip install 'smplr[photos]'``).

BlazePose (``mediapipe==0.10.21``'s ``mp.solutions.pose``, model_complexity 1: the
``pose_landmark_full.tflite`` inside the wheel; nothing is downloaded) gives per person
33 landmarks: pixels, a visibility in [0, 1], *world* landmarks (metres, origin half way
between the hips, axes of the image: x right, y down, z away from the camera) and a
person mask.

BlazePose follows one person per image.  To see a second one, :class:`MediaPipeDetector`
covers the first person found (its mask, grown, and the box of its landmarks) with grey
and looks again, up to ``max_people`` times; :func:`smplr.predict.selection.pick_person`
then chooses whom to fit.

MediaPipe is imported only when a detector is built; without the extra,
:func:`require_mediapipe` raises a one-line ``ValueError`` saying what to install.
Anything with a ``detect(image) -> list[PoseDetection]`` method is a :class:`Detector`
(tests use canned landmarks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from smplr.body.keypoints import BLAZEPOSE33
from smplr.predict.media import quiet_native_stderr

NUM_BLAZEPOSE = BLAZEPOSE33.count  # 33, in MediaPipe's PoseLandmark order
VISIBLE = 0.5
"""Visibility above which a landmark counts as seen (BlazePose's own drawing threshold)."""


@dataclass
class PoseDetection:
    """One person found in an image of ``H × W`` pixels.

    ``pixels (33, 2)`` landmark positions (u right, v down; may lie outside the image),
    ``visibility (33,)`` in [0, 1], ``world (33, 3)`` metres, hip-centred, image axes
    (x right, y down, z away from the camera), ``mask (H, W) float32`` in [0, 1] or None.
    """

    pixels: np.ndarray
    visibility: np.ndarray
    world: np.ndarray
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        shapes = {
            "pixels": (NUM_BLAZEPOSE, 2),
            "visibility": (NUM_BLAZEPOSE,),
            "world": (NUM_BLAZEPOSE, 3),
        }
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"detection {name} has shape {value.shape}; expected {shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"detection {name} contains NaN or inf")
            setattr(self, name, value)

    @property
    def visible(self) -> np.ndarray:
        """``(33,)`` bool: landmarks seen (visibility above :data:`VISIBLE`)."""
        return self.visibility > VISIBLE

    def box(self) -> np.ndarray:
        """``(4,)`` ``u0, v0, u1, v1``: the box of the visible landmarks (all when none is)."""
        points = self.pixels[self.visible] if self.visible.any() else self.pixels
        return np.concatenate([points.min(0), points.max(0)])

    def area(self) -> float:
        """How big the person is, in pixels: the mask's area when there is a mask, else the
        area of :meth:`box`."""
        if self.mask is not None:
            return float((self.mask > 0.5).sum())
        u0, v0, u1, v1 = self.box()
        return float(max(u1 - u0, 0.0) * max(v1 - v0, 0.0))


class Detector(Protocol):
    """What ``smplr predict`` needs from a detector: every person found in an RGB image."""

    def detect(self, image: np.ndarray) -> list[PoseDetection]: ...


def require_mediapipe() -> Any:
    """The ``mediapipe`` module, or a one-line ``ValueError`` saying how to install it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import mediapipe
    except ImportError:
        raise ValueError(
            "the mediapipe detector needs the photos extra: pip install 'smplr[photos]' "
            "(see docs/photos.md for numpy 2), or use --keypoints shn (smplr's own image "
            "model, no extra)"
        ) from None
    return mediapipe


def box_iou(first: np.ndarray, second: np.ndarray) -> float:
    """Intersection over union of two boxes ``(4,)`` ``u0, v0, u1, v1``."""
    low = np.maximum(first[:2], second[:2])
    high = np.minimum(first[2:], second[2:])
    inter = float(np.prod(np.clip(high - low, 0.0, None)))
    union = float(np.prod(first[2:] - first[:2]) + np.prod(second[2:] - second[:2])) - inter
    return inter / union if union > 0 else 0.0


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask (H, W) bool`` dilated by a square of ``2·pixels + 1`` (separable max filter)."""
    grown = mask.copy()
    for axis in (0, 1):
        padded = np.moveaxis(grown, axis, 0)
        out = padded.copy()
        for shift in range(1, pixels + 1):
            out[shift:] |= padded[:-shift]
            out[:-shift] |= padded[shift:]
        grown = np.moveaxis(out, 0, axis)
    return grown


def cover_person(image: np.ndarray, detection: PoseDetection) -> np.ndarray:
    """A copy of ``image (H, W, 3) uint8`` with ``detection``'s person painted grey: its
    mask grown by 2 % of the image size, or the box of its landmarks grown by 10 % when
    there is no mask.  Looking again in the result finds someone else."""
    height, width = image.shape[:2]
    covered = image.copy()
    if detection.mask is not None:
        region = _grow(detection.mask > 0.5, max(1, round(0.02 * max(height, width))))
    else:
        u0, v0, u1, v1 = detection.box()
        pad_u, pad_v = 0.1 * (u1 - u0) + 2, 0.1 * (v1 - v0) + 2
        region = np.zeros((height, width), dtype=bool)
        rows = slice(max(int(v0 - pad_v), 0), max(int(v1 + pad_v) + 1, 0))
        cols = slice(max(int(u0 - pad_u), 0), max(int(u1 + pad_u) + 1, 0))
        region[rows, cols] = True
    covered[region] = 128
    return covered


class MediaPipeDetector:
    """BlazePose (MediaPipe) on single images: up to ``max_people`` people per image.

    ``model_complexity`` 1 is the full model inside the wheel (0 and 2 need model files
    the wheel lacks); ``min_confidence`` is MediaPipe's detection threshold.
    """

    def __init__(
        self, max_people: int = 2, model_complexity: int = 1, min_confidence: float = 0.5
    ) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be >= 1, got {max_people}")
        mediapipe = require_mediapipe()
        self.max_people = max_people
        with quiet_native_stderr():
            self._pose = mediapipe.solutions.pose.Pose(
                static_image_mode=True,
                model_complexity=model_complexity,
                enable_segmentation=True,
                min_detection_confidence=min_confidence,
            )
            # MediaPipe starts its graph on threads that log as they open: run it once
            # here so that the start-up chatter falls inside the silenced block.
            self._pose.process(np.zeros((64, 64, 3), dtype=np.uint8))

    def _detect_one(self, image: np.ndarray) -> PoseDetection | None:
        with quiet_native_stderr():  # MediaPipe logs its graph's warnings on first use
            result = self._pose.process(np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return None
        height, width = image.shape[:2]
        marks = result.pose_landmarks.landmark
        pixels = np.array([[m.x * width, m.y * height] for m in marks])
        visibility = np.array([m.visibility for m in marks])
        world = np.array([[m.x, m.y, m.z] for m in result.pose_world_landmarks.landmark])
        mask = None
        if result.segmentation_mask is not None:
            mask = np.asarray(result.segmentation_mask, dtype=np.float32)
        return PoseDetection(pixels, visibility, world, mask)

    def detect(self, image: np.ndarray) -> list[PoseDetection]:
        """People in ``image (H, W, 3) uint8`` RGB, in the order found."""
        found: list[PoseDetection] = []
        current = image
        for _ in range(self.max_people):
            detection = self._detect_one(current)
            if detection is None or any(box_iou(detection.box(), d.box()) > 0.5 for d in found):
                break  # nobody else, or the same person again through the grey
            found.append(detection)
            current = cover_person(current, detection)
        return found

    def close(self) -> None:
        self._pose.close()


def grow_box(box: np.ndarray, factor: float, width: int, height: int) -> tuple[int, int, int, int]:
    """``box (4,)`` grown to a square ``factor`` times its longer side about its centre,
    clipped to the image: integer ``u0, v0, u1, v1`` (exclusive ends)."""
    centre = (box[:2] + box[2:]) / 2
    half = factor * max(float(box[2] - box[0]), float(box[3] - box[1]), 16.0) / 2
    u0, v0 = np.floor(centre - half).astype(int)
    u1, v1 = np.ceil(centre + half).astype(int) + 1
    return max(u0, 0), max(v0, 0), min(u1, width), min(v1, height)


def detect_in_region(
    detector: Detector, image: np.ndarray, region: tuple[int, int, int, int]
) -> list[PoseDetection]:
    """People found in ``image[v0:v1, u0:u1]`` (``region`` = ``u0, v0, u1, v1``), in the
    whole image's pixels (masks pasted back at full size).  A small person far from the
    camera is found in a crop around where they were when the whole frame shows nobody:
    BlazePose's person detector looks at a 224-pixel copy of its input."""
    u0, v0, u1, v1 = region
    if u1 - u0 < 8 or v1 - v0 < 8:
        return []
    found = detector.detect(np.ascontiguousarray(image[v0:v1, u0:u1]))
    height, width = image.shape[:2]
    moved = []
    for person in found:
        mask = None
        if person.mask is not None and person.mask.shape == (v1 - v0, u1 - u0):
            mask = np.zeros((height, width), dtype=np.float32)
            mask[v0:v1, u0:u1] = person.mask
        moved.append(
            PoseDetection(person.pixels + np.array([u0, v0]), person.visibility, person.world, mask)
        )
    return moved


def tiles(
    width: int, height: int, grid: int = 2, overlap: float = 0.25
) -> list[tuple[int, int, int, int]]:
    """``grid × grid`` overlapping regions ``u0, v0, u1, v1`` covering a ``width × height``
    image, neighbours sharing ``overlap`` of a tile."""
    regions = []
    tile_w = width / (grid - (grid - 1) * overlap)
    tile_h = height / (grid - (grid - 1) * overlap)
    for row in range(grid):
        for col in range(grid):
            u0 = round(col * tile_w * (1 - overlap))
            v0 = round(row * tile_h * (1 - overlap))
            regions.append(
                (u0, v0, min(round(u0 + tile_w), width), min(round(v0 + tile_h), height))
            )
    return regions


def find_people(
    detector: Detector, image: np.ndarray, previous: np.ndarray | None = None
) -> list[PoseDetection]:
    """Everyone ``detector`` finds in ``image``, looking where it pays first:

    1. with ``previous`` (the box ``(4,)`` followed in the last video frame), in a crop
       twice its size around it — done when someone there overlaps ``previous``;
    2. in the whole image (people of both looks, each once);
    3. when still nobody: in 2 × 2 overlapping tiles (people small in a large picture),
       keeping each person once.
    """
    height, width = image.shape[:2]
    found: list[PoseDetection] = []

    def add(people: list[PoseDetection]) -> None:
        for person in people:
            if all(box_iou(person.box(), other.box()) <= 0.5 for other in found):
                found.append(person)

    if previous is not None:
        add(detect_in_region(detector, image, grow_box(previous, 2.0, width, height)))
        if any(box_iou(person.box(), previous) > 0 for person in found):
            return found
    add(detector.detect(image))
    if found:
        return found
    for region in tiles(width, height):
        add(detect_in_region(detector, image, region))
    return found
