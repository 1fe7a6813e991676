"""``smplr demo``: the main job end to end on the shipped defaults, nothing to download.

1. Image -> body, the paper's whole chain: people the models never saw (test-split seeds,
   held-out background photos) are rendered as the paper's 2.5 m crops and written as
   PNG photos; ``smplr predict --keypoints shn`` reads them (shipped image model -> DAE
   -> Ω, Ψ -> body) and writes ``predictions.npz``, overlays and meshes; the demo scores
   the bodies against the ground truth and puts photo, prediction and truth side by side.
2. Keypoints -> body: synthetic bodies' 24 joints + 18 landmarks with detector-like noise
   through SMPLR, scored the same way.
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


DEMO_IMAGE_SEED = 20261205
"""Seed of the demo's rendered people (test split: bodies and backgrounds never trained on)."""


def _scores(
    joints: torch.Tensor, truth_joints: torch.Tensor, vertices: torch.Tensor,
    truth_vertices: torch.Tensor, gender: torch.Tensor, truth_gender: torch.Tensor,
) -> tuple[float, float, float, float]:  # fmt: skip
    """Mean MPJPE P1, P2, vertex error P1 (mm) and gender accuracy (%) of N bodies:
    ``joints (N, 24, 3)``, ``vertices (N, V, 3)``, ``gender (N,)`` and their truths."""
    return (
        float(mpjpe(joints, truth_joints).mean()),
        float(pa_mpjpe(joints, truth_joints).mean()),
        float(
            surface_error(
                vertices, truth_vertices, pred_root=joints[:, 0], gt_root=truth_joints[:, 0]
            ).mean()
        ),
        100.0 * gender_accuracy(gender, truth_gender),
    )


def _echo_scores(rows: list[tuple[str, tuple[float, float, float, float]]]) -> None:
    width = max(len(name) for name, _ in rows)
    typer.echo(f"{'':{width}} {'MPJPE P1':>10} {'MPJPE P2':>10} {'vertex P1':>10} {'gender':>7}")
    for name, (p1, p2, surface, gender) in rows:
        typer.echo(f"{name:{width}} {p1:8.1f}mm {p2:8.1f}mm {surface:8.1f}mm {gender:6.0f}%")


def _pose(body: GenderedBodyModel, arrays: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
    """Joints ``(N, 24, 3)`` and vertices ``(N, V, 3)`` of SMPL parameters ``arrays``
    (``gender, betas, global_orient, body_pose, transl``)."""
    tensor = {k: torch.as_tensor(np.asarray(arrays[k]), dtype=torch.float32) for k in arrays}
    with torch.no_grad():
        posed = body(
            tensor["gender"], tensor["betas"], tensor["global_orient"], tensor["body_pose"]
        )
    shift = tensor["transl"][:, None]
    return posed.joints + shift, posed.vertices + shift


def image_demo(out: Path, num: int, device: str) -> None:
    """Render ``num`` unseen people, run ``smplr predict --keypoints shn`` on them, score
    the bodies and write ``out/side_by_side.png`` (photo | prediction | truth)."""
    from PIL import Image

    from smplr.image_data.scene import SynthConfig
    from smplr.image_data.shards import BackgroundSpec, ShardJob, render_shard
    from smplr.predict.image_route import ImageKeypoints
    from smplr.predict.outputs import render_overlay, scaled_intrinsics
    from smplr.predict.run import PredictOptions, Predictor, predict_files

    keypoints = ImageKeypoints.load(device=device)
    size = keypoints.input_size
    job = ShardJob(
        out=str(out), num=num, seed=DEMO_IMAGE_SEED, shard_size=num, split="test",
        config=SynthConfig(size=size), backgrounds=BackgroundSpec(), image_format="png",
    )  # fmt: skip
    typer.echo(f"rendering {num} people the models never saw ({size}x{size} crops) ...")
    data = render_shard(job, 0)
    photos = out / "photos"
    names = [f"person_{i:02d}.png" for i in range(num)]
    for name, image in zip(names, data["image"], strict=True):
        save_png(photos / name, torch.from_numpy(image / 255.0))
    typer.echo(f"smplr predict {photos} --keypoints shn --refine 0 --out {out / 'predict'}")
    model = SMPLR.pretrained(device)
    predictor = Predictor("shn", model, refine=0, image_model=keypoints)
    options = PredictOptions(mesh_dir=out / "predict" / "meshes", overlay_side=2 * size)
    predict_files([photos], out / "predict", predictor, options)
    with np.load(out / "predict" / "predictions.npz", allow_pickle=False) as predicted:
        rows = [list(predicted["names"]).index(name) for name in names]
        keys = ("gender", "betas", "global_orient", "body_pose", "transl", "intrinsics")
        pred = {k: predicted[k][rows] for k in keys}
    body = model.body.cpu()
    joints, vertices = _pose(body, {k: pred[k] for k in keys[:-1]})
    true_joints, true_vertices = _pose(body, {k: data[k] for k in keys[:-1]})
    scores = _scores(
        joints,
        true_joints,
        vertices,
        true_vertices,
        torch.as_tensor(pred["gender"]),
        torch.as_tensor(data["gender"], dtype=torch.float32),
    )
    _echo_scores([("photo -> image model -> its DAE -> SMPLR", scores)])
    faces = body.faces.numpy()
    cells = []
    for i in range(num):  # cells twice the crop's size: 128 px people are small
        photo = np.asarray(Image.fromarray(data["image"][i]).resize((2 * size, 2 * size)))
        drawn = [
            render_overlay(photo, mesh[i].numpy(), faces, scaled_intrinsics(K, 2.0), None)
            for mesh, K in ((vertices, pred["intrinsics"][i]), (true_vertices, data["K"][i]))
        ]
        cells.append(np.concatenate([photo, *drawn], axis=1))
    picture = save_png(out / "side_by_side.png", torch.from_numpy(np.concatenate(cells) / 255.0))
    typer.echo(
        f"wrote {photos}/, {out / 'predict'}/ (predictions.npz, overlays/, meshes/), "
        f"{picture.name} (photo | prediction | ground truth)"
    )


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
    """Image -> SMPL body, then keypoints -> SMPL body, with the shipped models.

    1. Renders --num people the models never saw into OUT/photos/, runs `smplr predict
    --keypoints shn` on them (OUT/predict/: predictions.npz, overlays/, meshes/) and
    writes OUT/side_by_side.png (photo | prediction | ground truth).

    2. Fits noisy keypoints of --num synthetic bodies: OUT/keypoints.npz (the input, N x
    42 x 3 metres), OUT/bodies.npz (betas, gender, global_orient, body_pose, transl,
    joints, landmarks), OUT/meshes/*.obj and OUT/comparison.png (ground truth above,
    SMPLR below).

    Prints the errors of both against the ground truth.

    Example: smplr demo --out out/demo --num 8 --refine 10
    """
    if num < 1:
        raise ValueError(f"--num must be a positive integer, got {num}")
    out.mkdir(parents=True, exist_ok=True)
    image_demo(out, num, device)
    body = GenderedBodyModel.open().to(device)
    truth = held_out_set(body, num=num, seed=seed, device=device, with_vertices=True)
    assert truth.vertices is not None  # asked for
    generator = torch.Generator(device=device).manual_seed(seed)
    keypoints = gaussian_noise(truth.jl, generator, std=noise_mm / 1000.0)
    np.savez_compressed(out / "keypoints.npz", points=keypoints.cpu().numpy())

    model = SMPLR.pretrained(device)
    typer.echo(f"fitting {num} bodies from noisy keypoints ({noise_mm:g} mm) ...")
    rows = []
    results = {}
    for steps in sorted({0, refine}):
        result = model.fit(keypoints, "jl42", refine=steps, return_vertices=True)
        assert result.vertices is not None  # asked for
        results[steps] = result
        name = "SMPLR" if steps == 0 else f"SMPLR + refine {steps}"
        rows.append(
            (
                f"keypoints -> {name}",
                _scores(
                    result.joints,
                    truth.jl[:, :24],
                    result.vertices,
                    truth.vertices,
                    result.gender,
                    truth.gender,
                ),
            )
        )
    _echo_scores(rows)

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
