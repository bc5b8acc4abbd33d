"""What a ring dossier shows besides the ring's detail: the ring's whole record (its activity summary
too), the entities its members share, the organisations its members and addresses are tied to, and
the operation the ring is a campaign of."""

from __future__ import annotations

from typing import Any, Final

import neo4j
from graph.records import OperationRecord, OperationTie, RingRecord, ties_from_json
from graph.vocabulary import ENTITY_KINDS

__all__ = ["read_operation", "read_organisation_ties", "read_ring_record", "read_shared_entities"]

_READ: Final = neo4j.RoutingControl.READ
_LINKS: Final = "|".join(kind.relationship for kind in ENTITY_KINDS.values())

_RING_RECORD: Final = """
MATCH (:Ring {ring_id: $ring_id})-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
RETURN properties(found) AS found
"""

_SHARED: Final = f"""
MATCH (ring:Ring {{ring_id: $ring_id}})<-[:MEMBER_OF {{run_id: $run_id}}]-(a:Account)
MATCH (a)-[r:{_LINKS}]->(e)
WITH e, collect({{account_id: a.account_id, type: type(r), first_seen: r.first_seen}}) AS links
WHERE size(links) >= 2
RETURN labels(e)[0] AS label, coalesce(e.fingerprint, e.address, e.number) AS key, e.network AS network, links
ORDER BY size(links) DESC, label, key
"""

_ORGANISATIONS: Final = """
MATCH (ring:Ring {ring_id: $ring_id})<-[:MEMBER_OF {run_id: $run_id}]-(a:Account)
MATCH (a)-[k:KNOWN_MEMBER_OF]->(o:Organization)
RETURN 'Account' AS label, a.account_id AS key, o.name AS organization, 'KNOWN_MEMBER_OF' AS type
UNION
MATCH (i:IP)-[:OPERATED_BY]->(o:Organization)
WHERE i.address IN $addresses AND o.name IN $organizations
RETURN 'IP' AS label, i.address AS key, o.name AS organization, 'OPERATED_BY' AS type
"""


# The campaigns' own figures only: not their evidence, which can be long and which the page does not show.
_OPERATION: Final = """
MATCH (ring:Ring {ring_id: $ring_id})-[part:PART_OF {run_id: $run_id}]->(op:Operation)
MATCH (op)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
CALL (op) {
  MATCH (campaign:Ring)-[:PART_OF {run_id: $run_id}]->(op)
  MATCH (campaign)-[campaign_found:FOUND_IN]->(:DetectionRun {run_id: $run_id})
  RETURN collect({ring_id: campaign.ring_id,
                  found: campaign_found {.size, .score, .organization, .attribution_confidence, .operation_id,
                                         .active_from, .active_to}}) AS campaigns
}
RETURN op.operation_id AS operation_id, properties(found) AS found, part.evidence AS evidence, campaigns
"""


def read_ring_record(driver: neo4j.Driver, database: str, ring_id: str, run_id: str) -> RingRecord | None:
    """The ring as `run_id` found it, or None."""
    records, _, _ = driver.execute_query(_RING_RECORD, ring_id=ring_id, run_id=run_id, database_=database,
                                         routing_=_READ)
    return RingRecord.from_properties(ring_id, records[0]["found"]) if records else None


def read_shared_entities(driver: neo4j.Driver, database: str, ring_id: str, run_id: str) -> list[dict[str, Any]]:
    """Entities two or more members used: label, key, network and each member's link (most shared first)."""
    records, _, _ = driver.execute_query(_SHARED, ring_id=ring_id, run_id=run_id, database_=database, routing_=_READ)
    return [dict(r) for r in records]


def read_organisation_ties(
    driver: neo4j.Driver, database: str, ring_id: str, run_id: str, addresses: list[str], organizations: list[str]
) -> list[dict[str, Any]]:
    """Members known to an organisation, and which of `addresses` the `organizations` operate."""
    records, _, _ = driver.execute_query(
        _ORGANISATIONS, ring_id=ring_id, run_id=run_id, addresses=addresses, organizations=organizations,
        database_=database, routing_=_READ,
    )
    return [dict(r) for r in records]


def read_operation(
    driver: neo4j.Driver, database: str, ring_id: str, run_id: str
) -> tuple[OperationRecord, list[RingRecord], tuple[OperationTie, ...]] | None:
    """The operation `run_id` made the ring a campaign of, its campaigns (figures and active windows, in
    the order they ran), and the ties that touch the ring; None when the run grouped it in none."""
    records, _, _ = driver.execute_query(_OPERATION, ring_id=ring_id, run_id=run_id, database_=database,
                                         routing_=_READ)
    if not records:
        return None
    operation = OperationRecord.from_properties(records[0]["operation_id"], records[0]["found"])
    by_id = {c["ring_id"]: RingRecord.from_properties(c["ring_id"], c["found"]) for c in records[0]["campaigns"]}
    ordered = [by_id.pop(r) for r in operation.ring_ids if r in by_id]
    return operation, ordered + [by_id[r] for r in sorted(by_id)], ties_from_json(records[0]["evidence"])
