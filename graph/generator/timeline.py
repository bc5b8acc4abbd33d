"""The observation window and the random durations the population is drawn with (unix seconds)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "WINDOW_END",
    "WINDOW_START",
    "activity",
    "clip_to_window",
]

MINUTE = 60
HOUR = 3_600
DAY = 86_400
WINDOW_START = 1_735_689_600  # 2025-01-01T00:00:00Z
WINDOW_END = 1_793_491_199  # 2026-10-31T23:59:59Z

Ints = npt.NDArray[np.int64]


def clip_to_window(seconds: Ints) -> Ints:
    """Times forced into the observation window."""
    return np.clip(seconds, WINDOW_START, WINDOW_END).astype(np.int64)


def activity(
    rng: np.random.Generator,
    start: Ints,
    delay_mean: float,
    min_days: float,
    max_days: float,
    per_day: float,
) -> tuple[Ints, Ints, Ints]:
    """First seen, last seen and count of a link that begins after `start`.

    The first sighting follows `start` after an exponential delay (mean `delay_mean` seconds); the
    link then lasts a log-uniform number of days, since usage spans are heavy-tailed; the count grows
    with the span at a per-link rate around `per_day`.
    """
    n = len(start)
    first = clip_to_window(start + rng.exponential(delay_mean, n).astype(np.int64))
    days = np.exp(rng.uniform(np.log(min_days), np.log(max_days), n))
    last = clip_to_window(first + (days * DAY).astype(np.int64))
    span_days = (last - first) / DAY
    rate = per_day * rng.uniform(0.2, 1.8, n)
    count = 1 + rng.poisson(np.minimum(span_days * rate, 50_000.0))
    return first, last, count.astype(np.int64)
