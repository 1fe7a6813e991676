"""Untrained tiny SMPLR weight bundles, for the fake body model (core tests) and for the
shipped open body model (CLI and report tests: wiring and file structure, not accuracy)."""

from __future__ import annotations

from pathlib import Path

import torch

from helpers.fakes import fake_gendered
from smplr.body.model import GenderedBodyModel
from smplr.networks import DAE_NAMES, NetworkConfig, build_networks
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


def tiny_fake_bundle(seed: int = 0) -> WeightBundle:
    """A randomly initialised bundle for the fake gendered body model; its DAEs are made
    to change their input (an untrained DAE is the identity) so landmarks and depth move."""
    torch.manual_seed(seed)
    nets = build_networks(TINY_SIZES, DAE_NAMES)
    for dae in nets.values():
        torch.nn.init.normal_(dae.out.weight, std=0.05)
    nets.update(build_networks(TINY_SIZES, ("pose", "shape")))
    return WeightBundle(
        network_config=TINY_SIZES,
        body_model="fake",
        template_lengths=template_bone_lengths(fake_gendered()),
        networks={k: v.state_dict() for k, v in nets.items()},
    )
