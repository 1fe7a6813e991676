"""Training checkpoints: written atomically, read with a clear error when damaged.

A checkpoint is ``{stage}/checkpoint.pt`` in the run folder: every network's and the
optimiser's state, the step reached, the data generator's state per process, torch's
own RNG state (dropout) and the logged curve rows — everything needed for a resumed run
to continue exactly as an uninterrupted one.  ``{stage}/final.pt`` holds the finished
networks only.  Reading or writing a checkpoint first deletes the temporary files a
killed writer left beside it (``.checkpoint.pt.*.tmp``): only rank 0 writes checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from smplr.atomic_io import remove_stale_temporaries
from smplr.weights import atomic_torch_save

FORMAT = "smplr-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("stage", "step", "settings", "networks", "optimizer", "rng", "curves")


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (a dict with :data:`REQUIRED_KEYS`) atomically to ``path``."""
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise ValueError(f"checkpoint state lacks {missing}")
    remove_stale_temporaries(path)
    return atomic_torch_save({"format": FORMAT, "version": VERSION, **state}, path)


def load_checkpoint(path: str | Path, stage: str | None = None) -> dict[str, Any]:
    """Read a checkpoint; raises ValueError naming the file when it is damaged or foreign."""
    path = Path(path)
    remove_stale_temporaries(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, bad pickle, ...: torch raises many types
        raise ValueError(
            f"{path}: corrupt or unreadable checkpoint ({type(exc).__name__}); "
            "delete it (or use --fresh) to start the stage again"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path}: not a smplr training checkpoint")
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: checkpoint version {state.get('version')}, expected {VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise ValueError(f"{path}: checkpoint lacks {missing}")
    if stage is not None and state["stage"] != stage:
        raise ValueError(f"{path}: checkpoint of stage '{state['stage']}', expected '{stage}'")
    return state
