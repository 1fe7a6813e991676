"""A body model restricted to JL: the 24 joints and the 18 landmark vertices only.

SMPL reverse's training loss L_SMPL (paper 3.2) and the refinement fitter only need the
decoded joints and landmarks, so skinning all V vertices (13,718 on the open model) is
wasted work there.  :func:`jl_only_model` returns a :class:`BodyModel` whose "mesh" is
the 18 landmark vertices: its joints and landmarks equal the full model's exactly
(joints come from the regressor precomputed on the full mesh), at a fraction of the
cost, and it is still differentiable.

Example::

    jl_body = jl_only_model(BodyModel.open("female"))
    out = jl_body(betas=betas, body_pose=body_pose)   # out.jl (B, 42, 3); out.vertices (B, 18, 3)
"""

from __future__ import annotations

import copy

import torch

from smplr.body.model import BodyModel, GenderedBodyModel


def jl_only_model(model: BodyModel) -> BodyModel:
    """A copy of ``model`` that skins only its landmark vertices (shares no buffers)."""
    if not model.has_landmarks:
        raise ValueError("this body model defines no landmarks, so it has no JL")
    ids = model.landmark_vertex_ids
    count = int(ids.numel())
    sub = copy.copy(model)
    sub._buffers = dict(model._buffers)  # own dict: the assignments below leave ``model`` alone
    sub.joint_template = model.joint_template.clone()
    sub.joint_shapedirs = model.joint_shapedirs.clone()
    num_betas = model.shapedirs.shape[1]
    sub.v_template = model.v_template[ids].clone()
    sub.shapedirs = model.shapedirs.view(-1, 3, num_betas)[ids].reshape(-1, num_betas).clone()
    if model.has_pose_blendshapes:
        features = model.posedirs.shape[0]
        sub.posedirs = model.posedirs.view(features, -1, 3)[:, ids].reshape(features, -1).clone()
    else:
        sub.posedirs = model.posedirs.clone()
    sub.weights = model.weights[ids].clone()
    # The joint regressor acts on the full mesh; skinning uses the precomputed
    # joint_template / joint_shapedirs instead, so the subset keeps no regressor.
    sub.J_regressor = model.J_regressor.new_zeros(model.J_regressor.shape[0], 0)
    sub.faces = model.faces.new_zeros(0, 3)
    sub.landmark_vertex_ids = torch.arange(count, device=ids.device)
    sub.num_vertices = count
    return sub


def jl_only_gendered(model: GenderedBodyModel) -> GenderedBodyModel:
    """:func:`jl_only_model` applied to both genders of a :class:`GenderedBodyModel`."""
    return GenderedBodyModel(jl_only_model(model.female), jl_only_model(model.male))
