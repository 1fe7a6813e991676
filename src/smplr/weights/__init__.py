"""Trained SMPLR networks: the shipped file and the bundle format.

A weight bundle is one ``.pt`` file (read with ``torch.load(weights_only=True)``, so it
cannot run code) holding::

    {"format": "smplr-weights", "version": 1,
     "config": {**NetworkConfig.to_dict(), "body_model": str},
     "template_lengths": (41,) float32,          # B* of Eq. 2 for the body model trained on
     "networks": {name: state_dict for name in smplr.networks.NETWORK_NAMES},  # dae_keypoints optional
     "meta": {...}}                              # training record, free-form

Loading validates the config (:meth:`NetworkConfig.from_dict`) and that every network's
tensors have the names and shapes that config builds.

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
from smplr.networks import NETWORK_NAMES, OPTIONAL_NETWORKS, NetworkConfig, build_networks
from smplr.reverse.features import NUM_BONES

FORMAT = "smplr-weights"
VERSION = 1


@dataclass
class WeightBundle:
    """The networks of one trained SMPLR, as state dicts, plus what they need:
    the config they were built with and the body model they were trained for."""

    network_config: NetworkConfig
    body_model: str
    template_lengths: torch.Tensor
    networks: dict[str, dict[str, torch.Tensor]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> dict[str, Any]:
        """The ``config`` entry of the file: the network config and the body model."""
        return {**self.network_config.to_dict(), "body_model": self.body_model}


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
        "config": bundle.config,
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
    missing = [n for n in NETWORK_NAMES if n not in networks and n not in OPTIONAL_NETWORKS]
    if missing:
        raise ValueError(f"{path}: weight file lacks networks {missing}")
    stored = dict(payload.get("config", {}))
    body_model = stored.pop("body_model", None)
    try:
        config = NetworkConfig.from_dict(stored)
        if not isinstance(body_model, str):
            raise ValueError("network config names no body model")
        check_networks(config, networks)
        lengths = payload.get("template_lengths")
        if not isinstance(lengths, torch.Tensor) or tuple(lengths.shape) != (NUM_BONES,):
            raise ValueError(f"template_lengths must be a ({NUM_BONES},) tensor")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return WeightBundle(
        network_config=config,
        body_model=body_model,
        template_lengths=payload["template_lengths"].float(),
        networks={name: _cast(state, torch.float32) for name, state in networks.items()},
        meta=payload.get("meta", {}),
    )


def check_networks(config: NetworkConfig, networks: dict[str, dict[str, torch.Tensor]]) -> None:
    """Raise a one-line ValueError unless every network's tensors have the names and
    shapes ``config`` builds (checked on the meta device: no memory, no random draws)."""
    with torch.device("meta"):
        expected = build_networks(config, [n for n in NETWORK_NAMES if n in networks])
    for name, net in expected.items():
        shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
        stored = {k: tuple(v.shape) for k, v in networks[name].items()}
        if stored != shapes:
            wrong = sorted(
                k for k in shapes.keys() | stored.keys() if shapes.get(k) != stored.get(k)
            )
            raise ValueError(
                f"network '{name}' does not match its config: tensor {wrong[0]} is "
                f"{stored.get(wrong[0], 'missing')}, the config builds {shapes.get(wrong[0], 'none')}"
            )
