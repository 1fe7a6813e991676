"""The layers every SMPLR network is made of (DAE and SMPL reverse alike), in torch only.

- :func:`dense_block`: Linear -> BatchNorm -> ELU, the hidden layer;
- :func:`xavier_init`: the paper's initialisation (4.1);
- :func:`fold_batchnorm`: inference-time folding of each block's BatchNorm into its Linear.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_linear_bn_eval


def dense_block(in_features: int, out_features: int) -> nn.Sequential:
    """Linear -> BatchNorm -> ELU, the hidden layer of every SMPLR network:
    ``(B, in_features)`` -> ``(B, out_features)``."""
    return nn.Sequential(
        nn.Linear(in_features, out_features), nn.BatchNorm1d(out_features), nn.ELU()
    )


def xavier_init(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases on every linear layer (paper 4.1)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """For inference: fold every dense block's BatchNorm (running statistics) into its
    Linear layer, in place; outputs are unchanged in eval mode, with a third fewer ops.
    Returns ``module`` (in eval mode; do not train it afterwards)."""
    module.eval()
    for block in module.modules():
        if (
            isinstance(block, nn.Sequential)
            and len(block) == 3
            and isinstance(block[0], nn.Linear)
            and isinstance(block[1], nn.BatchNorm1d)
        ):
            block[0] = fuse_linear_bn_eval(block[0], block[1])
            block[1] = nn.Identity()
    return module
