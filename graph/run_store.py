"""Detection runs in Neo4j: the audit record, rings and memberships written back, and read again.

A `(:Ring {ring_id})` node is shared by every run that found the ring (ids are carried over by
overlap); its properties describe the latest such run, while `(:Ring)-[:FOUND_IN {size, score}]->
(:DetectionRun)` and `(:Account)-[:MEMBER_OF {run_id, confidence}]->(:Ring)` keep each run's own view,
so old runs stay queryable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import neo4j
from graph.attribution_eval import ScoredRing

__all__ = [
    "RunRecord",
    "finish_run",
    "latest_run_id",
    "read_ring_members",
    "read_run",
    "read_scored_rings",
    "start_run",
    "write_account_attributions",
    "write_memberships",
    "write_ring_attributions",
    "write_rings",
]

_BATCH: Final = 5000


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    version: str
    params: dict[str, Any]
    counts: dict[str, Any]
    timings: dict[str, float]
    lineage: list[dict[str, Any]]
    error: str | None


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


_WRITE_RINGS: Final = """
MATCH (run:DetectionRun {run_id: $run_id})
UNWIND $rows AS row
MERGE (ring:Ring {ring_id: row.ring_id})
SET ring += row.props, ring.size = row.size, ring.run_id = $run_id
MERGE (ring)-[found:FOUND_IN]->(run)
SET found += row.props, found.size = row.size
"""
_WRITE_MEMBERSHIPS: Final = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id}) USING INDEX a:Account(account_id)
MATCH (ring:Ring {ring_id: row.ring_id}) USING INDEX ring:Ring(ring_id)
MERGE (a)-[m:MEMBER_OF {run_id: $run_id}]->(ring)
SET m.confidence = row.confidence
"""
# Index hints: on a fresh database the planner's statistics say a label is empty and it would scan.
_WRITE_ATTRIBUTIONS: Final = """
UNWIND $rows AS row
MATCH (subject:{label} {{{key}: row.{key}}}) USING INDEX subject:{label}({key})
MATCH (o:Organization {{name: row.organization}}) USING INDEX o:Organization(name)
MERGE (subject)-[t:ATTRIBUTED_TO {{run_id: $run_id}}]->(o)
SET t += row.props, t.confidence = row.confidence
"""


def _write(driver: neo4j.Driver, database: str, query: str, run_id: str, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _BATCH):
        driver.execute_query(query, run_id=run_id, rows=rows[start : start + _BATCH], database_=database)


def write_rings(driver: neo4j.Driver, database: str, run_id: str, rings: list[dict[str, Any]]) -> None:
    """Rings of a run: each dict has ring_id, size and a `props` map of scores and features."""
    _write(driver, database, _WRITE_RINGS, run_id, rings)


def write_memberships(driver: neo4j.Driver, database: str, run_id: str, rows: list[dict[str, Any]]) -> None:
    """Memberships of a run: each dict has account_id, ring_id, confidence."""
    _write(driver, database, _WRITE_MEMBERSHIPS, run_id, rows)


def write_ring_attributions(driver: neo4j.Driver, database: str, run_id: str, rows: list[dict[str, Any]]) -> None:
    """(ring)-[:ATTRIBUTED_TO]->(organisation): each dict has ring_id, organization, confidence, props."""
    _write(driver, database, _WRITE_ATTRIBUTIONS.format(label="Ring", key="ring_id"), run_id, rows)


def write_account_attributions(
    driver: neo4j.Driver, database: str, run_id: str, rows: list[dict[str, Any]]
) -> None:
    """(account)-[:ATTRIBUTED_TO]->(organisation): each dict has account_id, organization, confidence, props."""
    _write(driver, database, _WRITE_ATTRIBUTIONS.format(label="Account", key="account_id"), run_id, rows)


def latest_run_id(driver: neo4j.Driver, database: str) -> str | None:
    """The most recent completed run."""
    records, _, _ = driver.execute_query(
        "MATCH (run:DetectionRun {status: 'completed'}) RETURN run.run_id AS run_id "
        "ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1",
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return str(records[0]["run_id"]) if records else None


def read_ring_members(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, frozenset[str]]:
    """ring_id -> member account ids, as the run found them."""
    records, _, _ = driver.execute_query(
        "MATCH (:DetectionRun {run_id: $run_id})<-[:FOUND_IN]-(ring:Ring)<-[:MEMBER_OF {run_id: $run_id}]-(a:Account) "
        "RETURN ring.ring_id AS ring_id, collect(a.account_id) AS members",
        run_id=run_id,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return {str(r["ring_id"]): frozenset(r["members"]) for r in records}


def _json(value: Any, default: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else default


def read_run(driver: neo4j.Driver, database: str, run_id: str) -> RunRecord | None:
    records, _, _ = driver.execute_query(
        "MATCH (run:DetectionRun {run_id: $run_id}) RETURN properties(run) AS p",
        run_id=run_id,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
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


def read_scored_rings(driver: neo4j.Driver, database: str, run_id: str) -> list[ScoredRing]:
    """Every ring of the run with its members, coordination score and candidate attributions."""
    records, _, _ = driver.execute_query(
        """
        MATCH (ring:Ring)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
        CALL (ring) {
          MATCH (a:Account)-[:MEMBER_OF {run_id: $run_id}]->(ring) RETURN collect(a.account_id) AS members
        }
        CALL (ring) {
          OPTIONAL MATCH (ring)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization)
          WITH t, o ORDER BY t.confidence DESC, o.name
          RETURN collect([o.name, t.confidence]) AS attributions
        }
        RETURN ring.ring_id AS ring_id, found.score AS score, members, attributions ORDER BY ring_id
        """,
        run_id=run_id,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [
        ScoredRing(
            members=frozenset(r["members"]),
            score=float(r["score"] or 0.0),
            attributions=tuple((str(o), float(c)) for o, c in r["attributions"] if o is not None),
        )
        for r in records
    ]
