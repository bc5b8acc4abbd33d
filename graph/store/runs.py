"""Detection runs in Neo4j: the audit record, its lease, the one-detection lock, and what a run found.

A run's life, all in Neo4j so every process (CLI, each API worker) sees the same truth:

- **claim** — one transaction takes the database's single ``(:DetectionLock {name: 'detection'})``
  (uniqueness constraint on `name`) and creates the ``(:DetectionRun {status: 'running'})`` record
  with ``heartbeat_at`` and ``lease_seconds``. The lock is free when it names no run, or a run that is
  not running, or one whose heartbeat is older than its lease (that run is marked failed on the way).
- **heartbeat** — the running process renews ``heartbeat_at`` (Neo4j's clock, not the process's);
  a run whose lease has run out cannot renew it: it is dead for everyone, itself included.
- **complete** — one transaction, only while the run still holds its lease and the lock, marks it
  completed, releases the lock, and copies each ring's ``FOUND_IN`` properties onto its shared
  ``(:Ring)`` node: analysts (and Bloom's styles) see a run's scores only once it has completed.
- **fail** — marks a running run failed with a reason and releases the lock. When nobody is left to
  call it (the process was killed, or lost Neo4j), the lease does it: readers and the next claim mark
  a run failed once its heartbeat is older than its lease ("process gone: no heartbeat since ...").

`(:Ring)-[:FOUND_IN {size, score, ...}]->(:DetectionRun)` and `(:Account)-[:MEMBER_OF {run_id,
confidence}]->(:Ring)` keep each run's own view, so old runs stay queryable; only completed runs are
results (`latest_run_id`, `run_status`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Final

import neo4j
from graph.errors import DetectionRunningError, LeaseLostError
from graph.records import RunRecord
from graph.store.schema import SchemaNotAppliedError, missing_schema

__all__ = [
    "LOCK_NAME",
    "claim_run",
    "complete_run",
    "expire_stale_runs",
    "fail_run",
    "heartbeat_run",
    "latest_run_id",
    "read_memberships",
    "read_operation_rings",
    "read_ring_members",
    "read_run",
    "run_status",
]

_READ: Final = neo4j.RoutingControl.READ

LOCK_NAME: Final = "detection"
# Without it, two first claims could each MERGE a lock node of their own: the lock relies on it.
_LOCK_CONSTRAINT: Final = "detection_lock_name"
_OPERATION_CONSTRAINT: Final = "operation_id"
# Runs recorded before leases existed carry no `lease_seconds`: they count as gone this long after
# their start (they cannot be running any more: their code never renewed anything).
_LEGACY_LEASE_SECONDS: Final = 60.0

# True for a running run whose lease has run out. `datetime()` is Neo4j's clock, the one that wrote
# `heartbeat_at`, so processes with skewed clocks agree on who is alive.
_STALE: Final = (
    "(run.status = 'running' AND datetime() > coalesce(run.heartbeat_at, run.started_at)"
    " + duration({milliseconds: toInteger(1000 * coalesce(run.lease_seconds, $legacy_lease))}))"
)
_GONE_REASON: Final = (
    "'process gone: no heartbeat since ' + toString(coalesce(run.heartbeat_at, run.started_at))"
    " + ' (lease ' + toString(coalesce(run.lease_seconds, $legacy_lease)) + ' s)'"
)

_EXPIRE: Final = f"""
MATCH (run:DetectionRun {{status: 'running'}})
WHERE ($run_id IS NULL OR run.run_id = $run_id) AND {_STALE}
SET run.status = 'failed', run.finished_at = datetime(), run.error = {_GONE_REASON}
WITH run
OPTIONAL MATCH (lock:DetectionLock {{name: $lock, run_id: run.run_id}})
SET lock.run_id = null
RETURN run.run_id AS run_id
"""

# Writing to the lock node first takes its write lock, so concurrent claims queue here and each one
# reads the holder only once the previous claim has committed or rolled back.
_TAKE_LOCK: Final = "MERGE (lock:DetectionLock {name: $lock}) SET lock.claiming = true"
_HOLDER: Final = f"""
MATCH (lock:DetectionLock {{name: $lock}})
OPTIONAL MATCH (run:DetectionRun {{run_id: lock.run_id, status: 'running'}})
RETURN run.run_id AS run_id, toString(run.heartbeat_at) AS heartbeat_at, coalesce({_STALE}, false) AS stale
"""
_CREATE: Final = """
MATCH (lock:DetectionLock {name: $lock})
CREATE (run:DetectionRun {run_id: $run_id, status: 'running', started_at: datetime(), heartbeat_at: datetime(),
                          lease_seconds: $lease_seconds, params: $params, version: $version,
                          changes_since: $changes_since})
SET lock.run_id = $run_id, lock.claimed_at = datetime()
REMOVE lock.claiming
"""


def _expire_params(run_id: str | None) -> dict[str, Any]:
    return {"run_id": run_id, "lock": LOCK_NAME, "legacy_lease": _LEGACY_LEASE_SECONDS}


# Before the claim, the start of the oldest transaction still open (or now): everything stamped
# earlier was committed before the run could read, and anything this run may miss was stamped later.
# (A user who cannot see others' transactions sees only their own here: see the README.)
_WATERMARK: Final = """
SHOW TRANSACTIONS YIELD startTime
RETURN min(datetime(startTime)).epochMillis AS oldest, datetime().epochMillis AS now
"""


def _claim(tx: neo4j.ManagedTransaction, run_id: str, params: str, version: str, lease_seconds: float,
           changes_since: int | None) -> None:
    tx.run(_TAKE_LOCK, lock=LOCK_NAME).consume()
    holder = tx.run(_HOLDER, lock=LOCK_NAME, legacy_lease=_LEGACY_LEASE_SECONDS).single()
    if holder is not None and holder["run_id"] == run_id:
        # A retry of this very claim, whose first commit went through unacknowledged.
        tx.run("MATCH (lock:DetectionLock {name: $lock}) REMOVE lock.claiming", lock=LOCK_NAME).consume()
        return
    if holder is not None and holder["run_id"] is not None and not holder["stale"]:
        raise DetectionRunningError(holder["run_id"], holder["heartbeat_at"])  # rolls the claim back
    tx.run(_EXPIRE, **_expire_params(None)).consume()
    tx.run(_CREATE, lock=LOCK_NAME, run_id=run_id, params=params, version=version,
           lease_seconds=float(lease_seconds), changes_since=changes_since).consume()


def claim_run(
    driver: neo4j.Driver, database: str, run_id: str, params: dict[str, Any], version: str, *, lease_seconds: float,
    watermark: bool = True,
) -> None:
    """Take the database's detection lock and record `run_id` as running, in one transaction.

    Raises `DetectionRunningError` (naming the holder) while another run holds a live lease. Runs
    whose lease has run out are marked failed on the way, so a killed process never blocks for longer
    than its lease. The run records `changes_since` (epoch ms, the server's clock): what an
    incremental run based on it must treat as new (graph/store/change_reads.py); without `watermark`
    (a run whose rings come from elsewhere than this database, the Spark job's) none, so no
    incremental run is based on it.
    `SchemaNotAppliedError` when the lock's uniqueness constraint, or the one that write-back finds
    operations by, is missing.
    """
    missing = missing_schema(driver, database, (_LOCK_CONSTRAINT, _OPERATION_CONSTRAINT))
    if missing:
        raise SchemaNotAppliedError(
            f"database {database!r} lacks {', '.join(sorted(missing))} (the lock that makes one detection at a "
            "time safe, and the key operations are written by); run `ringtrace schema apply` first"
        )
    changes_since = None
    if watermark:
        open_since, _, _ = driver.execute_query(_WATERMARK, database_=database)
        changes_since = min(int(open_since[0]["now"]), int(open_since[0]["oldest"] or open_since[0]["now"]))
    with driver.session(database=database) as session:
        session.execute_write(_claim, run_id, json.dumps(params, sort_keys=True), version, lease_seconds,
                              changes_since)


def heartbeat_run(driver: neo4j.Driver, database: str, run_id: str) -> bool:
    """Renew the lease of a running run; False when it is not running any more (or its lease ran out).

    A run whose lease has run out is never revived: another process may already have judged it gone,
    so it is marked failed here rather than left to look alive again.
    """
    records, _, _ = driver.execute_query(
        f"""
        MATCH (run:DetectionRun {{run_id: $run_id, status: 'running'}})
        WITH run, {_STALE} AS stale
        FOREACH (_ IN CASE WHEN stale THEN [] ELSE [1] END | SET run.heartbeat_at = datetime())
        RETURN stale
        """,
        run_id=run_id, legacy_lease=_LEGACY_LEASE_SECONDS, database_=database,
    )
    if records and not records[0]["stale"]:
        return True
    expire_stale_runs(driver, database, run_id)
    return False


def expire_stale_runs(driver: neo4j.Driver, database: str, run_id: str | None = None) -> list[str]:
    """Mark failed every running run (or just `run_id`) whose lease has run out; the ids marked."""
    records, _, _ = driver.execute_query(_EXPIRE, **_expire_params(run_id), database_=database)
    return [str(r["run_id"]) for r in records]


_COMPLETE: Final = f"""
MATCH (run:DetectionRun {{run_id: $run_id, status: 'running'}})
WHERE NOT {_STALE}
MATCH (lock:DetectionLock {{name: $lock, run_id: $run_id}})
SET run.status = 'completed', run.finished_at = datetime(), run.heartbeat_at = datetime(),
    run.counts = $counts, run.timings = $timings, run.lineage = $lineage, run.previous_run_id = $previous,
    lock.run_id = null
WITH run
CALL (run) {{
  OPTIONAL MATCH (previous:DetectionRun {{run_id: $previous}})
  FOREACH (_ IN CASE WHEN previous IS NULL THEN [] ELSE [1] END | MERGE (run)-[:FOLLOWS]->(previous))
}}
CALL (run) {{
  MATCH (ring:Ring)-[found:FOUND_IN]->(run)
  SET ring = found {{.*, ring_id: ring.ring_id, run_id: run.run_id}}
}}
CALL (run) {{
  MATCH (op:Operation)-[found:FOUND_IN]->(run)
  SET op = found {{.*, operation_id: op.operation_id, run_id: run.run_id}}
}}
RETURN run.run_id AS run_id
"""


def complete_run(
    driver: neo4j.Driver,
    database: str,
    run_id: str,
    *,
    counts: dict[str, Any],
    timings: dict[str, float],
    lineage: Sequence[dict[str, Any]],
    previous_run_id: str | None,
) -> None:
    """Mark the run completed and publish its rings and operations onto their shared nodes, in one transaction.

    Each Ring node the run found takes exactly the properties of its ``FOUND_IN`` (plus `run_id`), so a
    property the run left out (an organisation no longer attributed) is gone from the node too.
    Raises `LeaseLostError`, changing nothing, when the run no longer holds its lease and the lock.
    """
    records, _, _ = driver.execute_query(
        _COMPLETE,
        run_id=run_id,
        lock=LOCK_NAME,
        legacy_lease=_LEGACY_LEASE_SECONDS,
        counts=json.dumps(counts, sort_keys=True),
        timings=json.dumps(timings, sort_keys=True),
        lineage=json.dumps(list(lineage), sort_keys=True),
        previous=previous_run_id,
        database_=database,
    )
    if not records:
        record = read_run(driver, database, run_id)
        state = f"{record.status}: {record.error}" if record is not None and record.error else (
            record.status if record is not None else "gone")
        raise LeaseLostError(f"detection run {run_id} lost its lease before it could complete ({state})")
    _latest.clear()


def fail_run(
    driver: neo4j.Driver,
    database: str,
    run_id: str,
    *,
    reason: str,
    timings: dict[str, float] | None = None,
    previous_run_id: str | None = None,
) -> bool:
    """Mark a running run failed with `reason` and release its lock; False if it was not running.

    A run that is already completed or failed keeps its record (a completion that committed just
    before its connection dropped stays completed).
    """
    records, _, _ = driver.execute_query(
        """
        MATCH (run:DetectionRun {run_id: $run_id, status: 'running'})
        SET run.status = 'failed', run.finished_at = datetime(), run.error = $reason,
            run.timings = $timings, run.previous_run_id = $previous
        WITH run
        OPTIONAL MATCH (lock:DetectionLock {name: $lock, run_id: $run_id})
        SET lock.run_id = null
        RETURN run.run_id AS run_id
        """,
        run_id=run_id,
        reason=reason,
        timings=json.dumps(timings or {}, sort_keys=True),
        previous=previous_run_id,
        lock=LOCK_NAME,
        database_=database,
    )
    return bool(records)


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
    return {ring: frozenset(members) for ring, members in read_memberships(driver, database, run_id).items()}


def read_memberships(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, dict[str, float]]:
    """ring_id -> {member account id: its membership confidence}, as the run found them."""
    records, _, _ = driver.execute_query(
        "MATCH (:DetectionRun {run_id: $run_id})<-[:FOUND_IN]-(ring:Ring)<-[m:MEMBER_OF {run_id: $run_id}]-(a:Account) "
        "RETURN ring.ring_id AS ring_id, collect([a.account_id, m.confidence]) AS members",
        run_id=run_id,
        database_=database,
        routing_=_READ,
    )
    return {str(r["ring_id"]): {str(a): float(c) for a, c in r["members"]} for r in records}


def read_operation_rings(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, frozenset[str]]:
    """operation_id -> the ring ids it grouped, as the run found them."""
    records, _, _ = driver.execute_query(
        "MATCH (:DetectionRun {run_id: $run_id})<-[found:FOUND_IN]-(op:Operation) "
        "RETURN op.operation_id AS operation_id, found.ring_ids AS ring_ids",
        run_id=run_id,
        database_=database,
        routing_=_READ,
    )
    return {str(r["operation_id"]): frozenset(r["ring_ids"] or ()) for r in records}


def _json(value: Any, default: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else default


def _read(driver: neo4j.Driver, database: str, returns: str, run_id: str) -> tuple[neo4j.Record, str | None] | None:
    """One read of `run_id` and, for a run found running past its lease, why it is gone.

    Such a run is marked failed and read again, so that every reader after this one agrees; should
    marking it fail, the caller still reports it failed, with that reason.
    """
    query = (f"MATCH (run:DetectionRun {{run_id: $run_id}}) RETURN {returns}, "
             f"CASE WHEN {_STALE} THEN {_GONE_REASON} END AS gone")

    def once() -> tuple[neo4j.Record, str | None] | None:
        records, _, _ = driver.execute_query(
            query, run_id=run_id, legacy_lease=_LEGACY_LEASE_SECONDS, database_=database, routing_=_READ
        )
        return (records[0], records[0]["gone"]) if records else None

    found = once()
    if found is None or found[1] is None:
        return found
    try:
        expire_stale_runs(driver, database, run_id)
    except neo4j.exceptions.Neo4jError:  # e.g. a read-only user: the run is still reported failed
        return found
    return once()


def run_status(driver: neo4j.Driver, database: str, run_id: str) -> tuple[str, str | None] | None:
    """(status, error) of `run_id`, None for an unknown run; a run whose lease ran out reads as failed."""
    found = _read(driver, database, "run.status AS status, run.error AS error", run_id)
    if found is None:
        return None
    record, gone = found
    if gone is not None:
        return "failed", gone
    return str(record["status"] or "unknown"), record["error"]


def _native(value: Any) -> Any:
    return value.to_native() if value is not None else None


def read_run(driver: neo4j.Driver, database: str, run_id: str) -> RunRecord | None:
    """The run's record; a run found running past its lease is marked failed first (and read as such)."""
    found = _read(driver, database, "properties(run) AS p", run_id)
    if found is None:
        return None
    record, gone = found
    p = record["p"]
    return RunRecord(
        run_id=p["run_id"],
        status="failed" if gone is not None else p.get("status", "unknown"),
        started_at=_native(p.get("started_at")),
        finished_at=_native(p.get("finished_at")),
        version=p.get("version", ""),
        params=_json(p.get("params"), {}),
        counts=_json(p.get("counts"), {}),
        timings=_json(p.get("timings"), {}),
        lineage=_json(p.get("lineage"), []),
        error=gone if gone is not None else p.get("error"),
        heartbeat_at=_native(p.get("heartbeat_at")),
        lease_seconds=p.get("lease_seconds"),
        previous_run_id=p.get("previous_run_id"),
    )
