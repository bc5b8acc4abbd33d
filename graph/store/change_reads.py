"""What changed since a detection run: the accounts an incremental run must re-detect around.

Every load stamps what it changes with the server's time (`changed_at`, epoch milliseconds): a link
that took a new observation (graph/store/ingest.py `_OBSERVE`), an account's aggregate on a template
(graph/store/usage.py), an IP whose network or organisation the ranges changed
(graph/store/ip_ranges.py). An account pair's projected weight depends only on the entities and
templates the two share and on those entities' and templates' own links, so every pair whose weight
a change can move has both accounts among the *seeds* returned here:

- the account of every changed link (its own activity window moved);
- every user of a changed entity that could make edges, before or after the change: one whose
  degree minus its changed links is within its kind's cap (degree only grows, so an entity above
  the cap even counting every changed link as new was above it before, and weighs nothing either
  way);
- every user of an IP whose network class or organisation moved, if within the cap;
- every sender of a changed template whose change can move pairs the new senders are not in: one
  co-action could use before the change (at most max_senders senders, counted the same way) that
  has now passed max_senders (it links nobody any more) or has more than max_window_senders (one of
  its windows may be crowded, where each sender is paired with its neighbours in account order, and
  a new sender changes whose neighbours they are); and one that may have had a single sender before
  (a load that stopped after its first part, or is still writing, leaves a template one sender): its
  first sender's minutes count for that sender's activity time only from the second sender on.
  Otherwise a new sender's co-action is its own pairs' only, and co-action as a group
  (graph/detection/coacting_groups.py) joins communities of one component only: the new sender's,
  which is re-detected.

An account's activity time, which the campaign cut reads (graph/pipeline/graph.py ``joined_graph``),
depends on its own links and its own minutes on the templates co-action can use (2 to max_senders
senders): a change to either makes it a mover, and a template that enters or leaves that range
seeds every sender (above).

The seeds are a superset of what changed, never less: re-detecting an unchanged component gives the
rings it had, so a generous set costs time only.
"""

from __future__ import annotations

from typing import Any, Final

import neo4j
from graph.behaviour.coaction import CoactionParams
from graph.projection import ProjectionParams
from graph.store.usage import UNSHARED
from graph.vocabulary import ENTITY_KINDS

__all__ = ["changed_accounts", "changes_since"]

_LINKS: Final = """
MATCH (a:Account)-[r:{relationship}]->(e:{label}) USING INDEX r:{relationship}(changed_at)
WHERE r.changed_at >= $since
WITH e, count(r) AS changed, collect(a.account_id) AS movers
RETURN movers,
       CASE WHEN COUNT {{ (e)<-[:{relationship}]-() }} - changed <= $cap
            THEN COLLECT {{ MATCH (u:Account)-[:{relationship}]->(e) RETURN u.account_id }} ELSE [] END AS users
"""
_IPS: Final = """
MATCH (e:IP) USING INDEX e:IP(changed_at)
WHERE e.changed_at >= $since AND COUNT { (e)<-[:USED_IP]-() } <= $cap
RETURN [] AS movers, COLLECT { MATCH (u:Account)-[:USED_IP]->(e) RETURN u.account_id } AS users
"""
_TEMPLATES: Final = """
MATCH (a:Account)-[r:SENT]->(t:PromptTemplate) USING INDEX r:SENT(changed_at)
WHERE r.changed_at >= $since
WITH t, count(r) AS changed, collect(a.account_id) AS movers
RETURN movers,
       CASE WHEN t.fingerprint <> $unshared AND t.accounts - changed <= $max_senders
                 AND (t.accounts > $max_senders OR t.accounts > $max_window_senders OR t.accounts - changed < 2)
            THEN COLLECT { MATCH (u:Account)-[:SENT]->(t) RETURN u.account_id } ELSE [] END AS users
"""
_SINCE: Final = "MATCH (run:DetectionRun {run_id: $run_id}) RETURN run.changes_since AS since"


def changes_since(driver: neo4j.Driver, database: str, run_id: str) -> int | None:
    """The stamp from which on changes are new to `run_id` (graph/store/runs.py records it when the
    run is claimed); None for a run recorded before runs had one."""
    records, _, _ = driver.execute_query(_SINCE, run_id=run_id, database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return None if not records or records[0]["since"] is None else int(records[0]["since"])


def changed_accounts(
    driver: neo4j.Driver, database: str, since_ms: int, projection: ProjectionParams, coaction: CoactionParams
) -> frozenset[str]:
    """The seeds (see the module docstring) of everything stamped at or after `since_ms`."""
    cap_max = 2**31 - 1
    statements: list[tuple[str, dict[str, Any]]] = [
        (_LINKS.format(label=kind.label, relationship=kind.relationship),
         {"cap": projection.degree_cap.get(kind.name, cap_max)})
        for kind in ENTITY_KINDS.values()
    ]
    statements.append((_IPS, {"cap": projection.degree_cap.get("ip", cap_max)}))
    statements.append((_TEMPLATES, {"unshared": UNSHARED, "max_senders": coaction.max_senders,
                                    "max_window_senders": coaction.max_window_senders}))
    seeds: set[str] = set()
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        for query, parameters in statements:
            for record in session.run(query, since=since_ms, **parameters):
                seeds.update(record["movers"])
                seeds.update(record["users"])
    return frozenset(seeds)
