"""Reading bundle files (CSV, CSV.GZ, Parquet, JSONL) as rows numbered the way a person counts them.

CSV and JSONL rows carry their line in the file (a CSV header is line 1); Parquet rows their row
number, starting at 1.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from graph.errors import BundleError

__all__ = ["BUNDLE_FILES", "BundleFile", "NumberedRow", "find_bundle_files", "read_rows"]

# Load order: ranges first so links can be enriched, accounts before the links that name them.
BUNDLE_FILES: Final[tuple[str, ...]] = ("ip_ranges", "accounts", "links", "known")
REQUIRED_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "ip_ranges": ("cidr",),
    "accounts": ("account_id",),
    "links": ("account_id", "kind", "value"),
    "known": ("account_id", "organization"),
}
_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class BundleFile:
    name: str  # accounts, links, known, ip_ranges
    path: Path


@dataclass(frozen=True)
class NumberedRow:
    line: int
    fields: dict[str, str]


def find_bundle_files(directory: Path) -> list[BundleFile]:
    """The bundle's files in load order. BundleError if the directory or a required file is missing."""
    if not directory.is_dir():
        raise BundleError(f"{directory}: not a directory")
    found: list[BundleFile] = []
    for name in BUNDLE_FILES:
        candidates = [directory / f"{name}{suffix}" for suffix in _SUFFIXES]
        present = [path for path in candidates if path.exists()]
        if len(present) > 1:
            raise BundleError(f"{directory}: more than one file for {name}: {', '.join(p.name for p in present)}")
        if present:
            found.append(BundleFile(name, present[0]))
    if not any(f.name in ("links", "accounts") for f in found):
        raise BundleError(f"{directory}: no accounts or links file (accounts.csv, links.csv, ...)")
    return found


def _check_header(path: Path, name: str, columns: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in columns]
    if missing:
        raise BundleError(
            f"{path}: line 1: header lacks required field(s) {', '.join(missing)} "
            f"(found: {', '.join(columns) or 'nothing'})"
        )


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def read_rows(bundle_file: BundleFile) -> Iterator[NumberedRow]:
    """Rows of one bundle file with their line numbers; BundleError on a wrong header."""
    path, name = bundle_file.path, bundle_file.name
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix
    if suffix in (".csv", ".csv.gz"):
        yield from _read_csv(path, name, gz=suffix == ".csv.gz")
    elif suffix in (".jsonl", ".jsonl.gz"):
        yield from _read_jsonl(path, name, gz=suffix == ".jsonl.gz")
    else:
        yield from _read_parquet(path, name)


def _open_text(path: Path, gz: bool) -> io.TextIOBase:
    if gz:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _read_csv(path: Path, name: str, gz: bool) -> Iterator[NumberedRow]:
    with _open_text(path, gz) as handle:
        reader = csv.reader(handle)
        header = [column.strip() for column in next(reader, [])]
        _check_header(path, name, header)
        width = len(header)
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            fields = dict(zip(header, record, strict=False))
            if len(record) != width:
                fields["__width__"] = f"{len(record)} fields where the header has {width}"
            yield NumberedRow(reader.line_num, fields)


def _read_jsonl(path: Path, name: str, gz: bool) -> Iterator[NumberedRow]:
    with _open_text(path, gz) as handle:
        checked = False
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield NumberedRow(line_no, {"__json__": f"not JSON: {error.msg}"})
                continue
            if not isinstance(record, dict):
                yield NumberedRow(line_no, {"__json__": "not a JSON object"})
                continue
            if not checked:
                _check_header(path, name, list(record))
                checked = True
            yield NumberedRow(line_no, {str(k): _text(v) for k, v in record.items()})


def _read_parquet(path: Path, name: str) -> Iterator[NumberedRow]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    _check_header(path, name, list(parquet.schema_arrow.names))
    line = 0
    for batch in parquet.iter_batches(batch_size=65536):
        columns = {column: batch.column(column).to_pylist() for column in batch.schema.names}
        for index in range(batch.num_rows):
            line += 1
            yield NumberedRow(line, {column: _text(values[index]) for column, values in columns.items()})
