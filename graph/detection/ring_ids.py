"""Stable ring ids across detection runs, with merge and split lineage (DESIGN.md §3 step 3).

A new ring inherits the id of the previous run's ring it overlaps most, by Jaccard similarity
``|A & B| / |A | B|``, when that similarity reaches `threshold` (default 0.5): matching is one-to-one
and greedy by descending Jaccard, ties broken by the old id and then by the new ring's position, so
the same inputs always give the same ids. (With threshold >= 0.5 and disjoint rings each ring has at
most one candidate above the threshold, so greedy matching is also the optimal one.)

An unmatched ring gets an id derived from its content, ``ring-`` + the first 10 hex digits of the
SHA-1 of its sorted member ids joined by newlines: content-derived rather than a counter, so two
runs over the same data name a new ring identically whatever else was found, and no run-to-run
state beyond the previous rings is needed. On the (unlikely) collision with an id in use, more hex
digits are taken.

Lineage: a *merge* is a new ring that holds at least `lineage_share` of the members of each of two
or more old rings; a *split* is an old ring whose members, at least `lineage_share` of them each,
went to two or more new rings (one event per receiving new ring). A *dissolved* event records an
old ring with no match and no split.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["LineageEvent", "RingIdAssignment", "assign_ring_ids", "content_ring_id"]

_HEX_DIGITS = 10


@dataclass(frozen=True)
class LineageEvent:
    """How a new ring relates to the previous run's rings.

    ``jaccard`` is between the new ring and the union of ``old_ids`` (merge), the new ring and the
    old ring (split), or 0.0 (dissolved, where ``new_id`` is empty).
    """

    kind: Literal["merge", "split", "dissolved"]
    new_id: str
    old_ids: tuple[str, ...]
    jaccard: float


@dataclass(frozen=True)
class RingIdAssignment:
    """Ids for the new rings, in the order the rings were given, and the lineage events."""

    ids: tuple[str, ...]
    matched: Mapping[str, str]  # new id -> previous id it continues (the same string)
    jaccard: tuple[float, ...]  # per new ring: Jaccard with the ring it continues, 0.0 if new
    events: tuple[LineageEvent, ...]


def content_ring_id(members: Collection[str], digits: int = _HEX_DIGITS, prefix: str = "ring") -> str:
    """`prefix` + ``-`` + the first `digits` hex digits of SHA-1 over the sorted member ids."""
    digest = hashlib.sha1("\n".join(sorted(members)).encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{prefix}-{digest[:digits]}"


def assign_ring_ids(
    previous: Mapping[str, frozenset[str]],
    rings: Sequence[Collection[str]],
    *,
    threshold: float = 0.5,
    lineage_share: float = 0.3,
    prefix: str = "ring",
) -> RingIdAssignment:
    """Give each ring in `rings` an id, continuing `previous` ids where the overlap is high enough.

    Operations get theirs the same way, over their campaigns' accounts, with `prefix` ``op``.
    """
    new_sets = [frozenset(r) for r in rings]
    overlap = _overlaps(previous, new_sets)

    candidates = []
    for (old_id, j), inter in overlap.items():
        jac = inter / (len(previous[old_id]) + len(new_sets[j]) - inter)
        if jac >= threshold:
            candidates.append((-jac, old_id, j))
    candidates.sort()
    ids: list[str | None] = [None] * len(new_sets)
    jaccard = [0.0] * len(new_sets)
    taken_old: set[str] = set()
    for neg_jac, old_id, j in candidates:
        if ids[j] is None and old_id not in taken_old:
            ids[j] = old_id
            jaccard[j] = -neg_jac
            taken_old.add(old_id)
    matched = {old: old for old in taken_old}

    used = set(previous) | taken_old
    for j, ring_id in enumerate(ids):
        if ring_id is None:
            ids[j] = _fresh_id(new_sets[j], used, prefix)
            used.add(ids[j] or "")
    final = tuple(i or "" for i in ids)
    events = _lineage(previous, new_sets, final, overlap, taken_old, lineage_share)
    return RingIdAssignment(ids=final, matched=matched, jaccard=tuple(jaccard), events=events)


def _overlaps(
    previous: Mapping[str, frozenset[str]], new_sets: list[frozenset[str]]
) -> dict[tuple[str, int], int]:
    """|old & new| for every (old id, new index) pair that shares a member."""
    owner: dict[str, list[str]] = defaultdict(list)
    for old_id in sorted(previous):
        for account in previous[old_id]:
            owner[account].append(old_id)
    overlap: dict[tuple[str, int], int] = defaultdict(int)
    for j, members in enumerate(new_sets):
        for account in members:
            for old_id in owner.get(account, ()):
                overlap[(old_id, j)] += 1
    return dict(overlap)


def _fresh_id(members: frozenset[str], used: set[str], prefix: str) -> str:
    digits = _HEX_DIGITS
    ring_id = content_ring_id(members, digits, prefix)
    while ring_id in used and digits < 40:
        digits += 2
        ring_id = content_ring_id(members, digits, prefix)
    return ring_id


def _lineage(
    previous: Mapping[str, frozenset[str]],
    new_sets: list[frozenset[str]],
    ids: tuple[str, ...],
    overlap: dict[tuple[str, int], int],
    taken_old: set[str],
    lineage_share: float,
) -> tuple[LineageEvent, ...]:
    received: dict[int, list[str]] = defaultdict(list)  # new index -> old rings substantially in it
    spread: dict[str, list[int]] = defaultdict(list)  # old id -> new rings substantially holding it
    for (old_id, j), inter in sorted(overlap.items()):
        if inter >= lineage_share * len(previous[old_id]):
            received[j].append(old_id)
            spread[old_id].append(j)

    events: list[LineageEvent] = []
    for j in sorted(received):
        olds = tuple(sorted(received[j]))
        if len(olds) >= 2:
            union = frozenset().union(*(previous[o] for o in olds))
            events.append(LineageEvent("merge", ids[j], olds, _jaccard(union, new_sets[j])))
    for old_id in sorted(spread):
        if len(spread[old_id]) >= 2:
            for j in spread[old_id]:
                jac = _jaccard(previous[old_id], new_sets[j])
                events.append(LineageEvent("split", ids[j], (old_id,), jac))
    for old_id in sorted(previous):
        if old_id not in taken_old and len(spread.get(old_id, ())) < 2:
            events.append(LineageEvent("dissolved", "", (old_id,), 0.0))
    return tuple(events)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0
