"""The bulk first load: accounts and links written as `neo4j-admin database import full` files.

Online `MERGE` on two cores tops out near 20k links/s (../shared/notes/neo4j-load-read-measurements.md);
the offline importer writes the store itself, 109k links/s there with integer import ids. It needs an
empty, stopped database and knows nothing of ringtrace, so this module gives it exactly what
`ringtrace load` would have written for the accounts and links files: the same nodes and properties
and one relationship per account and entity, with the count, interval and the digests of the
observations it counted (graph/ingest/observations.py). A later online load of an overlapping bundle
therefore counts only what is new. Rows are parsed, rejected and normalised by the loader's own
parsers. The IP ranges are imported too, as `write_ip_ranges` stores them, and every IP is enriched
from them on the way in (as `enrich_ips` would, under a range-table version of the import's own), which
online took a minute for 479k IPs. The rest of a bundle (known members, the usage log) is loaded online
after the import, by the loader.

Observations are kept as columns of integers (account and entity surrogates, epochs, count, digest),
not dicts, so 4.65M links take about 0.3 GB, and are deduplicated and aggregated with numpy the way
the online load's `_OBSERVE` does it: one count per distinct digest, the earliest first_seen and the
latest last_seen that any observation gives.
"""

from __future__ import annotations

import shlex
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from graph.errors import BundleError
from graph.ingest.ip_enrichment import IPRange, RangeTable
from graph.ingest.link_records import links_table, parse_link_records
from graph.ingest.loader import FileReport, Progress, count_lines, parsed_batches, parsed_record_blocks
from graph.ingest.normalise import epoch_seconds
from graph.ingest.observations import with_email_digests
from graph.ingest.readers import csv_file, find_bundle_files
from graph.ingest.rows import PAYMENT_EXTRAS
from graph.local_server import IMPORT_FULL
from graph.store.ip_ranges import NO_RANGES, RANGE_TABLE
from graph.vocabulary import ENTITY_KINDS, KIND_ORDER

__all__ = [
    "IMPORTED_FILES",
    "ImportFiles",
    "ImportTables",
    "admin_arguments",
    "count_links",
    "printed_command",
    "read_bundle_tables",
    "write_import_files",
]

#: The bundle files the bulk import writes; the others are loaded online after it.
IMPORTED_FILES: Final = ("ip_ranges", "accounts", "links")
_NULL: Final = np.iinfo(np.int64).min  # an epoch that was not given
_LATEST: Final = np.iinfo(np.int64).max
_KIND_CODE: Final = {kind: code for code, kind in enumerate(KIND_ORDER)}
_FROM_ACCOUNTS: Final = 0  # which file an observation came from
_FROM_LINKS: Final = 1
_ENTITY_COLUMNS: Final = {"payment": PAYMENT_EXTRAS}
_CSV: Final = pacsv.WriteOptions(include_header=True, quoting_style="needed")


@dataclass
class _Account:
    created_at: int | None = None
    email_domain: str | None = None
    props: dict[str, str] = field(default_factory=dict)


class ImportTables:
    """Accounts, entities and observations of a bundle, accumulated file by file in load order."""

    def __init__(self) -> None:
        self.accounts: dict[str, int] = {}
        self.account_states: list[_Account] = []  # by account surrogate
        self.entities: dict[str, dict[str, int]] = {kind: {} for kind in KIND_ORDER}
        self.entity_props: dict[str, dict[int, dict[str, str]]] = {kind: {} for kind in KIND_ORDER}  # by surrogate
        self._kind = array("b")
        self._account = array("q")
        self._entity = array("q")
        self._first = array("q")
        self._last = array("q")
        self._count = array("q")
        self._digest = array("q")
        self._source = array("b")
        self.ranges: dict[str, IPRange] = {}
        self.range_orgs: set[str] = set()

    def _account_id(self, account_id: str) -> int:
        surrogate = self.accounts.get(account_id)
        if surrogate is None:
            surrogate = self.accounts[account_id] = len(self.accounts)
            self.account_states.append(_Account())
        return surrogate

    def _entity_id(self, kind: str, value: str) -> int:
        known = self.entities[kind]
        surrogate = known.get(value)
        if surrogate is None:
            surrogate = known[value] = len(known)
        return surrogate

    def _observe(self, kind: str, account: int, value: str, first: int | None, last: int | None,
                 count: int, digest: int, source: int) -> None:
        self._kind.append(_KIND_CODE[kind])
        self._account.append(account)
        self._entity.append(self._entity_id(kind, value))
        self._first.append(_NULL if first is None else first)
        self._last.append(_NULL if last is None else last)
        self._count.append(count)
        self._digest.append(digest)
        self._source.append(source)

    def add_accounts(self, rows: list[dict[str, Any]]) -> int:
        """Parsed accounts.csv rows; how many created or changed an account (as `write_accounts` counts)."""
        changed = 0
        for row in with_email_digests(rows):
            fresh = row["account_id"] not in self.accounts
            surrogate = self._account_id(row["account_id"])
            state = self.account_states[surrogate]
            before = (state.created_at, state.email_domain, dict(state.props))
            created = epoch_seconds(row["created_at"])
            # As graph/store/ingest.py _ACCOUNTS: properties overwrite, a missing date or domain keeps the old.
            state.props.update(row["props"])
            state.created_at = created if created is not None else state.created_at
            state.email_domain = row["email_domain"] or state.email_domain
            changed += fresh or (state.created_at, state.email_domain, state.props) != before
            if row["email_digest"] is not None:
                self._observe("email", surrogate, row["email"], created, created, 1, row["email_digest"],
                              _FROM_ACCOUNTS)
        return changed

    def observation_columns(self) -> dict[str, npt.NDArray[Any]]:
        """Every observation so far, in arrival order, as numpy views of its columns."""
        return {
            "kind": np.frombuffer(self._kind, dtype=np.int8), "account": np.frombuffer(self._account, dtype=np.int64),
            "entity": np.frombuffer(self._entity, dtype=np.int64), "first": np.frombuffer(self._first, dtype=np.int64),
            "last": np.frombuffer(self._last, dtype=np.int64), "count": np.frombuffer(self._count, dtype=np.int64),
            "digest": np.frombuffer(self._digest, dtype=np.int64),
            "source": np.frombuffer(self._source, dtype=np.int8),
        }

    def add_ranges(self, rows: list[dict[str, Any]]) -> int:
        """Parsed ip_ranges.csv rows; how many created or changed a range (as `write_ip_ranges` counts)."""
        changed = 0
        for row in rows:
            entry = IPRange(row["cidr"], row["asn"], row["organization"], row["network"])
            changed += self.ranges.get(entry.cidr) != entry
            self.ranges[entry.cidr] = entry
            if entry.organization:
                self.range_orgs.add(entry.organization)
        return changed

    def add_links(self, links: pa.Table) -> None:
        """Parsed links.csv rows as graph/ingest/link_records.py LINKS columns, digests included."""
        accounts = links.column("account_id").to_pylist()
        kinds = links.column("kind").to_pylist()
        values = links.column("value").to_pylist()
        rows = len(accounts)
        entities = np.fromiter(map(self._entity_id, kinds, values), np.int64, rows)
        self._account.frombytes(np.fromiter(map(self._account_id, accounts), np.int64, rows).tobytes())
        self._entity.frombytes(entities.tobytes())
        self._kind.frombytes(np.fromiter((_KIND_CODE[k] for k in kinds), np.int8, rows).tobytes())
        for name, target in (("first_seen", self._first), ("last_seen", self._last)):
            target.frombytes(np.asarray(pc.fill_null(links.column(name), _NULL).to_numpy(), np.int64).tobytes())
        self._count.frombytes(np.asarray(links.column("count").to_numpy(), np.int64).tobytes())
        self._digest.frombytes(np.asarray(links.column("digest").to_numpy(), np.int64).tobytes())
        self._source.frombytes(np.full(rows, _FROM_LINKS, np.int8).tobytes())
        extras = {name: links.column(name).to_pylist() for name in PAYMENT_EXTRAS}
        some = np.zeros(rows, dtype=bool)
        for name in PAYMENT_EXTRAS:
            some |= np.asarray(pc.is_valid(links.column(name)).to_numpy(zero_copy_only=False), dtype=bool)
        for at in np.flatnonzero(some).tolist():
            given = {name: column[at] for name, column in extras.items() if column[at] is not None}
            # Later rows overwrite what they give, as graph/store/ingest.py SETs `e += props` in file order.
            self.entity_props[kinds[at]].setdefault(int(entities[at]), {}).update(given)


def _any_break(values: pa.ChunkedArray) -> bool:
    return bool(pc.any(pc.match_substring_regex(values, "[\r\n]")).as_py())


@dataclass(frozen=True)
class ImportFiles:
    """What `write_import_files` wrote, for the importer's command line."""

    directory: Path
    nodes: list[tuple[str, Path]]  # (label, file)
    relationships: list[tuple[str, Path]]  # (type, file)
    multiline: bool
    accounts: int
    entities: int
    links: int  # account-entity relationships
    observations: int
    from_links: int  # distinct observations first seen in links.csv


def _datetimes(epochs: np.ndarray) -> pa.Array:
    """ISO 8601 UTC text (the importer's `datetime` column), null where no epoch was given."""
    stamps = pa.array(epochs, type=pa.int64(), mask=epochs == _NULL).cast(pa.timestamp("s", tz="UTC"))
    return pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%SZ")


class _Writer:
    """Writes the import files into one directory and notes whether any string holds a line break
    (the importer must then be told: any field, an account id as much as a property)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.multiline = False

    def write(self, name: str, columns: dict[str, pa.Array]) -> Path:
        table = pa.table(columns)
        self.multiline = self.multiline or any(
            _any_break(column) for column in table.columns if pa.types.is_string(column.type))
        path = self.directory / name
        pacsv.write_csv(table, path, _CSV)
        return path


def _write_accounts(tables: ImportTables, writer: _Writer) -> Path:
    states = tables.account_states
    names = sorted({name for state in states for name in state.props})
    columns: dict[str, pa.Array] = {
        ":ID(Account)": pa.array(np.arange(len(states), dtype=np.int64)),
        "account_id": pa.array(list(tables.accounts), type=pa.string()),
        "created_at:datetime": _datetimes(np.array(
            [_NULL if s.created_at is None else s.created_at for s in states], dtype=np.int64)),
        "email_domain": pa.array([s.email_domain for s in states], type=pa.string()),
    }
    for name in names:
        columns[name] = pa.array([s.props.get(name) for s in states], type=pa.string())
    return writer.write("accounts.csv", columns)


def _ip_enrichment(tables: ImportTables, version: int) -> dict[str, pa.Array]:
    """What graph/store/ip_ranges.py ENRICH_IPS sets on each IP, from the bundle's ranges of `version`."""
    found = RangeTable(tables.ranges.values()).lookup(list(tables.entities["ip"]))
    return {
        "asn:long": pa.array([r.asn if r else None for r in found], type=pa.int64()),
        "org": pa.array([r.organization if r else None for r in found], type=pa.string()),
        "network": pa.array([r.network if r else "unknown" for r in found], type=pa.string()),
        "range": pa.array([r.cidr if r else None for r in found], type=pa.string()),
        "ranges_version:long": pa.array(np.full(len(found), version, dtype=np.int64)),
    }


def _write_ranges(
    tables: ImportTables, version: int, ip_orgs: list[str | None], writer: _Writer
) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
    """IPRange, Organization and IPRangeTable nodes and OPERATED_BY relationships, as `write_ip_ranges`
    and ENRICH_IPS leave them; `ip_orgs` is each IP's organisation. Every organisation a range row named
    has its node, as the online MERGE leaves one even for a range that changed hands later."""
    ranges = list(tables.ranges.values())
    names = sorted(tables.range_orgs | {o for o in ip_orgs if o})
    org_id = {name: i for i, name in enumerate(names)}
    nodes = [
        ("IPRange", writer.write("iprange.csv", {
            ":ID(IPRange)": pa.array(np.arange(len(ranges), dtype=np.int64)),
            "cidr": pa.array([r.cidr for r in ranges], type=pa.string()),
            "asn:long": pa.array([r.asn for r in ranges], type=pa.int64()),
            "organization": pa.array([r.organization for r in ranges], type=pa.string()),
            "network": pa.array([r.network for r in ranges], type=pa.string()),
        })),
        ("Organization", writer.write("organization.csv", {
            ":ID(Organization)": pa.array(np.arange(len(names), dtype=np.int64)),
            "name": pa.array(names, type=pa.string()),
        })),
        ("IPRangeTable", writer.write("iprangetable.csv", {
            ":ID(IPRangeTable)": pa.array([0], type=pa.int64()),
            "name": pa.array([RANGE_TABLE]),
            "version:long": pa.array([version], type=pa.int64()),
        })),
    ]
    operated = [(i, org_id[r.organization]) for i, r in enumerate(ranges) if r.organization]
    by_ip = [(i, org_id[o]) for i, o in enumerate(ip_orgs) if o]
    relationships = [
        ("OPERATED_BY", writer.write("range_operated_by.csv", {
            ":START_ID(IPRange)": pa.array([i for i, _ in operated], type=pa.int64()),
            ":END_ID(Organization)": pa.array([o for _, o in operated], type=pa.int64()),
        })),
        ("OPERATED_BY", writer.write("ip_operated_by.csv", {
            ":START_ID(IP)": pa.array([i for i, _ in by_ip], type=pa.int64()),
            ":END_ID(Organization)": pa.array([o for _, o in by_ip], type=pa.int64()),
        })),
    ]
    return nodes, relationships


def _write_entities(tables: ImportTables, kind: str, writer: _Writer, enrichment: dict[str, pa.Array]) -> Path:
    spec = ENTITY_KINDS[kind]
    values = tables.entities[kind]
    columns: dict[str, pa.Array] = {
        f":ID({spec.label})": pa.array(np.arange(len(values), dtype=np.int64)),
        spec.key: pa.array(list(values), type=pa.string()),
    }
    if kind == "ip":
        columns.update(enrichment)
    props = tables.entity_props[kind]
    for name in _ENTITY_COLUMNS.get(kind, ()):
        columns[name] = pa.array([props.get(i, {}).get(name) for i in range(len(values))], type=pa.string())
    return writer.write(f"{spec.label.lower()}.csv", columns)


@dataclass(frozen=True)
class _Links:
    kind: np.ndarray
    account: np.ndarray
    entity: np.ndarray
    first: np.ndarray
    last: np.ndarray
    count: np.ndarray
    digests: pa.Array  # "d1;d2;..." in the order the observations arrived
    observations: int
    from_links: int


def _aggregate_links(tables: ImportTables) -> _Links:
    """One row per (kind, account, entity): the distinct observations' summed count, the earliest
    first_seen, the latest last_seen and their digests, as the online load leaves the relationship."""
    column = tables.observation_columns()
    kind, account, entity, digest = column["kind"], column["account"], column["entity"], column["digest"]
    arrival = np.arange(len(digest))
    # The first arrival of each observation (a relationship and a digest); repeats count nothing.
    order = np.lexsort((arrival, digest, entity, account, kind))
    repeat = np.zeros(len(order), dtype=bool)
    same = ((kind[order][1:] == kind[order][:-1]) & (account[order][1:] == account[order][:-1])
            & (entity[order][1:] == entity[order][:-1]) & (digest[order][1:] == digest[order][:-1]))
    repeat[1:] = same
    kept = np.sort(order[~repeat])
    # Grouped by relationship, each group's observations in arrival order.
    grouped = kept[np.lexsort((kept, entity[kept], account[kept], kind[kept]))]
    k, a, e = kind[grouped], account[grouped], entity[grouped]
    starts = np.flatnonzero(np.r_[True, (k[1:] != k[:-1]) | (a[1:] != a[:-1]) | (e[1:] != e[:-1])]) \
        if len(grouped) else np.zeros(0, dtype=np.int64)
    first, last, count = column["first"][grouped], column["last"][grouped], column["count"][grouped]
    if len(grouped):
        earliest = np.minimum.reduceat(np.where(first == _NULL, _LATEST, first), starts)
        earliest[earliest == _LATEST] = _NULL
        latest = np.maximum.reduceat(last, starts)  # _NULL is the least int64: it loses to any date
        total = np.add.reduceat(count, starts)
        # Neo4j's integers are 64-bit: online such a link's batch is refused; here the file is.
        too_many = np.flatnonzero(np.add.reduceat(count.astype(np.float64), starts) >= 2.0**63)
        if too_many.shape[0]:
            account_id = list(tables.accounts)[int(a[starts[too_many[0]]])]
            kind_name = KIND_ORDER[int(k[starts[too_many[0]]])]
            raise BundleError(f"links: the counts of account {account_id!r}'s {kind_name} link add up to 2^63 or "
                              "more, beyond what Neo4j can store")
    else:
        earliest = latest = total = np.zeros(0, dtype=np.int64)
    offsets = np.r_[starts, len(grouped)].astype(np.int32)
    texts = pc.cast(pa.array(digest[grouped]), pa.string())
    digests = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), texts), ";")
    source = column["source"]
    return _Links(k[starts], a[starts], e[starts], earliest, latest, total, digests, len(grouped),
                  int(np.count_nonzero(source[kept] == _FROM_LINKS)))


def _write_links(links: _Links, code: int, writer: _Writer) -> Path:
    spec = ENTITY_KINDS[KIND_ORDER[code]]
    rows = np.flatnonzero(links.kind == code)
    return writer.write(f"{spec.relationship.lower()}.csv", {
        ":START_ID(Account)": pa.array(links.account[rows]),
        f":END_ID({spec.label})": pa.array(links.entity[rows]),
        "first_seen:datetime": _datetimes(links.first[rows]),
        "last_seen:datetime": _datetimes(links.last[rows]),
        "count:long": pa.array(links.count[rows]),
        "observation_digests:long[]": links.digests.take(pa.array(rows)),
    })


def write_import_files(tables: ImportTables, directory: Path) -> ImportFiles:
    """The importer's CSV files for `tables` in `directory` (created), one per label and type."""
    directory.mkdir(parents=True, exist_ok=True)
    writer = _Writer(directory)
    links = _aggregate_links(tables)
    # A range table's version is a microsecond stamp (graph/store/ip_ranges.py); none without ranges.
    version = time.time_ns() // 1000 if tables.ranges else NO_RANGES
    enrichment = _ip_enrichment(tables, version)
    nodes = [("Account", _write_accounts(tables, writer))]
    relationships = []
    for code, kind in enumerate(KIND_ORDER):
        if tables.entities[kind]:
            spec = ENTITY_KINDS[kind]
            nodes.append((spec.label, _write_entities(tables, kind, writer, enrichment)))
            relationships.append((spec.relationship, _write_links(links, code, writer)))
    if tables.ranges:
        range_nodes, range_relationships = _write_ranges(tables, version, enrichment["org"].to_pylist(), writer)
        nodes += range_nodes
        relationships += range_relationships
    return ImportFiles(
        directory, nodes, relationships, writer.multiline, len(tables.accounts),
        sum(len(v) for v in tables.entities.values()), len(links.kind), links.observations, links.from_links,
    )


def admin_arguments(files: ImportFiles, database: str, *, overwrite: bool) -> list[str]:
    """Arguments of `neo4j-admin database import full` for `files`. The database name comes first: each
    `--nodes`/`--relationships` takes a list of files and would swallow a name after it."""
    arguments = [
        database, "--id-type=integer", "--ignore-empty-strings=true",
        f"--report-file={files.directory / 'import.report'}",
    ]
    if files.multiline:
        arguments.append("--multiline-fields=true")
    if overwrite:
        arguments.append("--overwrite-destination=true")
    arguments += [f"--nodes={label}={path}" for label, path in files.nodes]
    arguments += [f"--relationships={kind}={path}" for kind, path in files.relationships]
    return arguments


def printed_command(files: ImportFiles, database: str) -> str:
    """The command a person runs on a production host, its server stopped and its database proven empty:
    a database that was ever started exists, and the importer then needs to be told to replace it."""
    return shlex.join(["neo4j-admin", *IMPORT_FULL, *admin_arguments(files, database, overwrite=True)])


def read_bundle_tables(directory: Path, progress: Progress | None = None) -> tuple[ImportTables, list[FileReport]]:
    """Parse the bundle's ranges, accounts and links into import tables, with a report per file: its
    rejects, its error if it cannot be read at all (the others are still imported) and, for ranges and
    accounts, what `ringtrace load` would count as loaded on an empty database (links are counted by
    `count_links` once they are deduplicated)."""
    tables = ImportTables()
    reports: list[FileReport] = []
    for bundle_file in find_bundle_files(directory):
        if bundle_file.name not in IMPORTED_FILES:
            continue
        report = FileReport(bundle_file.name, str(bundle_file.path))
        started = time.perf_counter()
        total = count_lines(bundle_file.path)
        try:
            if bundle_file.name == "links" and csv_file(bundle_file):
                for links in parsed_record_blocks(bundle_file, report, parse_link_records):
                    tables.add_links(links)
                    if progress is not None:
                        progress(bundle_file.name, report.read, total)
            else:
                for batch in parsed_batches(bundle_file, report):
                    if bundle_file.name == "links":
                        tables.add_links(links_table(batch))
                    else:
                        add = tables.add_accounts if bundle_file.name == "accounts" else tables.add_ranges
                        changed = add(batch)
                        report.loaded += changed
                        report.skipped += len(batch) - changed
                    if progress is not None:
                        progress(bundle_file.name, report.read, total)
        except BundleError as error:  # a file that cannot be read at all; the others still load
            report.error = str(error)
        report.seconds = time.perf_counter() - started
        reports.append(report)
    return tables, reports


def count_links(reports: list[FileReport], files: ImportFiles) -> None:
    """Links rows loaded: those whose observation was new; a repeat, from any file, was skipped."""
    for report in reports:
        if report.name == "links":
            report.loaded = files.from_links
            report.skipped = report.read - report.rejected - files.from_links
