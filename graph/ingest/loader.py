"""Loading an input bundle (DESIGN.md §4) into Neo4j, file by file, with a report of every row's fate."""

from __future__ import annotations

import contextlib
import csv
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import neo4j
from graph.errors import BundleError
from graph.ingest.ip_enrichment import RangeTable
from graph.ingest.readers import BundleFile, find_bundle_files, read_rows
from graph.ingest.rows import PARSERS, RowError
from graph.store.ingest import read_ip_addresses, read_ip_ranges, write_batch

__all__ = ["BATCH_ROWS", "FileReport", "LoadReport", "Reject", "enrich_ips", "load_bundle", "load_rows"]

# Part of each batch's identity in the ledger: changing it would make a re-load count twice.
BATCH_ROWS: Final = 10000
_ENRICH_BATCH: Final = 10000
# One batch in flight while the next is parsed. Two concurrent writers measured no faster on two
# cores and deadlock on carrier-NAT IPs' relationship groups at 1M accounts (retried, but wasted).
_WRITERS: Final = 1

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
    loaded: int = 0
    skipped: int = 0
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


def _count_lines(path: Path) -> int | None:
    if path.suffix != ".csv":
        return None
    with open(path, "rb") as handle:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1, 0)


def _parsed_batches(bundle_file: BundleFile, report: FileReport) -> Iterator[list[dict[str, Any]]]:
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


def _load_file(
    driver: neo4j.Driver, database: str, bundle_file: BundleFile, progress: Progress | None
) -> FileReport:
    report = FileReport(bundle_file.name, str(bundle_file.path))
    started = time.perf_counter()
    total = _count_lines(bundle_file.path)
    # Parsing (Python) and writing (Neo4j) overlap, with up to _WRITERS batches in flight. Should
    # concurrent batches deadlock, the driver retries them, and the ledger keeps a retried batch from
    # counting twice.
    in_flight: deque[tuple[Future[bool], int]] = deque()
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        try:
            for batch in _parsed_batches(bundle_file, report):
                while len(in_flight) >= _WRITERS:
                    _settle(report, *in_flight.popleft())
                in_flight.append((pool.submit(write_batch, driver, database, bundle_file.name, batch), len(batch)))
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


def _settle(report: FileReport, future: Future[bool], rows: int) -> None:
    if future.result():
        report.loaded += rows
    else:
        report.skipped += rows


def enrich_ips(driver: neo4j.Driver, database: str, *, everything: bool) -> int:
    """Set asn/org/network on IPs from the stored ranges (all IPs, or those not yet looked up)."""
    table = RangeTable(read_ip_ranges(driver, database))
    addresses = read_ip_addresses(driver, database, unenriched_only=not everything)
    for start in range(0, len(addresses), _ENRICH_BATCH):
        chunk = addresses[start : start + _ENRICH_BATCH]
        rows = []
        for address, found in zip(chunk, table.lookup(chunk), strict=True):
            rows.append({
                "address": address,
                "cidr": found.cidr if found else None,
                "asn": found.asn if found else None,
                "organization": found.organization if found else None,
                "network": found.network if found else "unknown",
            })
        write_batch(driver, database, "ip_enrichment", rows, ledger=False)
    return len(addresses)


def _write_rejects(reports: list[FileReport], path: Path) -> Path | None:
    rejects = [r for report in reports for r in report.rejects]
    if not rejects:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "field", "value", "reason"])
        for reject in rejects:
            writer.writerow([reject.file, reject.line, reject.field, reject.value, reject.reason])
    return path


def load_bundle(
    driver: neo4j.Driver,
    database: str,
    directory: Path,
    *,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load every file of the bundle in `directory`; rows that fail validation go to `rejects_path`."""
    started = time.perf_counter()
    reports: list[FileReport] = []
    for bundle_file in find_bundle_files(directory):
        report = _load_file(driver, database, bundle_file, progress)
        reports.append(report)
        if report.error and "Neo4j" in report.error:
            break
    result = LoadReport(reports)
    if all(r.error is None or "Neo4j" not in r.error for r in reports):
        ranges_changed = any(r.name == "ip_ranges" and r.loaded for r in reports)
        result.enriched_ips = enrich_ips(driver, database, everything=ranges_changed)
    result.rejects_path = _write_rejects(reports, rejects_path or directory / "rejects.csv")
    result.seconds = time.perf_counter() - started
    return result


def load_rows(driver: neo4j.Driver, database: str, file_kind: str, rows: list[dict[str, Any]]) -> bool:
    """Apply already validated rows (the API's ingest path); True if applied, False if seen before."""
    applied = write_batch(driver, database, file_kind, rows)
    if applied and file_kind == "links" and any(row["kind"] == "ip" for row in rows):
        enrich_ips(driver, database, everything=False)
    return applied
