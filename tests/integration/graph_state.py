"""What a load leaves in Neo4j, in a form two loads can be compared by: every link's figures, nodes per
label, and every IP's enrichment. Book-keeping that differs between equal loads (when a range table
was written, the load time standing in for a missing `since`) is left out. And whether an evidence
path a run wrote exists in the graph, hop by hop."""

from __future__ import annotations

from typing import Any

import neo4j
from graph.records import AttributionRecord, EvidencePath, RingRecord
from tests.suite_database import MARKER_LABEL

__all__ = ["enrichment", "link_figures", "node_counts", "path_exists", "snapshot", "stored_run"]

_KEYS = {
    "Account": "account_id", "IP": "address", "Device": "fingerprint", "PaymentMethod": "fingerprint",
    "Email": "address", "Phone": "number", "Organization": "name", "Ring": "ring_id",
    "PromptTemplate": "fingerprint", "Operation": "operation_id",
}
_RELATIONSHIPS = {"USED_IP", "USED_DEVICE", "PAID_WITH", "HAS_EMAIL", "HAS_PHONE", "KNOWN_MEMBER_OF", "OPERATED_BY",
                  "SENT", "MEMBER_OF"}

_LINKS = """
MATCH (a:Account)-[r]->(e)
WHERE type(r) IN ['USED_IP', 'USED_DEVICE', 'PAID_WITH', 'HAS_EMAIL', 'HAS_PHONE']
RETURN type(r) AS type, a.account_id AS account, coalesce(e.address, e.fingerprint, e.number) AS value,
       r.count AS count, toString(r.first_seen) AS first_seen, toString(r.last_seen) AS last_seen
"""
# (:AppliedBatch) was the batch ledger of earlier versions: book-keeping, not data.
_NODES = (f"MATCH (n) WHERE NOT n:{MARKER_LABEL} AND NOT n:AppliedBatch UNWIND labels(n) AS label "
          "RETURN label, count(*) AS n")
_OTHER_RELATIONSHIPS = """
MATCH (a)-[r:KNOWN_MEMBER_OF|OPERATED_BY]->(b)
RETURN type(r) AS type, coalesce(a.account_id, a.address, a.cidr) AS start, b.name AS end, r.source AS source
"""
_ENRICHMENT = """
MATCH (ip:IP)
RETURN ip.address AS address, ip.network AS network, ip.asn AS asn, ip.org AS org, ip.range AS range
"""


def link_figures(driver: neo4j.Driver, database: str) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """(type, account, entity) -> (count, first_seen, last_seen) for every account-entity link."""
    records, _, _ = driver.execute_query(_LINKS, database_=database, routing_=neo4j.RoutingControl.READ)
    return {(r["type"], r["account"], r["value"]): (r["count"], r["first_seen"], r["last_seen"]) for r in records}


def node_counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    records, _, _ = driver.execute_query(_NODES, database_=database, routing_=neo4j.RoutingControl.READ)
    return {r["label"]: r["n"] for r in records}


def enrichment(driver: neo4j.Driver, database: str) -> dict[str, tuple[Any, ...]]:
    """address -> (network, asn, org, range) of every IP node."""
    records, _, _ = driver.execute_query(_ENRICHMENT, database_=database, routing_=neo4j.RoutingControl.READ)
    return {r["address"]: (r["network"], r["asn"], r["org"], r["range"]) for r in records}


def snapshot(driver: neo4j.Driver, database: str) -> dict[str, Any]:
    """Everything two equal loads must agree on."""
    others, _, _ = driver.execute_query(_OTHER_RELATIONSHIPS, database_=database,
                                        routing_=neo4j.RoutingControl.READ)
    return {
        "links": link_figures(driver, database),
        "nodes": node_counts(driver, database),
        "enrichment": enrichment(driver, database),
        "relationships": sorted(tuple(str(v) for v in r.values()) for r in others),
    }


def stored_run(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, Any]:
    """Everything run `run_id` wrote: rings, memberships, attributions and operations, all values exact."""
    rings, _, _ = driver.execute_query(
        "MATCH (r:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) RETURN r.ring_id AS id, properties(f) AS p",
        run_id=run_id, database_=database,
    )
    members, _, _ = driver.execute_query(
        "MATCH (a:Account)-[m:MEMBER_OF {run_id: $run_id}]->(r:Ring) "
        "RETURN r.ring_id AS ring, a.account_id AS account, m.confidence AS confidence",
        run_id=run_id, database_=database,
    )
    attributions, _, _ = driver.execute_query(
        "MATCH (s)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization) "
        "RETURN labels(s)[0] AS label, coalesce(s.ring_id, s.account_id) AS subject, o.name AS organization, "
        "properties(t) AS p",
        run_id=run_id, database_=database,
    )
    operations, _, _ = driver.execute_query(
        "MATCH (r:Ring)-[p:PART_OF {run_id: $run_id}]->(o:Operation) "
        "RETURN r.ring_id AS ring, o.operation_id AS operation, p.evidence AS evidence",
        run_id=run_id, database_=database,
    )
    return {
        "rings": {r["id"]: RingRecord.from_properties(r["id"], r["p"]) for r in rings},
        "members": sorted((m["ring"], m["account"], m["confidence"]) for m in members),
        "attributions": sorted(
            ((a["label"], a["subject"], a["organization"]),
             AttributionRecord.from_properties(a["subject"], a["organization"], a["p"]))
            for a in attributions
        ),
        "operations": sorted((o["ring"], o["operation"], o["evidence"]) for o in operations),
    }


def path_exists(driver: neo4j.Driver, database: str, path: EvidencePath) -> bool:
    """MATCH the path hop by hop with its keys and relationship properties."""
    for rel in path.relationships:
        start, end = path.nodes[rel.start], path.nodes[rel.end]
        assert _KEYS[start.label] == start.key and _KEYS[end.label] == end.key and rel.type in _RELATIONSHIPS
        # Labels and types come from the allow-lists just asserted, values go as parameters.
        query = (
            f"MATCH (a:{start.label} {{{start.key}: $a}})-[r:{rel.type}]->(b:{end.label} {{{end.key}: $b}}) "
            "RETURN r.count AS count, toString(r.first_seen) AS first"
        )
        records, _, _ = driver.execute_query(query, a=start.value, b=end.value, database_=database)
        if not records:
            return False
        if rel.count is not None and records[0]["count"] != rel.count:
            return False
        if rel.first_seen is not None and not records[0]["first"].startswith(rel.first_seen[:19]):
            return False
    return True
