"""Writing validated rows to Neo4j: batched `UNWIND $rows ... MERGE` in managed transactions.

Idempotent at the level of the observation (DESIGN.md §3): each account-entity relationship keeps
the digests of the observations it has counted (`r.observation_digests`, see
`graph.ingest.observations`), and a row's count, first_seen and last_seen are applied in the same
transaction that adds its digest, only when the digest is not there yet. The same observation
arriving again through any file, batch, order or route, or a driver retry of a transaction, adds
nothing; a load killed anywhere leaves each observation either applied with its digest or not at all.
Accounts, known members and ranges are MERGE + SET of what the row says, idempotent by nature.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import neo4j
from graph.store.ip_ranges import ENRICH_IPS, UNENRICHED
from graph.vocabulary import ENTITY_KINDS

__all__ = ["IPEnrichment", "write_accounts", "write_known", "write_links"]

#: Rows for `graph.store.ip_ranges.ENRICH_IPS` and the range-table version they were looked up in.
IPEnrichment = tuple[list[dict[str, Any]], int]

# How one observation reaches a relationship `r` it was merged into: {digest} and {count} are
# expressions for the row's digest and count; first_seen and last_seen must be bound.
# Read-committed isolation would let two transactions both read r's digests before either commits and
# both count the same observation, so r is write-locked first (the documented SET/REMOVE of a marker
# property, which leaves nothing behind). Then the interval only widens and the count grows by this
# observation's count, once.
_COUNT_ONCE: Final = """
SET r.ringtrace_lock = true
WITH r, first_seen, last_seen, {digest} AS digest, {count} AS count
WITH r, first_seen, last_seen, digest, count, NOT digest IN coalesce(r.observation_digests, []) AS new
REMOVE r.ringtrace_lock
WITH r, first_seen, last_seen, digest, count WHERE new
SET r.observation_digests = coalesce(r.observation_digests, []) + digest,
    r.count = coalesce(r.count, 0) + count,
    r.first_seen = CASE WHEN r.first_seen IS NULL OR first_seen < r.first_seen
                        THEN coalesce(first_seen, r.first_seen) ELSE r.first_seen END,
    r.last_seen = CASE WHEN r.last_seen IS NULL OR last_seen > r.last_seen
                       THEN coalesce(last_seen, r.last_seen) ELSE r.last_seen END
"""

# An account's email is a link like any other (DESIGN.md §4), observed once when the account was
# created: `row.email_digest` is that observation's digest (graph.ingest.observations).
_ACCOUNTS: Final = """
UNWIND $rows AS row
WITH row, CASE WHEN row.created_at IS NULL THEN null ELSE datetime({{epochSeconds: row.created_at}}) END AS created
MERGE (a:Account {{account_id: row.account_id}})
  ON CREATE SET a.ringtrace_new = true
WITH a, row, created, a.ringtrace_new IS NOT NULL AS fresh, properties(a) AS before
REMOVE a.ringtrace_new
SET a += row.props,
    a.created_at = coalesce(created, a.created_at),
    a.email_domain = coalesce(row.email_domain, a.email_domain)
WITH a, row, created, fresh OR properties(a) <> before AS changed
CALL (a, row, created) {{
  WITH a, row, created WHERE row.email IS NOT NULL
  MERGE (e:Email {{address: row.email}})
  MERGE (a)-[r:HAS_EMAIL]->(e)
    ON CREATE SET r.count = 0, r.observation_digests = []
  WITH r, created AS first_seen, created AS last_seen, row
  {count_once}
}}
RETURN sum(CASE WHEN changed THEN 1 ELSE 0 END) AS changed
""".format(count_once=_COUNT_ONCE.format(digest="row.email_digest", count="1"))

_KNOWN: Final = """
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
MERGE (o:Organization {name: row.organization})
MERGE (a)-[r:KNOWN_MEMBER_OF]->(o)
WITH r, row, properties(r) AS before
// The earliest date any source gives; the load time only while no source gives one.
SET r.source = coalesce(row.source, r.source),
    r.since = CASE WHEN row.since IS NOT NULL AND (r.since IS NULL OR row.since < r.since) THEN row.since
                   ELSE coalesce(r.since, datetime()) END
RETURN sum(CASE WHEN properties(r) <> before THEN 1 ELSE 0 END) AS changed
"""

_MERGE_ACCOUNTS: Final = "UNWIND $rows AS id MERGE (:Account {account_id: id})"
_MERGE_ENTITIES: Final = "UNWIND $rows AS row MERGE (e:{label} {{{key}: row[0]}}) SET e += row[1]"
# A new IP is pending enrichment in a way the ip_ranges_version index finds (graph.store.ip_ranges).
_MERGE_IPS: Final = """
UNWIND $rows AS row
MERGE (e:IP {address: row[0]}) ON CREATE SET e.ranges_version = $unenriched
SET e += row[1]
"""
# Rows are [account, value, first_seen, last_seen, count, digest]; times travel as epoch seconds and
# become DateTime in Cypher (packing Python datetimes costs more than the whole MERGE).
_MERGE_LINKS: Final = """
UNWIND $rows AS row
MATCH (a:Account {{account_id: row[0]}})
MATCH (e:{label} {{{key}: row[1]}})
MERGE (a)-[r:{relationship}]->(e)
  ON CREATE SET r.count = 0, r.observation_digests = []
WITH r, row,
     CASE WHEN row[2] IS NULL THEN null ELSE datetime({{epochSeconds: row[2]}}) END AS first_seen,
     CASE WHEN row[3] IS NULL THEN null ELSE datetime({{epochSeconds: row[3]}}) END AS last_seen
""" + _COUNT_ONCE.format(digest="row[5]", count="row[4]").replace("{", "{{").replace("}", "}}") + """
RETURN count(*) AS new
"""
_ENTITY_STATEMENTS: Final = {
    kind.name: (
        _MERGE_IPS if kind.name == "ip" else _MERGE_ENTITIES.format(label=kind.label, key=kind.key),
        _MERGE_LINKS.format(label=kind.label, key=kind.key, relationship=kind.relationship),
    )
    for kind in ENTITY_KINDS.values()
}

Statement = tuple[str, dict[str, Any]]


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _link_statements(rows: list[dict[str, Any]]) -> list[Statement]:
    # Each node is merged once per batch, in key order (fewer lock waits between concurrent batches),
    # then the relationships are merged between nodes that now exist.
    statements: list[Statement] = [(_MERGE_ACCOUNTS, {"rows": sorted({row["account_id"] for row in rows})})]
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
        statements.append((merge_entities, {"rows": [[value, entities[value]] for value in sorted(entities)],
                                            "unenriched": UNENRICHED}))
        statements.append((merge_links, {"rows": [
            [r["account_id"], r["value"], _epoch(r["first_seen"]), _epoch(r["last_seen"]), r["count"], r["digest"]]
            for r in part
        ]}))
    return statements


def _run(driver: neo4j.Driver, database: str, statements: list[Statement], counted: frozenset[str]) -> int:
    """Run `statements` in one managed transaction; the sum of what the `counted` ones return."""

    def work(tx: neo4j.ManagedTransaction) -> int:
        total = 0
        for query, parameters in statements:
            result = tx.run(query, parameters)
            if query in counted:
                total += sum(int(record[0]) for record in result)
            else:
                result.consume()
        return total

    with driver.session(database=database) as session:
        return session.execute_write(work)


_COUNTED_LINKS: Final = frozenset(links for _, links in _ENTITY_STATEMENTS.values())


def write_links(
    driver: neo4j.Driver, database: str, rows: list[dict[str, Any]], enrichment: IPEnrichment | None = None
) -> int:
    """Apply link rows (each with its `digest`, distinct within the batch); the number of observations
    counted now. With `enrichment`, the batch's IPs are enriched in the same transaction."""
    statements = _link_statements(rows)
    if enrichment is not None and enrichment[0]:
        statements.append((ENRICH_IPS, {"rows": enrichment[0], "version": enrichment[1]}))
    return _run(driver, database, statements, _COUNTED_LINKS)


def write_accounts(driver: neo4j.Driver, database: str, rows: list[dict[str, Any]]) -> int:
    """Apply accounts.csv rows, each with the `email_digest` of its email's observation (None without
    an email); the number of accounts created or changed."""
    parameters = [{**row, "created_at": _epoch(row["created_at"])} for row in rows]
    return _run(driver, database, [(_ACCOUNTS, {"rows": parameters})], frozenset({_ACCOUNTS}))


def write_known(driver: neo4j.Driver, database: str, rows: list[dict[str, Any]]) -> int:
    """Apply known.csv rows; the number of memberships created or changed."""
    return _run(driver, database, [(_KNOWN, {"rows": rows})], frozenset({_KNOWN}))
