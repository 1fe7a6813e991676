"""``smplr demo``: the main job end to end on the shipped defaults, nothing to download.

Synthetic bodies (the open body model in poses from smplr's pose prior) stand in for a
keypoint detector's output: their 24 joints + 18 landmarks, with detector-like noise,
go through SMPLR (DAE -> Ω, Ψ -> body model) and come out as SMPL parameters, meshes
and pictures, scored against the ground truth they came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer

from smplr.body.mesh_io import write_meshes
from smplr.body.model import GenderedBodyModel
from smplr.cli.options import Device
from smplr.metrics import gender_accuracy, mpjpe, pa_mpjpe, surface_error
from smplr.pipeline import SMPLR
from smplr.render.camera import front_view_camera
from smplr.render.image import composite, save_png
from smplr.render.renderer import render_shaded
from smplr.synthetic.bodies import held_out_set
from smplr.synthetic.noise import gaussian_noise

GROUND_TRUTH_COLOUR = (0.55, 0.75, 0.55)
PREDICTION_COLOUR = (0.85, 0.6, 0.5)


def _comparison_picture(
    truth: torch.Tensor, predicted: torch.Tensor, faces: torch.Tensor, path: Path, size: int
) -> Path:
    """One PNG: a column per body, ground truth (green) above SMPLR's mesh (orange)."""
    rows = []
    for vertices, colour in ((truth, GROUND_TRUTH_COLOUR), (predicted, PREDICTION_COLOUR)):
        camera = front_view_camera(
            vertices, size, size, azimuth_degrees=20.0, elevation_degrees=5.0
        )
        rgba = render_shaded(vertices, faces, camera, colour=colour, supersample=2)
        rows.append(torch.cat(list(composite(rgba, (1.0, 1.0, 1.0))), dim=1))
    return save_png(path, torch.cat(rows, dim=0))


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for every output.")] = Path(
        "out/demo"
    ),
    num: Annotated[int, typer.Option("--num", "-n", help="Number of bodies.")] = 6,
    noise_mm: Annotated[
        float,
        typer.Option(
            "--noise-mm", help="Gaussian keypoint noise (std, mm) standing in for a detector."
        ),
    ] = 10.0,
    refine: Annotated[
        int, typer.Option("--refine", "-k", help="Refinement steps after SMPLR.")
    ] = 5,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the synthetic bodies and noise.")
    ] = 7,
    size: Annotated[int, typer.Option("--size", help="Picture cell size in pixels.")] = 192,
    device: Device = "cpu",
) -> None:
    """Keypoints -> SMPL bodies with the shipped SMPLR weights and open body model.

    Writes to --out: keypoints.npz (the input, N x 42 x 3 metres), bodies.npz (betas,
    gender, global_orient, body_pose, transl, joints, landmarks), meshes/*.obj, and
    comparison.png (ground truth above, SMPLR below); prints the errors.

    Example: smplr demo --out out/demo --num 8 --refine 10
    """
    if num < 1:
        raise ValueError(f"--num must be a positive integer, got {num}")
    body = GenderedBodyModel.open().to(device)
    truth = held_out_set(body, num=num, seed=seed, device=device, with_vertices=True)
    assert truth.vertices is not None  # asked for
    generator = torch.Generator(device=device).manual_seed(seed)
    keypoints = gaussian_noise(truth.jl, generator, std=noise_mm / 1000.0)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "keypoints.npz", points=keypoints.cpu().numpy())

    model = SMPLR.pretrained(device)
    typer.echo(f"fitting {num} bodies from noisy keypoints ({noise_mm:g} mm) ...")
    rows = []
    results = {}
    for steps in sorted({0, refine}):
        result = model.fit(keypoints, "jl42", refine=steps, return_vertices=True)
        assert result.vertices is not None  # asked for
        results[steps] = result
        rows.append(
            (
                "SMPLR" if steps == 0 else f"SMPLR + refine {steps}",
                float(mpjpe(result.joints, truth.jl[:, :24]).mean()),
                float(pa_mpjpe(result.joints, truth.jl[:, :24]).mean()),
                float(
                    surface_error(
                        result.vertices,
                        truth.vertices,
                        pred_root=result.joints[:, 0],
                        gt_root=truth.jl[:, 0],
                    ).mean()
                ),
                100.0 * gender_accuracy(result.gender, truth.gender),
            )
        )
    typer.echo(f"{'':24} {'MPJPE P1':>9} {'MPJPE P2':>9} {'vertex P1':>10} {'gender':>7}")
    for name, p1, p2, surface, gender in rows:
        typer.echo(f"{name:24} {p1:8.1f}mm {p2:8.1f}mm {surface:9.1f}mm {gender:6.0f}%")

    final = results[refine]
    arrays = final.numpy()
    keys = ("betas", "gender", "global_orient", "body_pose", "transl", "joints", "landmarks")
    np.savez_compressed(out / "bodies.npz", **{k: arrays[k] for k in keys})  # type: ignore[arg-type]  # numpy stub: **kwds may bind allow_pickle
    faces = body.faces
    write_meshes(arrays["vertices"], faces.cpu().numpy(), out / "meshes")
    assert final.vertices is not None
    with torch.no_grad():
        predicted = final.vertices - final.joints[:, :1]
        picture = _comparison_picture(
            truth.vertices, predicted, faces, out / "comparison.png", size
        )
    typer.echo(f"wrote {out}/keypoints.npz, bodies.npz, meshes/ ({num} .obj), {picture.name}")
