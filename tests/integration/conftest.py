"""A driver to the test Neo4j and an empty database for each test that asks for one.

Both rest on the root conftest's `neo4j_test_settings`, which refuses a database the suite may not
wipe before anything here runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import neo4j
from graph.ingest.loader import load_bundle
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.schema import apply_schema
from tests.suite_database import MARKER_LABEL, wipe_database

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def settings(neo4j_test_settings: Settings) -> Settings:
    return neo4j_test_settings


@pytest.fixture(scope="session")
def driver(settings: Settings) -> Iterator[neo4j.Driver]:
    with create_driver(settings) as created:
        created.verify_connectivity()
        yield created


@pytest.fixture
def empty_db(driver: neo4j.Driver, settings: Settings) -> neo4j.Driver:
    """The driver, with an empty database (but for the suite's marker) that has the schema."""
    wipe_database(driver, settings.neo4j_database)
    apply_schema(driver, settings.neo4j_database)
    return driver


@pytest.fixture
def loaded(empty_db: neo4j.Driver, settings: Settings, population: Path, tmp_path: Path) -> neo4j.Driver:
    """The empty database with the module's `population` fixture loaded into it."""
    report = load_bundle(empty_db, settings.neo4j_database, population, rejects_path=tmp_path / "r.csv")
    assert report.ok
    return empty_db


def counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    """Nodes per label and relationships per type, leaving out the suite's marker node."""
    records, _, _ = driver.execute_query(
        f"MATCH (n) WHERE NOT n:{MARKER_LABEL} UNWIND labels(n) AS label RETURN label AS k, count(*) AS n "
        "UNION ALL MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n",
        database_=database,
    )
    return {r["k"]: r["n"] for r in records}
