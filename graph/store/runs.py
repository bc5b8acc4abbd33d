"""Detection runs in Neo4j: the audit record, which run is the latest, and what a run found.

A `(:Ring {ring_id})` node is shared by every run that found the ring (ids are carried over by
overlap); its properties describe the latest such run, while `(:Ring)-[:FOUND_IN {size, score}]->
(:DetectionRun)` and `(:Account)-[:MEMBER_OF {run_id, confidence}]->(:Ring)` keep each run's own view,
so old runs stay queryable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Final

import neo4j
from graph.records import RunRecord

__all__ = [
    "finish_run",
    "latest_run_id",
    "read_ring_members",
    "read_run",
    "start_run",
]

_READ: Final = neo4j.RoutingControl.READ


def start_run(driver: neo4j.Driver, database: str, run_id: str, params: dict[str, Any], version: str) -> None:
    driver.execute_query(
        "CREATE (:DetectionRun {run_id: $run_id, status: 'running', started_at: datetime(), "
        "params: $params, version: $version})",
        run_id=run_id,
        params=json.dumps(params, sort_keys=True),
        version=version,
        database_=database,
    )


def finish_run(
    driver: neo4j.Driver,
    database: str,
    run_id: str,
    *,
    status: str,
    counts: dict[str, Any],
    timings: dict[str, float],
    lineage: Sequence[dict[str, Any]],
    previous_run_id: str | None,
    error: str | None = None,
) -> None:
    driver.execute_query(
        """
        MATCH (run:DetectionRun {run_id: $run_id})
        SET run.status = $status, run.finished_at = datetime(), run.counts = $counts,
            run.timings = $timings, run.lineage = $lineage, run.previous_run_id = $previous,
            run.error = $error
        WITH run
        OPTIONAL MATCH (previous:DetectionRun {run_id: $previous})
        FOREACH (_ IN CASE WHEN previous IS NULL THEN [] ELSE [1] END | MERGE (run)-[:FOLLOWS]->(previous))
        """,
        run_id=run_id,
        status=status,
        counts=json.dumps(counts, sort_keys=True),
        timings=json.dumps(timings, sort_keys=True),
        lineage=json.dumps(list(lineage), sort_keys=True),
        previous=previous_run_id,
        error=error,
        database_=database,
    )
    if status == "completed":
        _latest.clear()


_LATEST_TTL: Final = 1.0
_latest: dict[tuple[int, str], tuple[float, str | None]] = {}


def latest_run_id(driver: neo4j.Driver, database: str, *, cached: bool = False) -> str | None:
    """The most recent completed run.

    `cached` answers from a copy at most a second old: a completed run never changes, so only
    "which run is the latest" can go stale, and lookups save a round trip. A run completed in this
    process clears the copy.
    """
    key = (id(driver), database)
    now = time.monotonic()
    hit = _latest.get(key)
    if cached and hit is not None and now - hit[0] < _LATEST_TTL:
        return hit[1]
    records, _, _ = driver.execute_query(
        "MATCH (run:DetectionRun {status: 'completed'}) RETURN run.run_id AS run_id "
        "ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1",
        database_=database,
        routing_=_READ,
    )
    run_id = str(records[0]["run_id"]) if records else None
    _latest[key] = (now, run_id)
    return run_id


def read_ring_members(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, frozenset[str]]:
    """ring_id -> member account ids, as the run found them."""
    records, _, _ = driver.execute_query(
        "MATCH (:DetectionRun {run_id: $run_id})<-[:FOUND_IN]-(ring:Ring)<-[:MEMBER_OF {run_id: $run_id}]-(a:Account) "
        "RETURN ring.ring_id AS ring_id, collect(a.account_id) AS members",
        run_id=run_id,
        database_=database,
        routing_=_READ,
    )
    return {str(r["ring_id"]): frozenset(r["members"]) for r in records}


def _json(value: Any, default: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else default


def read_run(driver: neo4j.Driver, database: str, run_id: str) -> RunRecord | None:
    records, _, _ = driver.execute_query(
        "MATCH (run:DetectionRun {run_id: $run_id}) RETURN properties(run) AS p",
        run_id=run_id,
        database_=database,
        routing_=_READ,
    )
    if not records:
        return None
    p = records[0]["p"]
    return RunRecord(
        run_id=p["run_id"],
        status=p.get("status", "unknown"),
        started_at=p["started_at"].to_native() if p.get("started_at") else None,
        finished_at=p["finished_at"].to_native() if p.get("finished_at") else None,
        version=p.get("version", ""),
        params=_json(p.get("params"), {}),
        counts=_json(p.get("counts"), {}),
        timings=_json(p.get("timings"), {}),
        lineage=_json(p.get("lineage"), []),
        error=p.get("error"),
    )
