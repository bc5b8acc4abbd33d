"""Lookups for the CLI and the API: an account's attribution, a ring, a page of rings.

Each is one or two indexed reads (`routing_=READ`) of what the detection run wrote back, so they
answer in milliseconds; evidence is stored with its paths at write-back time.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Final

import neo4j
from graph.errors import NotFoundError, RunNotCompletedError
from graph.records import (
    AccountAttributionView,
    AttributionRecord,
    OrgAttribution,
    RingDetail,
    RingMember,
    RingRecord,
    RingSummary,
    ScoredRing,
)
from graph.store.runs import latest_run_id, run_status

__all__ = [
    "MAX_MEMBER_PAGE_SIZE",
    "MEMBER_PAGE_SIZE",
    "account_attribution",
    "cursor_fields",
    "is_finite_number",
    "list_rings",
    "read_scored_rings",
    "resolve_run",
    "ring_detail",
]

_READ: Final = neo4j.RoutingControl.READ
#: Members per page of a ring, by default and at most: what one answer about a ring may carry.
MEMBER_PAGE_SIZE: Final = 100
MAX_MEMBER_PAGE_SIZE: Final = 1000
_MEMBER_CURSOR_TAG: Final = "m"

_ACCOUNT: Final = """
MATCH (a:Account {account_id: $account_id})
OPTIONAL MATCH (a)-[m:MEMBER_OF {run_id: $run_id}]->(ring:Ring)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
WITH a, m, ring, found
OPTIONAL MATCH (a)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization)
WITH a, m, ring, found, t, o ORDER BY t.confidence DESC, o.name
RETURN m.confidence AS membership, ring.ring_id AS ring_id, properties(found) AS found,
       collect(CASE WHEN o IS NULL THEN null ELSE {organization: o.name, confidence: t.confidence,
                                                    prior_llr: t.prior_llr, evidence: t.evidence} END) AS attributions
"""

_RING: Final = """
MATCH (ring:Ring {ring_id: $ring_id})-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
CALL (ring) {
  MATCH (:Account)-[m:MEMBER_OF {run_id: $run_id}]->(ring)
  RETURN count(m) AS member_count
}
CALL (ring) {
  MATCH (a:Account)-[m:MEMBER_OF {run_id: $run_id}]->(ring)
  WHERE $after IS NULL
     OR m.confidence < $after.confidence
     OR (m.confidence = $after.confidence AND a.account_id > $after.account_id)
  WITH a, m ORDER BY m.confidence DESC, a.account_id
  LIMIT $limit
  RETURN collect({account_id: a.account_id, confidence: m.confidence}) AS members
}
CALL (ring) {
  OPTIONAL MATCH (ring)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization)
  WITH t, o ORDER BY t.confidence DESC, o.name
  RETURN collect(CASE WHEN o IS NULL THEN null
                      ELSE {organization: o.name, confidence: t.confidence, prior_llr: t.prior_llr,
                            evidence: t.evidence} END) AS attributions
}
RETURN properties(found) AS found, member_count, members, attributions
"""

_PAGE: Final = """
MATCH (ring:Ring)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
WHERE found.score >= $min_score
  AND ($organization IS NULL OR found.organization = $organization)
  AND ($after IS NULL
       OR found.score < $after.score
       OR (found.score = $after.score AND ring.ring_id > $after.ring_id))
RETURN ring.ring_id AS ring_id, properties(found) AS found
ORDER BY found.score DESC, ring.ring_id
LIMIT $limit
"""


def resolve_run(driver: neo4j.Driver, database: str, run_id: str | None, *, cached: bool = True) -> str | None:
    """The run to read: `run_id`, which must name a completed run, or else the latest completed run.

    Only completed runs are results: `NotFoundError` for an unknown `run_id`, `RunNotCompletedError`
    (with its status and reason) for one that is running or failed; a run whose process is gone (lease
    run out) is marked failed on the way. None when no `run_id` is given and no run has completed yet.
    `cached` is passed to `latest_run_id`: the API's lookups answer from a copy at most a second old;
    the CLI, a one-shot process, asks Neo4j.
    """
    if run_id is None:
        return latest_run_id(driver, database, cached=cached)
    found = run_status(driver, database, run_id)
    if found is None:
        raise NotFoundError(f"no detection run {run_id!r}")
    status, error = found
    if status != "completed":
        raise RunNotCompletedError(run_id, status, error)
    return run_id


def _attributions(rows: list[dict[str, Any] | None]) -> tuple[OrgAttribution, ...]:
    return tuple(
        AttributionRecord.from_properties("", row["organization"], row).view() for row in rows if row is not None
    )


def account_attribution(
    driver: neo4j.Driver, database: str, account_id: str, *, run_id: str | None = None
) -> AccountAttributionView:
    """The account's ring (if any) and attributions in `run_id` (default: the latest completed run)."""
    run = resolve_run(driver, database, run_id)
    records, _, _ = driver.execute_query(
        _ACCOUNT, account_id=account_id, run_id=run, database_=database, routing_=_READ
    )
    if not records:
        raise NotFoundError(f"no account {account_id!r}")
    record = records[0]
    ring = (
        RingRecord.from_properties(record["ring_id"], record["found"]).summary(run)
        if record["ring_id"] and run else None
    )
    return AccountAttributionView(
        account_id=account_id,
        run_id=run,
        ring=ring,
        membership_confidence=record["membership"],
        attributions=_attributions(record["attributions"]),
    )


def ring_detail(
    driver: neo4j.Driver,
    database: str,
    ring_id: str,
    *,
    run_id: str | None = None,
    members_limit: int = MEMBER_PAGE_SIZE,
    members_after: str | None = None,
) -> RingDetail:
    """Coordination evidence, attributions and a page of members of a ring as `run_id` found it.

    Members come most confident first (then by account id), at most `members_limit` of them after the
    cursor `members_after` (the `members_next_cursor` of the previous page): a ring of any size costs a
    bounded answer. ValueError for a limit outside 1..MAX_MEMBER_PAGE_SIZE or a cursor this module did
    not issue; NotFoundError for an unknown ring or run.
    """
    if not 1 <= members_limit <= MAX_MEMBER_PAGE_SIZE:
        raise ValueError(f"members_limit must be between 1 and {MAX_MEMBER_PAGE_SIZE}, got {members_limit}")
    after = _decode_member_cursor(members_after) if members_after is not None else None
    run = resolve_run(driver, database, run_id)
    records: list[neo4j.Record] = []
    if run is not None:
        records, _, _ = driver.execute_query(
            _RING, ring_id=ring_id, run_id=run, after=after, limit=members_limit + 1,
            database_=database, routing_=_READ,
        )
    if not records or run is None:
        raise NotFoundError(f"no ring {ring_id!r} in run {run!r}")
    record = records[0]
    ring = RingRecord.from_properties(ring_id, record["found"])
    members = tuple(RingMember(m["account_id"], float(m["confidence"])) for m in record["members"])
    page = members[:members_limit]
    return RingDetail(
        summary=ring.summary(run),
        members=page,
        member_count=int(record["member_count"]),
        members_next_cursor=_encode_member_cursor(page[-1]) if len(members) > members_limit else None,
        coordination_prior_llr=ring.coordination_prior_llr,
        coordination_evidence=ring.coordination_evidence,
        attributions=_attributions(record["attributions"]),
    )


def _encode_member_cursor(member: RingMember) -> str:
    # Tagged, so a cursor of the ring list is not mistaken for one of a member list (and back).
    payload = json.dumps([_MEMBER_CURSOR_TAG, member.membership_confidence, member.account_id])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_member_cursor(cursor: str) -> dict[str, Any]:
    tag, confidence, account_id = cursor_fields(cursor, 3)
    if tag != _MEMBER_CURSOR_TAG or not is_finite_number(confidence) or not isinstance(account_id, str):
        raise ValueError(f"not a member cursor this API issued: {cursor!r}")
    return {"confidence": float(confidence), "account_id": account_id}


def cursor_fields(cursor: str, count: int) -> list[Any]:
    """The JSON list of `count` items inside a cursor; ValueError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as error:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError(f"not a cursor this API issued: {cursor!r}") from error
    if not isinstance(fields, list) or len(fields) != count:
        raise ValueError(f"not a cursor this API issued: {cursor!r}")
    return fields


def is_finite_number(value: Any) -> bool:
    # bool is an int to Python, and NaN/Infinity parse as JSON numbers: neither is a score we issued.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _encode_cursor(score: float, ring_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([score, ring_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    score, ring_id = cursor_fields(cursor, 2)
    if not is_finite_number(score) or not isinstance(ring_id, str):
        raise ValueError(f"not a cursor this API issued: {cursor!r}")
    return {"score": float(score), "ring_id": ring_id}


def list_rings(
    driver: neo4j.Driver,
    database: str,
    *,
    run_id: str | None = None,
    min_score: float = 0.0,
    organization: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[RingSummary], str | None]:
    """A page of rings, highest coordination score first, and the cursor of the next page (or None)."""
    run = resolve_run(driver, database, run_id)
    if run is None:
        return [], None
    records, _, _ = driver.execute_query(
        _PAGE,
        run_id=run,
        min_score=min_score,
        organization=organization,
        after=_decode_cursor(after) if after else None,
        limit=limit + 1,
        database_=database,
        routing_=_READ,
    )
    page = [RingRecord.from_properties(r["ring_id"], r["found"]).summary(run) for r in records[:limit]]
    next_cursor = _encode_cursor(page[-1].score, page[-1].ring_id) if len(records) > limit and page else None
    return page, next_cursor


_SCORED: Final = """
MATCH (ring:Ring)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
CALL (ring) {
  MATCH (a:Account)-[:MEMBER_OF {run_id: $run_id}]->(ring) RETURN collect(a.account_id) AS members
}
CALL (ring) {
  OPTIONAL MATCH (ring)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization)
  WITH t, o ORDER BY t.confidence DESC, o.name
  RETURN collect([o.name, t.confidence]) AS attributions
}
RETURN ring.ring_id AS ring_id, found.score AS score, found.operation_id AS operation_id, members, attributions
ORDER BY ring_id
"""


def read_scored_rings(driver: neo4j.Driver, database: str, run_id: str) -> list[ScoredRing]:
    """Every ring of the run with its members, coordination score and candidate attributions."""
    records, _, _ = driver.execute_query(_SCORED, run_id=run_id, database_=database, routing_=_READ)
    return [
        ScoredRing(
            members=frozenset(r["members"]),
            score=float(r["score"] or 0.0),
            attributions=tuple((str(o), float(c)) for o, c in r["attributions"] if o is not None),
            operation_id=r["operation_id"],
        )
        for r in records
    ]
