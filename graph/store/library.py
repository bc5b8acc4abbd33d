"""Running the analyst Cypher library (cypher/queries/), and parameter values that exist in a database.

The header examples document the shape of a value; these are values a loaded, detected database
actually holds (its top ring, two of that ring's members, a template they sent in common, an
organisation with attributed rings, the operation of the most campaigns, the latest run and its
predecessor), so a query run with them
returns rows.
"""

from __future__ import annotations

from typing import Any, Final

import neo4j
from graph.store.usage import UNSHARED

__all__ = ["run_query", "sample_parameters"]

_SAMPLE: Final = """
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
OPTIONAL MATCH (run)-[:FOLLOWS]->(previous:DetectionRun)
CALL (run) {
  MATCH (ring:Ring)-[found:FOUND_IN]->(run)
  // An attributed ring if there is one, so the attribution phrases have something to show.
  RETURN ring ORDER BY EXISTS { (ring)-[:ATTRIBUTED_TO {run_id: run.run_id}]->() } DESC,
                       found.score DESC, found.size DESC, ring.ring_id LIMIT 1
}
CALL (run, ring) {
  MATCH (a:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
  MATCH (a)-[:USED_DEVICE|PAID_WITH|HAS_PHONE|HAS_EMAIL|USED_IP]->()
        <-[:USED_DEVICE|PAID_WITH|HAS_PHONE|HAS_EMAIL|USED_IP]-(b:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
  WHERE a.account_id < b.account_id
  RETURN a.account_id AS account_a, b.account_id AS account_b ORDER BY account_a, account_b LIMIT 1
}
CALL (run, ring) {
  OPTIONAL MATCH (ring)<-[:MEMBER_OF {run_id: run.run_id}]-(:Account)-[:SENT]->(t:PromptTemplate)
  WHERE t.fingerprint <> $unshared
  WITH t, count(*) AS members
  RETURN t.fingerprint AS fingerprint, t.accounts AS senders
  ORDER BY members DESC, senders, fingerprint LIMIT 1
}
CALL (run) {
  OPTIONAL MATCH (:Ring)-[t:ATTRIBUTED_TO {run_id: run.run_id}]->(o:Organization)
  RETURN o.name AS organization ORDER BY t.confidence DESC, o.name LIMIT 1
}
CALL (run) {
  // The operation of the most campaigns, so its ties have something to show.
  OPTIONAL MATCH (op:Operation)-[found:FOUND_IN]->(run)
  RETURN op.operation_id AS operation_id ORDER BY found.campaigns DESC, found.score DESC, operation_id LIMIT 1
}
RETURN run.run_id AS run_id, previous.run_id AS previous_run_id, ring.ring_id AS ring_id,
       account_a, account_b, organization, previous.started_at AS previous_started_at, fingerprint, senders,
       operation_id
"""


def sample_parameters(driver: neo4j.Driver, database: str) -> dict[str, Any]:
    """Values for every parameter name the library uses; empty when no run has completed."""
    records, _, _ = driver.execute_query(_SAMPLE, unshared=UNSHARED, database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    if not records:
        return {}
    r = records[0]
    return {
        "ring_id": r["ring_id"],
        "run_id": r["run_id"],
        "account_a": r["account_a"],
        "account_b": r["account_b"],
        "account_id": r["account_a"],
        "organization": r["organization"],
        "fingerprint": r["fingerprint"],
        "operation_id": r["operation_id"],
        "max_senders": r["senders"],
        "max_hops": 4,
        "limit": 50,
        "min_confidence": 0.5,
        "min_rings": 2,
        "since_run_id": r["previous_run_id"],
        "since": None,
        "from_run_id": r["previous_run_id"],
        "to_run_id": r["run_id"],
    }


def run_query(
    driver: neo4j.Driver, database: str, cypher: str, parameters: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Run a library query's text (read-only, values only as `parameters`) and return its columns and rows."""
    records, summary, keys = driver.execute_query(
        cypher, parameters, database_=database, routing_=neo4j.RoutingControl.READ
    )
    del summary
    return list(keys), [dict(record) for record in records]
