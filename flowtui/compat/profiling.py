"""`profile`: Metaflow's timing context manager, printing (or counting) as Metaflow does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def profile(label: str, stats_dict: dict[str, int] | None = None) -> Iterator[None]:
    """Time the block. Without `stats_dict`, print `PROFILE: LABEL starting` before it and
    `PROFILE: LABEL completed in Nms` after; with one, add the milliseconds to
    `stats_dict[label]` and print nothing. A block that raises reports nothing (as in Metaflow).
    """
    if stats_dict is None:
        print(f"PROFILE: {label} starting")
    began = time.monotonic()
    yield
    took = int((time.monotonic() - began) * 1000)
    if stats_dict is None:
        print(f"PROFILE: {label} completed in {took}ms")
    else:
        stats_dict[label] = stats_dict.get(label, 0) + took
