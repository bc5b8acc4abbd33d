"""Per-account habits behind the usage log: time zone, hours of the day, model adoption, source IPs.

An account is used only while it has IP links (from the first `first_seen` to the last `last_seen`),
and each request comes from one of those links, preferring links whose span covers the request's
time and, among them, the busier ones: so the log's IPs agree with links.csv. A residential proxy
exit an operator sends through is a household's IP that the household's own requests use too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.generator.draft import COUNTRY_CODES, Draft
from graph.generator.entities import KINDS, Links
from graph.generator.timeline import DAY, HOUR

__all__ = ["FLAGSHIPS", "MODELS", "RELEASES", "SMALL_MODELS", "Habits", "IpChooser", "draw_habits", "newest_flagship"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MODELS: tuple[str, ...] = ("model-a", "model-a-mini", "model-b", "model-b-mini", "model-c")
# (release time, flagship, small model): model-b on 2025-06-10 16:00Z, model-c on 2026-03-03 17:00Z.
RELEASES: tuple[tuple[int, int, int], ...] = ((1_749_571_200, 2, 3), (1_772_557_200, 4, 3))
FLAGSHIPS = np.array([0, 2, 4], dtype=np.int64)
SMALL_MODELS = np.array([1, 3, 3], dtype=np.int64)
_TZ_HOURS = {
    "US": -5.0,
    "GB": 0.0,
    "DE": 1.0,
    "FR": 1.0,
    "IN": 5.5,
    "BR": -3.0,
    "CA": -5.0,
    "NL": 1.0,
    "ES": 1.0,
    "JP": 9.0,
}
# Hour-of-day weights (local time) of four kinds of people, and their weekday weights (Mon..Sun).
_HOURS = np.array(
    [
        [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 15, 18, 20, 19, 17, 13, 9, 8, 7, 5, 3, 2],  # office hours
        [2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 8, 9, 10, 9, 8, 8, 9, 11, 14, 18, 22, 22, 16, 7],  # evenings
        [14, 12, 9, 6, 3, 2, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9, 10, 12, 14, 16, 18, 17],  # night owls
        [1, 1, 1, 1, 3, 8, 16, 20, 18, 14, 11, 10, 10, 9, 8, 8, 8, 8, 7, 6, 5, 3, 2, 1],  # early birds
    ],
    dtype=np.float64,
)
_HOUR_CDF = np.cumsum(_HOURS, axis=1) / _HOURS.sum(axis=1, keepdims=True)
_WEEKDAYS = np.array([[1, 1, 1, 1, 1, 0.3, 0.25], [0.9, 0.9, 0.9, 0.9, 1, 1, 1], [1] * 7, [1, 1, 1, 1, 1, 0.8, 0.8]])
WORKER = 0


@dataclass(frozen=True)
class Habits:
    """Per-account columns (indexed by slot)."""

    tz: Ints  # seconds east of UTC
    profile: Ints  # row of _HOURS
    start: Ints  # usage window: first IP link seen ..
    end: Ints  # .. last IP link seen (start > end: never used)
    gap: Floats  # mean seconds between requests of a session
    mini: Bools  # prefers a small model
    adopt: Floats  # seconds after a release before the account moves to the new model
    hidden: Bools  # the provider may not share its text: events carry a template id instead

    def local_times(
        self, rng: np.random.Generator, slot: Ints, lo: Ints, hi: Ints, profile: Ints | None = None
    ) -> Ints:
        """A time in [lo, hi) per session, shaped by the person's hours and weekdays; -1 if rejected."""
        n = len(slot)
        tz = self.tz[slot]
        prof = self.profile[slot] if profile is None else profile
        day = (lo + (rng.random(n) * (hi - lo)).astype(np.int64) + tz) // DAY
        keep = rng.random(n) < _WEEKDAYS[prof, (day + 3) % 7]  # 1970-01-01 was a Thursday
        hour = (rng.random(n)[:, None] > _HOUR_CDF[prof]).sum(axis=1)
        ts = day * DAY + hour * HOUR + (rng.random(n) * HOUR).astype(np.int64) - tz
        ok = keep & (ts >= lo) & (ts < hi)
        out: Ints = np.where(ok, ts, -1)
        return out

    def model(self, rng: np.random.Generator, slot: Ints, ts: Ints) -> Ints:
        """The model a person picks: the newest one they adopted, a small one if they prefer it."""
        adopt = self.adopt[slot]
        gen = sum((ts >= t + adopt).astype(np.int64) for t, _, _ in RELEASES)
        u = rng.random(len(slot))
        picked = np.where(self.mini[slot] & (u < 0.75), SMALL_MODELS[gen], FLAGSHIPS[gen])
        older = (u > 0.93) & (gen > 0)
        chosen: Ints = np.where(older, FLAGSHIPS[np.maximum(gen - 1, 0)], picked)
        return chosen


def newest_flagship(ts: Ints, lag: Ints | Floats) -> Ints:
    """The most capable model released at least `lag` seconds before `ts` (what is worth distilling)."""
    gen = sum((ts >= t + lag).astype(np.int64) for t, _, _ in RELEASES)
    picked: Ints = FLAGSHIPS[gen]
    return picked


class IpChooser:
    """Chooses each request's source IP among its account's IP links."""

    def __init__(self, links: Links, accounts: int, ip_kind: int = KINDS.index("ip")) -> None:
        ip = links.kind == ip_kind
        order = np.argsort(links.account[ip], kind="stable")
        self.slot = links.account[ip][order]
        self.entity = links.entity[ip][order]
        self.first = links.first_seen[ip][order]
        self.last = links.last_seen[ip][order]
        weight = np.sqrt(links.count[ip][order].astype(np.float64))
        self.cum = np.cumsum(weight)
        self.ptr = np.searchsorted(self.slot, np.arange(accounts + 1))

    def window(self, accounts: int) -> tuple[Ints, Ints]:
        """Per account: its first IP link's first sighting and its last one's last (empty: start > end)."""
        start = np.full(accounts, np.iinfo(np.int64).max, dtype=np.int64)
        end = np.full(accounts, -1, dtype=np.int64)
        np.minimum.at(start, self.slot, self.first)
        np.maximum.at(end, self.slot, self.last)
        return start, end

    def pick(self, rng: np.random.Generator, slot: Ints, ts: Ints, key: Ints | None = None, tries: int = 4) -> Ints:
        """An IP entity per request (-1 for an account without IP links). Requests with the same
        non-negative `key` (a member's share of one job) come from the same exit."""
        lo, hi = self.ptr[slot], self.ptr[slot + 1]
        has = hi > lo
        base = np.where(lo > 0, self.cum[np.maximum(lo - 1, 0)], 0.0)
        total = np.where(has, self.cum[np.maximum(hi - 1, 0)] - base, 0.0)
        best = np.full(len(slot), -1, dtype=np.int64)
        best_gap = np.full(len(slot), np.iinfo(np.int64).max, dtype=np.int64)
        for t in range(tries):
            u = rng.random(len(slot))
            if key is not None:
                salt = np.uint64((t * 0xBF58476D1CE4E5B9 + 1) % (1 << 64))
                mixed = np.maximum(key, 0).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + salt
                u = np.where(key >= 0, (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53), u)
            at = np.searchsorted(self.cum, base + u * total, side="right")
            at = np.clip(at, lo, np.maximum(hi - 1, lo))
            gap = np.maximum(
                np.maximum(self.first[np.minimum(at, len(self.first) - 1)] - ts, 0),
                np.maximum(ts - self.last[np.minimum(at, len(self.last) - 1)], 0),
            )
            better = has & (gap < best_gap)
            best = np.where(better, at, best)
            best_gap = np.where(better, gap, best_gap)
        chosen: Ints = np.where(best >= 0, self.entity[np.maximum(best, 0)], -1)
        return chosen


def draw_habits(rng: np.random.Generator, draft: Draft, chooser: IpChooser) -> Habits:
    """Habits of every account, from the usage log's own random stream."""
    n = draft.accounts
    codes = np.array([_TZ_HOURS[c] for c in COUNTRY_CODES])
    hours = codes[draft.country]
    west = (draft.country == COUNTRY_CODES.index("US")) & (rng.random(n) < 0.4)
    hours = np.where(west, -8.0, hours)
    start, end = chooser.window(n)
    return Habits(
        tz=(hours * HOUR).astype(np.int64),
        profile=rng.choice(len(_HOURS), n, p=[0.4, 0.35, 0.12, 0.13]),
        start=start,
        end=end,
        gap=np.exp(rng.normal(np.log(90.0), 0.6, n)),
        mini=rng.random(n) < 0.3,
        adopt=np.exp(rng.normal(np.log(14 * DAY), 1.2, n)),
        hidden=rng.random(n) < 0.06,
    )
