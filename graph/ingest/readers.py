"""Reading bundle files (CSV, CSV.GZ, Parquet, JSONL) as rows numbered the way a person counts them.

CSV and JSONL rows carry their line in the file (a CSV header is line 1; a record with line breaks
in a quoted field, the line it starts on); Parquet rows their row number, starting at 1.

CSV is read a block of text at a time (`read_csv_blocks`): the block's lines are split by
`io.StringIO` exactly as the file's own `readline` splits them and parsed by one `csv.reader` with
the dialect of graph/ingest/csv_records.py, each record numbered by the reader's `line_num`; Python
touches each record once, not each line several times. Whatever that path cannot vouch for (a line
longer than `MAX_RECORD_CHARS`, a record spanning lines with a width other than the header's or more
characters than that, a record the csv module refuses, one that never closes) hands the rest of the
file, from the start of that record, to `csv_records`, which reports it exactly as it always did:
the two agree on every record before, and that one starts with nothing pending.

No input makes reading fail halfway with an exception. A file that cannot be read at all (a wrong
header, not gzip, not Parquet, UTF-16) raises `BundleError` before its first row. A record that
cannot be read becomes a row holding only `ROW_PROBLEM` (why), which the row parser rejects with
that reason; damage further into a file (a truncated gzip stream, a broken Parquet page) ends the
file with a row holding `FILE_PROBLEM`, after the rows before it. Messages show excerpts of the
data (graph/ingest/excerpt.py): a header that is in fact a data row is not printed in clear.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from graph.errors import BundleError
from graph.ingest.csv_records import MAX_RECORD_CHARS, LongLine, TextLines, csv_records, physical_lines
from graph.ingest.excerpt import excerpt

__all__ = [
    "BUNDLE_FILES",
    "FILE_PROBLEM",
    "ROW_PROBLEM",
    "ROW_TEXT",
    "BundleFile",
    "CsvBlocks",
    "NumberedRow",
    "RecordBlock",
    "csv_file",
    "find_bundle_files",
    "read_csv_blocks",
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
# Characters read at a time: enough that splitting and parsing run in C.
_BLOCK_CHARS: Final = 1 << 16
_GZIP_BLOCK_CHARS: Final = 1 << 13
_BLOCK_RECORDS: Final = 4096  # records per block once csv_records reads the rest of a file
_OPEN_AT_END: Final = "unexpected end of data"  # the csv module's error for input that ends in a quote


@dataclass(frozen=True)
class BundleFile:
    name: str  # accounts, links, known, ip_ranges
    path: Path


@dataclass(frozen=True)
class NumberedRow:
    line: int
    fields: dict[str, str]


@dataclass
class RecordBlock:
    """Consecutive records of a CSV file: those of the header's width as their fields (`rows`, each
    starting on the line in `lines`), every other one but blank lines as the row `read_rows` gives
    for it (`others`: unreadable, or of another width), which the row parser rejects."""

    lines: list[int] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    others: list[NumberedRow] = field(default_factory=list)


@dataclass(frozen=True)
class CsvBlocks:
    """A CSV file's header (its columns, stripped) and its records after it, block by block."""

    header: list[str]
    blocks: Iterator[RecordBlock]


class _TextStream(TextLines, Protocol):
    def read(self, size: int = -1, /) -> str: ...


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


def _suffix(path: Path) -> str:
    return "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix


def csv_file(bundle_file: BundleFile) -> bool:
    """Whether `read_csv_blocks` reads the file (CSV or CSV.GZ)."""
    return _suffix(bundle_file.path) in (".csv", ".csv.gz")


def read_rows(bundle_file: BundleFile) -> Iterator[NumberedRow]:
    """Rows of one bundle file with their line numbers; BundleError if the file cannot be read at all."""
    path, name = bundle_file.path, bundle_file.name
    suffix = _suffix(path)
    if csv_file(bundle_file):
        with read_csv_blocks(bundle_file) as found:
            for block in found.blocks:
                yield from _numbered(found.header, block)
    elif suffix in (".jsonl", ".jsonl.gz"):
        yield from _read_jsonl(path, gz=suffix == ".jsonl.gz")
    else:
        yield from _read_parquet(path, name)


def _numbered(header: list[str], block: RecordBlock) -> Iterator[NumberedRow]:
    """A block's rows in the file's order."""
    others = iter(block.others)
    other = next(others, None)
    for line, row in zip(block.lines, block.rows, strict=True):
        while other is not None and other.line < line:
            yield other
            other = next(others, None)
        yield NumberedRow(line, dict(zip(header, row, strict=True)))
    if other is not None:
        yield other
        yield from others


def _open_text(path: Path, gz: bool) -> AbstractContextManager[_TextStream]:
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


def _lines(stream: TextLines, path: Path, start: int = 1) -> Iterator[tuple[int, str | LongLine]]:
    """The stream's lines, the first numbered `start`; `_DamagedError` when it cannot be read further;
    BundleError for UTF-16 text."""
    number = start - 1
    try:
        for number, text in physical_lines(stream, start):
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


@contextmanager
def read_csv_blocks(bundle_file: BundleFile) -> Iterator[CsvBlocks]:
    """The header and record blocks of a CSV or CSV.GZ bundle file, while the file is open; BundleError
    if it cannot be read at all."""
    path = bundle_file.path
    with _open_text(path, gz=_suffix(path) == ".csv.gz") as stream:
        taken = 0  # lines the header took

        def counted() -> Iterator[tuple[int, str | LongLine]]:
            nonlocal taken
            for number, text in _lines(stream, path):
                taken = number
                yield number, text

        try:
            first = next(csv_records(counted()), None)
        except _DamagedError as error:
            raise BundleError(f"{path}: cannot be read: {error.reason}") from None
        if first is not None and first.fields is None:
            raise BundleError(f"{path}: line {first.line}: the header is not valid CSV ({first.problem})")
        header = [column.strip() for column in (first.fields or [])] if first is not None else []
        _check_header(path, bundle_file.name, header)
        yield CsvBlocks(header, _blocks(stream, path, header, taken + 1, gz=_suffix(path) == ".csv.gz"))


def _blocks(stream: _TextStream, path: Path, header: list[str], start: int, gz: bool) -> Iterator[RecordBlock]:
    """The records from line `start` on; the last block ends with the damage if the stream has some."""
    try:
        yield from _fast_blocks(stream, path, header, start, gz)
    except _DamagedError as error:
        yield RecordBlock(others=[_damage(path, error, rows_read=1)])  # the header was read: a row of the file


def _fast_blocks(stream: _TextStream, path: Path, header: list[str], start: int, gz: bool) -> Iterator[RecordBlock]:
    carry = ""  # text from line `start` on not parsed yet (a record waiting for its next lines)
    while True:
        chunk, damage = _read(stream, gz)
        text = carry + chunk
        ended = not chunk and damage is None
        if not text and ended:
            return
        cut = len(text) if ended else text.rfind("\n") + 1  # whole lines only, but at the end
        lines = io.StringIO(text[:cut], newline="").readlines()
        block = RecordBlock()
        parsed, waiting = _parse_lines(lines, start, header, block, more=not ended) if lines else (0, True)
        if block.lines or block.others:
            yield block
        start += parsed
        carry = "".join(lines[parsed:]) + text[cut:]
        if (parsed < len(lines) and not waiting) or len(carry) > MAX_RECORD_CHARS or (damage and carry):
            # A record this path cannot vouch for starts on line `start` (or the stream failed with
            # lines of a record read): csv_records decides what it is, as it would have.
            if carry.endswith("\r") and damage is None:  # the line ending may be "\r\n": keep it whole
                more, damage = _read(stream, gz, 1)
                carry += more
            rest: TextLines = stream if damage is None else _Failed(damage)
            yield from _slow_blocks(_Pushback(carry, rest), path, header, start)
            return
        if damage is not None:
            raise _DamagedError(start, _why_unreadable(damage))
        if ended:
            return


def _read(stream: _TextStream, gz: bool, size: int = 0) -> tuple[str, Exception | None]:
    """Up to `size` characters (a block's worth by default), and the error that stopped reading, if
    any. A compressed stream is read line by line, as csv_records reads it: damage then costs exactly
    the lines after it, not the rest of a block."""
    parts: list[str] = []
    try:
        if not gz:
            return stream.read(size or _BLOCK_CHARS), None
        length = 0
        while length < (size or _GZIP_BLOCK_CHARS):
            line = stream.readline(size or MAX_RECORD_CHARS + 1)
            if not line:
                break
            parts.append(line)
            length += len(line)
    except (OSError, EOFError, zlib.error) as error:
        return "".join(parts), error
    return "".join(parts), None


class _Failed:
    """The rest of a stream that failed: reading it raises the error again."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def readline(self, size: int = -1, /) -> str:
        raise self._error


def _parse_lines(
    lines: list[str], start: int, header: list[str], block: RecordBlock, *, more: bool
) -> tuple[int, bool]:
    """Parse the records of `lines` (the first numbered `start`) into `block`, up to the first that
    this path cannot vouch for; the lines parsed, and whether the record after them may go on past
    these lines (when `more` follow)."""
    if max(map(len, lines)) > MAX_RECORD_CHARS:
        return 0, False
    reader = csv.reader(lines, strict=True)
    width = len(header)
    parsed = 0
    try:
        for fields in reader:
            end = reader.line_num
            if end - parsed > 1 and (len(fields) != width or sum(map(len, lines[parsed:end])) > MAX_RECORD_CHARS):
                return parsed, False
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                pass  # a blank line
            elif len(fields) == width:
                block.lines.append(start + parsed)
                block.rows.append(fields)
            else:
                block.others.append(NumberedRow(start + parsed, _width_note(header, fields)))
            parsed = end
    except csv.Error as error:
        # Only a quoted field still open at the last line may close in the lines that follow.
        return parsed, more and reader.line_num == len(lines) and str(error) == _OPEN_AT_END
    return parsed, True


def _width_note(header: list[str], fields: list[str]) -> dict[str, str]:
    """A record of another width than the header's: what fields it has, and why it is refused."""
    return {**dict(zip(header, fields, strict=False)),
            ROW_PROBLEM: f"{len(fields)} fields where the header has {len(header)}",
            ROW_TEXT: ",".join(fields)[:_SHOWN_TEXT]}


class _Pushback:
    """Text already read from a stream, then the rest of the stream, line by line as the stream's own
    `readline` gives them."""

    def __init__(self, text: str, stream: TextLines) -> None:
        self._head: io.StringIO | None = io.StringIO(text, newline="")
        self._stream = stream

    def readline(self, size: int = -1, /) -> str:
        if self._head is None:
            return self._stream.readline(size)
        line = self._head.readline(size)
        if line.endswith(("\n", "\r")) or len(line) == size:
            return line
        self._head = None  # the rest of a line that goes on in the stream
        return line + self._stream.readline(size - len(line) if size >= 0 else -1)


def _slow_blocks(stream: TextLines, path: Path, header: list[str], start: int) -> Iterator[RecordBlock]:
    """The rest of a file through csv_records, from a record boundary on line `start`."""
    width = len(header)
    block = RecordBlock()
    try:
        for record in csv_records(_lines(stream, path, start), width):
            if record.fields is None:
                block.others.append(NumberedRow(record.line, {ROW_PROBLEM: record.problem, ROW_TEXT: record.text}))
            elif not record.fields or (len(record.fields) == 1 and not record.fields[0].strip()):
                continue
            elif len(record.fields) == width:
                block.lines.append(record.line)
                block.rows.append(record.fields)
            else:
                block.others.append(NumberedRow(record.line, _width_note(header, record.fields)))
            if len(block.lines) + len(block.others) >= _BLOCK_RECORDS:
                yield block
                block = RecordBlock()
    finally:
        if block.lines or block.others:
            yield block


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
