from __future__ import annotations

import neo4j
from graph.settings import Settings
from graph.store.schema import apply_schema, schema_statements


def test_schema_apply_is_idempotent(empty_db: neo4j.Driver, settings: Settings) -> None:
    second = apply_schema(empty_db, settings.neo4j_database)
    assert second.created == ()
    assert len(second.existing) == len(schema_statements())


def test_every_node_key_has_a_uniqueness_constraint(empty_db: neo4j.Driver, settings: Settings) -> None:
    records, _, _ = empty_db.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type WHERE type = 'UNIQUENESS' "
        "RETURN labelsOrTypes[0] AS label, properties[0] AS key",
        database_=settings.neo4j_database,
    )
    keys = {(r["label"], r["key"]) for r in records}
    assert {
        ("Account", "account_id"), ("IP", "address"), ("Device", "fingerprint"),
        ("PaymentMethod", "fingerprint"), ("Email", "address"), ("Phone", "number"),
        ("Organization", "name"), ("Ring", "ring_id"), ("DetectionRun", "run_id"),
    } <= keys
