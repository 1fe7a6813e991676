"""Mesh rendering in plain PyTorch (no OpenGL, CPU or CUDA): cameras, a z-buffer
rasteriser, Lambert shading, silhouettes, compositing and PNG files.

Example::

    import torch
    from smplr.body import BodyModel
    from smplr.render import front_view_camera, render_shaded, composite, save_png

    model = BodyModel.open("female")
    out = model(betas=torch.zeros(1, 10))
    camera = front_view_camera(out.vertices, width=256, height=256)
    rgba = render_shaded(out.vertices, model.faces, camera, supersample=2)
    save_png("body.png", composite(rgba[0], (1.0, 1.0, 1.0)))
"""

from smplr.render.camera import (
    PinholeCamera,
    fit_camera,
    front_view_camera,
    look_at,
    orbit_direction,
)
from smplr.render.image import composite, load_image, overlay, save_png, to_uint8
from smplr.render.rasterizer import Fragments, interpolate, rasterize
from smplr.render.renderer import (
    render_camera_silhouettes,
    render_shaded,
    render_silhouette,
    write_pictures,
)
from smplr.render.shading import diffuse_intensity, lambert, vertex_normals

__all__ = [
    "Fragments",
    "PinholeCamera",
    "composite",
    "diffuse_intensity",
    "fit_camera",
    "front_view_camera",
    "interpolate",
    "lambert",
    "load_image",
    "look_at",
    "orbit_direction",
    "overlay",
    "rasterize",
    "render_camera_silhouettes",
    "render_shaded",
    "render_silhouette",
    "save_png",
    "to_uint8",
    "vertex_normals",
    "write_pictures",
]
