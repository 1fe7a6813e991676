"""UP-3D (Lassner et al., "Unite the People", CVPR 2017) in its released layout.

Layout read (``root`` is the ``up-3d`` folder)::

    train.txt, val.txt, test.txt (and trainval.txt)   one "/%05d_image.png" per line
    %05d_image.png          the photo (required; its size gives the principal point)
    %05d_body.pkl           SMPL fit: pose (72,), betas (10,), trans (3,), rt (3,), t (3,), f
    %05d_joints.npy         (3, 14): LSP-order 2D joints x, y and visibility
    %05d_quality_info       optional: the fit's quality rating (kept as text)
    %05d_render_light.png   optional: the fit rendered on white (its silhouette is the mask)

Facts used (from the dataset's own tools, ``3dfit/render.py``): the body is SMPL's
**neutral** model posed by ``pose``, ``betas`` and ``trans``; the camera is OpenDR's
``ProjectPoints`` with Rodrigues vector ``rt`` and translation ``t`` (world -> camera),
focal length ``f`` (pixels, both axes), principal point at the image centre, no
distortion.  UP-3D has no 3D joint annotation: ``Sample.joints3d`` is None and 3D
ground truth (all 24 joints, hence an all-true ``joint_mask``) comes from posing a body
model with the fit (see ``smplr.evaluation``).

The 14 LSP joints map to SMPL joints as below (approximate: LSP's annotated joints are
not SMPL's regressed joints; "neck" is taken as SMPL's neck, LSP's "head top" has no
SMPL joint and is kept only in ``source["lsp_joints2d"]``); ``joints2d`` is NaN and
``joints2d_visible`` False for the SMPL joints LSP does not annotate.

``_body.pkl`` files are Python 2 pickles of plain numpy arrays; they are read with
``pickle`` (``encoding="latin1"``), so only read files from the dataset's own source.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from smplr.body.skeleton import NUM_BODY_JOINTS, NUM_JOINTS
from smplr.datasets.record import Camera, MaskRef, Sample, smpl_order

SPLITS = ("train", "val", "test", "trainval")
LSP_JOINT_NAMES = (
    "right_ankle",
    "right_knee",
    "right_hip",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_wrist",
    "right_elbow",
    "right_shoulder",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "neck",
    "head_top",
)
# SMPL joint standing in for each LSP joint (-1: none).
LSP_TO_SMPL: tuple[int, ...] = (8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, -1)
BODY_KEYS = ("pose", "betas", "trans", "rt", "t", "f")


def read_split(root: Path, split: str) -> list[int]:
    """Image indices listed in ``<root>/<split>.txt``."""
    path = root / f"{split}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: UP-3D split file not found")
    indices = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        entry = line.strip()
        if not entry:
            continue
        name = entry.rsplit("/", 1)[-1]
        if not name.endswith("_image.png") or not name[: -len("_image.png")].isdigit():
            raise ValueError(f"{path}:{number}: expected '/<index>_image.png', got {entry!r}")
        indices.append(int(name[: -len("_image.png")]))
    if not indices:
        raise ValueError(f"{path}: the split file lists no images")
    return indices


def load_body_pkl(path: Path) -> dict[str, np.ndarray]:
    """The SMPL fit of one image, validated."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: UP-3D body fit not found")
    try:
        with path.open("rb") as handle:
            raw = pickle.load(handle, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable pickle: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a dict of SMPL fit values, got {type(raw).__name__}")
    missing = [key for key in BODY_KEYS if key not in raw]
    if missing:
        raise ValueError(f"{path}: missing keys {missing}")
    expected = {"pose": 72, "betas": 10, "trans": 3, "rt": 3, "t": 3, "f": 1}
    body: dict[str, np.ndarray] = {}
    for key, size in expected.items():
        try:
            value = np.asarray(raw[key], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {key} is not numeric: {exc}") from exc
        if key == "betas" and value.size > size:  # fits may carry more betas than SMPL's 10
            value = value[:size]
        if value.size != size:
            raise ValueError(f"{path}: {key} has {value.size} values; expected {size}")
        if not np.isfinite(value).all():
            raise ValueError(f"{path}: {key} contains NaN or inf")
        body[key] = value
    return body


def load_joints(path: Path) -> np.ndarray:
    """The ``(3, 14)`` LSP joints (x, y, visibility) of one image."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: UP-3D joints file not found")
    try:
        joints = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy file: {exc}") from exc
    if joints.shape != (3, len(LSP_JOINT_NAMES)):
        raise ValueError(
            f"{path}: joints have shape {joints.shape}; expected (3, 14): x, y, visibility"
        )
    joints = joints.astype(np.float64)
    if not np.isfinite(joints).all():
        raise ValueError(f"{path}: joints contain NaN or inf")
    return joints


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image, reading only its header."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise FileNotFoundError(f"{path}: UP-3D image not found")
    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: not a readable image: {exc}") from exc


class Up3dReader:
    """Iterate over one UP-3D split.

    >>> for sample in Up3dReader("up-3d", split="test"): ...   # doctest: +SKIP

    Each sample's ``source`` holds ``index``, ``lsp_joints2d (14, 3)`` (x, y, visibility),
    ``quality`` (the ``_quality_info`` text or None) and ``focal_length``.
    """

    def __init__(self, root: str | Path, split: str = "test") -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown UP-3D split '{split}': expected one of {', '.join(SPLITS)}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root}: UP-3D folder not found")
        self.split = split
        self.indices = read_split(self.root, split)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[Sample]:
        for index in self.indices:
            yield self.read(index)

    def read(self, index: int) -> Sample:
        """The sample of image ``index``."""
        stem = self.root / f"{index:05d}"
        image = Path(f"{stem}_image.png")
        width, height = image_size(image)
        body = load_body_pkl(Path(f"{stem}_body.pkl"))
        lsp = load_joints(Path(f"{stem}_joints.npy"))
        quality_path = Path(f"{stem}_quality_info")
        quality = quality_path.read_text().strip() if quality_path.is_file() else None
        render = Path(f"{stem}_render_light.png")
        focal = float(body["f"][0])
        camera = Camera(
            intrinsics=np.array(
                [[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]]
            ),
            rotation=Rotation.from_rotvec(body["rt"]).as_matrix(),
            translation=body["t"].copy(),
            width=width,
            height=height,
        )
        visible = smpl_order(lsp[2:3].T, LSP_TO_SMPL, fill=0.0)[:, 0] > 0
        return Sample(
            dataset="up3d",
            split=self.split,
            key=f"{index:05d}",
            image_path=image,
            joints3d=None,
            joint_mask=np.ones(
                NUM_JOINTS, dtype=bool
            ),  # 3D ground truth: all joints of the posed fit
            coordinates="camera",
            joints2d=smpl_order(lsp[:2].T, LSP_TO_SMPL),
            joints2d_visible=visible,
            betas=body["betas"],
            body_pose=body["pose"][3 : 3 + 3 * NUM_BODY_JOINTS],
            global_orient=body["pose"][:3],
            transl=body["trans"],
            gender="neutral",
            camera=camera,
            mask=MaskRef(render, "render_png") if render.is_file() else None,
            source={
                "index": index,
                "lsp_joints2d": lsp.T.copy(),
                "quality": quality,
                "focal_length": focal,
            },
        )
