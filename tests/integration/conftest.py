"""A driver to the test Neo4j and an empty database for each test that asks for one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import neo4j
from graph import local_server
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.schema import apply_schema

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def driver(settings: Settings) -> Iterator[neo4j.Driver]:
    if os.environ.get("RINGTRACE_NEO4J_BOLT_PORT") and settings.neo4j_uri.endswith(
        f":{settings.neo4j_bolt_port}"
    ):
        local_server.start(settings, timeout=180)
    with create_driver(settings) as created:
        created.verify_connectivity()
        yield created


@pytest.fixture
def empty_db(driver: neo4j.Driver, settings: Settings) -> neo4j.Driver:
    """The driver, with an empty database that has the schema."""
    with driver.session(database=settings.neo4j_database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    apply_schema(driver, settings.neo4j_database)
    return driver


def counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    """Nodes per label and relationships per type."""
    records, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS label RETURN label AS k, count(*) AS n "
        "UNION ALL MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n",
        database_=database,
    )
    return {r["k"]: r["n"] for r in records}
