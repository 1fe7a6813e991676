"""Tiny datasets written in the released formats (for reader and evaluation tests).

Nothing here uses smplr's readers: the files are written from the formats' documentation
(SURREAL README and 3Dto2D scripts, UP-3D tools, VideoPose3D / SPIN preprocessing).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import scipy.io
import torch
from PIL import Image
from scipy.spatial.transform import Rotation

from helpers.fake_model import fake_smpl_arrays
from smplr.body.model import BodyModel
from smplr.body.model_file import model_data_from_arrays, save_model_data


def fake_arrays_for(gender: str) -> dict:
    """SMPL-like arrays; the genders share one topology and differ in shape."""
    arrays = fake_smpl_arrays(seed=0)
    rng = np.random.default_rng({"female": 1, "male": 2, "neutral": 3}[gender])
    arrays["v_template"] = arrays["v_template"] * rng.uniform(0.9, 1.1)
    arrays["shapedirs"] = arrays["shapedirs"] + rng.normal(0, 0.002, arrays["shapedirs"].shape)
    return arrays


def fake_body(gender: str = "neutral") -> BodyModel:
    return BodyModel(model_data_from_arrays(fake_arrays_for(gender)), gender, dtype=torch.float64)


def fake_bodies() -> dict[str, BodyModel]:
    return {g: fake_body(g) for g in ("female", "male", "neutral")}


def write_fake_smpl_dir(folder: Path) -> Path:
    """Fake models under the official SMPL file names (npz flavour)."""
    folder.mkdir(parents=True, exist_ok=True)
    for gender in ("female", "male", "neutral"):
        save_model_data(
            model_data_from_arrays(fake_arrays_for(gender)), folder / f"SMPL_{gender.upper()}.npz"
        )
    return folder


def pose_world(body: BodyModel, betas, global_orient, body_pose, transl=None):
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))[None]  # noqa: E731
    out = body(
        betas=t(betas),
        global_orient=t(global_orient),
        body_pose=t(body_pose),
        transl=None if transl is None else t(transl),
    )
    return out.joints[0].numpy(), out.vertices[0].numpy(), out.landmarks[0].numpy()


# ---------------------------------------------------------------------------- SURREAL
SURREAL_K = np.array([[600.0, 0, 160], [0, 600.0, 120], [0, 0, 1]])


def surreal_extrinsic(cam_loc: np.ndarray) -> np.ndarray:
    """3x4 world->camera matrix as in the authors' getExtrinsicBlender.m."""
    r_world2bcam = np.array([[0, 0, 1], [0, -1, 0], [-1, 0, 0]], dtype=float).T
    t_world2bcam = -r_world2bcam @ cam_loc
    r_bcam2cv = np.diag([1.0, -1.0, -1.0])
    return np.concatenate([r_bcam2cv @ r_world2bcam, (r_bcam2cv @ t_world2bcam)[:, None]], axis=1)


def write_surreal_clip(
    root: Path,
    bodies: dict[str, BodyModel],
    *,
    split: str = "test",
    run: int = 0,
    seq: str = "01_01",
    cam: int = 1,
    frames: int = 7,
    step: float = 0.02,
    gender: int = 1,
    seed: int = 0,
) -> Path:
    """One clip whose body translates ``step`` metres per frame along world y."""
    rng = np.random.default_rng(seed)
    folder = root / split / f"run{run}" / seq
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{seq}_c{cam:04d}"
    cam_loc = np.array([6.7456, -0.9839, -1.9293])
    zrot = rng.uniform(-np.pi, np.pi)
    betas = rng.normal(0, 1, 10)
    body = bodies["male" if gender == 1 else "female"]
    pose = np.zeros((72, frames))
    joints3d = np.zeros((3, 24, frames))
    joints2d = np.zeros((2, 24, frames))
    segm = {}
    extrinsic = surreal_extrinsic(cam_loc)
    base_pose = rng.normal(0, 0.2, 72)
    for t in range(frames):
        pose[:, t] = base_pose  # one pose: only the translation moves the joints
        # world orientation: Rx(90deg) . Rz(zrot) . R(pose[0:3]) (authors' smpl_relations.py)
        world_rot = (
            Rotation.from_euler("x", np.pi / 2)
            * Rotation.from_euler("z", zrot)
            * Rotation.from_rotvec(pose[:3, t])
        )
        root_world = np.array([0.0, -0.98 + step * t, -1.9])
        joints, _, _ = pose_world(body, betas, world_rot.as_rotvec(), pose[3:, t])
        joints = joints - joints[0] + root_world
        joints3d[:, :, t] = joints.T
        projected = SURREAL_K @ extrinsic @ np.vstack([joints.T, np.ones(24)])
        joints2d[:, :, t] = np.round(projected[:2] / projected[2])
        label = np.zeros((240, 320), np.uint8)
        label[40 + t : 200, 100:220] = 5
        segm[f"segm_{t + 1}"] = label
    scipy.io.savemat(
        f"{stem}_info.mat",
        {
            "pose": pose.astype(np.float32),
            "shape": np.repeat(betas[:, None], frames, 1).astype(np.float32),
            "gender": np.full((frames, 1), gender, np.uint8),
            "joints2D": joints2d.astype(np.float32),
            "joints3D": joints3d.astype(np.float32),
            "camLoc": cam_loc[:, None].astype(np.float32),
            "camDist": np.array([[6.7456]], np.float32),
            "zrot": np.full((frames, 1), zrot, np.float32),
            "sequence": f"{seq}_c{cam:04d}",
            "clipNo": np.array([[cam]], float),
            "stride": np.array([[50]], np.uint8),
            "source": "cmu",
        },
    )
    scipy.io.savemat(f"{stem}_segm.mat", segm)
    Path(f"{stem}.mp4").write_bytes(b"")  # video frames are not decoded
    return Path(f"{stem}_info.mat")


# ---------------------------------------------------------------------------- UP-3D
def write_up3d(
    root: Path, splits: dict[str, list[int]], *, seed: int = 0, size=(64, 48)
) -> dict[int, dict]:
    """Images, fits, joints and split files for the given indices; returns the fits."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    fits = {}
    for split, indices in splits.items():
        (root / f"{split}.txt").write_text("".join(f"/{i:05d}_image.png\n" for i in indices))
        for i in indices:
            stem = root / f"{i:05d}"
            Image.new("RGB", size, (90, 120, 30)).save(f"{stem}_image.png")
            fit = {
                "pose": rng.normal(0, 0.2, 72),
                "betas": rng.normal(0, 1, 10),
                "trans": rng.normal(0, 0.1, 3),
                "rt": rng.normal(0, 0.3, 3),
                "t": np.array([0.0, 0.2, 5.0]) + rng.normal(0, 0.1, 3),
                "f": 500.0 + rng.uniform(0, 100),
                "trans_extra": "kept",
            }
            with open(f"{stem}_body.pkl", "wb") as handle:
                pickle.dump(fit, handle, protocol=2)
            joints = np.vstack([rng.uniform(0, 60, (2, 14)), (rng.random(14) > 0.3).astype(float)])
            np.save(f"{stem}_joints.npy", joints)
            Path(f"{stem}_quality_info").write_text("medium\n")
            render = np.full((size[1], size[0], 3), 255, np.uint8)
            render[10:30, 20:40] = (200, 80, 80)
            Image.fromarray(render).save(f"{stem}_render_light.png")
            fits[i] = {**fit, "joints": joints}
    return fits


# ---------------------------------------------------------------------------- Human3.6M
H36M_CAMERAS = ("54138969", "55011271", "58860488", "60457274")


def write_videopose3d(
    root: Path, subjects=("S9", "S11"), frames: int = 12, seed: int = 0, with_2d=True
):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    positions = {
        s: {"Walking 1": rng.normal(0, 0.5, (frames, 32, 3)).astype(np.float32)} for s in subjects
    }
    np.savez_compressed(root / "data_3d_h36m.npz", positions_3d=positions)
    if with_2d:
        pos2d = {
            s: {
                a: [rng.uniform(0, 1000, (frames, 17, 2)).astype(np.float32) for _ in H36M_CAMERAS]
                for a in acts
            }
            for s, acts in positions.items()
        }
        np.savez_compressed(
            root / "data_2d_h36m_gt.npz", positions_2d=pos2d, metadata={"num_joints": 17}
        )
    return positions


def write_h36m_cameras(path: Path, subjects=("S9", "S11"), seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    cams = {}
    for s in subjects:
        cams[s] = {}
        for c in H36M_CAMERAS:
            cams[s][c] = {
                "R": Rotation.random(random_state=rng.integers(1 << 30)).as_matrix().tolist(),
                "t": rng.normal(0, 2, 3).tolist(),
                "f": [1145.0, 1144.0],
                "c": [512.0, 515.0],
                "width": 1000,
                "height": 1002,
            }
    path.write_text(json.dumps(cams))
    return cams


def write_spin_h36m(path: Path, rows: list[tuple[str, str, str, int]], seed: int = 0) -> np.ndarray:
    """SPIN's h36m_valid_protocol*.npz: imgname, center, scale, S (N, 24, 4), root-centred."""
    rng = np.random.default_rng(seed)
    global_idx = [14, 3, 4, 5, 2, 1, 0, 16, 12, 17, 18, 9, 10, 11, 8, 7, 6]
    s24 = np.zeros((len(rows), 24, 4))
    names = []
    for n, (subject, action, cam, frame) in enumerate(rows):
        s17 = rng.normal(0, 0.4, (17, 3))
        s17 -= s17[0]
        s24[n, global_idx, :3] = s17
        s24[n, global_idx, 3] = 1
        names.append(f"images/{subject}_{action}.{cam}_{frame + 1:06d}.jpg")
    np.savez(
        path,
        imgname=np.array(names),
        center=rng.uniform(0, 1000, (len(rows), 2)),
        scale=np.ones(len(rows)),
        S=s24,
    )
    return s24
