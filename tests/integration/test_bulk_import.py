"""`ringtrace import` through the real offline importer: a bulk first load, then online loads, store
and count exactly what online loads alone would.

The import replaces a store, so it runs on a server of this test's own (its own home and ports,
started and stopped here), never on the suite's; the online side runs on the suite's database.
"""

from __future__ import annotations

import csv
import shlex
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import neo4j
from graph import local_server
from graph.generator import generate_population
from graph.ingest import first_load
from graph.ingest.bulk_import import admin_arguments
from graph.ingest.first_load import BulkImportError, finish_import, import_bundle, write_bundle_files
from graph.ingest.loader import LoadReport, load_bundle
from graph.settings import Settings
from graph.store.driver import create_driver
from tests.integration.graph_state import snapshot

_LEDGER = """
MATCH (a:Account)-[r]->(e)
WHERE type(r) IN ['USED_IP', 'USED_DEVICE', 'PAID_WITH', 'HAS_EMAIL', 'HAS_PHONE']
RETURN type(r) AS type, a.account_id AS account, coalesce(e.address, e.fingerprint, e.number) AS value,
       r.observation_digests AS digests
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Settings]:
    port = _free_port()
    own = Settings(NEO4J_URI=f"bolt://127.0.0.1:{port}", RINGTRACE_NEO4J_BOLT_PORT=port,
                   RINGTRACE_NEO4J_HTTP_PORT=_free_port(), RINGTRACE_NEO4J_HOME=tmp_path_factory.mktemp("own"),
                   NEO4J_PASSWORD=settings.neo4j_password.get_secret_value())
    try:
        yield own
    finally:
        local_server.stop(own)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated population, and an overlapping bundle: some of its links again, some links observed
    anew, new accounts and links, accounts with changed details."""
    first = tmp_path_factory.mktemp("first")
    generate_population(first, 400, 3, events_per_account=5)
    second = tmp_path_factory.mktemp("second")
    with (first / "links.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or ())
        links = list(reader)
    with (first / "accounts.csv").open(newline="") as handle:
        emails = [row for row in csv.DictReader(handle) if row["email"]][::4]
    # Within the first bundle too, observations arrive twice: a row repeated, an account's email again.
    with (first / "links.csv").open("a", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writerows(links[::11])
        writer.writerows({"account_id": a["account_id"], "kind": "email", "value": a["email"].upper(),
                          "first_seen": a["created_at"], "last_seen": a["created_at"], "count": "1"}
                         for a in emails)
    again = links[::3]
    anew = [{**row, "count": str(int(row["count"]) + 1)} for row in links[1::7]]
    fresh = [{**row, "account_id": f"new_{i}"} for i, row in enumerate(links[2::50])]
    with (second / "links.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows([*anew, *again, *fresh])
    with (first / "accounts.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        accounts = [{**row, "country": "NZ"} if i % 5 == 0 else row for i, row in enumerate(reader) if i % 2 == 0]
        with (second / "accounts.csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, list(reader.fieldnames or ()))
            writer.writeheader()
            writer.writerows(accounts)
    return first, second


def _figures(report: LoadReport) -> dict[str, tuple[int, int, int, int]]:
    return {f.name: (f.read, f.loaded, f.skipped, f.rejected) for f in report.files}


def _ledger(driver: neo4j.Driver, database: str) -> dict[tuple[str, str, str], list[int]]:
    records, _, _ = driver.execute_query(_LEDGER, database_=database)
    return {(r["type"], r["account"], r["value"]): sorted(r["digests"]) for r in records}


def _state(settings: Settings) -> tuple[dict, dict]:
    with create_driver(settings) as driver:
        return snapshot(driver, settings.neo4j_database), _ledger(driver, settings.neo4j_database)


def _clear(settings: Settings) -> None:
    """Empty the own server's database if an earlier test left data in it."""
    if local_server.status(settings).running:
        with create_driver(settings) as driver:
            driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)


def _online(driver: neo4j.Driver, settings: Settings, bundle: Path) -> LoadReport:
    return load_bundle(driver, settings.neo4j_database, bundle, rejects_path=bundle.parent / "online-rejects.csv")


def test_a_bulk_import_then_an_online_load_count_like_two_online_loads(
    own_server: Settings, bundles: tuple[Path, Path], empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    first, second = bundles
    online_first = _online(empty_db, settings, first)
    online_second = _online(empty_db, settings, second)
    expected = _state(settings)

    _clear(own_server)
    imported = import_bundle(own_server, first, rejects_path=tmp_path / "rejects.csv")
    assert _figures(imported.load) == _figures(online_first)
    links = next(f for f in online_first.files if f.name == "links")
    assert links.skipped > 100  # the repeats were there to be counted once
    assert imported.files.links > 1000 and imported.files.accounts == 400
    with create_driver(own_server) as driver:
        assert _figures(_online(driver, own_server, second)) == _figures(online_second)
    assert _state(own_server) == expected

    # The import replaces a store: a database with data is refused, and keeps its data.
    with pytest.raises(BulkImportError, match="not empty"):
        import_bundle(own_server, first)
    assert _state(own_server) == expected


def test_files_for_another_host_then_finish_store_what_an_online_load_does(
    own_server: Settings, bundles: tuple[Path, Path], empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    first, _ = bundles
    online = _online(empty_db, settings, first)
    expected = _state(settings)

    _, reports, command = write_bundle_files(first, tmp_path / "files", own_server.neo4j_database)
    assert [(r.name, r.loaded) for r in reports] == [
        (f.name, f.loaded) for f in online.files if f.name in ("ip_ranges", "accounts", "links")]
    # What a person runs on the database host: the printed command, its server stopped.
    words = shlex.split(command)
    assert words[:4] == ["neo4j-admin", "database", "import", "full"]
    local_server.stop(own_server)
    local_server.import_full(own_server, words[4:], tmp_path / "import.log")
    local_server.start(own_server)
    finished = finish_import(own_server, first, rejects_path=tmp_path / "rejects.csv")
    assert [f.name for f in finished.files] == ["events", "known"]
    assert _state(own_server) == expected


def test_nothing_can_be_written_while_the_import_runs(own_server: Settings, bundles: tuple[Path, Path]) -> None:
    _clear(own_server)
    refused: list[type[Exception]] = []

    def another_client(name: str, done: int, total: int | None) -> None:
        if refused:
            return
        auth = (own_server.neo4j_user, own_server.neo4j_password.get_secret_value())
        with neo4j.GraphDatabase.driver(own_server.neo4j_uri, auth=auth, connection_timeout=2) as driver:
            try:
                with driver.session(database=own_server.neo4j_database) as session:
                    session.run("CREATE (:Account {account_id: 'written-meanwhile'})").consume()
            except (neo4j.exceptions.ServiceUnavailable, OSError) as error:
                refused.append(type(error))

    imported = import_bundle(own_server, bundles[0], progress=another_client)
    assert refused == [neo4j.exceptions.ServiceUnavailable]  # the server was down: the write never happened
    with create_driver(own_server) as driver:
        records, _, _ = driver.execute_query("MATCH (a:Account {account_id: 'written-meanwhile'}) RETURN count(a) AS n",
                                             database_=own_server.neo4j_database)
    assert records[0]["n"] == 0 and imported.files.accounts == 400


def test_a_failed_import_leaves_the_database_empty_and_the_server_running(
    own_server: Settings, bundles: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear(own_server)

    def broken(*args: object, **kwargs: bool) -> list[str]:
        return [*admin_arguments(*args, **kwargs), "--nodes=Account=/nonexistent/accounts.csv"]  # type: ignore[arg-type]

    monkeypatch.setattr(first_load, "admin_arguments", broken)
    with pytest.raises(BulkImportError, match="is empty again"):
        import_bundle(own_server, bundles[0])
    with create_driver(own_server) as driver:
        records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=own_server.neo4j_database)
    assert records[0]["n"] == 0
    monkeypatch.undo()
    assert import_bundle(own_server, bundles[0]).files.accounts == 400  # and it can be imported again


def test_an_import_into_a_server_that_is_not_the_local_one_is_refused(bundles: tuple[Path, Path]) -> None:
    remote = Settings(NEO4J_URI="neo4j+s://graph.example.com:7687", RINGTRACE_NEO4J_BOLT_PORT=7687)
    with pytest.raises(BulkImportError, match="not the local server"):
        import_bundle(remote, bundles[0])
