"""The suite refuses a database it did not start and that is not marked as a test database (issue #10, 4).

Each test makes the suite's own database look like someone else's for a moment (data, no marker), runs
pytest in a child process against it, and checks that the child stopped before any fixture wrote, and
that the data is still there. The marker is put back whatever happens.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import neo4j
from graph.settings import Settings
from tests.suite_database import MARKER_LABEL, REFUSED, mark_database

REPO = Path(__file__).resolve().parents[2]
#: A test whose fixture wipes the database first thing: what the refusal must prevent.
_WIPING_TEST = "tests/integration/test_schema.py::test_schema_apply_is_idempotent"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nodes(driver: neo4j.Driver, database: str) -> list[tuple[list[str], dict[str, object]]]:
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.account_id", database_=database
    )
    return [(r["labels"], r["props"]) for r in records]


@pytest.fixture
def someone_elses_database(driver: neo4j.Driver, settings: Settings) -> Iterator[list[str]]:
    """The test database holding only an account, without the marker; restored afterwards."""
    db = settings.neo4j_database
    with driver.session(database=db) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    accounts = ["users-own-account-1", "users-own-account-2"]
    driver.execute_query("UNWIND $ids AS id CREATE (:Account {account_id: id})", ids=accounts, database_=db)
    try:
        yield accounts
    finally:
        driver.execute_query("MATCH (a:Account) WHERE a.account_id IN $ids DETACH DELETE a", ids=accounts,
                             database_=db)
        mark_database(driver, db)


def _child_pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Not the local server of a home the suite owns: only the database's own state can admit it.
    child_env = {**os.environ, "RINGTRACE_NEO4J_BOLT_PORT": str(_free_port()),
                 "RINGTRACE_NEO4J_HOME": str(tmp_path / "not-a-home")}
    child_env.pop("RINGTRACE_TEST_DATABASE", None)
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", _WIPING_TEST],
        cwd=REPO, env=child_env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_a_database_with_unmarked_data_is_refused_and_left_alone(
    driver: neo4j.Driver, settings: Settings, someone_elses_database: list[str], tmp_path: Path
) -> None:
    db = settings.neo4j_database
    before = _nodes(driver, db)
    assert [props["account_id"] for _, props in before] == someone_elses_database

    done = _child_pytest(tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == REFUSED, output
    assert "refus" in output.lower() and MARKER_LABEL in output and settings.neo4j_uri in output
    assert " passed" not in output and " failed" not in output and " error" not in output
    assert _nodes(driver, db) == before  # nothing deleted, and no marker written into it
    assert not (tmp_path / "not-a-home").exists()


def test_declaring_a_test_database_does_not_admit_unmarked_data(
    driver: neo4j.Driver, settings: Settings, someone_elses_database: list[str], tmp_path: Path
) -> None:
    # RINGTRACE_TEST_DATABASE=1 lets a non-loopback address through; it does not make data disposable.
    db = settings.neo4j_database
    before = _nodes(driver, db)
    done = _child_pytest(tmp_path, RINGTRACE_TEST_DATABASE="1")
    assert done.returncode == REFUSED, done.stdout + done.stderr
    assert _nodes(driver, db) == before


def test_an_empty_database_is_marked_and_then_used(driver: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    try:
        with driver.session(database=db) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        done = _child_pytest(tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 passed" in done.stdout
        records, _, _ = driver.execute_query(f"MATCH (m:{MARKER_LABEL}) RETURN count(m) AS n", database_=db)
        assert records[0]["n"] == 1
    finally:
        mark_database(driver, db)
