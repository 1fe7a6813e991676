"""SMPLR's networks: their one typed configuration and the one factory that builds them.

The networks are one DAE per JL input format (``dae_<format>``, :mod:`smplr.input_formats`),
one for every detector format (``dae_keypoints``),
Ω (``pose``) and Ψ (``shape``).  :class:`NetworkConfig` holds every width; training,
the weight bundle and :class:`smplr.pipeline.SMPLR` all build through
:func:`build_networks`.  Its defaults are the shipped networks' (half the paper's
widths, see ``docs/model_card.md``); :meth:`NetworkConfig.paper` gives the paper's.

Example::

    >>> from smplr.networks import NetworkConfig, build_networks
    >>> tiny = NetworkConfig(dae_widths=(32, 32, 16), widths=(32, 32), head_width=8)
    >>> sorted(build_networks(tiny))
    ['dae_2d', 'dae_jl42', 'dae_joints24', 'dae_keypoints', 'pose', 'shape']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from torch import nn

from smplr.body.keypoints import NUM_SITES
from smplr.dae import DenoisingAutoencoder, KeypointDAE
from smplr.input_formats import INPUT_FORMATS, KEYPOINT_DAE
from smplr.reverse.networks import PoseNet, ShapeNet

# Every network of a trained SMPLR, by its name in the weight bundle.
DAE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(fmt.network for fmt in INPUT_FORMATS.values()))
NETWORK_NAMES: tuple[str, ...] = (*DAE_NAMES, "pose", "shape")
OPTIONAL_NETWORKS: tuple[str, ...] = (KEYPOINT_DAE,)
"""Networks a weight bundle may lack (bundles from before the detector formats): the
formats that need them are then refused with a one-line error."""


@dataclass(frozen=True)
class NetworkConfig:
    """Widths of the networks and the DAE's input dropout during training.

    ``dae_widths``: the DAE's three encoder widths; ``widths``: the Ω/Ψ trunk;
    ``head_width``: their two heads; ``dae_input_dropout``: 0 here, the paper's is 0.2
    (``docs/model_card.md``; it only acts in training).
    """

    dae_widths: tuple[int, int, int] = (512, 512, 256)
    widths: tuple[int, ...] = (512, 512, 256, 256, 256)
    head_width: int = 128
    dae_input_dropout: float = 0.0

    def __post_init__(self) -> None:
        widths = (*self.dae_widths, *self.widths, self.head_width)
        if len(self.dae_widths) != 3 or not self.widths:
            raise ValueError(
                f"network config needs three DAE widths and at least one trunk width, got "
                f"dae_widths={self.dae_widths}, widths={self.widths}"
            )
        if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
            raise ValueError(f"network widths must be positive integers, got {widths}")
        if not 0.0 <= self.dae_input_dropout < 1.0:
            raise ValueError(f"dae_input_dropout must be in [0, 1), got {self.dae_input_dropout}")

    @classmethod
    def paper(cls) -> NetworkConfig:
        """The paper's widths and dropout (DESIGN §2)."""
        return cls((1024, 1024, 512), (1024, 1024, 512, 512, 512), 256, 0.2)

    def to_dict(self) -> dict[str, Any]:
        """Plain tuples and numbers, as a weight bundle or checkpoint stores them."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkConfig:
        """The config stored by :meth:`to_dict` (tuples or lists), validated; unknown or
        missing keys and bad values raise a one-line ValueError."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"network config has unknown keys {unknown}")
        missing = sorted({"dae_widths", "widths", "head_width"} - set(data))
        if missing:
            raise ValueError(f"network config lacks {missing}")
        try:
            return cls(
                dae_widths=tuple(data["dae_widths"]),
                widths=tuple(data["widths"]),
                head_width=data["head_width"],
                dae_input_dropout=float(data.get("dae_input_dropout", 0.0)),
            )
        except TypeError as exc:
            raise ValueError(f"network config is malformed ({exc})") from exc


def build_networks(
    config: NetworkConfig, names: Iterable[str] = NETWORK_NAMES
) -> dict[str, nn.Module]:
    """Fresh (initialised) networks called ``names``, built in that order: any of
    :data:`NETWORK_NAMES`."""
    nets: dict[str, nn.Module] = {}
    for name in names:
        if name == KEYPOINT_DAE:
            nets[name] = KeypointDAE(config.dae_widths, NUM_SITES, config.dae_input_dropout)
        elif name in DAE_NAMES:
            nets[name] = DenoisingAutoencoder(
                config.dae_widths, input_dropout=config.dae_input_dropout
            )
        elif name == "pose":
            nets[name] = PoseNet(config.widths, config.head_width)
        elif name == "shape":
            nets[name] = ShapeNet(config.widths, config.head_width)
        else:
            raise ValueError(
                f"unknown network '{name}': expected one of {', '.join(NETWORK_NAMES)}"
            )
    return nets
