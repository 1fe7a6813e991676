"""Trained SMPLR networks: the shipped file and the bundle format.

A weight bundle is one ``.pt`` file (read with ``torch.load(weights_only=True)``, so it
cannot run code) holding::

    {"format": "smplr-weights", "version": 1,
     "config": {**NetworkConfig.to_dict(), "body_model": str},
     "template_lengths": (41,) float32,          # B* of Eq. 2 for the body model trained on
     "networks": {name: state_dict for name in smplr.networks.NETWORK_NAMES},  # dae_keypoints optional
     "meta": {...},                              # training record, free-form
     "image_model": {"config": ImageModelConfig.to_dict(), "state": state_dict,
                     "meta": {...},              # optional: the image backbone
                     "dae": {"widths": [w1, w2, w3], "state": state_dict,
                             "meta": {...}}}}    # optional: its DAE_SHN

Loading validates the config (:meth:`NetworkConfig.from_dict`) and that every network's
tensors have the names and shapes that config builds; the same for the image model
(:meth:`smplr.image_model.ImageModelConfig.from_dict`).  An image model alone is stored
in its own file (``format: "smplr-image-weights"``, the ``image_model`` entry's keys at
the top level): :func:`save_image_weights`, :func:`load_image_weights` (which also takes
a bundle that holds one).

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
from smplr.dae import DenoisingAutoencoder
from smplr.image_model import ImageModelConfig, build_image_model
from smplr.networks import NETWORK_NAMES, OPTIONAL_NETWORKS, NetworkConfig, build_networks
from smplr.reverse.features import NUM_BONES

FORMAT = "smplr-weights"
IMAGE_FORMAT = "smplr-image-weights"
VERSION = 1


@dataclass
class ReadingDAEWeights:
    """The DAE trained on an image model's own readings (the paper's DAE_SHN,
    :mod:`smplr.training.image_dae`): its encoder widths, state dict and training record."""

    widths: tuple[int, int, int]
    state: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)

    def build(self) -> DenoisingAutoencoder:
        """The DAE with these weights, in eval mode."""
        dae = DenoisingAutoencoder(self.widths)
        dae.load_state_dict(self.state)
        return dae.eval()


@dataclass
class ImageModelWeights:
    """A trained image backbone: its config, its state dict, its training record and,
    optionally, the DAE trained on its readings (``dae``)."""

    config: ImageModelConfig
    state: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    dae: ReadingDAEWeights | None = None


@dataclass
class WeightBundle:
    """The networks of one trained SMPLR, as state dicts, plus what they need:
    the config they were built with and the body model they were trained for."""

    network_config: NetworkConfig
    body_model: str
    template_lengths: torch.Tensor
    networks: dict[str, dict[str, torch.Tensor]]
    meta: dict[str, Any] = field(default_factory=dict)
    image_model: ImageModelWeights | None = None

    @property
    def config(self) -> dict[str, Any]:
        """The ``config`` entry of the file: the network config and the body model."""
        return {**self.network_config.to_dict(), "body_model": self.body_model}


def shipped_path() -> Path:
    """The bundle trained for the shipped open body model."""
    return Path(str(resources.files("smplr.weights") / "smplr_open.pt"))


def shipped_image_path() -> Path:
    """The shipped image model (``smplr predict --keypoints shn``; docs/image_model.md)."""
    return Path(str(resources.files("smplr.weights") / "image_open.pt"))


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
    if bundle.image_model is not None:
        payload["image_model"] = _image_payload(bundle.image_model, dtype)
    return atomic_torch_save(payload, path)


def _image_payload(weights: ImageModelWeights, dtype: torch.dtype) -> dict[str, Any]:
    state = {k: v.detach().cpu() for k, v in weights.state.items()}
    payload = {
        "config": weights.config.to_dict(),
        "state": _cast(state, dtype),
        "meta": weights.meta,
    }
    if weights.dae is not None:
        dae_state = {k: v.detach().cpu() for k, v in weights.dae.state.items()}
        payload["dae"] = {
            "widths": list(weights.dae.widths),
            "state": _cast(dae_state, dtype),
            "meta": weights.dae.meta,
        }
    return payload


def save_image_weights(weights: ImageModelWeights, path: str | Path, half: bool = False) -> Path:
    """Write an image model alone, atomically; ``half`` stores float16 tensors."""
    payload = _image_payload(weights, torch.float16 if half else torch.float32)
    return atomic_torch_save({"format": IMAGE_FORMAT, "version": VERSION, **payload}, path)


def _read_payload(path: Path, formats: tuple[str, ...]) -> dict[str, Any]:
    """The dict stored in a weight file of one of ``formats``, version-checked."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: SMPLR weight file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ValueError(
            f"{path}: not a readable SMPLR weight file ({type(exc).__name__})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") not in formats:
        raise ValueError(f"{path}: not a SMPLR weight file (no '{formats[0]}' header)")
    if payload.get("version") != VERSION:
        raise ValueError(
            f"{path}: weight file version {payload.get('version')}, expected {VERSION}"
        )
    return payload


def _image_weights(entry: Any) -> ImageModelWeights:
    """Validate a stored image model (config, tensor names and shapes)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("state"), dict):
        raise ValueError("image model entry lacks its config or state")
    config = ImageModelConfig.from_dict(entry.get("config", {}))
    with torch.device("meta"):
        expected = build_image_model(config).state_dict()
    _check_shapes("image", expected, entry["state"])
    dae = None if entry.get("dae") is None else _reading_dae(entry["dae"])
    return ImageModelWeights(
        config, _cast(entry["state"], torch.float32), entry.get("meta", {}), dae
    )


def _reading_dae(entry: Any) -> ReadingDAEWeights:
    """Validate a stored DAE_SHN (three positive widths, tensor names and shapes)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("state"), dict):
        raise ValueError("the image model's DAE entry lacks its widths or state")
    widths = entry.get("widths")
    if (
        not isinstance(widths, list | tuple)
        or len(widths) != 3
        or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths)
    ):
        raise ValueError(f"the image model's DAE needs three positive widths, got {widths!r}")
    with torch.device("meta"):
        expected = DenoisingAutoencoder(widths).state_dict()
    _check_shapes("image DAE", expected, entry["state"])
    return ReadingDAEWeights(
        (widths[0], widths[1], widths[2]),
        _cast(entry["state"], torch.float32),
        entry.get("meta", {}),
    )


def load_image_weights(path: str | Path) -> ImageModelWeights:
    """Read an image model: its own file, or a SMPLR bundle that holds one."""
    path = Path(path)
    payload = _read_payload(path, (IMAGE_FORMAT, FORMAT))
    entry = payload if payload["format"] == IMAGE_FORMAT else payload.get("image_model")
    if entry is None:
        raise ValueError(f"{path}: this SMPLR weight file holds no image model")
    try:
        return _image_weights(entry)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_bundle(path: str | Path) -> WeightBundle:
    """Read a bundle; a missing, truncated or foreign file raises a one-line error."""
    path = Path(path)
    payload = _read_payload(path, (FORMAT,))
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
        bad = torch.nonzero(~(lengths.float() > 0) | ~torch.isfinite(lengths.float()))
        if bad.numel():
            bone = int(bad[0])
            raise ValueError(
                f"template_lengths: bone {bone} has length {float(lengths[bone]):g}; the "
                "template's bone lengths must be finite and positive (metres)"
            )
        image = payload.get("image_model")
        image_model = None if image is None else _image_weights(image)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return WeightBundle(
        network_config=config,
        body_model=body_model,
        template_lengths=payload["template_lengths"].float(),
        networks={name: _cast(state, torch.float32) for name, state in networks.items()},
        meta=payload.get("meta", {}),
        image_model=image_model,
    )


def check_networks(config: NetworkConfig, networks: dict[str, dict[str, torch.Tensor]]) -> None:
    """Raise a one-line ValueError unless every network's tensors have the names and
    shapes ``config`` builds (checked on the meta device: no memory, no random draws)."""
    with torch.device("meta"):
        expected = build_networks(config, [n for n in NETWORK_NAMES if n in networks])
    for name, net in expected.items():
        _check_shapes(name, net.state_dict(), networks[name])


def _check_shapes(name: str, expected: dict[str, torch.Tensor], stored_state: Any) -> None:
    """Raise a ValueError unless ``stored_state`` has ``expected``'s tensor shapes and
    finite values."""
    if not isinstance(stored_state, dict) or not all(
        isinstance(v, torch.Tensor) for v in stored_state.values()
    ):
        raise ValueError(f"network '{name}' is not a dict of tensors")
    shapes = {k: tuple(v.shape) for k, v in expected.items()}
    stored = {k: tuple(v.shape) for k, v in stored_state.items()}
    if stored != shapes:
        wrong = sorted(k for k in shapes.keys() | stored.keys() if shapes.get(k) != stored.get(k))
        raise ValueError(
            f"network '{name}' does not match its config: tensor {wrong[0]} is "
            f"{stored.get(wrong[0], 'missing')}, the config builds {shapes.get(wrong[0], 'none')}"
        )
    for key, tensor in stored_state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"network '{name}': tensor {key} contains NaN or inf")
