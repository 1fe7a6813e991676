"""Benchmarks: code that prints measured numbers (``smplr bench ...``, ``make bench``).

Each module has a ``run()`` that prints its table (:mod:`smplr.cli.bench` is the command
line); :func:`median_seconds` is the one timing helper they share.  Numbers on shared
2-core machines are noisy: compare the ratios measured in the same process, not absolute
values across runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def median_seconds(
    fn: Callable[[], object], repeats: int = 5, warmup: int = 1, min_time: float = 0.2
) -> float:
    """Median wall time of one call of ``fn`` over ``repeats`` rounds.

    Each round calls ``fn`` as many times as needed to last at least ``min_time``
    seconds (so tiny calls are timed in bulk) and records the mean per call.
    """
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    calls = max(1, int(min_time / once))
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - start) / calls)
    rounds.sort()
    return rounds[len(rounds) // 2]
