"""Reading the usage aggregates a detection run needs: co-action's templates and the rings' activity."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

import neo4j
from graph.store.usage import UNSHARED

__all__ = ["read_activity", "read_coaction_templates", "read_model_releases", "read_templates_around"]

_FETCH_SIZE: Final = 2000
_ACCOUNT_BATCH: Final = 10_000
_TEMPLATES: Final = """
MATCH (t:PromptTemplate)
WHERE t.fingerprint <> $unshared AND t.accounts >= 2 AND t.accounts <= $max_senders
MATCH (a:Account)-[r:SENT]->(t)
RETURN t.fingerprint AS template, t.accounts AS senders, t.skeleton AS skeleton,
       collect([a.account_id, r.minutes]) AS sent
"""
# The templates of _TEMPLATES that the accounts in $ids sent, but for those in $seen.
_TEMPLATES_AROUND: Final = """
UNWIND $ids AS id
MATCH (:Account {account_id: id})-[:SENT]->(t:PromptTemplate)
WITH DISTINCT t
WHERE t.fingerprint <> $unshared AND t.accounts >= 2 AND t.accounts <= $max_senders AND NOT t.fingerprint IN $seen
MATCH (a:Account)-[r:SENT]->(t)
RETURN t.fingerprint AS template, t.accounts AS senders, t.skeleton AS skeleton,
       collect([a.account_id, r.minutes]) AS sent
"""
_ACTIVITY: Final = """
UNWIND $ids AS id
MATCH (a:Account {account_id: id})-[r:SENT]->(t:PromptTemplate)
RETURN a.account_id AS account_id,
       collect({template: t.fingerprint, count: r.count, output_tokens: r.output_tokens, hours: r.hours,
                categories: r.categories, category_counts: r.category_counts, models: r.models,
                model_counts: r.model_counts, model_first_seen: r.model_first_seen,
                first_seen: r.first_seen.epochSeconds, last_seen: r.last_seen.epochSeconds,
                minutes: r.minutes}) AS sent
"""
_MODELS: Final = "MATCH (m:Model) RETURN m.name AS name, m.first_seen AS first_seen ORDER BY name"


def read_coaction_templates(
    driver: neo4j.Driver, database: str, max_senders: int
) -> list[tuple[str, int, str | None, list[tuple[str, list[int]]]]]:
    """Each template of 2..max_senders senders with its senders' distinct minutes."""
    result = []
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=_FETCH_SIZE) as s:
        for record in s.run(_TEMPLATES, unshared=UNSHARED, max_senders=max_senders):
            result.append((str(record["template"]), int(record["senders"]), record["skeleton"],
                           [(str(a), m or []) for a, m in record["sent"]]))
    return result


def read_templates_around(
    driver: neo4j.Driver, database: str, account_ids: Collection[str], max_senders: int, seen: Collection[str] = ()
) -> list[tuple[str, int, str | None, list[tuple[str, list[int]]]]]:
    """The templates :func:`read_coaction_templates` reads that `account_ids` sent (all their senders),
    leaving out those in `seen`."""
    ids, skip, taken = sorted(account_ids), sorted(seen), set(seen)
    result = []
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=_FETCH_SIZE) as s:
        for start in range(0, len(ids), _ACCOUNT_BATCH):
            for record in s.run(_TEMPLATES_AROUND, ids=ids[start : start + _ACCOUNT_BATCH], unshared=UNSHARED,
                                max_senders=max_senders, seen=skip):
                if record["template"] in taken:
                    continue
                taken.add(record["template"])
                result.append((str(record["template"]), int(record["senders"]), record["skeleton"],
                               [(str(a), m or []) for a, m in record["sent"]]))
    return result


def read_activity(driver: neo4j.Driver, database: str, account_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
    """account_id -> its SENT aggregates (every template, the unshared one too)."""
    ids = sorted(account_ids)
    result: dict[str, list[dict[str, Any]]] = {}
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=_FETCH_SIZE) as s:
        for start in range(0, len(ids), _ACCOUNT_BATCH):
            for record in s.run(_ACTIVITY, ids=ids[start : start + _ACCOUNT_BATCH]):
                result[str(record["account_id"])] = list(record["sent"])
    return result


def read_model_releases(driver: neo4j.Driver, database: str) -> dict[str, int]:
    """model -> the epoch second it was first seen in the usage log (its release, as far as we know)."""
    records, _, _ = driver.execute_query(_MODELS, database_=database, routing_=neo4j.RoutingControl.READ)
    return {str(r["name"]): int(r["first_seen"]) for r in records}
