"""Regenerate docs/images/photo_gallery.png: ``smplr predict`` on the real photos and the
video that ship inside packages, overlays side by side with what the command said.

    pip install 'smplr[photos]' scikit-image && pip install --no-deps sports2d==0.8.34
    python tools/photo_gallery.py --out docs/images/photo_gallery.png

Photos: scikit-image's astronaut (head to waist) and camera (head to knees), matplotlib's
grace_hopper.jpg (head and shoulders), and astronaut + camera side by side (two people:
the largest is fitted).  Video: Sports2D's Demo/demo.mp4 (BSD-3-Clause), every 4th frame.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from matplotlib import cbook
from PIL import Image

from smplr.atomic_io import save_figure_atomic
from smplr.predict import PredictOptions, Predictor, predict_files


def sample_photos(folder: Path) -> list[Path]:
    """The sample photos written into ``folder`` as PNG / JPEG files."""
    from skimage import data

    astronaut = data.astronaut()
    camera = np.repeat(data.camera()[..., None], 3, axis=2)
    photos = {
        "astronaut.png": astronaut,
        "camera.png": camera,
        "two_people.png": np.concatenate([astronaut, camera], axis=1),
    }
    paths = []
    for name, pixels in photos.items():
        Image.fromarray(pixels).save(folder / name)
        paths.append(folder / name)
    grace = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    paths.insert(2, grace)
    return paths


def demo_video() -> Path:
    spec = importlib.util.find_spec("Sports2D")
    if spec is None or spec.origin is None:
        raise SystemExit("pip install --no-deps sports2d==0.8.34 (for Demo/demo.mp4)")
    return Path(spec.origin).parent / "Demo" / "demo.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/photo_gallery.png"))
    parser.add_argument("--frame-step", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = sample_photos(work)
        predictor = Predictor()
        out = work / "out"
        options = PredictOptions(frame_step=args.frame_step, video=False, strip_frames=4)
        reports = predict_files([*photos, demo_video()], out, predictor, options, print)
        summary = {r["name"]: r for r in json.loads((out / "summary.json").read_text())}
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        figure = plt.figure(figsize=(16, 15), dpi=100)
        grid = figure.add_gridspec(3, 4, height_ratios=[1.25, 1.6, 1.0], hspace=0.2, wspace=0.04)
        for column, path in enumerate(photos):
            axis = figure.add_subplot(grid[0, column])
            axis.imshow(Image.open(out / "overlays" / f"{path.stem}.png"))
            notes = [n for n in summary[path.name]["notes"] if not n.startswith("reprojection")]
            caption = "\n".join(_wrap(n) for n in notes) or "all parts visible"
            axis.set_title(f"{path.name}\n{caption}", fontsize=8.5)
            axis.axis("off")
        predictions = np.load(out / "predictions.npz")
        for column, path in enumerate(p for p in photos if p.stem in HALF_BODIES):
            axis = figure.add_subplot(grid[1, 2 * column : 2 * column + 2])
            axis.imshow(zoomed_out(path, predictions, predictor))
            axis.set_title(
                f"{path.name} zoomed out: the photo in red,\nbelow it what the prior guessed",
                fontsize=8.5,
            )
            axis.axis("off")
        strip = figure.add_subplot(grid[2, :])
        strip.imshow(Image.open(out / "overlays" / "demo_strip.png"))
        video = summary["demo.mp4"]
        followed = [n for n in video["notes"] if n.startswith("the person followed")]
        strip.set_title(
            f"Sports2D demo.mp4 (two people), every {args.frame_step}th frame, close-ups: "
            f"{video['people']} of {video['frames']} frames fitted, smoothed over time; "
            + (followed[0] if followed else "one person followed throughout"),
            fontsize=9,
        )
        strip.axis("off")
        figure.suptitle(
            "smplr predict --keypoints mediapipe: BlazePose-33 -> lift -> fit with priors -> "
            "camera frame (shipped SMPLR, open body model)",
            fontsize=11,
        )
        save_figure_atomic(figure, args.out, bbox_inches="tight")
        print(f"wrote {args.out}")
        for report in reports:
            print(json.dumps({k: report.__dict__[k] for k in ("name", "detect_s", "fit_s")}))


HALF_BODIES = ("astronaut", "grace_hopper")


def zoomed_out(path: Path, predictions, predictor: Predictor) -> np.ndarray:
    """The photo on a larger grey canvas with the fitted body drawn whole, through the
    same camera: what the prior filled in below the frame."""
    from smplr.predict.media import read_image
    from smplr.predict.outputs import render_overlay

    row = list(predictions["names"]).index(path.name)
    body = predictor.model.body
    with torch.no_grad():
        posed = body(
            torch.as_tensor(predictions["gender"][row : row + 1]),
            *(
                torch.as_tensor(predictions[k][row : row + 1])
                for k in ("betas", "global_orient", "body_pose", "transl")
            ),
        )
    vertices = posed.vertices[0].numpy()
    K = predictions["intrinsics"][row].astype(np.float64)
    photo = read_image(path)
    height, width = photo.shape[:2]
    pixels = vertices[:, :2] / vertices[:, 2:] * np.diag(K)[:2] + K[:2, 2]
    low = np.minimum(pixels.min(0), 0) - 20
    high = np.maximum(pixels.max(0), [width, height]) + 20
    left, top = (-low).astype(int)
    canvas_w, canvas_h = (high - low).astype(int)
    canvas = np.full((canvas_h, canvas_w, 3), 235, dtype=np.uint8)
    canvas[top : top + height, left : left + width] = photo
    shifted = K.copy()
    shifted[:2, 2] += [left, top]
    picture = render_overlay(canvas, vertices, predictor.faces, shifted, 900)
    scale = picture.shape[0] / canvas_h
    y0, y1 = round(top * scale), round((top + height) * scale) - 1
    x0, x1 = round(left * scale), round((left + width) * scale) - 1
    picture[[y0, y1], x0 : x1 + 1] = (220, 30, 30)  # the photo's frame
    picture[y0 : y1 + 1, [x0, x1]] = (220, 30, 30)
    return picture


def _wrap(text: str, width: int = 48) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
