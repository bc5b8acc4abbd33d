"""Writing the usage log's aggregates: `(:Account)-[:SENT]->(:PromptTemplate)`, one per account and
template, never one node or relationship per request (DESIGN.md §2).

A SENT relationship holds what co-action, activity and evidence need: `count` (requests),
`input_tokens`, `output_tokens`, `first_seen`/`last_seen` (datetimes; epoch seconds on the way),
`minutes` (the distinct epoch minutes it was sent in, ascending), `hours` (requests per UTC hour,
24 counts), `models`/`model_counts`/`model_first_seen` and `categories`/`category_counts` (parallel
lists). The account's `request_digests` is the ledger that makes a request count once, whichever
template it lands on in whichever load (graph/ingest/usage.py computes the digests).

A batch is one transaction: its accounts are write-locked and their ledgers read, the SENT
relationships of the pairs with new requests merged and read, combined with the batch in Python and
written back with the ledgers, so two loads of the same requests cannot both count them.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

import neo4j

__all__ = [
    "UNSHARED",
    "PendingUsage",
    "count_templates",
    "read_templates",
    "write_models",
    "write_sent",
    "write_skeletons",
]

#: The template of requests whose prompt no other account sent (in the load that brought them): their
#: volume counts for the account's activity; the prompts themselves leave no trace.
UNSHARED: Final = "unshared"

# Every writer of an account's usage write-locks the account first (the documented SET/REMOVE of a
# marker property, which leaves nothing behind), then reads its ledger: two loads of the same
# requests cannot both find them new.
_LOCK_ACCOUNTS: Final = """
UNWIND $accounts AS account_id
MERGE (a:Account {account_id: account_id})
SET a.ringtrace_lock = true
REMOVE a.ringtrace_lock
RETURN account_id, a.request_digests AS ledger
"""

_READ_SENT: Final = """
UNWIND $pairs AS pair
MATCH (a:Account {account_id: pair.account_id})
MERGE (t:PromptTemplate {fingerprint: pair.fingerprint})
  ON CREATE SET t.source = pair.source, t.signature = pair.signature, t.requests = 0, t.accounts = 0
MERGE (a)-[r:SENT]->(t)
RETURN pair.key AS key, elementId(r) AS id,
       r {.*, first_seen: r.first_seen.epochSeconds, last_seen: r.last_seen.epochSeconds} AS sent
"""

_WRITE: Final = """
UNWIND $rows AS row
MATCH ()-[r:SENT]->() WHERE elementId(r) = row.id
SET r += row.properties,
    r.first_seen = datetime({epochSeconds: row.first_seen}),
    r.last_seen = datetime({epochSeconds: row.last_seen})
"""

_LEDGERS: Final = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
SET a.request_digests = row.ledger
"""

_TEMPLATE_TOTALS: Final = """
UNWIND $templates AS template
MATCH (t:PromptTemplate {fingerprint: template.fingerprint})
SET t.requests = t.requests + template.requests,
    t.accounts = COUNT { (t)<-[:SENT]-(:Account) }
"""

_READ_TEMPLATES: Final = """
MATCH (t:PromptTemplate)
RETURN t.fingerprint AS fingerprint, t.signature AS signature
ORDER BY fingerprint
"""

_MODELS: Final = """
UNWIND $models AS model
MERGE (m:Model {name: model.name})
SET m.first_seen = CASE WHEN m.first_seen IS NULL OR model.first_seen < m.first_seen
                        THEN model.first_seen ELSE m.first_seen END
"""

_SKELETONS: Final = """
UNWIND $rows AS row
MATCH (t:PromptTemplate {fingerprint: row.fingerprint})
WHERE t.accounts >= $min_accounts AND t.skeleton IS NULL
SET t.skeleton = row.skeleton
RETURN count(t) AS written
"""


def count_templates(driver: neo4j.Driver, database: str) -> int:
    records, _, _ = driver.execute_query("MATCH (t:PromptTemplate) RETURN count(t) AS n", database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return int(records[0]["n"])


def read_templates(driver: neo4j.Driver, database: str) -> list[tuple[str, list[int] | None]]:
    """Every stored template's fingerprint and, for one found from text, its MinHash signature."""
    records, _, _ = driver.execute_query(_READ_TEMPLATES, database_=database, routing_=neo4j.RoutingControl.READ)
    return [(str(r["fingerprint"]), r["signature"]) for r in records]


class PendingUsage(Protocol):
    """A batch of requests by (account, template), as graph.ingest.usage.PendingRequests holds them."""

    def accounts(self) -> list[str]: ...

    def fresh_pairs(self, ledgers: dict[str, list[int] | None]) -> list[dict[str, Any]]:
        """The pairs with requests not in their account's ledger (the ledgers as stored)."""
        ...

    def merged(self, key: int, stored: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A fresh pair's SENT properties after its new requests, and the requests they count."""
        ...

    def ledger(self, account_id: str) -> list[int]:
        """The account's ledger with this batch's new requests."""
        ...


def write_sent(driver: neo4j.Driver, database: str, usage: PendingUsage) -> int:
    """Write one batch of usage in one transaction; the number of its requests (events) new to the graph."""

    def work(tx: neo4j.ManagedTransaction) -> int:
        accounts = usage.accounts()
        ledgers = {str(r["account_id"]): r["ledger"] for r in tx.run(_LOCK_ACCOUNTS, accounts=accounts)}
        pairs = usage.fresh_pairs(ledgers)
        if not pairs:
            return 0
        rows: list[dict[str, Any]] = []
        added: dict[str, int] = {}
        fingerprint_of = {pair["key"]: pair["fingerprint"] for pair in pairs}
        events = 0
        for record in list(tx.run(_READ_SENT, pairs=pairs)):
            properties, requests = usage.merged(record["key"], dict(record["sent"]))
            events += properties.pop("events")
            first_seen, last_seen = properties.pop("first_seen"), properties.pop("last_seen")
            rows.append({"id": record["id"], "properties": properties, "first_seen": first_seen,
                         "last_seen": last_seen})
            fingerprint = fingerprint_of[record["key"]]
            added[fingerprint] = added.get(fingerprint, 0) + requests
        tx.run(_WRITE, rows=rows).consume()
        touched = sorted({pair["account_id"] for pair in pairs})
        tx.run(_LEDGERS, rows=[{"account_id": a, "ledger": usage.ledger(a)} for a in touched]).consume()
        tx.run(_TEMPLATE_TOTALS, templates=[
            {"fingerprint": f, "requests": n} for f, n in sorted(added.items())
        ]).consume()
        return events

    with driver.session(database=database) as session:
        return session.execute_write(work)


def write_models(driver: neo4j.Driver, database: str, first_seen: dict[str, int]) -> None:
    """Record when each model was first seen (epoch seconds; the earliest of all loads is kept)."""
    if first_seen:
        driver.execute_query(_MODELS, models=[{"name": m, "first_seen": s} for m, s in sorted(first_seen.items())],
                             database_=database)


def write_skeletons(driver: neo4j.Driver, database: str, rows: list[dict[str, str]], min_accounts: int) -> int:
    """Keep the skeleton of each template in `rows` that at least `min_accounts` accounts sent."""
    if not rows:
        return 0
    records, _, _ = driver.execute_query(_SKELETONS, rows=rows, min_accounts=min_accounts, database_=database)
    return int(records[0]["written"])
