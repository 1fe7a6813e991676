"""Trained SMPLR networks: the shipped file and the bundle format.

A weight bundle is one ``.pt`` file (read with ``torch.load(weights_only=True)``, so it
cannot run code) holding::

    {"format": "smplr-weights", "version": 1,
     "config": {"dae_widths": [...], "widths": [...], "head_width": int, "body_model": str},
     "template_lengths": (41,) float32,          # B* of Eq. 2 for the body model trained on
     "networks": {"dae_jl42" | "dae_joints24" | "dae_2d" | "pose" | "shape": state_dict},
     "meta": {...}}                              # training record, free-form

Tensors may be stored as float16 (``save_bundle(..., half=True)``) and are restored to
float32 on load.  ``shipped_path()`` is the bundle trained for the open body model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from smplr.atomic_io import atomic_write

FORMAT = "smplr-weights"
VERSION = 1
NETWORK_NAMES: tuple[str, ...] = ("dae_jl42", "dae_joints24", "dae_2d", "pose", "shape")


@dataclass
class WeightBundle:
    """The networks of one trained SMPLR, as state dicts, plus what they need."""

    config: dict[str, Any]
    template_lengths: torch.Tensor
    networks: dict[str, dict[str, torch.Tensor]]
    meta: dict[str, Any] = field(default_factory=dict)


def shipped_path() -> Path:
    """The bundle trained for the shipped open body model."""
    return Path(str(resources.files("smplr.weights") / "smplr_open.pt"))


def _cast(state: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to ``path`` whole or not at all (:func:`smplr.atomic_io.atomic_write`)."""
    with atomic_write(path) as handle:
        torch.save(obj, handle)
    return Path(path)


def save_bundle(bundle: WeightBundle, path: str | Path, half: bool = False) -> Path:
    """Write ``bundle`` atomically; ``half`` stores floating tensors as float16."""
    dtype = torch.float16 if half else torch.float32
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": dict(bundle.config),
        "template_lengths": bundle.template_lengths.detach().cpu().float(),
        "networks": {
            name: _cast({k: v.detach().cpu() for k, v in state.items()}, dtype)
            for name, state in bundle.networks.items()
        },
        "meta": dict(bundle.meta),
    }
    return atomic_torch_save(payload, path)


def load_bundle(path: str | Path) -> WeightBundle:
    """Read a bundle; a missing, truncated or foreign file raises a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: SMPLR weight file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ValueError(
            f"{path}: not a readable SMPLR weight file ({type(exc).__name__})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a SMPLR weight file (no '{FORMAT}' header)")
    if payload.get("version") != VERSION:
        raise ValueError(
            f"{path}: weight file version {payload.get('version')}, expected {VERSION}"
        )
    networks = payload.get("networks", {})
    missing = [name for name in NETWORK_NAMES if name not in networks]
    if missing:
        raise ValueError(f"{path}: weight file lacks networks {missing}")
    return WeightBundle(
        config=payload["config"],
        template_lengths=payload["template_lengths"].float(),
        networks={name: _cast(state, torch.float32) for name, state in networks.items()},
        meta=payload.get("meta", {}),
    )
