"""Usage-log records as columns: events.csv records validated column by column, and parsed rows.

A batch of requests is an Arrow table (`REQUESTS`), never a dict per request: a CSV file's records are
validated column by column (`parse_event_records`) and an API batch's parsed rows turned into columns
(`requests_table`). Vectorised validation only vouches for what it can prove valid; every other record
goes through `graph.ingest.rows.parse_event`, which accepts or rejects it exactly as it would alone,
so both paths give the same rows and the same rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graph.ingest.card_numbers import contains_card_number
from graph.ingest.column_checks import (
    CARD_RUN,
    COUNT,
    INSTANT,
    PRINTABLE,
    TRIMMED,
    instants,
    lengths,
    matches,
    with_row_parser,
)
from graph.ingest.readers import NumberedRow
from graph.ingest.rows import (
    FIELD_LENGTHS,
    MAX_PROMPT_CHARS,
    TEXT_LENGTH,
    UNCLEAN,
    RowError,
    event_ip,
    parse_event,
)

__all__ = ["REQUESTS", "parse_event_records", "requests_table"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
#: Parsed requests, as `parse_event` gives them: `second` is `int(ts.timestamp())`, `micros` the
#: instant in whole microseconds since the epoch (its digest's float is `micros / 10**6`, exactly).
REQUESTS: Final = pa.schema([
    ("account_id", pa.string()), ("second", pa.int64()), ("micros", pa.int64()), ("prompt", pa.string()),
    ("prompt_fingerprint", pa.string()), ("model", pa.string()), ("category", pa.string()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("ip", pa.string()), ("count", pa.int64()),
])



def requests_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows `parse_event` returned, as columns."""
    return pa.table({
        "account_id": [r["account_id"] for r in rows],
        "second": np.array([int(r["ts"].timestamp()) for r in rows], dtype=np.int64),
        "micros": np.array([(r["ts"] - _EPOCH) // _MICROSECOND for r in rows], dtype=np.int64),
        "prompt": [r["prompt"] for r in rows],
        "prompt_fingerprint": [r["prompt_fingerprint"] for r in rows],
        "model": [r["model"] for r in rows],
        "category": [r["category"] for r in rows],
        "input_tokens": np.array([r["input_tokens"] for r in rows], dtype=np.int64),
        "output_tokens": np.array([r["output_tokens"] for r in rows], dtype=np.int64),
        "ip": [r["ip"] for r in rows],
        "count": np.array([r["count"] for r in rows], dtype=np.int64),
    }, schema=REQUESTS)


# Beyond graph/ingest/column_checks.py, what vectorised validation of a request vouches for.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")  # an undecodable byte, as the reader keeps it
# UNCLEAN for RE2, but the surrogates: a string holding one never becomes an Arrow string.
_UNCLEAN_PROMPT: Final = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{7f}-\x{9f}\x{feff}]"
_TOKENS: Final = r"^[0-9]{0,9}$|^1000000000$"  # 0 to 10^9, or empty
_FIELDS: Final = ("account_id", "ts", "prompt_fingerprint", "model", "category", "input_tokens", "output_tokens",
                  "ip", "count")  # parse_event's, but the prompt
# Arrow scalars made once: converting a Python value in every call costs pyarrow a failed import of
# dateutil each time (when it is not installed), 40 µs or more.
_DIGIT_ZERO: Final = pa.scalar("0", pa.string())
_DIGIT_ONE: Final = pa.scalar("1", pa.string())
_LINE_BREAK: Final = pa.scalar("\n", pa.string())
_NO_TEXT: Final = pa.scalar(None, pa.string())
_NO_INDEX: Final = pa.scalar(-1, pa.int32())


def _vouched(header: list[str], rows: list[list[str]]) -> tuple[npt.NDArray[np.bool_], pa.Table | None]:
    """Which rows `parse_event` would accept, proven column by column, and the parsed requests of all
    rows (those of other rows meaningless); None if the header itself needs a closer look."""
    count = len(rows)
    position = {name: number for number, name in enumerate(header)}  # the last of equal names, as a dict has it
    header_text = "\n".join(position)
    if UNCLEAN.search(header_text) or contains_card_number(header_text):
        return np.zeros(count, dtype=bool), None
    fast = np.ones(count, dtype=bool)
    missing = pa.array([""] * count, pa.string())

    def arrow(values: list[str]) -> pa.Array:
        nonlocal fast
        try:
            return pa.array(values, pa.string())
        except UnicodeEncodeError:  # undecodable bytes, kept as surrogates: those rows are not clean
            clean = np.fromiter((_SURROGATE.search(v) is None for v in values), bool, count)
            fast &= clean
            return pa.array([v if ok else "" for v, ok in zip(values, clean, strict=True)], pa.string())

    columns = {name: arrow([row[at] for row in rows]) for name, at in position.items() if name != "prompt"}
    if columns:
        joined = pc.binary_join_element_wise(*columns.values(), _LINE_BREAK)
        fast &= matches(joined, PRINTABLE) & ~matches(joined, CARD_RUN)
    sizes = {name: lengths(values) for name, values in columns.items()}
    for name, values in sizes.items():
        fast &= values <= FIELD_LENGTHS.get(name, TEXT_LENGTH)
    column = {name: columns.get(name, missing) for name in _FIELDS}
    empty = {name: sizes[name] == 0 if name in sizes else np.ones(count, dtype=bool) for name in column}
    for name in ("account_id", "prompt_fingerprint", "model", "category", "ip"):
        fast &= matches(column[name], TRIMMED)
    fast &= ~empty["account_id"]
    real, seconds = instants(column["ts"], matches(column["ts"], INSTANT))
    fast &= real
    for name in ("input_tokens", "output_tokens"):
        fast &= matches(column[name], _TOKENS)
    fast &= matches(column["count"], COUNT)

    prompts = [row[position["prompt"]] for row in rows] if "prompt" in position else [""] * count
    prompt = arrow(prompts)
    fast &= ~matches(prompt, _UNCLEAN_PROMPT)
    fast &= np.asarray(pc.utf8_length(prompt).to_numpy(), dtype=np.int64) <= MAX_PROMPT_CHARS
    written = pa.array(np.fromiter(map(bool, map(str.strip, prompts)), bool, count))  # parse_event's strip()
    addresses = pc.dictionary_encode(column["ip"])
    normalised: list[str | None] = []
    for address in addresses.dictionary.to_pylist():
        try:
            normalised.append(event_ip(address) if address else None)  # parse_event's own, cached
        except RowError:
            normalised.append(None)
    ip = pa.array(normalised, pa.string()).take(addresses.indices)
    fast &= empty["ip"] | np.asarray(pc.is_valid(ip))
    valid = pa.array(fast)

    def text(name: str) -> pa.Array:
        return pc.if_else(pa.array(empty[name]), _NO_TEXT, column[name])

    def whole(name: str, default: pa.Scalar) -> npt.NDArray[np.int64]:
        digits = pc.if_else(pa.array(empty[name]), default, pc.if_else(valid, column[name], _DIGIT_ZERO))
        return np.asarray(pc.cast(digits, pa.int64()).to_numpy(), dtype=np.int64)

    parsed = pa.Table.from_arrays([
        column["account_id"], pa.array(seconds), pa.array(seconds * 1_000_000),
        pc.if_else(written, prompt, _NO_TEXT), text("prompt_fingerprint"), text("model"),
        pc.ascii_lower(text("category")), pa.array(whole("input_tokens", _DIGIT_ZERO)),
        pa.array(whole("output_tokens", _DIGIT_ZERO)), ip, pa.array(whole("count", _DIGIT_ONE)),
    ], schema=REQUESTS)
    return fast, parsed


def parse_event_records(
    header: list[str], lines: list[int], rows: list[list[str]], others: Iterable[NumberedRow]
) -> tuple[pa.Table, list[tuple[int, RowError]]]:
    """A block of events.csv records (each of `rows` of the header's width, starting on its line in
    `lines`; `others`, the rows the reader could not make so) as requests, and the rejects (line and
    error) in line order: the rows and rejects `parse_event` gives, record by record."""
    return with_row_parser(_vouched(header, rows), header, lines, rows, others, parse_event, requests_table, REQUESTS)
