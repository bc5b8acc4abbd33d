"""Writing validated rows to Neo4j: batched `UNWIND $rows ... MERGE` in managed transactions.

Every batch is applied at most once. Its id is a hash of its normalised content; the batch's writes
and its `(:AppliedBatch)` ledger node commit in one transaction, so a re-run skips what committed and
applies what did not, and a driver retry of a failed transaction cannot count an observation twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Final

import neo4j
from graph.ingest.ip_enrichment import IPRange
from graph.vocabulary import ENTITY_KINDS

__all__ = ["batch_id", "read_ip_addresses", "read_ip_ranges", "write_batch"]

_LEDGER_CHECK: Final = "MATCH (b:AppliedBatch {batch_id: $batch_id}) RETURN count(b) AS n"
_LEDGER_RECORD: Final = """
CREATE (:AppliedBatch {batch_id: $batch_id, file: $file, rows: $rows, applied_at: datetime()})
"""

_ACCOUNTS: Final = """
UNWIND $rows AS row
WITH row, CASE WHEN row.created_at IS NULL THEN null ELSE datetime({epochSeconds: row.created_at}) END AS created
MERGE (a:Account {account_id: row.account_id})
SET a += row.props,
    a.created_at = coalesce(created, a.created_at),
    a.email_domain = coalesce(row.email_domain, a.email_domain)
WITH a, row, created WHERE row.email IS NOT NULL
MERGE (e:Email {address: row.email})
MERGE (a)-[r:HAS_EMAIL]->(e)
  ON CREATE SET r.first_seen = created, r.last_seen = created, r.count = 1
"""

_MERGE_ACCOUNTS: Final = "UNWIND $ids AS id MERGE (:Account {account_id: id})"
_MERGE_ENTITIES: Final = "UNWIND $rows AS row MERGE (e:{label} {{{key}: row[0]}}) SET e += row[1]"
# Times travel as epoch seconds and become DateTime in Cypher: packing Python datetimes costs more
# than the whole MERGE. The relationship's interval only widens; counts add up (the ledger keeps
# them from doubling).
_MERGE_LINKS: Final = """
UNWIND $rows AS row
MATCH (a:Account {{account_id: row[0]}})
MATCH (e:{label} {{{key}: row[1]}})
WITH a, e, row,
     CASE WHEN row[2] IS NULL THEN null ELSE datetime({{epochSeconds: row[2]}}) END AS first_seen,
     CASE WHEN row[3] IS NULL THEN null ELSE datetime({{epochSeconds: row[3]}}) END AS last_seen
MERGE (a)-[r:{relationship}]->(e)
  ON CREATE SET r.first_seen = first_seen, r.last_seen = last_seen, r.count = row[4]
  ON MATCH SET
    r.first_seen = CASE WHEN r.first_seen IS NULL OR first_seen < r.first_seen
                        THEN coalesce(first_seen, r.first_seen) ELSE r.first_seen END,
    r.last_seen = CASE WHEN r.last_seen IS NULL OR last_seen > r.last_seen
                       THEN coalesce(last_seen, r.last_seen) ELSE r.last_seen END,
    r.count = r.count + row[4]
"""
_ENTITY_STATEMENTS: Final = {
    kind.name: (
        _MERGE_ENTITIES.format(label=kind.label, key=kind.key),
        _MERGE_LINKS.format(label=kind.label, key=kind.key, relationship=kind.relationship),
    )
    for kind in ENTITY_KINDS.values()
}

_ENRICH_IPS: Final = """
UNWIND $rows AS row
MATCH (ip:IP {address: row.address})
SET ip.asn = row.asn, ip.org = row.organization, ip.network = row.network, ip.range = row.cidr
WITH ip, row
OPTIONAL MATCH (ip)-[old:OPERATED_BY]->(previous:Organization)
WHERE row.organization IS NULL OR previous.name <> row.organization
DELETE old
WITH DISTINCT ip, row WHERE row.organization IS NOT NULL
MERGE (o:Organization {name: row.organization})
MERGE (ip)-[:OPERATED_BY]->(o)
"""

_KNOWN: Final = """
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (o:Organization {name: row.organization})
MERGE (a)-[r:KNOWN_MEMBER_OF]->(o)
SET r.source = coalesce(row.source, r.source),
    r.since = coalesce(r.since, row.since, datetime())
"""

_IP_RANGES: Final = """
UNWIND $rows AS row
MERGE (r:IPRange {cidr: row.cidr})
SET r.asn = row.asn, r.organization = row.organization, r.network = row.network
WITH r, row WHERE row.organization IS NOT NULL
MERGE (o:Organization {name: row.organization})
MERGE (r)-[:OPERATED_BY]->(o)
"""


def batch_id(file_kind: str, rows: list[dict[str, Any]]) -> str:
    """A content hash of a batch of normalised rows: the same rows give the same id.

    The rows' repr is deterministic (parsers build their dicts in a fixed key order; datetimes are
    in UTC), and hashing it in one piece costs a fraction of hashing row by row.
    """
    return hashlib.sha256(file_kind.encode() + b"\n" + repr(rows).encode()).hexdigest()


def _statements(file_kind: str, rows: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    if file_kind == "accounts":
        return [(_ACCOUNTS, [{**row, "created_at": _epoch(row["created_at"])} for row in rows])]
    if file_kind == "known":
        return [(_KNOWN, rows)]
    if file_kind == "ip_ranges":
        return [(_IP_RANGES, rows)]
    if file_kind == "ip_enrichment":
        return [(_ENRICH_IPS, rows)]
    return _link_statements(rows)


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _link_statements(rows: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    # Each node is merged once per batch, in key order (fewer lock waits between concurrent batches),
    # then the relationships are merged between nodes that now exist.
    statements: list[tuple[str, list[Any]]] = [(_MERGE_ACCOUNTS, sorted({row["account_id"] for row in rows}))]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    for kind in ENTITY_KINDS:
        part = by_kind.get(kind)
        if not part:
            continue
        merge_entities, merge_links = _ENTITY_STATEMENTS[kind]
        entities: dict[str, dict[str, str]] = {}
        for row in part:
            entities.setdefault(row["value"], {}).update(row["entity"])
        statements.append((merge_entities, [[value, entities[value]] for value in sorted(entities)]))
        statements.append((
            merge_links,
            [[r["account_id"], r["value"], _epoch(r["first_seen"]), _epoch(r["last_seen"]), r["count"]] for r in part],
        ))
    return statements


def write_batch(
    driver: neo4j.Driver,
    database: str,
    file_kind: str,
    rows: list[dict[str, Any]],
    *,
    ledger: bool = True,
) -> bool:
    """Apply one batch unless its id is in the ledger; True if it was applied now."""
    identity = batch_id(file_kind, rows)
    statements = _statements(file_kind, rows)

    def work(tx: neo4j.ManagedTransaction) -> bool:
        if ledger and tx.run(_LEDGER_CHECK, batch_id=identity).single(strict=True)["n"]:
            return False
        for query, part in statements:
            if query == _MERGE_ACCOUNTS:
                tx.run(query, ids=part).consume()
            else:
                tx.run(query, rows=part).consume()
        if ledger:
            tx.run(_LEDGER_RECORD, batch_id=identity, file=file_kind, rows=len(rows)).consume()
        return True

    with driver.session(database=database) as session:
        try:
            return bool(session.execute_write(work))
        except neo4j.exceptions.ConstraintError:
            # A concurrent loader committed the same batch first: it is applied, once.
            return False



def read_ip_ranges(driver: neo4j.Driver, database: str) -> list[IPRange]:
    """Every stored IP range, for longest-prefix enrichment."""
    records, _, _ = driver.execute_query(
        "MATCH (r:IPRange) RETURN r.cidr AS cidr, r.asn AS asn, r.organization AS organization, "
        "r.network AS network",
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [IPRange(r["cidr"], r["asn"], r["organization"], r["network"]) for r in records]


def read_ip_addresses(driver: neo4j.Driver, database: str, *, unenriched_only: bool) -> list[str]:
    """Addresses of IP nodes: all, or only those never looked up in the ranges."""
    records, _, _ = driver.execute_query(
        "MATCH (ip:IP) WHERE NOT $unenriched_only OR ip.network IS NULL RETURN ip.address AS address",
        unenriched_only=unenriched_only,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [str(r["address"]) for r in records]
