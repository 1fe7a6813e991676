"""Canned BlazePose detections of a known body, for ``smplr predict`` tests without
MediaPipe: the body model's own BlazePose-33 sites, seen by a known camera."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from smplr.body.keypoints import BLAZEPOSE33, SiteBody
from smplr.body.model import GenderedBodyModel
from smplr.geometry.rotations import axis_angle_to_matrix
from smplr.predict.detector import PoseDetection
from smplr.predict.placement import FLIP, intrinsics, project


@dataclass
class CannedPerson:
    detection: PoseDetection
    joints: np.ndarray  # (24, 3) the true joints, camera frame
    K: np.ndarray


def canned_person(
    width: int = 640,
    height: int = 480,
    depth: float = 3.0,
    offset: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
) -> CannedPerson:
    """A female open body, arms down, ``depth`` metres in front of a camera with the
    default intrinsics, moved ``offset`` metres right/down; ``scale`` shrinks the mask
    area the detection reports (a smaller person)."""
    body = GenderedBodyModel.open()
    rotations = torch.eye(3).expand(1, 24, 3, 3).clone()
    rotations[0, 16] = axis_angle_to_matrix(torch.tensor([0.0, 0.0, -1.2]))  # left shoulder
    rotations[0, 17] = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 1.2]))  # right shoulder
    with torch.no_grad():
        sites, jl = SiteBody(body)(torch.tensor([-1.0]), torch.zeros(1, 10), rotations)
    points = sites[0, list(BLAZEPOSE33.site_index)].double().numpy()
    shift = np.array([offset[0], offset[1], depth])
    camera = points * FLIP + shift
    joints = jl[0, :24].double().numpy() * FLIP + shift
    K = intrinsics(width, height)
    pixels = project(camera, K)
    hips = camera[[23, 24]].mean(0)
    mask = np.zeros((height, width), dtype=np.float32)
    u0, v0 = np.clip(pixels.min(0), 0, [width - 1, height - 1]).astype(int)
    u1, v1 = np.clip(pixels.max(0), 0, [width - 1, height - 1]).astype(int)
    mask[v0 : v0 + max(1, int((v1 - v0) * scale)), u0 : u0 + max(1, int((u1 - u0) * scale))] = 1
    detection = PoseDetection(pixels, np.ones(33), camera - hips, mask)
    return CannedPerson(detection, joints, K)


class FakeDetector:
    """Returns canned people by image width (unknown widths: nobody)."""

    def __init__(self, people_by_width: dict[int, list[PoseDetection]]) -> None:
        self.people_by_width = people_by_width
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[PoseDetection]:
        self.calls += 1
        return list(self.people_by_width.get(image.shape[1], []))
