"""Shared test configuration: which Neo4j the suite uses, and the `neo4j` marker.

Tests that touch Cypher run against a real Neo4j, and their fixtures delete everything in it. Unless
NEO4J_URI is set, the suite uses a server of its own (port 7688, data in .neo4j-test/), started here
if it is not running, so a developer's demo data on 7687 is never wiped. With NEO4J_URI set (plus
RINGTRACE_NEO4J_BOLT_PORT, _HTTP_PORT and _HOME for a local server), the suite uses that server only
if it can prove the database is a test database (tests/suite_database.py) and stops otherwise, before
any fixture writes. `make test` stops the server afterwards.

Every test whose fixtures reach Neo4j carries the `neo4j` marker, so `pytest -m "not neo4j"` runs the
tests that need no database (and starts none).

`spark` is one SparkSession for every Spark test (tests/spark/, and the job against `ringtrace detect`
in tests/integration/): local[2], few shuffle partitions, no UI, so each job is quick. Those tests need
the ``spark`` extra: without pyspark they are skipped, except under CI=true, where the extra is
installed (`make install`) and a missing pyspark is a failure, not a quiet skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from typing import TYPE_CHECKING

import pytest

import neo4j
from graph.settings import Settings
from graph.store.driver import create_driver
from tests.suite_database import DEFAULT_TEST_HOME, accept_test_database, mark_database

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TEST_BOLT_PORT = "7688"

if "NEO4J_URI" not in os.environ:
    # The suite's own server, whole: a developer's RINGTRACE_NEO4J_* settings describe their own server.
    os.environ["NEO4J_URI"] = f"bolt://127.0.0.1:{TEST_BOLT_PORT}"
    os.environ["RINGTRACE_NEO4J_BOLT_PORT"] = TEST_BOLT_PORT
    os.environ["RINGTRACE_NEO4J_HTTP_PORT"] = "7475"
    os.environ["RINGTRACE_NEO4J_HOME"] = str(DEFAULT_TEST_HOME)

#: The fixture every Neo4j fixture depends on; a test whose fixtures include it needs Neo4j.
NEO4J_FIXTURE = "neo4j_test_settings"


@pytest.fixture(scope="session")
def neo4j_test_settings() -> Iterator[Settings]:
    """Settings of a database the suite may wipe; the session stops here (pytest.exit) if there is none."""
    settings = Settings()
    accept_test_database(settings, os.environ)
    yield settings
    # A test that wiped everything also took the marker; leave the database recognisable for the next run.
    # (A server gone by now is no test failure: the next session then says what it finds.)
    with create_driver(settings) as driver, suppress(neo4j.exceptions.ServiceUnavailable):
        mark_database(driver, settings.neo4j_database)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pyspark is not installed, and CI must run the Spark tests: install '.[spark]'")
        pytest.skip("needs the 'spark' extra (pip install 'ringtrace[spark]')")
    from graph.spark.session import spark_session

    session = spark_session("ringtrace-tests", "local[2]", {
        "spark.sql.shuffle.partitions": "4",
        # In local mode the driver is the executor too. Measured on the usage_log population of
        # test_spark_job.py, nothing left cached between runs: in 2g the second run in one session ran
        # out of heap (as the module's third run did in CI), in 4g three runs in a row pass.
        "spark.driver.memory": "4g",
        "spark.local.dir": str(tmp_path_factory.mktemp("spark-local")),
    })
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("spark-checkpoints")))
    yield session
    session.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if NEO4J_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.neo4j)
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
