"""Per-account activity from its SENT aggregates, and a ring's activity summary (DESIGN.md §3 step 4).

An account's activity is the sum of its SENT relationships (every template, the unshared one too):
requests, output tokens, requests per UTC hour, per category and per model, when it first used each
model, and the distinct days it was active. A ring's summary adds its members' up and says what the
ring was doing: how much, on what, at which hours, and how soon it moved to a new model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from graph.store.usage import UNSHARED

__all__ = ["AccountActivity", "RingActivity", "account_activity", "duration", "hour_entropy", "ring_activity"]

_HOURS: Final = 24
_PIVOT_SECONDS: Final = 24 * 3_600  # a member "moved at release" if it used the model within a day
_SHOWN_CATEGORIES: Final = 5


@dataclass(frozen=True)
class AccountActivity:
    requests: int
    output_tokens: int
    hours: npt.NDArray[np.int64]  # requests per UTC hour
    categories: Mapping[str, int]
    model_first_seen: Mapping[str, int]  # epoch seconds
    first_seen: int | None
    active_days: int
    top_template: str | None  # the kept template it sent most (None: only unshared prompts)


def account_activity(sent: Iterable[Mapping[str, Any]]) -> AccountActivity:
    """Sum one account's SENT aggregates (as graph.store.usage_reads.read_activity returns them)."""
    requests = output = 0
    hours = np.zeros(_HOURS, np.int64)
    categories: dict[str, int] = {}
    first_model: dict[str, int] = {}
    first: int | None = None
    days: set[int] = set()
    top: tuple[int, str] | None = None
    for row in sent:
        template = row.get("template")
        if template is not None and template != UNSHARED:
            candidate = (-int(row.get("count") or 0), str(template))
            top = candidate if top is None or candidate < top else top
        requests += int(row.get("count") or 0)
        output += int(row.get("output_tokens") or 0)
        if row.get("hours"):
            hours += np.asarray(row["hours"], np.int64)
        for name, count in zip(row.get("categories") or (), row.get("category_counts") or (), strict=True):
            categories[name] = categories.get(name, 0) + int(count)
        for name, seen in zip(row.get("models") or (), row.get("model_first_seen") or (), strict=True):
            first_model[name] = min(first_model.get(name, int(seen)), int(seen))
        if row.get("first_seen") is not None:
            first = int(row["first_seen"]) if first is None else min(first, int(row["first_seen"]))
        days.update(int(m) // 1440 for m in row.get("minutes") or ())
    return AccountActivity(requests, output, hours, categories, first_model, first, len(days),
                           None if top is None else top[1])


@dataclass(frozen=True)
class RingActivity:
    """What a ring was doing, from its members' usage."""

    requests: int = 0
    output_tokens: int = 0
    hours: tuple[int, ...] = (0,) * _HOURS
    categories: tuple[tuple[str, float], ...] = ()  # (category, share of requests), largest first
    model_switch: str | None = None  # the first model the ring adopted after its release
    switch_hours: float | None = None  # hours from that model's release to the ring's first use of it
    switch_share: float = 0.0  # share of members that used it within a day of its release
    round_the_clock: float = 0.0  # normalised entropy of the hours, 0 (one hour) .. 1 (even)
    category_focus: float = 0.0  # share of requests in the ring's largest category
    active_members: int = 0

    def profile_json(self) -> str | None:
        """The summary as JSON for the Ring node (None without usage)."""
        if not self.requests:
            return None
        return json.dumps({
            "requests": self.requests, "output_tokens": self.output_tokens, "hours": list(self.hours),
            "categories": [[name, round(share, 4)] for name, share in self.categories],
            "model_switch": self.model_switch,
            "switch_hours": None if self.switch_hours is None else round(self.switch_hours, 2),
            "switch_share": round(self.switch_share, 4), "round_the_clock": round(self.round_the_clock, 4),
        }, sort_keys=True)

    def sentence(self) -> str | None:
        if not self.requests:
            return None
        parts = [f"{self.active_members} members sent {self.requests:,} requests "
                 f"({self.output_tokens:,} output tokens)"]
        if self.categories:
            name, share = self.categories[0]
            parts.append(f"{share:.0%} of them {name}")
        active = sum(1 for h in self.hours if h)
        parts.append(f"in {active} of 24 hours of the day")
        text = "; ".join(parts)
        if self.model_switch is not None and self.switch_hours is not None:
            text += (f"; it moved to {self.model_switch} {duration(self.switch_hours)} after its release "
                     f"({self.switch_share:.0%} of members within a day)")
        return text + "."


def duration(value: float) -> str:
    """Hours as a person says them: minutes below one, days above two."""
    if value < 1:
        return f"{max(1, round(value * 60))} minutes"
    if value < 48:
        return f"{round(value)} hours"
    return f"{round(value / 24)} days"


def hour_entropy(hours: npt.NDArray[np.int64]) -> float:
    """Normalised entropy of counts over the 24 hours of the day: 0 all in one hour, 1 even."""
    total = int(hours.sum())
    if total <= 0:
        return 0.0
    p = [h / total for h in hours.tolist() if h]
    return -math.fsum(x * math.log(x) for x in p) / math.log(_HOURS)


def ring_activity(
    members: Sequence[AccountActivity | None], releases: Mapping[str, int], first_release: int | None
) -> RingActivity:
    """The summary of a ring whose members' activity is `members` (None: no usage). A model counts as
    released at `releases[model]` only if that is later than `first_release` (the log's first model
    sighting): the models in use when the log starts were not released inside it."""
    active = [m for m in members if m is not None and m.requests]
    if not active:
        return RingActivity()
    hours = np.sum([m.hours for m in active], axis=0).astype(np.int64)
    categories: dict[str, int] = {}
    for m in active:
        for name, count in m.categories.items():
            categories[name] = categories.get(name, 0) + count
    total_categorised = sum(categories.values())
    shares = sorted(((n, c / total_categorised) for n, c in categories.items() if total_categorised),
                    key=lambda x: (-x[1], x[0]))
    start = min((m.first_seen for m in active if m.first_seen is not None), default=None)
    switch: tuple[str, float, float] | None = None
    for model, released in sorted(releases.items(), key=lambda x: (x[1], x[0])):
        if first_release is None or released <= first_release + 86_400 or (start is not None and released < start):
            continue
        uses = [m.model_first_seen[model] for m in active if model in m.model_first_seen]
        if not uses:
            continue
        quick = sum(1 for u in uses if u - released <= _PIVOT_SECONDS) / len(active)
        switch = (model, (min(uses) - released) / 3_600, quick)
        break
    return RingActivity(
        requests=sum(m.requests for m in active),
        output_tokens=sum(m.output_tokens for m in active),
        hours=tuple(int(h) for h in hours.tolist()),
        categories=tuple(shares[:_SHOWN_CATEGORIES]),
        model_switch=None if switch is None else switch[0],
        switch_hours=None if switch is None else switch[1],
        switch_share=0.0 if switch is None else switch[2],
        round_the_clock=hour_entropy(hours),
        category_focus=shares[0][1] if shares else 0.0,
        active_members=len(active),
    )
