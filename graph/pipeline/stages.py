"""A run's named stages: each timed into the run's timings and reported to its progress callback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Progress", "timed_stage"]

#: Called with a stage's name and how far it got (0.0 when it starts, 1.0 when it ends).
Progress = Callable[[str, float], None]


@contextmanager
def timed_stage(timings: dict[str, float], name: str, progress: Progress | None) -> Iterator[None]:
    """Time the block as stage `name` (seconds, three decimals) and tell `progress` it began and ended."""
    if progress is not None:
        progress(name, 0.0)
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)
    if progress is not None:
        progress(name, 1.0)
