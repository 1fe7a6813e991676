"""``smplr fit``: keypoints in, SMPL parameters and meshes out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from smplr.body.keypoints import KEYPOINT_FORMATS
from smplr.body.mesh_io import MESH_FORMATS
from smplr.body.model import GenderedBodyModel
from smplr.cli.keypoint_files import drop_unfittable, load_confidence, load_keypoints
from smplr.cli.options import Device, Female, Male, Overwrite, Weights, batch_size_option
from smplr.cli.outputs import Outputs
from smplr.input_formats import INPUT_FORMATS, check_input_format
from smplr.keypoint_checks import KeypointError
from smplr.pipeline import BODY_KEYS, SMPLR, NetworkOutputError
from smplr.refine import default_steps
from smplr.weights import shipped_path

OUTPUT_KEYS = (*BODY_KEYS, "scale")


def fit(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="Keypoints: .npy, .npz (array 'points') or .json ({'points': ...}); (N,P,D) or (P,D).",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output .npz: betas, gender, global_orient, body_pose, transl, joints, landmarks, "
            "scale, body_index (the input bodies fitted), keypoints (detector formats).",
        ),
    ],
    input_format: Annotated[
        str,
        typer.Option(
            "--input-format",
            "-f",
            help="jl42: 24 SMPL joints + 18 landmarks (N,42,3) metres, y up; joints24: (N,24,3) metres; "
            "2d: (N,42,2) pixels with 'intrinsics' [fx,fy,cx,cy] and 'root_depth' (m) keys, or "
            "root-plane metres without them. Detector keypoints (docs/keypoint_formats.md): "
            f"{', '.join(KEYPOINT_FORMATS)} (3D metres) and <name>_2d, with "
            "'keypoints' (N,K,D) (NaN: missing) and 'visibility' (N,K) (< 0.5: missing); "
            "OpenPose / COCO JSON too.",
        ),
    ] = "jl42",
    refine: Annotated[
        int | None,
        typer.Option(
            "--refine",
            "-k",
            help="Levenberg-Marquardt steps (0..1000; stops earlier once converged) fitting the "
            "body to the input points, with shape, joint-limit and pose priors and a robust "
            "loss; an optional 'confidence' (N,P) array in the .npz/.json weights each point. "
            "Default: 10 for 3D input, 0 for 2d (measured worse there). Measured on 3D "
            "(smplr bench refine): joint error 13.5 -> 5.0 mm (jl42) and "
            "16 -> 6.8 mm (joints24) on a body's own keypoints, 38 -> 28 mm and 41 -> 33 mm on "
            "another skeleton's; ~20 ms/body instead of 0.1. -k 0: one-shot only.",
        ),
    ] = None,
    procrustes: Annotated[
        bool,
        typer.Option(
            "--procrustes", help="Align the body onto the input by a similarity (paper 4.5)."
        ),
    ] = False,
    no_dae: Annotated[
        bool, typer.Option("--no-dae", help="jl42 only: feed the points to Ω, Ψ without the DAE.")
    ] = False,
    mesh_dir: Annotated[
        Path | None,
        typer.Option("--mesh-dir", help="Also write one mesh per body here (body_00000.obj, ...)."),
    ] = None,
    mesh_format: Annotated[
        str, typer.Option("--mesh-format", help=f"Mesh file format: {', '.join(MESH_FORMATS)}.")
    ] = "obj",
    render: Annotated[
        Path | None,
        typer.Option(
            "--render",
            help="Also write a shaded front-view PNG per body here (body_00000.png, ...).",
        ),
    ] = None,
    overwrite: Overwrite = False,
    weights: Weights = None,
    female: Female = None,
    male: Male = None,
    batch_size: Annotated[int, batch_size_option("Bodies per forward pass.")] = 1024,
    device: Device = "cpu",
) -> None:
    """Recover SMPL pose and shape from keypoints with SMPLR (DAE -> Ω, Ψ -> body model).

    Outputs are SMPL parameters (axis-angle global_orient (N,3), body_pose (N,69); betas
    (N,10); gender g in [-1,1], -1 female, +1 male; transl (N,3)) and the body's joints
    (N,24,3) and landmarks (N,18,3) in the input's frame (2D input: root-relative, camera
    view frame: x right, y up, z towards the camera).  With --procrustes, `scale` (N,) is
    the similarity's scale: the outputs are scale * (body(params) - root) + root.

    Examples:

    smplr fit jl.npy --out bodies.npz --mesh-dir meshes --render pictures

    smplr fit joints.json -f joints24 --refine 10 --out bodies.npz

    smplr fit keypoints_px.npz -f 2d --out bodies.npz

    smplr fit detections.npz -f blazepose33_2d --out bodies.npz

    Meshes and pictures are written first, a chunk of bodies at a time (memory stays flat
    in the number of bodies), the .npz last; every file whole or not at all, and a run
    that fails removes what it wrote.  A --mesh-dir / --render folder holding an earlier
    run's files is refused unless --overwrite.
    """
    check_input_format(input_format)
    outputs = Outputs(out, mesh_dir, mesh_format, render, overwrite)
    if (female is None) != (male is None):
        raise ValueError("give both --female and --male model files, or neither")
    points = load_keypoints(input_path, input_format)
    confidence = load_confidence(input_path, points.shape[:2], input_format)
    steps = default_steps(input_format) if refine is None else refine
    is_jl = INPUT_FORMATS[input_format].is_jl
    if is_jl and confidence is not None and steps == 0:  # detector formats: also the DAE's mask
        raise ValueError(
            f"{input_path}: its 'confidence' weights only the refinement, which --refine 0 "
            "turns off: give --refine > 0 or drop the confidence"
        )
    extra: dict[str, np.ndarray] = {}
    if not is_jl:  # detector keypoints: skip empty bodies
        points, confidence, extra["body_index"] = drop_unfittable(input_path, points, confidence)
    if female is not None and male is not None:
        if weights is None:
            raise ValueError(
                "--female/--male need --weights trained for those models (smplr train all)"
            )
        body = GenderedBodyModel.from_files(female, male)
    else:
        body = GenderedBodyModel.open()
    model = SMPLR.from_bundle(weights or shipped_path(), body, device)
    try:
        result = model.fit(
            points,
            input_format,
            procrustes=procrustes,
            refine=steps,
            use_dae=not no_dae,
            return_vertices=False,  # meshed a chunk at a time by the outputs
            batch_size=batch_size,
            confidence=confidence,
        )
    except KeypointError as exc:
        raise ValueError(f"{input_path}: {exc}") from exc
    except NetworkOutputError as exc:
        raise ValueError(f"{weights or shipped_path()}: {exc}") from exc
    with outputs.writing():
        outputs.write_bodies(
            len(points), lambda rows: model.vertices(result, rows), model.body.faces
        )
        arrays = result.numpy()
        saved = {k: arrays[k] for k in (*OUTPUT_KEYS, "keypoints") if k in arrays}
        outputs.save_npz({**extra, **saved})
    outputs.report(len(points))
