"""Writing a run's results: rings, operations, memberships and attributions, batched, from typed records.

Every write is an idempotent ``UNWIND $rows ... MERGE`` (the driver retries managed transactions),
and the rows are the records' own :meth:`properties`, so no property name is spelled here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import neo4j
from graph.records import (
    AttributionRecord,
    MembershipRecord,
    OperationRecord,
    PartOfRecord,
    RingRecord,
    ties_to_json,
)

__all__ = ["write_results"]

_BATCH: Final = 5000

# Only the run's own FOUND_IN gets its figures here; the shared Ring node (what analysts see, what
# Bloom styles by) takes them in the transaction that marks the run completed (runs.complete_run),
# so a run that fails half-way never changes it. A ring first found by this run is a bare node until then.
_WRITE_RINGS: Final = """
MATCH (run:DetectionRun {run_id: $run_id})
UNWIND $rows AS row
MERGE (ring:Ring {ring_id: row.ring_id})
MERGE (ring)-[found:FOUND_IN]->(run)
SET found += row.props
"""
# Operations are published like rings: FOUND_IN now, the shared node when the run completes.
_WRITE_OPERATIONS: Final = """
MATCH (run:DetectionRun {run_id: $run_id})
UNWIND $rows AS row
MERGE (op:Operation {operation_id: row.operation_id})
MERGE (op)-[found:FOUND_IN]->(run)
SET found += row.props
"""
_WRITE_PART_OF: Final = """
UNWIND $rows AS row
MATCH (ring:Ring {ring_id: row.ring_id}) USING INDEX ring:Ring(ring_id)
MATCH (op:Operation {operation_id: row.operation_id}) USING INDEX op:Operation(operation_id)
MERGE (ring)-[part:PART_OF {run_id: $run_id}]->(op)
SET part.evidence = row.evidence
"""
# Index hints: on a fresh database the planner's statistics say a label is empty and it would scan.
_WRITE_MEMBERSHIPS: Final = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id}) USING INDEX a:Account(account_id)
MATCH (ring:Ring {ring_id: row.ring_id}) USING INDEX ring:Ring(ring_id)
MERGE (a)-[m:MEMBER_OF {run_id: $run_id}]->(ring)
SET m.confidence = row.confidence
"""
# The subject's label and key come from this allow-list, never from data.
_SUBJECT_KEYS: Final = {"Ring": "ring_id", "Account": "account_id"}
_WRITE_ATTRIBUTIONS: Final = """
UNWIND $rows AS row
MATCH (subject:{label} {{{key}: row.subject}}) USING INDEX subject:{label}({key})
MATCH (o:Organization {{name: row.organization}}) USING INDEX o:Organization(name)
MERGE (subject)-[t:ATTRIBUTED_TO {{run_id: $run_id}}]->(o)
SET t += row.props, t.confidence = row.confidence
"""


def _write(driver: neo4j.Driver, database: str, query: str, run_id: str, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _BATCH):
        driver.execute_query(query, run_id=run_id, rows=rows[start : start + _BATCH], database_=database)


def _attribution_rows(records: Sequence[AttributionRecord], *, with_ring: bool) -> list[dict[str, Any]]:
    return [
        {"subject": r.subject, "organization": r.organization, "confidence": r.confidence,
         "props": r.properties(with_ring=with_ring)}
        for r in records
    ]


def write_results(
    driver: neo4j.Driver,
    database: str,
    run_id: str,
    *,
    rings: Sequence[RingRecord],
    memberships: Sequence[MembershipRecord],
    ring_attributions: Sequence[AttributionRecord],
    account_attributions: Sequence[AttributionRecord],
    operations: Sequence[OperationRecord] = (),
    part_of: Sequence[PartOfRecord] = (),
) -> None:
    """Write everything `run_id` found, under its own run id; its DetectionRun node must exist.

    Nothing written here is a result until `complete_run` marks the run completed.
    """
    _write(driver, database, _WRITE_RINGS, run_id,
           [{"ring_id": r.ring_id, "props": r.properties()} for r in rings])
    _write(driver, database, _WRITE_MEMBERSHIPS, run_id,
           [{"account_id": m.account_id, "ring_id": m.ring_id, "confidence": m.confidence} for m in memberships])
    _write(driver, database, _WRITE_OPERATIONS, run_id,
           [{"operation_id": o.operation_id, "props": o.properties()} for o in operations])
    _write(driver, database, _WRITE_PART_OF, run_id,
           [{"ring_id": p.ring_id, "operation_id": p.operation_id, "evidence": ties_to_json(p.ties)} for p in part_of])
    for label, records in (("Ring", ring_attributions), ("Account", account_attributions)):
        query = _WRITE_ATTRIBUTIONS.format(label=label, key=_SUBJECT_KEYS[label])
        _write(driver, database, query, run_id, _attribution_rows(records, with_ring=label == "Account"))
