"""Random body shapes: SMPL betas and the paper's gender value.

The betas of SMPL and of the shipped open model are PCA coefficients normalised to
unit variance over their training population, so ``N(0, 1)`` per coefficient
samples that population.  A share of the samples (``wide_share``) is drawn with a
wider spread (``wide_std``) to cover bodies in the tails more often; every value is
clipped to ``±max_abs``, where the linear shape space stops looking human.
"""

from __future__ import annotations

import torch


def sample_shapes(
    batch: int,
    generator: torch.Generator,
    device="cpu",
    num_betas: int = 10,
    wide_share: float = 0.1,
    wide_std: float = 1.5,
    max_abs: float = 3.0,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``batch`` shapes -> ``betas (B, num_betas)``, ``gender (B,)`` in {−1, +1}.

    ``gender`` is −1 (female) or +1 (male) with probability ½ each (the paper's
    convention).  ``generator`` must live on ``device``.

    Example::

        betas, gender = sample_shapes(256, torch.Generator().manual_seed(0))
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch}")
    if not 0.0 <= wide_share <= 1.0:
        raise ValueError(f"wide_share must be in [0, 1], got {wide_share}")
    dtype = dtype or torch.get_default_dtype()
    betas = torch.randn(batch, num_betas, generator=generator, device=device, dtype=dtype)
    wide = torch.rand(batch, 1, generator=generator, device=device) < wide_share
    betas = torch.where(wide, betas * wide_std, betas).clamp(-max_abs, max_abs)
    male = torch.rand(batch, generator=generator, device=device) < 0.5
    gender = torch.where(male, 1.0, -1.0).to(dtype)
    return betas, gender
