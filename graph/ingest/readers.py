"""Reading bundle files (CSV, CSV.GZ, Parquet, JSONL) as rows numbered the way a person counts them.

CSV and JSONL rows carry their line in the file (a CSV header is line 1; a record with line breaks
in a quoted field, the line it starts on); Parquet rows their row number, starting at 1.

No input makes reading fail halfway with an exception. A file that cannot be read at all (a wrong
header, not gzip, not Parquet, UTF-16) raises `BundleError` before its first row. A record that
cannot be read becomes a row holding only `ROW_PROBLEM` (why), which the row parser rejects with
that reason; damage further into a file (a truncated gzip stream, a broken Parquet page) ends the
file with a row holding `FILE_PROBLEM`, after the rows before it. Messages show excerpts of the
data (graph/ingest/excerpt.py): a header that is in fact a data row is not printed in clear.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from graph.errors import BundleError
from graph.ingest.csv_records import MAX_RECORD_CHARS, LongLine, TextLines, csv_records, physical_lines
from graph.ingest.excerpt import excerpt

__all__ = [
    "BUNDLE_FILES",
    "FILE_PROBLEM",
    "ROW_PROBLEM",
    "ROW_TEXT",
    "BundleFile",
    "NumberedRow",
    "find_bundle_files",
    "read_rows",
]

# Load order: ranges first so links can be enriched, accounts before the links that name them.
BUNDLE_FILES: Final[tuple[str, ...]] = ("ip_ranges", "accounts", "links", "events", "known")
REQUIRED_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "ip_ranges": ("cidr",),
    "accounts": ("account_id",),
    "links": ("account_id", "kind", "value"),
    "events": ("account_id", "ts"),
    "known": ("account_id", "organization"),
}
#: A field the reader puts in a row it could not read: why. The row parser rejects the row with it.
ROW_PROBLEM: Final = "__row__"
#: With ROW_PROBLEM: the start of the line that could not be read, for the reject's (masked) excerpt.
ROW_TEXT: Final = "__text__"
#: A field the reader puts in a last row when the rest of the file cannot be read: why.
FILE_PROBLEM: Final = "__file__"
_RESERVED: Final = (ROW_PROBLEM, ROW_TEXT, FILE_PROBLEM)
_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz")
_HEADER_SHOWN: Final = 12  # columns of a wrong header quoted in its error
_SHOWN_TEXT: Final = 200  # what a row note keeps of the line (a reject shows an excerpt of it)
_UTF16_MARKS: Final = ("\udcff\udcfe", "\udcfe\udcff")  # FF FE / FE FF as _open_text escapes them


@dataclass(frozen=True)
class BundleFile:
    name: str  # accounts, links, known, ip_ranges
    path: Path


@dataclass(frozen=True)
class NumberedRow:
    line: int
    fields: dict[str, str]


class _DamagedError(Exception):
    """The stream cannot be read past `line`."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


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
    reserved = [c for c in columns if c in _RESERVED]
    if reserved:
        raise BundleError(f"{path}: line 1: the column name {reserved[0]} is reserved for ringtrace's own notes")
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in columns]
    if missing:
        # Without a header the first line is data: only an excerpt of it, card numbers masked.
        found = ", ".join(excerpt(c, 40) for c in columns[:_HEADER_SHOWN])
        more = f" and {len(columns) - _HEADER_SHOWN} more" if len(columns) > _HEADER_SHOWN else ""
        raise BundleError(
            f"{path}: line 1: header lacks required field(s) {', '.join(missing)} (found: {found or 'nothing'}{more})"
        )


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def read_rows(bundle_file: BundleFile) -> Iterator[NumberedRow]:
    """Rows of one bundle file with their line numbers; BundleError if the file cannot be read at all."""
    path, name = bundle_file.path, bundle_file.name
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix
    if suffix in (".csv", ".csv.gz"):
        yield from _read_csv(path, name, gz=suffix == ".csv.gz")
    elif suffix in (".jsonl", ".jsonl.gz"):
        yield from _read_jsonl(path, gz=suffix == ".jsonl.gz")
    else:
        yield from _read_parquet(path, name)


def _open_text(path: Path, gz: bool) -> AbstractContextManager[TextLines]:
    """UTF-8 text: a leading byte-order mark dropped, undecodable bytes kept as surrogate escapes
    (U+DC80-U+DCFF) for the row guard to name, line endings left to the csv module."""
    try:
        if gz:
            return gzip.open(path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="")
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as error:
        raise BundleError(f"{path}: cannot be opened: {error.strerror or error}") from None


def _why_unreadable(error: Exception) -> str:
    if isinstance(error, gzip.BadGzipFile):
        return "not a gzip file"
    if isinstance(error, EOFError):
        return "the compressed data ends early: the file is truncated"
    if isinstance(error, zlib.error):
        return "the compressed data is damaged"
    return excerpt(str(error), 200)


def _lines(stream: TextLines, path: Path) -> Iterator[tuple[int, str | LongLine]]:
    """The stream's lines; `_DamagedError` when it cannot be read further; BundleError for UTF-16 text."""
    number = 0
    try:
        for number, text in physical_lines(stream):
            if number == 1 and isinstance(text, str) and text.startswith(_UTF16_MARKS):
                raise BundleError(f"{path}: the file is UTF-16 text; ringtrace reads UTF-8: save it as UTF-8")
            yield number, text
    except (OSError, EOFError, zlib.error) as error:
        raise _DamagedError(number + 1, _why_unreadable(error)) from None


def _damage(path: Path, error: _DamagedError, rows_read: int) -> NumberedRow:
    """The last row of a file damaged after `rows_read` rows; BundleError when nothing could be read."""
    if rows_read == 0:
        raise BundleError(f"{path}: cannot be read: {error.reason}")
    return NumberedRow(error.line, {FILE_PROBLEM: f"{error.reason}; the rows from this line on are not read"})


def _read_csv(path: Path, name: str, gz: bool) -> Iterator[NumberedRow]:
    with _open_text(path, gz) as stream:
        records = csv_records(_lines(stream, path))
        try:
            first = next(records, None)
        except _DamagedError as error:
            raise BundleError(f"{path}: cannot be read: {error.reason}") from None
        if first is not None and first.fields is None:
            raise BundleError(f"{path}: line {first.line}: the header is not valid CSV ({first.problem})")
        header = [column.strip() for column in (first.fields or [])] if first is not None else []
        _check_header(path, name, header)
        width = len(header)
        try:
            for record in records:
                if record.fields is None:
                    yield NumberedRow(record.line, {ROW_PROBLEM: record.problem, ROW_TEXT: record.text})
                    continue
                if not record.fields or (len(record.fields) == 1 and not record.fields[0].strip()):
                    continue
                fields = dict(zip(header, record.fields, strict=False))
                if len(record.fields) != width:
                    fields[ROW_PROBLEM] = f"{len(record.fields)} fields where the header has {width}"
                    fields[ROW_TEXT] = ",".join(record.fields)[:_SHOWN_TEXT]
                yield NumberedRow(record.line, fields)
        except _DamagedError as error:
            yield _damage(path, error, rows_read=1)  # the header was read: the damage is a row of the file


def _json_row(text: str) -> dict[str, str]:
    """One JSONL line as fields, or a row holding only the reason it cannot be one (and the line)."""
    try:
        record = json.loads(text)
    except RecursionError:
        problem = "not JSON: nested too deeply"
    except json.JSONDecodeError as error:
        problem = f"not JSON: {error.msg}"
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        problem = f"not JSON: {error}"
    else:
        if not isinstance(record, dict):
            problem = "not a JSON object"
        elif any(key in record for key in _RESERVED):
            problem = f"the keys {', '.join(_RESERVED)} are reserved for ringtrace's own notes"
        else:
            return {str(k): _text(v) for k, v in record.items()}
    return {ROW_PROBLEM: problem, ROW_TEXT: text[:_SHOWN_TEXT]}


def _read_jsonl(path: Path, gz: bool) -> Iterator[NumberedRow]:
    """JSONL has no header: each object is checked for its required fields as a row."""
    with _open_text(path, gz) as stream:
        rows = 0
        try:
            for line_no, text in _lines(stream, path):
                if isinstance(text, LongLine):
                    yield NumberedRow(line_no, {ROW_PROBLEM: f"longer than {MAX_RECORD_CHARS:,} characters",
                                                ROW_TEXT: text.head})
                elif text.strip():
                    rows += 1
                    yield NumberedRow(line_no, _json_row(text))
        except _DamagedError as error:
            yield _damage(path, error, rows)


def _read_parquet(path: Path, name: str) -> Iterator[NumberedRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        columns = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as error:
        raise BundleError(f"{path}: not a readable Parquet file ({excerpt(str(error), 200)})") from None
    _check_header(path, name, columns)
    line = 0
    try:
        for batch in parquet.iter_batches(batch_size=65536):
            values = {column: batch.column(column).to_pylist() for column in batch.schema.names}
            for index in range(batch.num_rows):
                line += 1
                yield NumberedRow(line, {column: _text(v[index]) for column, v in values.items()})
    except (pa.ArrowException, OSError) as error:
        yield _damage(path, _DamagedError(line + 1, f"damaged Parquet data ({excerpt(str(error), 200)})"), line)
