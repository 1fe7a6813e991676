"""Untrained tiny SMPLR weight bundles for the shipped open body model (CLI and report
tests: they check wiring and file structure, not accuracy)."""

from __future__ import annotations

from pathlib import Path

import torch

from smplr.body.model import GenderedBodyModel
from smplr.networks import NetworkConfig, build_networks
from smplr.reverse.features import template_bone_lengths
from smplr.weights import WeightBundle, save_bundle

TINY_SIZES = NetworkConfig(dae_widths=(32, 32, 16), widths=(32, 32, 16), head_width=8)


def write_tiny_open_bundle(path: Path, seed: int = 0) -> Path:
    """A randomly initialised bundle for the open body model, written to ``path``."""
    torch.manual_seed(seed)
    nets = build_networks(TINY_SIZES)
    bundle = WeightBundle(
        network_config=TINY_SIZES,
        body_model="open",
        template_lengths=template_bone_lengths(GenderedBodyModel.open()),
        networks={k: v.state_dict() for k, v in nets.items()},
        meta={"note": "untrained test bundle"},
    )
    return save_bundle(bundle, path)
