"""The suite's own guard: which Neo4j addresses it refuses before connecting, and which homes it owns.

The refusal of a database that holds someone's data is proven against a real server in
tests/integration/test_suite_database.py; nothing here connects to Neo4j.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.suite_database import (
    HOME_MARKER,
    REFUSED,
    claim_home,
    is_loopback_uri,
    refuse_uri,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("uri", [
    "bolt://127.0.0.1:7687", "bolt://127.0.0.2:7694", "neo4j://localhost:7687", "bolt://[::1]:7687",
    "bolt+s://localhost", "neo4j+ssc://127.0.0.1",
])
def test_loopback_addresses(uri: str) -> None:
    assert is_loopback_uri(uri)
    assert refuse_uri(uri, {}) is None


@pytest.mark.parametrize("uri", [
    "bolt://10.0.0.5:7687", "neo4j+s://prod.example.com:7687", "bolt://192.0.2.10", "bolt://[2001:db8::1]:7687",
    # A name is not resolved: DNS could say anything, and "my-laptop" may well be a shared server.
    "bolt://my-laptop:7687", "bolt://localhost.example.com:7687", "not a uri",
])
def test_other_addresses_are_refused_unless_declared_a_test_database(uri: str) -> None:
    assert not is_loopback_uri(uri)
    reason = refuse_uri(uri, {})
    assert reason is not None and "RINGTRACE_TEST_DATABASE=1" in reason and uri in reason
    assert refuse_uri(uri, {"RINGTRACE_TEST_DATABASE": "1"}) is None
    for not_quite in ("0", "yes", "true", ""):  # only the explicit value counts
        assert refuse_uri(uri, {"RINGTRACE_TEST_DATABASE": not_quite}) is not None


def test_a_new_home_is_claimed_with_a_marker_file(tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    assert claim_home(home, default_test_home=tmp_path / "elsewhere", development_home=tmp_path / "dev")
    assert (home / HOME_MARKER).is_file()
    # Claimed once, it stays the suite's even after the server wrote its database there.
    (home / "data" / "databases" / "neo4j").mkdir(parents=True)
    assert claim_home(home, default_test_home=tmp_path / "elsewhere", development_home=tmp_path / "dev")


def test_a_home_holding_a_database_is_not_claimed(tmp_path: Path) -> None:
    home = tmp_path / "someones-home"
    (home / "data" / "databases" / "neo4j").mkdir(parents=True)
    assert not claim_home(home, default_test_home=tmp_path / "elsewhere", development_home=tmp_path / "dev")
    assert not (home / HOME_MARKER).exists()


def test_the_development_home_is_never_claimed_even_when_empty(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    assert not claim_home(dev, default_test_home=tmp_path / "test-home", development_home=dev)
    assert not (dev / HOME_MARKER).exists()


def test_the_suites_default_test_home_is_its_own(tmp_path: Path) -> None:
    # .neo4j-test is only ever created by the suite or `make test` (TEST_ENV), data or not.
    home = tmp_path / "test-home"
    (home / "data" / "databases" / "neo4j").mkdir(parents=True)
    assert claim_home(home, default_test_home=home, development_home=tmp_path / "dev")
    assert (home / HOME_MARKER).is_file()


def test_pytest_refuses_a_remote_uri_before_connecting(tmp_path: Path) -> None:
    """A child pytest pointed at a non-loopback address stops at once, naming the address, running no test."""
    env = {**os.environ, "NEO4J_URI": "bolt://192.0.2.10:7687", "RINGTRACE_NEO4J_HOME": str(tmp_path / "home")}
    env.pop("RINGTRACE_TEST_DATABASE", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration/test_schema.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == REFUSED, output
    assert "bolt://192.0.2.10:7687" in output and "RINGTRACE_TEST_DATABASE=1" in output
    assert " passed" not in output and " failed" not in output
    assert not (tmp_path / "home").exists()  # nor did it create (or start) a server there
