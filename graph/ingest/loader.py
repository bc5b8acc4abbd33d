"""Loading an input bundle (DESIGN.md §4) into Neo4j, file by file, with a report of every row's fate.

What makes a re-load, a re-run after a crash or the same rows through the API count once lives in
`graph.store.ingest` (observation digests on each link); here rows are parsed, given their digests,
and IPs are enriched from the stored ranges (`graph.store.ip_ranges` records which IPs still need it).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

import neo4j
from graph.errors import BundleError
from graph.ingest.event_rows import parse_event_records, requests_table
from graph.ingest.ip_enrichment import RangeCache, RangeTable
from graph.ingest.observations import distinct_links, with_email_digests
from graph.ingest.readers import (
    BundleFile,
    NumberedRow,
    RecordBlock,
    csv_file,
    find_bundle_files,
    read_csv_blocks,
    read_rows,
)
from graph.ingest.rows import PARSERS, RowError
from graph.ingest.usage import template_index
from graph.ingest.usage_load import EventSpool, bucket_count, write_buckets, write_template_skeletons
from graph.spreadsheet import write_csv
from graph.store.ingest import IPEnrichment, write_accounts, write_known, write_links
from graph.store.ip_ranges import (
    read_ip_ranges,
    read_pending_ips,
    read_ranges_version,
    write_ip_enrichment,
    write_ip_ranges,
)

__all__ = [
    "BATCH_ROWS",
    "FileReport",
    "LoadReport",
    "Reject",
    "count_lines",
    "enrich_ips",
    "load_bundle",
    "load_event_rows",
    "load_rows",
    "parsed_batches",
    "parsed_record_blocks",
    "write_rejects",
]

# Rows per transaction. Any size gives the same counts (identity is per observation, not per batch).
BATCH_ROWS: Final = 10000
_ENRICH_BATCH: Final = 10000
# IPs an API request enriches besides its own: what a crashed load or a range change left behind,
# through the ip_ranges_version index, so a request's cost stays bounded by this and by its rows.
_REQUEST_PENDING_IPS: Final = 1000
# One range table per process, refreshed when the stored ranges' version changes.
_RANGES: Final = RangeCache()
# One batch in flight while the next is parsed. Two concurrent writers measured no faster on two
# cores and deadlock on carrier-NAT IPs' relationship groups at 1M accounts (retried, but wasted).
_WRITERS: Final = 1

_TEMPLATES_IN_USE: Final = threading.Lock()

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Reject:
    file: str
    line: int
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}" + (
            f" ({self.value!r})" if self.value else ""
        )


@dataclass
class FileReport:
    name: str
    path: str
    read: int = 0
    loaded: int = 0  # rows that changed the graph now
    skipped: int = 0  # valid rows whose observation was already applied (before, or earlier in the file)
    rejects: list[Reject] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return len(self.rejects)


@dataclass
class LoadReport:
    files: list[FileReport]
    enriched_ips: int = 0
    rejects_path: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(f.error is None for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)


def count_lines(path: Path) -> int | None:
    if path.suffix != ".csv":
        return None
    with open(path, "rb") as handle:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1, 0)


def parsed_batches(bundle_file: BundleFile, report: FileReport) -> Iterator[list[dict[str, Any]]]:
    parse = PARSERS[bundle_file.name]
    batch: list[dict[str, Any]] = []
    for numbered in read_rows(bundle_file):
        report.read += 1
        try:
            batch.append(parse(numbered.fields))
        except RowError as error:
            report.rejects.append(
                Reject(str(bundle_file.path), numbered.line, error.field, error.value, error.reason)
            )
            continue
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


RecordParser = Callable[
    [list[str], list[int], list[list[str]], list[NumberedRow]], tuple[pa.Table, list[tuple[int, RowError]]]
]


def parsed_record_blocks(bundle_file: BundleFile, report: FileReport, parse: RecordParser) -> Iterator[pa.Table]:
    """A CSV bundle file's records parsed column by column (`parse`: graph/ingest/event_rows.py,
    link_records.py), at least BATCH_ROWS records a call but the last; rejects go to `report`."""
    with read_csv_blocks(bundle_file) as found:
        records = RecordBlock()  # the reader's blocks are small; the parser's work per call is not
        for block in itertools.chain(found.blocks, [None]):
            if block is not None:
                report.read += len(block.rows) + len(block.others)
                records.lines += block.lines
                records.rows += block.rows
                records.others += block.others
                if len(records.rows) + len(records.others) < BATCH_ROWS:
                    continue
            parsed, rejects = parse(found.header, records.lines, records.rows, records.others)
            records = RecordBlock()
            report.rejects.extend(Reject(report.path, line, e.field, e.value, e.reason) for line, e in rejects)
            yield parsed


def _load_file(
    driver: neo4j.Driver, database: str, bundle_file: BundleFile, progress: Progress | None
) -> FileReport:
    report = FileReport(bundle_file.name, str(bundle_file.path))
    started = time.perf_counter()
    total = count_lines(bundle_file.path)
    # Parsing (Python) and writing (Neo4j) overlap, with up to _WRITERS batches in flight. Should
    # concurrent batches deadlock, the driver retries them; observation digests keep a retried batch
    # from counting twice.
    in_flight: deque[tuple[Future[int], int]] = deque()
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        try:
            for batch in parsed_batches(bundle_file, report):
                # Digests are computed here, while the previous batch is written: writing is the bottleneck.
                rows = _prepare(bundle_file.name, batch)
                while len(in_flight) >= _WRITERS:
                    _settle(report, *in_flight.popleft())
                in_flight.append((pool.submit(_apply, driver, database, bundle_file.name, rows), len(batch)))
                if progress is not None:
                    progress(bundle_file.name, report.read, total)
            while in_flight:
                _settle(report, *in_flight.popleft())
        except BundleError as error:
            report.error = str(error)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as error:
            report.error = f"Neo4j refused a batch after {report.loaded} rows were committed: {error}"
        finally:
            # Batches still in flight when reading stopped: count those that committed.
            while in_flight:
                with contextlib.suppress(neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError):
                    _settle(report, *in_flight.popleft())
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(bundle_file.name, report.read, report.read)
    return report


def _load_events(
    driver: neo4j.Driver, database: str, bundle_file: BundleFile, progress: Progress | None
) -> FileReport:
    """events.csv in two passes (graph/ingest/usage_load.py): fingerprint and spool, then write."""
    report = FileReport(bundle_file.name, str(bundle_file.path))

    def batches() -> Iterator[pa.Table]:
        # Parsed requests in batches of BATCH_ROWS whichever the reader and the parser, so the template
        # index sees the same batches either way. A CSV file is validated column by column.
        if not csv_file(bundle_file):
            for batch in parsed_batches(bundle_file, report):
                yield requests_table(batch)
            return
        pending: list[pa.Table] = []
        rows = 0
        for requests in parsed_record_blocks(bundle_file, report, parse_event_records):
            pending.append(requests)
            rows += requests.num_rows
            if rows >= BATCH_ROWS:
                ready = pa.concat_tables(pending)
                full = rows - rows % BATCH_ROWS
                for start in range(0, full, BATCH_ROWS):
                    yield ready.slice(start, BATCH_ROWS)
                pending, rows = [ready.slice(full)], rows - full
        if rows:
            yield pa.concat_tables(pending)

    started = time.perf_counter()
    total = count_lines(bundle_file.path)
    # Without a line count, ~100 bytes per request (a gzipped log is smaller: buckets are then fuller).
    expected = total if total is not None else bundle_file.path.stat().st_size // 100
    spool = EventSpool(template_index(driver, database, cached=False), bucket_count(expected))
    try:
        try:
            for requests in batches():
                spool.add(requests)
                if progress is not None:
                    progress("events: templates", report.read, total)
        except BundleError as error:
            report.error = str(error)
        if progress is not None:
            progress("events: templates", report.read, report.read)
        done = 0

        def written(applied: int, rows: int) -> None:
            nonlocal done
            report.loaded += applied
            report.skipped += rows - applied
            done += rows
            if progress is not None:
                progress("events: write", done, spool.spooled)

        write_buckets(driver, database, spool, written)
        write_template_skeletons(driver, database, spool.index, spool.senders)
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as error:
        report.error = f"Neo4j refused a batch after {report.loaded} rows were committed: {error}"
    finally:
        spool.close()
    report.seconds = time.perf_counter() - started
    return report


def _settle(report: FileReport, future: Future[int], rows: int) -> None:
    applied = future.result()
    report.loaded += applied
    report.skipped += rows - applied


def _prepare(file_kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parsed rows with their observations' digests; each link observation once."""
    if file_kind == "links":
        return distinct_links(rows)
    if file_kind == "accounts":
        return with_email_digests(rows)
    return rows


def _apply(driver: neo4j.Driver, database: str, file_kind: str, rows: list[dict[str, Any]]) -> int:
    """Write one prepared batch of `file_kind`; the number of rows that changed the graph."""
    if file_kind == "links":
        return write_links(driver, database, rows)
    if file_kind == "accounts":
        return write_accounts(driver, database, rows)
    if file_kind == "known":
        return write_known(driver, database, rows)
    if file_kind == "ip_ranges":
        return write_ip_ranges(driver, database, rows)
    raise ValueError(f"no writer for bundle file {file_kind!r}")


def _range_table(driver: neo4j.Driver, database: str) -> tuple[RangeTable, int]:
    """The stored ranges' version and their table, read again only when the version changed."""
    version = read_ranges_version(driver, database)
    return _RANGES.table((database, version), lambda: read_ip_ranges(driver, database)), version


def _enrichment(table: RangeTable, addresses: list[str], version: int) -> IPEnrichment:
    rows = []
    for address, found in zip(addresses, table.lookup(addresses), strict=True):
        rows.append({
            "address": address,
            "cidr": found.cidr if found else None,
            "asn": found.asn if found else None,
            "organization": found.organization if found else None,
            "network": found.network if found else "unknown",
        })
    return rows, version


def enrich_ips(driver: neo4j.Driver, database: str, *, limit: int | None = None) -> int:
    """Enrich every IP not enriched from the current ranges yet (new ones, and all after the ranges
    changed), or at most `limit` of them; the number enriched. A pass cut short leaves the rest
    pending for the next one."""
    table, version = _range_table(driver, database)
    addresses = read_pending_ips(driver, database, version, limit=limit)
    for start in range(0, len(addresses), _ENRICH_BATCH):
        rows, _ = _enrichment(table, addresses[start : start + _ENRICH_BATCH], version)
        write_ip_enrichment(driver, database, rows, version)
    return len(addresses)


def write_rejects(reports: list[FileReport], path: Path) -> Path | None:
    """rejects.csv: one row per rejected row. Its values are excerpts (card numbers masked), and every
    cell that a spreadsheet would evaluate as a formula is neutralised (graph/spreadsheet.py)."""
    rejects = [r for report in reports for r in report.rejects]
    if not rejects:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, ("file", "line", "field", "value", "reason"),
              ((r.file, r.line, r.field, r.value, r.reason) for r in rejects))
    return path


def load_bundle(
    driver: neo4j.Driver,
    database: str,
    directory: Path,
    *,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    imported: Sequence[FileReport] = (),
) -> LoadReport:
    """Load every file of the bundle in `directory`; rows that fail validation go to `rejects_path`.

    `imported`: the reports of files the bulk import already wrote (graph/ingest/bulk_import.py); those
    files are not loaded again, and their rejects join the others in `rejects_path`.
    """
    started = time.perf_counter()
    reports: list[FileReport] = list(imported)
    done = {report.name for report in imported}
    for bundle_file in find_bundle_files(directory):
        if bundle_file.name in done:
            continue
        load = _load_events if bundle_file.name == "events" else _load_file
        report = load(driver, database, bundle_file, progress)
        reports.append(report)
        if report.error and "Neo4j" in report.error:
            break
    result = LoadReport(reports)
    if all(r.error is None or "Neo4j" not in r.error for r in reports):
        # Also what an earlier load left pending: its IPs, or every IP if it changed the ranges.
        result.enriched_ips = enrich_ips(driver, database)
    result.rejects_path = write_rejects(reports, rejects_path or directory / "rejects.csv")
    result.seconds = time.perf_counter() - started
    return result


def load_rows(driver: neo4j.Driver, database: str, file_kind: str, rows: list[dict[str, Any]]) -> int:
    """Apply already validated rows (the API's ingest path); the number of observations new to the graph.

    The rows' IPs are enriched in the same transaction, whether or not their observations were seen
    before: a retry after any failure leaves them enriched. Then up to _REQUEST_PENDING_IPS other IPs
    still pending are enriched, so what a crashed load left behind does not wait for the next load.
    """
    if file_kind != "links":
        raise ValueError(f"the API ingests links, not {file_kind!r}")
    links = distinct_links(rows)
    addresses = sorted({row["value"] for row in links if row["kind"] == "ip"})
    enrichment = None
    if addresses:
        table, version = _range_table(driver, database)
        enrichment = _enrichment(table, addresses, version)
    new = write_links(driver, database, links, enrichment)
    enrich_ips(driver, database, limit=_REQUEST_PENDING_IPS)
    return new


def load_event_rows(driver: neo4j.Driver, database: str, rows: list[dict[str, Any]]) -> int:
    """Apply already validated requests (the API's ingest path) as one load; the number new to the graph.

    A template is kept only if two accounts sent it in this batch or it is stored already. The batch's
    IPs are enriched like `load_rows` enriches them, then up to _REQUEST_PENDING_IPS pending others.
    """
    with _TEMPLATES_IN_USE:  # one template index per process, shared by the API's worker threads
        index = template_index(driver, database)
        spool = EventSpool(index, 1)
        try:
            spool.add(requests_table(rows))
            added = write_buckets(driver, database, spool)
            write_template_skeletons(driver, database, index, spool.senders)
        finally:
            spool.close()
    addresses = sorted({row["ip"] for row in rows if row["ip"] is not None})
    if addresses:
        table, version = _range_table(driver, database)
        write_ip_enrichment(driver, database, _enrichment(table, addresses, version)[0], version)
    enrich_ips(driver, database, limit=_REQUEST_PENDING_IPS)
    return added
