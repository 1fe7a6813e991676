"""Small folders of rendered crops in ``smplr data synth``'s format, for tests."""

from __future__ import annotations

from pathlib import Path

from smplr.image_data.scene import SynthConfig
from smplr.image_data.shards import BackgroundSpec, ShardJob, write_dataset


def write_crops(
    out: Path, num: int, seed: int, shard_size: int, split: str = "train", size: int = 32
) -> Path:
    """Render ``num`` crops of ``size``² (procedural backgrounds, PNG) into ``out``."""
    job = ShardJob(
        out=str(out),
        num=num,
        seed=seed,
        shard_size=shard_size,
        split=split,
        config=SynthConfig(size=size, procedural=1.0),
        backgrounds=BackgroundSpec(None),
        image_format="png",
    )
    written = write_dataset(job, warn=_fail)
    if written != num:
        raise AssertionError(f"rendered {written} crops, not {num}")
    return out


def _fail(message: str) -> None:
    raise AssertionError(message)
