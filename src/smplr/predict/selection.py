"""Whom to fit when a photo shows several people, and who is who across video frames.

A photo: the largest person (by mask area, else landmark box; see
:meth:`smplr.predict.detector.PoseDetection.area`), with a note saying how many were
seen.  A video: the largest person of the first frame with someone in it, then in each
frame the person whose landmark box overlaps the previous choice most (largest again
when nobody overlaps it by more than 0.1 IoU, even if only one person is in view: a
note says the track was lost, and the caller smooths the stretches apart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smplr.predict.detector import PoseDetection, box_iou


@dataclass(frozen=True)
class Choice:
    """The chosen detection's ``index`` and a ``note`` for the user ('' when nothing to
    say)."""

    index: int
    note: str


def pick_person(detections: list[PoseDetection], previous: np.ndarray | None = None) -> Choice:
    """Choose one of ``detections`` (at least one): the largest, or with ``previous``
    (the last chosen box ``(4,)``) the one overlapping it most.

    Raises ValueError on an empty list (the caller reports "no person").
    """
    if not detections:
        raise ValueError("no person found")
    areas = [d.area() for d in detections]
    largest = int(np.argmax(areas))
    if previous is not None:
        overlaps = [box_iou(d.box(), previous) for d in detections]
        best = int(np.argmax(overlaps))
        if overlaps[best] > 0.1:
            return Choice(best, "")
        return Choice(largest, "track lost: followed the largest person in view")
    if len(detections) == 1:
        return Choice(0, "")
    return Choice(largest, f"{len(detections)} people found: fitted the largest")
