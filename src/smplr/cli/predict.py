"""``smplr predict``: photos, folders of photos and videos in; SMPL bodies in the camera
frame, overlays and meshes out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smplr.cli.options import Device, Weights
from smplr.pipeline import SMPLR
from smplr.predict.boxes import parse_box, read_boxes
from smplr.predict.image_route import ImageKeypoints
from smplr.predict.lift import LIFTS
from smplr.predict.run import (
    DEFAULT_ROUTE,
    KEYPOINT_ROUTES,
    PredictOptions,
    Predictor,
    build_detector,
    predict_files,
)
from smplr.refine import MAX_STEPS
from smplr.weights import shipped_path


def predict(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="PHOTO_OR_DIR_OR_VIDEO...",
            help="Photos (.png, .jpg, ...), folders of them, videos (.mp4, .avi, .mov, ...).",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output folder: predictions.npz, overlays/, summary.json.",
        ),
    ],
    keypoints: Annotated[
        str,
        typer.Option(
            "--keypoints",
            help="How keypoints are found in the image: "
            + "; ".join(f"{k}: {v}" for k, v in KEYPOINT_ROUTES.items())
            + f". Default {DEFAULT_ROUTE}: on real photos it beats the image model, "
            "which has only seen synthetic renders (docs/photos.md).",
        ),
    ] = DEFAULT_ROUTE,
    refine: Annotated[
        int,
        typer.Option(
            "--refine",
            "-k",
            help=f"Levenberg-Marquardt steps (0..{MAX_STEPS}) fitting the body to the visible "
            "landmarks, each weighted by its visibility, with pose, shape and joint-limit priors.",
        ),
    ] = 10,
    focal: Annotated[
        float | None,
        typer.Option(
            "--focal",
            help="Focal length in pixels when known (default: the image diagonal, ~53° "
            "diagonal field of view; it sets the depth, not the overlay).",
        ),
    ] = None,
    mesh_dir: Annotated[
        Path | None, typer.Option("--mesh-dir", help="Also write one OBJ per fitted person here.")
    ] = None,
    smooth: Annotated[
        float,
        typer.Option(
            "--smooth",
            help="Videos: Gaussian smoothing of the parameters over time, sigma in frames "
            "(0: per-frame fits as they are).",
        ),
    ] = 2.0,
    frame_step: Annotated[
        int, typer.Option("--frame-step", help="Videos: use every N-th frame.")
    ] = 1,
    max_frames: Annotated[
        int | None, typer.Option("--max-frames", help="Videos: at most this many frames.")
    ] = None,
    no_video: Annotated[
        bool,
        typer.Option("--no-video", help="Videos: write only the frame strip, no overlay video."),
    ] = False,
    overlay_size: Annotated[
        int,
        typer.Option("--overlay-size", help="Longest side of photo overlays, pixels."),
    ] = 1024,
    video_size: Annotated[
        int,
        typer.Option("--video-size", help="Longest side of the overlay video and strip, pixels."),
    ] = 640,
    lift: Annotated[
        str,
        typer.Option(
            "--lift",
            help="joints24: landmarks mapped onto SMPL's joints, unseen limbs hung down, "
            "the joints24 DAE (default; better on half-body photos); keypoint-dae: the "
            "blazepose33 format through the keypoint DAE.",
        ),
    ] = "joints24",
    box: Annotated[
        str | None,
        typer.Option(
            "--box",
            help="--keypoints shn: the person's box x0,y0,x1,y1 in pixels, for every photo "
            "(default: the whole photo is the crop, as in the paper).",
        ),
    ] = None,
    boxes: Annotated[
        Path | None,
        typer.Option(
            "--boxes",
            help="--keypoints shn: a file of boxes per photo (JSON {name: [x0,y0,x1,y1]} or "
            "CSV lines name,x0,y0,x1,y1); photos not in it use --box or the whole photo.",
        ),
    ] = None,
    procrustes: Annotated[
        bool,
        typer.Option(
            "--procrustes",
            help="--keypoints shn: align the body onto the image model's points by a "
            "similarity (the paper's post-processing).",
        ),
    ] = False,
    image_weights: Annotated[
        Path | None,
        typer.Option(
            "--image-weights",
            help="--keypoints shn: image model from `smplr train image` (default: the shipped one).",
        ),
    ] = None,
    weights: Weights = None,
    device: Device = "cpu",
) -> None:
    """Recover SMPL bodies from photos and videos: detect people, lift their keypoints
    (DAE), fit (refinement with priors on the visible landmarks), place in the camera.

    Writes OUT/predictions.npz (per fitted person: names, betas (N,10), gender (N,),
    global_orient (N,3) and body_pose (N,69) axis-angle and transl (N,3) in the camera
    frame with OpenCV axes (x right, y down, z forward), joints (N,24,3), landmarks
    (N,18,3), intrinsics (N,3,3), image_size (N,2), frame (N,) (-1 for photos),
    observed (N,24): joints visible keypoints support; the rest is guessed from the
    prior), OUT/overlays/NAME.png (the mesh over the photo), for videos
    OUT/overlays/NAME_overlay.mp4 and NAME_strip.png, and OUT/summary.json.

    Two people in a photo: the largest is fitted (and said). Videos follow one person.
    An input that fails (unreadable, no person, undecodable video) is reported on one
    line and the others are processed; the exit code is then 1 (2 when none worked).

    Examples:

    smplr predict photo.jpg --out out/photo

    smplr predict photos/ clip.mp4 --out out/all --mesh-dir out/all/meshes

    smplr predict clip.mp4 --out out/clip --frame-step 2 --smooth 3
    """
    if not 0 <= refine <= MAX_STEPS:
        raise ValueError(f"--refine must be in 0..{MAX_STEPS}, got {refine}")
    if frame_step < 1:
        raise ValueError(f"--frame-step must be >= 1, got {frame_step}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {max_frames}")
    if smooth < 0:
        raise ValueError(f"--smooth must be >= 0 frames, got {smooth}")
    if min(overlay_size, video_size) < 32:
        raise ValueError("--overlay-size and --video-size must be at least 32 pixels")
    if keypoints != "shn" and (box or boxes or image_weights):
        raise ValueError("--box, --boxes and --image-weights are for --keypoints shn")
    detector = build_detector(keypoints)
    model = SMPLR.load(weights or shipped_path(), device)
    if lift not in LIFTS:
        raise ValueError(f"unknown --lift '{lift}': expected one of {', '.join(LIFTS)}")
    image_model = ImageKeypoints.load(image_weights, device) if keypoints == "shn" else None
    predictor = Predictor(
        keypoints,
        model,
        detector,
        refine=refine,
        focal=focal,
        lift=lift,
        image_model=image_model,
        procrustes=procrustes,
    )
    options = PredictOptions(
        mesh_dir=mesh_dir,
        overlay_side=overlay_size,
        frame_step=frame_step,
        max_frames=max_frames,
        smooth=smooth,
        video=not no_video,
        video_side=video_size,
        box=None if box is None else parse_box(box),
        boxes={} if boxes is None else read_boxes(boxes),
    )
    failed: list[str] = []

    def echo(line: str) -> None:
        if line.startswith("error: "):
            failed.append(line)
            typer.echo(f"smplr: {line}", err=True)
        else:
            typer.echo(line)

    reports = predict_files(inputs, out, predictor, options, echo)
    fitted = sum(r.people for r in reports)
    done = sum(r.status == "ok" for r in reports)
    typer.echo(
        f"wrote {out / 'predictions.npz'} ({fitted} people from {done} of {len(reports)} inputs)"
    )
    if failed:
        raise typer.Exit(2 if done == 0 else 1)
