"""The operations stage: rings grouped by operator, given stable ids, explained and made into records.

Pure: it reads the run's link index, organisation index and scores, and the previous run's operations
(their ring ids) for id continuity, which :mod:`graph.store.operations` supplies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.detection import operations as grouping
from graph.detection.operations import Operations
from graph.detection.ring_ids import RingIdAssignment, assign_ring_ids
from graph.evidence.paths import PathBuilder, iso_time
from graph.evidence.ties import TieExplainer
from graph.links import LinkIndex
from graph.records import OperationRecord, OperationTie, PartOfRecord, RingRecord
from graph.scoring.attribution import OrgIndex

__all__ = ["ExplainedOperations", "explain_operations", "group_operations", "operation_ids", "ring_windows"]

#: Ties an operation record lists (a ring's PART_OF carries all of its own).
_TIES_PER_OPERATION: Final = 50
# Share of a ring's observations before `active_from` and after `active_to`: stragglers (a bought
# account's first owner, a straggling login) do not stretch a campaign's window.
_WINDOW_TAIL: Final = 5.0


@dataclass(frozen=True)
class ExplainedOperations:
    rings: list[RingRecord]  # the run's ring records with their operation and activity window
    operations: list[OperationRecord]
    part_of: list[PartOfRecord]
    assignment: RingIdAssignment  # operation ids and their lineage against the previous run


def ring_windows(links: LinkIndex, rings: Sequence[npt.NDArray[np.int32]]) -> list[tuple[float, float]]:
    """Per ring: (start, end) epoch seconds, NaN when none is timed: the 5th and 95th percentiles of
    when its members' links were first seen. First seen, at both ends: a campaign's accounts take up
    its devices, cards and addresses while it runs, while a link's last_seen runs on as long as an
    account is ever seen again (a known member an earlier case left alive, a bought account resold)."""
    out = []
    for ring in rings:
        first = links.first[links.links_of(ring.astype(np.int64))]
        first = first[~np.isnan(first)]
        if first.shape[0] == 0:
            out.append((float("nan"), float("nan")))
            continue
        low, high = np.percentile(first, [_WINDOW_TAIL, 100 - _WINDOW_TAIL])
        out.append((float(np.round(low)), float(np.round(high))))
    return out


def operation_ids(previous: Mapping[str, frozenset[str]], operations: Sequence[frozenset[str]]) -> RingIdAssignment:
    """Operation ids as ring ids are kept (Jaccard over their ring ids, prefix ``op``), and besides: an
    operation that still holds every campaign of a previous one and has gained more is that operation,
    however many it gained (an operator's third campaign does not rename its case)."""
    first = assign_ring_ids(previous, operations, prefix="op")
    ids = list(first.ids)
    taken = set(first.matched)
    renamed: dict[str, str] = {}
    for j, rings in enumerate(operations):
        if ids[j] in previous:
            continue
        grown = sorted((old for old, had in previous.items() if old not in taken and had and had <= rings),
                       key=lambda old: (-len(previous[old]), old))
        if grown:
            renamed[ids[j]] = grown[0]
            ids[j] = grown[0]
            taken.add(grown[0])
    events = tuple(
        replace(e, new_id=renamed.get(e.new_id, e.new_id))
        for e in first.events
        if not (e.kind == "dissolved" and e.old_ids[0] in renamed.values())
    )
    return RingIdAssignment(tuple(ids), {old: old for old in taken}, first.jaccard, events)


def group_operations(links: LinkIndex, rings: Sequence[npt.NDArray[np.int32]], orgs: OrgIndex) -> Operations:
    """The run's rings grouped into operations, with the organisations acting on each entity as
    attribution counts them."""
    acting = np.where(orgs.self_acting, orgs.entity_org, -1).astype(np.int64)
    return grouping.group_operations(links, rings, orgs.evidence.known_account, orgs.evidence.known_org, acting)


def explain_operations(
    links: LinkIndex,
    orgs: OrgIndex,
    grouped: Operations,
    rings: Sequence[npt.NDArray[np.int32]],
    ring_records: Sequence[RingRecord],
    previous: Mapping[str, frozenset[str]],
) -> ExplainedOperations:
    """The records of `grouped`; `previous` maps the last run's operation ids to their ring ids."""
    ring_ids = [r.ring_id for r in ring_records]
    windows = ring_windows(links, rings)
    by_operation = grouped.by_operation()
    assignment = operation_ids(previous, [frozenset(ring_ids[i] for i in r) for r in by_operation])
    explainer = TieExplainer(links, PathBuilder(links, orgs.evidence, {}), ring_ids)
    explained = {tie: explainer.explain(tie) for tie in grouped.ties}
    ties_of_operation: list[list[OperationTie]] = [[] for _ in by_operation]
    for tie in grouped.ties:
        ties_of_operation[int(grouped.of_ring[tie.rings[0]])].append(explained[tie])

    records = [
        replace(record, operation_id=assignment.ids[int(grouped.of_ring[i])],
                active_from=iso_time(windows[i][0]), active_to=iso_time(windows[i][1]))
        for i, record in enumerate(ring_records)
    ]
    operations = [
        _operation(members, records, windows, ties_of_operation[o], assignment.ids[o])
        for o, members in enumerate(by_operation)
    ]
    part_of = [
        PartOfRecord(record.ring_id, record.operation_id or "", tuple(explained[t] for t in touching))
        for record, touching in zip(records, grouped.ties_by_ring(), strict=True)
    ]
    return ExplainedOperations(records, operations, part_of, assignment)


def _operation(
    members: Sequence[int],
    records: Sequence[RingRecord],
    windows: Sequence[tuple[float, float]],
    ties: Sequence[OperationTie],
    operation_id: str,
) -> OperationRecord:
    rings = list(members)
    # Campaigns in the order they ran (unknown times last), then by ring id.
    rings.sort(key=lambda i: (np.isnan(windows[i][0]), windows[i][0] if not np.isnan(windows[i][0]) else 0.0,
                              records[i].ring_id))
    attributed = [records[i] for i in rings if records[i].organization and records[i].attribution_confidence]
    best = max(attributed, key=lambda r: (r.attribution_confidence or 0.0, r.ring_id), default=None)
    starts = [windows[i][0] for i in rings if not np.isnan(windows[i][0])]
    ends = [windows[i][1] for i in rings if not np.isnan(windows[i][1])]
    return OperationRecord(
        operation_id=operation_id,
        campaigns=len(rings),
        size=sum(records[i].size for i in rings),
        ring_ids=tuple(records[i].ring_id for i in rings),
        score=max(records[i].score for i in rings),
        organization=best.organization if best is not None else None,
        attribution_confidence=best.attribution_confidence if best is not None else None,
        active_from=iso_time(min(starts)) if starts else None,
        active_to=iso_time(max(ends)) if ends else None,
        ties=tuple(ties[:_TIES_PER_OPERATION]),
    )
