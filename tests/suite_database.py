"""Which Neo4j the test suite may wipe, decided once per session before any fixture writes.

The integration and API fixtures delete everything in the database they run against, so the suite only
uses a database it can prove is its own:

(a) the local server of a home the suite owns: its RINGTRACE_NEO4J_HOME holds ``.ringtrace-test-home``,
    written when the suite created that home (or for the suite's default home ``.neo4j-test/``, which
    only the suite and ``make test`` use); the suite starts that server if it is not running; or
(b) a database holding the node ``(:RingtraceTestDatabase)``, which the suite writes only into an empty
    database (or one admitted by (a)).

Anything else is refused with ``pytest.exit``: a database holding data without the marker, and any
``NEO4J_URI`` that is not a loopback address unless ``RINGTRACE_TEST_DATABASE=1`` declares the remote
server a test server (that lifts the address rule only; the database must still be empty or marked).
A server the suite did not create is never started by it: a stopped development server stays stopped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Final, NoReturn
from urllib.parse import urlsplit

import pytest

import neo4j
from graph import local_server
from graph.errors import LocalServerError
from graph.settings import Settings
from graph.store.driver import create_driver

__all__ = [
    "DEFAULT_TEST_HOME",
    "HOME_MARKER",
    "MARKER_LABEL",
    "REFUSED",
    "accept_test_database",
    "claim_home",
    "is_loopback_uri",
    "mark_database",
    "refuse_uri",
    "wipe_database",
]

MARKER_LABEL: Final = "RingtraceTestDatabase"
HOME_MARKER: Final = ".ringtrace-test-home"
#: The exit status of a refused session: pytest's own "usage error", since the command was pointed wrong.
REFUSED: Final = int(pytest.ExitCode.USAGE_ERROR)
DEFAULT_TEST_HOME: Final = (Path(__file__).resolve().parent.parent / ".neo4j-test")
#: `ringtrace neo4j start` keeps development data here; the suite never takes it over, even empty.
_DEVELOPMENT_HOME: Final = Path(Settings.model_fields["neo4j_home"].get_default(call_default_factory=True)).resolve()
_OPT_IN: Final = "RINGTRACE_TEST_DATABASE"
_ALTERNATIVES: Final = (
    "Unset NEO4J_URI to let the suite start its own server (.neo4j-test/, port 7688), or point NEO4J_URI, "
    "RINGTRACE_NEO4J_BOLT_PORT, RINGTRACE_NEO4J_HTTP_PORT and RINGTRACE_NEO4J_HOME at a server whose "
    "database is empty: the suite marks an empty database as its own the first time it uses it."
)


def _host(uri: str) -> str | None:
    try:
        return urlsplit(uri).hostname
    except ValueError:
        return None


def is_loopback_uri(uri: str) -> bool:
    """Whether the URI names this machine by a loopback address (or ``localhost``); names are not resolved."""
    host = _host(uri)
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_uri(uri: str, env: Mapping[str, str]) -> str | None:
    """Why the suite must not connect to `uri` at all, or None."""
    if is_loopback_uri(uri) or env.get(_OPT_IN) == "1":
        return None
    return (
        f"ringtrace's tests refuse NEO4J_URI={uri}: it is not a loopback address, and the tests delete "
        f"everything in the database they use. Set {_OPT_IN}=1 if that server is a test server "
        f"(its database must still be empty or marked (:{MARKER_LABEL})). {_ALTERNATIVES}"
    )


def claim_home(home: Path, *, default_test_home: Path = DEFAULT_TEST_HOME,
               development_home: Path = _DEVELOPMENT_HOME) -> bool:
    """Whether `home` is the suite's own, writing its marker file when the suite takes a new home.

    A home is taken when it is the suite's default test home or holds no database yet (the suite is
    about to create it); never the development home, and never a home where a server already keeps data.
    """
    home = home.resolve()
    marker = home / HOME_MARKER
    if marker.is_file():
        return True
    if home == development_home.resolve():
        return False
    if home != default_test_home.resolve() and (home / "data" / "databases").exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text("This Neo4j home belongs to ringtrace's test suite, which deletes its data at will.\n")
    return True


_MARK_IF_EMPTY: Final = f"""
CALL () {{ MATCH (n) RETURN count(n) AS nodes }}
WITH nodes WHERE nodes = 0
MERGE (m:{MARKER_LABEL})
ON CREATE SET m.created_by = 'the ringtrace test suite', m.created_at = datetime()
RETURN count(m) AS marked
"""


def mark_database(driver: neo4j.Driver, database: str) -> None:
    """Write the marker into a database the suite has already admitted (after a test deleted it)."""
    driver.execute_query(
        f"MERGE (m:{MARKER_LABEL}) ON CREATE SET m.created_by = 'the ringtrace test suite', m.created_at = datetime()",
        database_=database,
    )


def wipe_database(driver: neo4j.Driver, database: str) -> None:
    """Delete every node but the marker, and put the marker back if a test had deleted it."""
    with driver.session(database=database) as session:
        # Relationships first, in small transactions: SENT carries the usage log's lists, and a node's
        # DETACH DELETE holds all of its relationships in one transaction's memory.
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 2000 ROWS").consume()
        session.run(
            f"MATCH (n) WHERE NOT n:{MARKER_LABEL} CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    mark_database(driver, database)


def _refuse(reason: str) -> NoReturn:
    pytest.exit(reason, returncode=REFUSED)


def _is_marked(driver: neo4j.Driver, database: str) -> bool:
    records, _, _ = driver.execute_query(
        f"MATCH (m:{MARKER_LABEL}) RETURN count(m) > 0 AS marked",
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return bool(records[0]["marked"])


def _mark_if_empty(driver: neo4j.Driver, database: str) -> bool:
    # One statement, so data written between a check and the mark cannot be claimed.
    records, _, _ = driver.execute_query(_MARK_IF_EMPTY, database_=database)
    return bool(records and records[0]["marked"])


def accept_test_database(settings: Settings, env: Mapping[str, str]) -> None:
    """Return when the suite may wipe the database `settings` point at; `pytest.exit` otherwise."""
    uri, database = settings.neo4j_uri, settings.neo4j_database
    reason = refuse_uri(uri, env)
    if reason is not None:
        _refuse(reason)
    parsed = urlsplit(uri)
    local = is_loopback_uri(uri) and (parsed.port or 7687) == settings.neo4j_bolt_port
    owned = local and claim_home(settings.neo4j_home)
    if owned:
        try:
            local_server.start(settings, timeout=180)
        except LocalServerError as error:
            _refuse(f"could not start the suite's Neo4j at {settings.neo4j_home}: {error}")
    with create_driver(settings) as driver:
        try:
            driver.verify_connectivity()
            if owned or _is_marked(driver, database):
                mark_database(driver, database)
                return
            if _mark_if_empty(driver, database):
                return
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as error:
            _refuse(
                f"ringtrace's tests cannot reach Neo4j at {uri} (database {database!r}): {error}. The suite starts "
                f"only a server whose home it created; start this one yourself (`ringtrace neo4j start` with the "
                f"same RINGTRACE_NEO4J_* settings). {_ALTERNATIVES}"
            )
    _refuse(
        f"ringtrace's tests refuse to run against {uri} (database {database!r}): it holds data and no "
        f"(:{MARKER_LABEL}) node, and the tests delete everything in the database they use. If it is a scratch "
        f"database, empty it yourself first. {_ALTERNATIVES}"
    )
