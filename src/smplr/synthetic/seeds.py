"""Seeds kept for test sets: training samplers refuse them.

The named test sets (:mod:`smplr.datasets.test_sets`) draw their bodies with
:data:`HELD_OUT_SEED` (the model card's held-out draw of the pose prior, the default of
:func:`~smplr.synthetic.bodies.held_out_set`) or with a seed of :data:`TEST_SEED_BLOCK`;
:class:`~smplr.synthetic.mixture.MixtureBodies` refuses all of them, so no training
pool can draw a test set's bodies.  Training runs use ``seed`` and ``seed + 1_000_003``
for small seeds, far from both.
"""

from __future__ import annotations

HELD_OUT_SEED = 12345
TEST_SEED_BLOCK = range(7_001_001, 7_002_000)


def is_test_seed(seed: int) -> bool:
    """Whether ``seed`` is kept for a test set."""
    return seed == HELD_OUT_SEED or seed in TEST_SEED_BLOCK
