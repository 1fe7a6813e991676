"""PyTorch datasets of synthetic images: the written shards, or rendering on the fly.

Both yield dicts of tensors (:func:`to_tensors`): ``image (3, H, W)`` float in [0, 1] and
every annotation of :data:`smplr.image_data.scene.RECORD_KEYS` (masks ``(H, W)`` bool,
``parts (H, W)`` long, ``depth (H, W)`` float32, the rest as stored), plus ``index``.

Example::

    from torch.utils.data import DataLoader
    from smplr.image_data.augment import Augmentation
    from smplr.image_data.dataset import ImageShards, StreamingImages

    data = ImageShards("out/images", augment=Augmentation())      # from disk
    loader = DataLoader(data, batch_size=32, shuffle=True, num_workers=2)
    stream = StreamingImages(seed=0, num=10_000)                   # rendered on the fly
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from smplr.body.model import GenderedBodyModel
from smplr.image_data.augment import Augmentation, Record
from smplr.image_data.backgrounds import Backgrounds
from smplr.image_data.scene import ImageSynthesizer, SynthConfig
from smplr.image_data.shards import RENDER_CHUNK, finished_shards, read_settings, shard_seeds
from smplr.synthetic.mixture import MixtureBodies


def to_tensors(record: Record) -> dict[str, torch.Tensor]:
    """A record (numpy arrays) as tensors; the image becomes ``(3, H, W)`` float in [0, 1].
    String entries (the background's source) are left out."""
    out = {}
    for key, value in record.items():
        array = np.asarray(value)
        if array.dtype.kind in "US":
            continue
        if key == "image":
            out[key] = torch.from_numpy(np.array(array)).permute(2, 0, 1).float() / 255
        elif key == "parts":
            out[key] = torch.from_numpy(array.astype(np.int64))
        elif array.dtype == np.float16:
            out[key] = torch.from_numpy(array.astype(np.float32))
        else:
            out[key] = torch.from_numpy(np.array(array))
    return out


def load_image_file(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


class ImageShards(Dataset):
    """The images of a dataset written by :func:`smplr.image_data.shards.write_dataset`
    (complete shards only), optionally augmented (:class:`Augmentation`).

    Each item is one image's dict of tensors.  The annotations of the last ``cached_shards``
    shards read are kept in memory (per DataLoader worker; about 83 KB an image at 128²,
    most of it the maps): 1 suits reading in order, ``None`` (all) random draws for
    training, where re-reading a shard's compressed annotations would cost more than the
    training step."""

    def __init__(
        self,
        root: str | Path,
        augment: Augmentation | None = None,
        seed: int = 0,
        cached_shards: int | None = 1,
    ) -> None:
        self.root = Path(root)
        self.settings = read_settings(self.root)
        self.augment = augment
        self.seed = seed
        self.shards = list(finished_shards(self.root))
        if not self.shards:
            raise ValueError(f"{self.root}: no finished shard")
        self.counts = []
        for folder in self.shards:
            with np.load(folder / "annotations.npz", allow_pickle=False) as data:
                self.counts.append(len(data["index"]))
        self.starts = np.cumsum([0, *self.counts])
        if cached_shards is not None and cached_shards < 1:
            raise ValueError(f"cached_shards must be at least 1 or None, got {cached_shards}")
        self.cached_shards = cached_shards
        self._cache: OrderedDict[int, dict[str, np.ndarray]] = OrderedDict()
        self._draws = 0

    def __len__(self) -> int:
        return int(self.starts[-1])

    def record(self, item: int) -> Record:
        """Image ``item`` as stored (numpy arrays, not augmented)."""
        if not 0 <= item < len(self):
            raise IndexError(f"image {item} out of range for {len(self)} images")
        shard = int(np.searchsorted(self.starts, item, side="right") - 1)
        arrays = self._annotations(shard)
        row = item - int(self.starts[shard])
        record = {key: value[row] for key, value in arrays.items()}
        name = f"{int(record['index']):07d}.{self.settings['image_format']}"
        record["image"] = load_image_file(self.shards[shard] / name)
        record["depth"] = record["depth"].astype(np.float32)
        return record

    def _annotations(self, shard: int) -> dict[str, np.ndarray]:
        """Every annotation array of ``shard``, from the cache or read (and cached)."""
        if shard in self._cache:
            self._cache.move_to_end(shard)
            return self._cache[shard]
        with np.load(self.shards[shard] / "annotations.npz", allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        self._cache[shard] = arrays
        if self.cached_shards is not None and len(self._cache) > self.cached_shards:
            self._cache.popitem(last=False)
        return arrays

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        record = self.record(item)
        if self.augment is not None:
            self._draws += 1
            generator = torch.Generator().manual_seed(
                int(np.random.SeedSequence([self.seed, item, self._draws]).generate_state(1)[0])
            )
            record = self.augment(record, generator)
        return to_tensors(record)


class StreamingImages(IterableDataset):
    """Images rendered on the fly for training: endless (or ``num`` per iteration), with
    the paper's augmentations: rotation and scale through the camera (exact, ``config``'s
    ``rotation_degrees`` and ``scale``), a new background for every image, flips with
    left/right swap and colour jitter (``augment``; its rotation and scale are not used).

    Each DataLoader worker renders its own stream (seeded by ``seed`` and the worker id).
    """

    def __init__(
        self,
        seed: int = 0,
        num: int | None = None,
        config: SynthConfig | None = None,
        augment: Augmentation | None = None,
        backgrounds: Backgrounds | None = None,
        body: GenderedBodyModel | None = None,
    ) -> None:
        self.seed = seed
        self.num = num
        self.config = config or SynthConfig(rotation_degrees=30.0, scale=(0.8, 1.2))
        self.augment = augment or Augmentation(rotation_degrees=0.0, scale=(1.0, 1.0))
        self._backgrounds = backgrounds
        self._body = body

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        from smplr.image_data.backgrounds import package_photos

        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        body = self._body or GenderedBodyModel.open()
        backgrounds = self._backgrounds or Backgrounds(
            package_photos("train"), self.config.procedural
        )
        synthesizer = ImageSynthesizer(body, self.config, backgrounds)
        body_seed, scene_seed = shard_seeds(self.seed, worker, "train")
        bodies = MixtureBodies(body, seed=body_seed, block_size=1024)
        generator = torch.Generator().manual_seed(scene_seed)
        augment = Augmentation(
            flip=self.augment.flip,
            rotation_degrees=0.0,
            scale=(1.0, 1.0),
            colour=self.augment.colour,
            background_swap=0.0,
        )
        total = None if self.num is None else len(range(worker, self.num, workers))
        made = 0
        while total is None or made < total:
            batch = synthesizer.render(bodies.sample(RENDER_CHUNK, with_vertices=True), generator)
            for row in range(RENDER_CHUNK):
                if total is not None and made >= total:
                    return
                record = {key: value[row] for key, value in batch.items()}
                record["index"] = np.int64(made * workers + worker)
                yield to_tensors(augment(record, generator))
                made += 1
