"""IP ranges and the enrichment of IPs from them: what is stored, and which IPs still need it.

The range table has a version, on one `(:IPRangeTable {name})` node, raised in the transaction that
changes any range. Every IP records the version it was enriched from (`ip.ranges_version`; 0 when
there were no ranges), so "not enriched yet" and "enriched from ranges that have changed since" are
both `ranges_version < version` (a new IP starts at UNENRICHED): a load or request that dies after
its IPs or ranges committed leaves IPs that the next one finds and enriches. Versions are
microsecond timestamps, raised by at least one, so a process can key its cached range table by
(database, version).
"""

from __future__ import annotations

import time
from typing import Any, Final

import neo4j
from graph.ingest.ip_enrichment import IPRange

__all__ = [
    "ENRICH_IPS",
    "NO_RANGES",
    "RANGE_TABLE",
    "UNENRICHED",
    "read_ip_ranges",
    "read_pending_ips",
    "read_ranges_version",
    "write_ip_enrichment",
    "write_ip_ranges",
]

#: The version IPs are enriched from while no range was ever stored (every IP is then "unknown").
NO_RANGES: Final = 0
#: `ranges_version` of an IP written but not enriched yet: below every version, and indexed.
UNENRICHED: Final = -1
#: `IPRangeTable.name` of the table ip_ranges.csv fills.
RANGE_TABLE: Final = "ip_ranges"

_IP_RANGES: Final = """
UNWIND $rows AS row
MERGE (r:IPRange {cidr: row.cidr})
WITH r, row, NOT (coalesce(r.asn, -1) = coalesce(row.asn, -1)
                  AND coalesce(r.organization, '') = coalesce(row.organization, '')
                  AND coalesce(r.network, '') = row.network) AS changed
SET r.asn = row.asn, r.organization = row.organization, r.network = row.network
WITH r, row, changed
// A range that changed hands is operated by its new organisation only.
OPTIONAL MATCH (r)-[old:OPERATED_BY]->(previous:Organization)
WHERE row.organization IS NULL OR previous.name <> row.organization
DELETE old
WITH DISTINCT r, row, changed
FOREACH (name IN CASE WHEN row.organization IS NULL THEN [] ELSE [row.organization] END |
  MERGE (o:Organization {name: name})
  MERGE (r)-[:OPERATED_BY]->(o))
RETURN sum(CASE WHEN changed THEN 1 ELSE 0 END) AS changed
"""
# The right-hand side reads t.version, so Cypher write-locks t first: concurrent loaders serialise here.
_RAISE_VERSION: Final = """
MERGE (t:IPRangeTable {name: $table})
SET t.version = CASE WHEN coalesce(t.version, 0) < $stamp THEN $stamp ELSE t.version + 1 END
"""
_VERSION: Final = """
OPTIONAL MATCH (t:IPRangeTable {name: $table})
RETURN coalesce(t.version, $none) AS version
"""
_RANGES: Final = """
MATCH (r:IPRange)
RETURN r.cidr AS cidr, r.asn AS asn, r.organization AS organization, r.network AS network
"""
#: Rows {address, cidr, asn, organization, network} looked up in the ranges of $version. An IP already
#: enriched from this version or a newer one is left alone (a hot IP is not rewritten by every batch).
ENRICH_IPS: Final = """
UNWIND $rows AS row
MATCH (ip:IP {address: row.address})
WHERE ip.ranges_version IS NULL OR ip.ranges_version < $version
WITH ip, row,
     coalesce(ip.network, '') <> coalesce(row.network, '') OR coalesce(ip.org, '') <> coalesce(row.organization, '')
     AS moved
SET ip.changed_at = CASE WHEN moved THEN timestamp() ELSE ip.changed_at END,
    ip.asn = row.asn, ip.org = row.organization, ip.network = row.network, ip.range = row.cidr,
    ip.ranges_version = $version
WITH ip, row
OPTIONAL MATCH (ip)-[old:OPERATED_BY]->(previous:Organization)
WHERE row.organization IS NULL OR previous.name <> row.organization
DELETE old
WITH DISTINCT ip, row WHERE row.organization IS NOT NULL
MERGE (o:Organization {name: row.organization})
MERGE (ip)-[:OPERATED_BY]->(o)
"""
# IPs written before `ranges_version` existed have none: the whole-table pass finds those too.
_PENDING_ALL: Final = """
MATCH (ip:IP) WHERE ip.ranges_version IS NULL OR ip.ranges_version < $version
RETURN ip.address AS address
"""
# Index-backed (ip_ranges_version), for a bounded pass: its cost is its limit, not the number of IPs.
_PENDING_SOME: Final = """
MATCH (ip:IP) WHERE ip.ranges_version < $version
RETURN ip.address AS address LIMIT $limit
"""


def write_ip_ranges(driver: neo4j.Driver, database: str, rows: list[dict[str, Any]]) -> int:
    """Store ranges; raise the table's version, in the same transaction, if any changed. Rows changed."""

    def work(tx: neo4j.ManagedTransaction) -> int:
        changed = int(tx.run(_IP_RANGES, rows=rows).single(strict=True)["changed"])
        if changed:
            tx.run(_RAISE_VERSION, table=RANGE_TABLE, stamp=time.time_ns() // 1000).consume()
        return changed

    with driver.session(database=database) as session:
        return session.execute_write(work)


def read_ranges_version(driver: neo4j.Driver, database: str) -> int:
    """The version of the stored range table (NO_RANGES before any range was stored)."""
    records, _, _ = driver.execute_query(
        _VERSION, table=RANGE_TABLE, none=NO_RANGES, database_=database, routing_=neo4j.RoutingControl.READ
    )
    return int(records[0]["version"])


def read_ip_ranges(driver: neo4j.Driver, database: str) -> list[IPRange]:
    """Every stored IP range, for longest-prefix enrichment."""
    records, _, _ = driver.execute_query(_RANGES, database_=database, routing_=neo4j.RoutingControl.READ)
    return [IPRange(r["cidr"], r["asn"], r["organization"], r["network"]) for r in records]


def read_pending_ips(driver: neo4j.Driver, database: str, version: int, *, limit: int | None = None) -> list[str]:
    """Addresses of IPs not enriched from ranges of `version` yet: all of them, or at most `limit`."""
    query, parameters = (_PENDING_ALL, {"version": version}) if limit is None else (
        _PENDING_SOME, {"version": version, "limit": limit})
    records, _, _ = driver.execute_query(
        query, parameters_=parameters, database_=database, routing_=neo4j.RoutingControl.READ
    )
    return [str(r["address"]) for r in records]


def write_ip_enrichment(driver: neo4j.Driver, database: str, rows: list[dict[str, Any]], version: int) -> None:
    """Set what the ranges of `version` say about these IPs (see ENRICH_IPS)."""
    driver.execute_query(ENRICH_IPS, rows=rows, version=version, database_=database)
