from __future__ import annotations

from typer.testing import CliRunner

import neo4j
from graph.cli import app
from graph.settings import Settings
from graph.store.schema import apply_schema, schema_statements
from tests.integration.conftest import FIXTURES
from tests.suite_database import MARKER_LABEL


def test_schema_apply_is_idempotent(empty_db: neo4j.Driver, settings: Settings) -> None:
    second = apply_schema(empty_db, settings.neo4j_database)
    assert second.created == ()
    assert len(second.existing) == len(schema_statements())


def test_every_key_the_loader_merges_on_has_a_uniqueness_constraint(
    empty_db: neo4j.Driver, settings: Settings
) -> None:
    records, _, _ = empty_db.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type WHERE type = 'UNIQUENESS' "
        "RETURN labelsOrTypes[0] AS label, properties[0] AS key",
        database_=settings.neo4j_database,
    )
    keys = {(r["label"], r["key"]) for r in records}
    assert {
        ("Account", "account_id"), ("IP", "address"), ("Device", "fingerprint"),
        ("PaymentMethod", "fingerprint"), ("Email", "address"), ("Phone", "number"),
        ("Organization", "name"), ("IPRange", "cidr"), ("Ring", "ring_id"), ("DetectionRun", "run_id"),
        ("ScoringModel", "version"),
        # The one node that says which range table IPs were enriched from (a MERGE key: never two).
        ("IPRangeTable", "name"),
    } <= keys


def test_load_refuses_a_database_without_the_schema(empty_db: neo4j.Driver, settings: Settings) -> None:
    database = settings.neo4j_database
    empty_db.execute_query("DROP CONSTRAINT ip_range_cidr", database_=database)
    try:
        result = CliRunner().invoke(app, ["load", str(FIXTURES / "small"), "--rejects", "/dev/null"])
        assert result.exit_code == 1, result.output
        said = " ".join(result.output.split())  # the console wraps long lines
        assert "ip_range_cidr" in said and "ringtrace schema apply" in said
        nodes, _, _ = empty_db.execute_query(f"MATCH (n) WHERE NOT n:{MARKER_LABEL} RETURN count(n) AS n",
                                             database_=database)
        assert nodes[0]["n"] == 0
    finally:
        apply_schema(empty_db, database)
