"""The synthetic benchmark as dataset samples: :func:`smplr.synthetic.held_out_set`.

The deterministic held-out set (same bodies for a given body model, ``num`` and
``seed``) becomes :class:`~smplr.datasets.record.Sample` records so that it is
evaluated exactly like the real datasets.  Joints are root-relative in the body
model's frame (``coordinates="world"``, pelvis at the origin); the SMPL parameters are
the generating ones (``transl`` None: the body sits on its root joint).  Ground-truth
landmarks and vertices come from posing the *same* body model
(:meth:`SyntheticSet.ground_truth_bodies`).

Every body also gets a camera, so that 2D keypoints and silhouettes exist as for the
real datasets: a random view (:func:`smplr.geometry.projection.random_views`: any
heading, elevation −10°..35°, a little roll, the body 3-8 m away) drawn with the
generator seeded ``seed + 1``, and the paper's crop (section 4.1) as the image: a
``CROP_METRES`` square centred on the mean joint, perpendicular to the camera axis,
fills the ``IMAGE_SIZE``² picture.  ``Sample.joints2d`` are the joints projected into
it and ``Sample.mask`` the ground-truth mesh's silhouette, rendered with
:mod:`smplr.render` when first asked for (:class:`RenderedMask`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import NUM_JOINTS
from smplr.datasets.ground_truth import GroundTruthBodies
from smplr.datasets.record import Camera, Sample
from smplr.geometry.projection import VIEW_TO_OPENCV, random_views
from smplr.geometry.rotations import matrix_to_axis_angle
from smplr.synthetic import held_out_set

CROP_METRES = 2.5
"""Side of the square around the person that the image shows (paper 4.1)."""

IMAGE_SIZE = 256
"""Width and height of the synthetic images in pixels (the paper's network input)."""


class RenderedMask:
    """The ground-truth silhouette of body ``index`` of a :class:`SyntheticSet`,
    rendered on :meth:`load` (the set renders and keeps one chunk of bodies at a time)."""

    def __init__(self, owner: SyntheticSet, index: int) -> None:
        self.owner = owner
        self.index = index

    def load(self) -> np.ndarray:
        return self.owner.mask(self.index)


class SyntheticSet:
    """``num`` synthetic bodies drawn with ``seed`` from ``body`` (a female/male pair),
    each with a camera (see the module docstring).

    The cameras are float64 numpy arrays: ``intrinsics (num, 3, 3)``, world-to-camera
    ``rotations (num, 3, 3)`` and ``translations (num, 3)``.  Ground-truth masks are
    rendered ``mask_chunk`` bodies at a time, and the last chunk is kept.

    >>> from smplr.body import GenderedBodyModel                   # doctest: +SKIP
    >>> for sample in SyntheticSet(GenderedBodyModel.open()): ...  # doctest: +SKIP
    """

    def __init__(
        self,
        body: GenderedBodyModel,
        num: int = 2000,
        seed: int = 12345,
        split: str = "test",
        mask_chunk: int = 64,
    ) -> None:
        if mask_chunk < 1:
            raise ValueError(f"mask_chunk must be a positive integer, got {mask_chunk}")
        self.body = body
        self.mask_chunk = mask_chunk
        self.num = num
        self.seed = seed
        self.split = split
        self.batch = held_out_set(body, num=num, seed=seed)
        self.jl = self.batch.jl.detach().cpu().to(torch.float64).numpy()
        self.intrinsics, self.rotations, self.translations = crop_cameras(
            self.jl[:, :NUM_JOINTS], torch.Generator().manual_seed(seed + 1)
        )
        self._mask_chunk: tuple[int, np.ndarray] | None = None

    def ground_truth_bodies(self) -> GroundTruthBodies:
        """The body models that generated the set, for landmarks and vertices."""
        return GroundTruthBodies(
            {"female": self.body.female, "male": self.body.male},
            "the body model that generated the synthetic set",
        )

    def camera(self, index: int) -> Camera:
        """The camera of body ``index`` (world = the body model's frame, pelvis at 0)."""
        return Camera(
            self.intrinsics[index],
            self.rotations[index],
            self.translations[index],
            IMAGE_SIZE,
            IMAGE_SIZE,
        )

    def mask(self, index: int) -> np.ndarray:
        """Ground-truth silhouette ``(IMAGE_SIZE, IMAGE_SIZE)`` bool of body ``index``."""
        if not 0 <= index < self.num:
            raise ValueError(f"body index {index} out of range for {self.num} bodies")
        start = index - index % self.mask_chunk
        if self._mask_chunk is None or self._mask_chunk[0] != start:
            self._mask_chunk = (start, self._render_masks(start, start + self.mask_chunk))
        return self._mask_chunk[1][index - start]

    @torch.no_grad()
    def _render_masks(self, start: int, stop: int) -> np.ndarray:
        from smplr.render import PinholeCamera, render_silhouette

        b = self.batch
        rows = slice(start, min(stop, self.num))
        out = self.body(
            b.gender[rows], b.betas[rows], b.global_orient[rows, None], b.body_pose[rows]
        )
        vertices = (out.vertices - out.joints[:, :1]).cpu().float()
        camera = PinholeCamera.from_intrinsics(
            torch.as_tensor(self.intrinsics[rows]).float(),
            IMAGE_SIZE,
            IMAGE_SIZE,
            rotation=torch.as_tensor(self.rotations[rows]).float(),
            translation=torch.as_tensor(self.translations[rows]).float(),
        )
        # SMPL-format bodies are closed surfaces with outward normals: culling back faces
        # leaves the silhouette unchanged and saves time.
        return render_silhouette(vertices, self.body.faces.cpu(), camera, True).numpy()

    def __len__(self) -> int:
        return self.num

    def __iter__(self) -> Iterator[Sample]:
        batch = self.batch
        orient = matrix_to_axis_angle(batch.global_orient).detach().cpu().to(torch.float64).numpy()
        pose = (
            matrix_to_axis_angle(batch.body_pose)
            .detach()
            .cpu()
            .to(torch.float64)
            .numpy()
            .reshape(self.num, -1)
        )
        betas = batch.betas.detach().cpu().to(torch.float64).numpy()
        gender = batch.gender.detach().cpu().numpy()
        for i in range(self.num):
            camera = self.camera(i)
            joints = self.jl[i, :NUM_JOINTS].copy()
            yield Sample(
                dataset="synthetic",
                split=self.split,
                key=f"synthetic/{self.seed}/{i}",
                joints3d=joints,
                coordinates="world",
                joints2d=camera.project(camera.world_to_camera(joints)),
                joints2d_visible=np.ones(NUM_JOINTS, dtype=bool),
                betas=betas[i],
                body_pose=pose[i],
                global_orient=orient[i],
                transl=None,
                gender="male" if gender[i] > 0 else "female",
                camera=camera,
                mask=RenderedMask(self, i),
                source={"jl": self.jl[i].copy(), "index": i},
            )


def crop_cameras(
    joints: np.ndarray, generator: torch.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random views of root-relative ``joints (N, J, 3)`` with the paper's crop as image.

    Returns float64 ``intrinsics (N, 3, 3)``, world-to-camera ``rotations (N, 3, 3)`` and
    ``translations (N, 3)`` (OpenCV axes): the root sits where
    :func:`~smplr.geometry.projection.random_views` puts it, the focal length makes
    ``CROP_METRES`` at the mean joint's depth span ``IMAGE_SIZE`` pixels, and the
    principal point puts the mean joint at the image centre.
    """
    views = random_views(joints.shape[0], generator, dtype=torch.float64)
    rotations = np.diag(VIEW_TO_OPENCV) @ views.rotation.numpy()
    translations = views.root.numpy()
    return crop_intrinsics(joints, rotations, translations), rotations, translations


def crop_intrinsics(
    joints: np.ndarray,
    rotations: np.ndarray,
    translations: np.ndarray,
    crop_metres: float | np.ndarray = CROP_METRES,
    image_size: int = IMAGE_SIZE,
) -> np.ndarray:
    """The paper's crop as intrinsics ``(N, 3, 3)`` float64: a ``crop_metres`` square
    (one number or one per body ``(N,)``) centred on the mean of ``joints (N, J, 3)``
    (world), perpendicular to the optical axis of the cameras ``rotations (N, 3, 3)``,
    ``translations (N, 3)`` (OpenCV axes), fills the ``image_size``² picture."""
    centre = np.einsum("nij,nj->ni", rotations, joints.mean(axis=1)) + translations
    if bool((centre[:, 2] <= 0).any()):
        raise ValueError("the body's mean joint lies at or behind a camera")
    focal = image_size * centre[:, 2] / np.asarray(crop_metres, dtype=np.float64)
    middle = (image_size - 1) / 2
    intrinsics = np.zeros((joints.shape[0], 3, 3))
    intrinsics[:, 0, 0] = intrinsics[:, 1, 1] = focal
    intrinsics[:, 0, 2] = middle - focal * centre[:, 0] / centre[:, 2]
    intrinsics[:, 1, 2] = middle - focal * centre[:, 1] / centre[:, 2]
    intrinsics[:, 2, 2] = 1.0
    return intrinsics
