"""`ringtrace import`: the first load of a bundle into an empty database through the offline importer.

Three ways, for where the database is:
- `import_bundle`: the local server (`ringtrace neo4j start`). Its database must be empty: the import
  replaces its store. The server is stopped and its database proven empty on ports no other client
  knows; it stays stopped (nothing can be written to it) while the IP ranges, accounts and links are
  parsed into import files and imported; then it is started, the schema applied, and the rest of
  the bundle loaded online.
- `write_bundle_files`: a production host. The import files and the exact command are written here;
  a person runs the command there (its server stopped, its database empty) and then
- `finish_import`: applies the schema and loads the rest of the bundle online into the database the
  settings name.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import neo4j
from graph import local_server
from graph.errors import LocalServerError, RingtraceError
from graph.ingest.bulk_import import (
    IMPORTED_FILES,
    ImportFiles,
    admin_arguments,
    count_links,
    printed_command,
    read_bundle_tables,
    write_import_files,
)
from graph.ingest.loader import FileReport, LoadReport, Progress, load_bundle, write_rejects
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.schema import apply_schema

__all__ = ["BulkImportError", "ImportReport", "finish_import", "import_bundle", "write_bundle_files"]


class BulkImportError(RingtraceError):
    """The bulk import cannot run against this database."""


@dataclass(frozen=True)
class ImportReport:
    files: ImportFiles
    load: LoadReport  # every file of the bundle: the imported ones and those loaded online after
    seconds: dict[str, float]  # per stage: parse, write files, import, schema, online


def _database_empty(driver: neo4j.Driver, database: str) -> bool:
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS nodes", database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return int(records[0]["nodes"]) == 0


def _require_empty(settings: Settings) -> None:
    with create_driver(settings) as driver:
        if not _database_empty(driver, settings.neo4j_database):
            raise BulkImportError(
                f"database {settings.neo4j_database!r} is not empty: the import replaces its store. Add a "
                "bundle to a database that has data with `ringtrace load`")


def _write_files(
    directory: Path, out: Path, progress: Progress | None
) -> tuple[ImportFiles, list[FileReport], dict[str, float]]:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    tables, reports = read_bundle_tables(directory, progress)
    seconds["parse"] = time.perf_counter() - started
    started = time.perf_counter()
    # Account ids and addresses: readable by this user only.
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = write_import_files(tables, out)
    count_links(reports, files)
    seconds["write files"] = time.perf_counter() - started
    return files, reports, seconds


def _finish(driver: neo4j.Driver, database: str, directory: Path, reports: list[FileReport],
            rejects_path: Path | None, progress: Progress | None, seconds: dict[str, float]) -> LoadReport:
    started = time.perf_counter()
    apply_schema(driver, database)
    seconds["schema"] = time.perf_counter() - started
    started = time.perf_counter()
    load = load_bundle(driver, database, directory, rejects_path=rejects_path, progress=progress,
                       imported=reports)
    seconds["online"] = time.perf_counter() - started
    return load


def _prove_empty(settings: Settings) -> None:
    """Stop the local server and prove, on ports no other client knows, that its database is empty; the
    server stays stopped, so nothing can be written until the import has replaced the store. On refusal
    the server runs again as before."""
    was_running = local_server.status(settings).running
    local_server.stop(settings)
    alone = local_server.private(settings)
    try:
        local_server.start(alone)
        _require_empty(alone)
    except BaseException:
        local_server.stop(alone)
        if was_running:
            local_server.start(settings)
        raise
    local_server.stop(alone)


def _import(settings: Settings, files: ImportFiles) -> None:
    """Replace the stopped local server's store with `files` and start it; a failed import leaves the
    database empty again, as it was, and the server running."""
    database = settings.neo4j_database
    log = settings.neo4j_home / "logs" / "import.log"
    try:
        local_server.import_full(settings, admin_arguments(files, database, overwrite=True), log)
    except LocalServerError as error:
        # A failed import leaves a store Neo4j cannot open; the database was empty, so it is again.
        local_server.discard_database(settings, database)
        local_server.start(settings)
        raise BulkImportError(f"{error} (all of its output: {log}); database {database!r} is empty again, "
                              "as it was before") from error
    local_server.start(settings)


def import_bundle(settings: Settings, directory: Path, *, rejects_path: Path | None = None,
                  progress: Progress | None = None) -> ImportReport:
    """Import the bundle in `directory` into the local server's empty database (see the module)."""
    if not local_server.is_local(settings):
        raise BulkImportError(
            f"NEO4J_URI ({settings.neo4j_uri}) is not the local server (bolt://127.0.0.1:"
            f"{settings.neo4j_bolt_port}): the offline import writes a store on this machine. For another "
            "server write the files with `ringtrace import DIR --out FILES` and run the command it prints there")
    started = time.perf_counter()
    _prove_empty(settings)
    proven = time.perf_counter() - started
    out = settings.neo4j_home / "import" / f"bundle-{time.time_ns()}"
    try:
        try:
            files, reports, seconds = _write_files(directory, out, progress)
        except BaseException:
            local_server.start(settings)  # nothing was imported: the database is as it was
            raise
        started = time.perf_counter()
        _import(settings, files)
        seconds = {"empty proven": proven, **seconds, "import": time.perf_counter() - started}
    finally:
        # The files hold account ids and identifiers: no copy is left behind once the store has them.
        shutil.rmtree(out, ignore_errors=True)
    with create_driver(settings) as driver:
        load = _finish(driver, settings.neo4j_database, directory, reports, rejects_path, progress, seconds)
    return ImportReport(files, load, seconds)


def write_bundle_files(directory: Path, out: Path, database: str, *, rejects_path: Path | None = None,
                       progress: Progress | None = None) -> tuple[ImportFiles, list[FileReport], str]:
    """The import files of the bundle in `directory`, written to `out`, with the rejects of its accounts
    and links (`rejects_path`, default OUT/rejects.csv) and the command that imports them."""
    files, reports, _ = _write_files(directory, out.resolve(), progress)
    write_rejects(reports, rejects_path or out / "rejects.csv")
    return files, reports, printed_command(files, database)


def finish_import(settings: Settings, directory: Path, *, rejects_path: Path | None = None,
                  progress: Progress | None = None) -> LoadReport:
    """After the printed command ran: the schema, then the bundle's other files online, IPs enriched."""
    with create_driver(settings) as driver:
        if _database_empty(driver, settings.neo4j_database):
            raise BulkImportError(f"database {settings.neo4j_database!r} is empty: run the import command first")
        # The imported files were validated when their import files were written; not loaded again.
        skipped = [FileReport(name, str(directory / name)) for name in IMPORTED_FILES]
        load = _finish(driver, settings.neo4j_database, directory, skipped, rejects_path, progress, {})
    load.files[:] = [f for f in load.files if f.name not in IMPORTED_FILES]
    return load
