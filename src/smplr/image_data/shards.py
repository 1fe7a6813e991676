"""The on-disk format of synthetic image data: sharded, resumable, deterministic.

Layout of ``DIR`` (see ``docs/image_data.md``)::

    DIR/dataset.json               settings, format version, keypoint and part names
    DIR/shard_00000/0000000.jpg    images of shard 0 (PNG with image_format="png")
    DIR/shard_00000/annotations.npz  every annotation of shard 0, stacked (row = image)
    DIR/shard_00001/...
    DIR/contact_sheet.png          the first 64 images with keypoints and masks drawn

Shard ``i`` holds images ``i·shard_size .. min((i+1)·shard_size, num) − 1`` and is drawn
from its own seeds (``numpy.random.SeedSequence([seed, i, split])``), so the data are the
same whatever the number of workers and however often the run was interrupted.  A shard
is written into a hidden folder ``.shard_XXXXX.partial-*`` and renamed to
``shard_XXXXX`` when whole (a rename is atomic): a shard folder exists only complete.  A
new run over the same ``DIR`` removes the partial folders a kill left (with a warning),
checks the finished shards and renders only the missing ones.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smplr.atomic_io import FileWriteError, write_text_atomic
from smplr.body.model import GenderedBodyModel
from smplr.body.skeleton import JL_NAMES, JOINT_NAMES
from smplr.image_data.backgrounds import Backgrounds, folder_photos, package_photos
from smplr.image_data.scene import RECORD_KEYS, ImageSynthesizer, SynthConfig
from smplr.synthetic.mixture import MixtureBodies
from smplr.synthetic.seeds import is_test_seed

FORMAT = "smplr-image-data"
VERSION = 1
IMAGE_FORMATS = ("jpg", "png")
SPLITS = ("train", "test")
RENDER_CHUNK = 16
"""Bodies rendered at once (one rasteriser call)."""


@dataclass(frozen=True)
class BackgroundSpec:
    """Where backgrounds come from: ``folder`` (``--backgrounds DIR``, at most
    ``max_files`` images) or, without one, the photos of installed packages for the split."""

    folder: str | None = None
    max_files: int = 500

    def load(
        self, split: str, procedural: float, warn: Callable[[str], None] | None
    ) -> Backgrounds:
        photos = (
            folder_photos(self.folder, self.max_files, warn)
            if self.folder is not None
            else package_photos(split)
        )
        return Backgrounds(photos, procedural)


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to render shards (picklable)."""

    out: str
    num: int
    seed: int
    shard_size: int
    split: str
    config: SynthConfig
    backgrounds: BackgroundSpec
    image_format: str


def shard_name(index: int) -> str:
    return f"shard_{index:05d}"


def shard_rows(job: ShardJob, index: int) -> range:
    """Global image indices of shard ``index``."""
    return range(index * job.shard_size, min((index + 1) * job.shard_size, job.num))


def shard_seeds(seed: int, index: int, split: str) -> tuple[int, int]:
    """The body sampler's and the scene's seed of shard ``index`` (never a test-set seed)."""
    words = np.random.SeedSequence([seed, index, SPLITS.index(split)]).generate_state(2)
    body_seed = int(words[0])
    while is_test_seed(body_seed):
        body_seed += 1
    return body_seed, int(words[1])


def settings(job: ShardJob) -> dict:
    """The contents of ``dataset.json``."""
    height, width = job.config.image_size
    return {
        "format": FORMAT,
        "version": VERSION,
        "num": job.num,
        "seed": job.seed,
        "shard_size": job.shard_size,
        "split": job.split,
        "image_format": job.image_format,
        "image_size": [height, width],
        "config": job.config.to_json(),
        "backgrounds": {"folder": job.backgrounds.folder, "max_files": job.backgrounds.max_files},
        "keypoint_names": list(JL_NAMES),
        "part_names": ["background", *JOINT_NAMES],
        "record_keys": list(RECORD_KEYS),
    }


# ---------------------------------------------------------------------- rendering one shard
_WORKER: dict[str, ImageSynthesizer] = {}


def _synthesizer(job: ShardJob, warn: Callable[[str], None] | None = None) -> ImageSynthesizer:
    key = f"{job.config}-{job.backgrounds}-{job.split}"
    if key not in _WORKER:
        _WORKER.clear()
        backgrounds = job.backgrounds.load(
            job.split, job.config.procedural, warn or (lambda _: None)
        )
        _WORKER[key] = ImageSynthesizer(GenderedBodyModel.open(), job.config, backgrounds)
    return _WORKER[key]


def render_shard(job: ShardJob, index: int) -> dict[str, np.ndarray]:
    """The images and annotations of shard ``index``, stacked (deterministic)."""
    synthesizer = _synthesizer(job)
    rows = shard_rows(job, index)
    body_seed, scene_seed = shard_seeds(job.seed, index, job.split)
    bodies = MixtureBodies(synthesizer.body, seed=body_seed, block_size=len(rows))
    generator = torch.Generator().manual_seed(scene_seed)
    parts = []
    for start in range(0, len(rows), RENDER_CHUNK):
        count = min(RENDER_CHUNK, len(rows) - start)
        parts.append(synthesizer.render(bodies.sample(count, with_vertices=True), generator))
    stacked = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    stacked["index"] = np.asarray(rows, dtype=np.int64)
    stacked["jpeg_quality"] = np.asarray(
        torch.randint(70, 96, (len(rows),), generator=generator).numpy(), dtype=np.int16
    )
    return stacked


def write_shard(job: ShardJob, index: int) -> int:
    """Render shard ``index`` and write it whole or not at all; returns its image count."""
    torch.set_num_threads(1)
    data = render_shard(job, index)
    out = Path(job.out)
    final = out / shard_name(index)
    partial = out / f".{shard_name(index)}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    from PIL import Image

    try:
        partial.mkdir(parents=True)
        for row, image in zip(data["index"], data.pop("image"), strict=True):
            path = partial / f"{int(row):07d}.{job.image_format}"
            if job.image_format == "jpg":
                quality = int(data["jpeg_quality"][row - data["index"][0]])
                Image.fromarray(image).save(path, quality=quality)
            else:
                Image.fromarray(image).save(path, compress_level=1)
        data["depth"] = data["depth"].astype(np.float16)
        with open(partial / "annotations.npz", "wb") as handle:
            np.savez_compressed(handle, **data)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(partial, final)
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileWriteError):
            raise FileWriteError(exc.errno, f"{final}: not written: {exc.strerror or exc}") from exc
        raise
    return len(data["index"])


# ---------------------------------------------------------------------- the whole dataset
def _check_shard(job: ShardJob, index: int) -> bool:
    """Whether the finished shard ``index`` is whole (annotations readable, every image)."""
    folder = Path(job.out) / shard_name(index)
    rows = shard_rows(job, index)
    try:
        with np.load(folder / "annotations.npz", allow_pickle=False) as data:
            stored = data["index"]
    except (OSError, ValueError, KeyError):
        return False
    if not np.array_equal(stored, np.asarray(rows)):
        return False
    return all((folder / f"{row:07d}.{job.image_format}").is_file() for row in rows)


def prepare(job: ShardJob, warn: Callable[[str], None]) -> list[int]:
    """Create or check ``job.out`` and return the shards still to write.

    Raises ValueError when ``out`` holds a dataset made with other settings, and
    FileWriteError when it cannot be written.
    """
    out = Path(job.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    wanted = settings(job)
    meta = out / "dataset.json"
    if meta.is_file():
        try:
            found = json.loads(meta.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{meta}: unreadable ({exc}); use another --out") from exc
        changed = sorted(k for k in wanted if found.get(k) != wanted[k])
        if changed:
            raise ValueError(
                f"{out} holds a dataset made with other settings ({', '.join(changed)} differ); "
                "resume with the same settings or use another --out"
            )
    elif out.is_dir() and any(out.iterdir()):
        raise ValueError(f"--out {out}: not empty and not an image dataset; use an empty folder")
    write_text_atomic(meta, json.dumps(wanted, indent=1) + "\n")
    for stale in sorted(out.glob(".shard_*.partial-*")):
        warn(f"removed half-written shard {stale.name} (an interrupted run)")
        shutil.rmtree(stale, ignore_errors=True)
    count = -(-job.num // job.shard_size)
    todo = []
    for index in range(count):
        folder = out / shard_name(index)
        if folder.is_dir():
            if _check_shard(job, index):
                continue
            warn(f"shard {folder.name} is incomplete or damaged; rendering it again")
            shutil.rmtree(folder, ignore_errors=True)
        todo.append(index)
    return todo


def write_dataset(
    job: ShardJob,
    workers: int = 1,
    warn: Callable[[str], None] = print,
    on_shard: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> int:
    """Write every missing shard of ``job`` with ``workers`` processes; returns the number
    of images rendered by this call (0 when the dataset was already complete).

    ``on_start(count)`` is called once the inputs are checked, with the number of images
    to render, and ``on_shard(count)`` after each finished shard (a progress bar).
    """
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if job.num < 1 or job.shard_size < 1:
        raise ValueError(
            f"--num and --shard-size must be positive, got {job.num}, {job.shard_size}"
        )
    if job.image_format not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {IMAGE_FORMATS}, got {job.image_format!r}")
    if job.split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {job.split!r}")
    _synthesizer(job, warn)  # loads (and checks) the backgrounds once, warnings included
    todo = prepare(job, warn)
    if on_start:
        on_start(sum(len(shard_rows(job, index)) for index in todo))
    done = 0
    if workers == 1 or len(todo) <= 1:
        for index in todo:
            done += write_shard(job, index)
            if on_shard:
                on_shard(len(shard_rows(job, index)))
        return done
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for count in pool.map(write_shard, [job] * len(todo), todo):
            done += count
            if on_shard:
                on_shard(count)
    return done


def finished_shards(root: str | Path) -> Iterator[Path]:
    """The complete shard folders under ``root``, in order."""
    yield from sorted(p for p in Path(root).glob("shard_*") if p.is_dir())


def read_settings(root: str | Path) -> dict:
    """``dataset.json`` of the dataset at ``root`` (ValueError when it is not one)."""
    meta = Path(root) / "dataset.json"
    try:
        found = json.loads(meta.read_text())
    except FileNotFoundError as exc:
        raise ValueError(f"{root}: no dataset.json; not an image dataset") from exc
    except (OSError, ValueError) as exc:
        raise ValueError(f"{meta}: unreadable ({exc})") from exc
    if found.get("format") != FORMAT or found.get("version") != VERSION:
        raise ValueError(f"{meta}: not a {FORMAT} version {VERSION} file")
    return found
