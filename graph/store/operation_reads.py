"""Lookups of operations for the CLI and the API: a page of them, and one with its campaigns.

Like ring lookups they read only a completed run (:func:`~graph.store.results.resolve_run`): the
operation's figures and ties live on its ``FOUND_IN``, its campaigns on their own ``FOUND_IN`` and
``PART_OF``, all written by that run.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Final

import neo4j
from graph.errors import NotFoundError
from graph.records import OperationRecord, RingRecord, RingSummary
from graph.store.results import cursor_fields, is_finite_number, resolve_run

__all__ = ["OperationDetail", "list_operations", "operation_detail"]

_READ: Final = neo4j.RoutingControl.READ
_CURSOR_TAG: Final = "o"

_PAGE: Final = """
MATCH (op:Operation)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
WHERE found.campaigns >= $min_campaigns AND found.score >= $min_score
  AND ($after IS NULL
       OR found.score < $after.score
       OR (found.score = $after.score AND op.operation_id > $after.operation_id))
RETURN op.operation_id AS operation_id, properties(found) AS found
ORDER BY found.score DESC, op.operation_id
LIMIT $limit
"""

_ONE: Final = """
MATCH (op:Operation {operation_id: $operation_id})-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
CALL (op) {
  OPTIONAL MATCH (ring:Ring)-[:PART_OF {run_id: $run_id}]->(op)
  OPTIONAL MATCH (ring)-[ring_found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
  RETURN collect(CASE WHEN ring IS NULL THEN null ELSE {ring_id: ring.ring_id, found: properties(ring_found)} END)
         AS rings
}
RETURN properties(found) AS found, rings
"""


@dataclass(frozen=True)
class OperationDetail:
    """An operation and its campaigns (rings), in the order they ran."""

    run_id: str
    operation: OperationRecord
    rings: tuple[RingSummary, ...]


def list_operations(
    driver: neo4j.Driver,
    database: str,
    *,
    run_id: str | None = None,
    min_campaigns: int = 1,
    min_score: float = 0.0,
    after: str | None = None,
    limit: int = 50,
) -> tuple[str | None, list[OperationRecord], str | None]:
    """(the run read, a page of its operations by highest ring score, the next page's cursor or None)."""
    run = resolve_run(driver, database, run_id)
    if run is None:
        return None, [], None
    records, _, _ = driver.execute_query(
        _PAGE,
        run_id=run,
        min_campaigns=min_campaigns,
        min_score=min_score,
        after=_decode_cursor(after) if after else None,
        limit=limit + 1,
        database_=database,
        routing_=_READ,
    )
    page = [OperationRecord.from_properties(r["operation_id"], r["found"]) for r in records[:limit]]
    next_cursor = _encode_cursor(page[-1].score, page[-1].operation_id) if len(records) > limit and page else None
    return run, page, next_cursor


def operation_detail(
    driver: neo4j.Driver, database: str, operation_id: str, *, run_id: str | None = None
) -> OperationDetail:
    """The operation as the run (default: the latest completed) found it; NotFoundError if it did not."""
    run = resolve_run(driver, database, run_id)
    if run is None:
        raise NotFoundError("no detection run has completed yet")
    records, _, _ = driver.execute_query(
        _ONE, operation_id=operation_id, run_id=run, database_=database, routing_=_READ
    )
    if not records:
        raise NotFoundError(f"no operation {operation_id!r} in run {run}")
    operation = OperationRecord.from_properties(operation_id, records[0]["found"])
    by_id = {r["ring_id"]: RingRecord.from_properties(r["ring_id"], r["found"]).summary(run)
             for r in records[0]["rings"] if r is not None}
    rings = tuple(by_id[ring_id] for ring_id in operation.ring_ids if ring_id in by_id)
    return OperationDetail(run, operation, rings)


def _encode_cursor(score: float, operation_id: str) -> str:
    # Tagged, so a ring list's cursor is not taken for an operation list's.
    return base64.urlsafe_b64encode(json.dumps([_CURSOR_TAG, score, operation_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    tag, score, operation_id = cursor_fields(cursor, 3)
    if tag != _CURSOR_TAG or not is_finite_number(score) or not isinstance(operation_id, str):
        raise ValueError(f"not an operation cursor this API issued: {cursor!r}")
    return {"score": float(score), "operation_id": operation_id}
