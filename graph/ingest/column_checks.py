"""Column checks that vectorised parsers share: what a record's text must look like to be vouched for
without the row parser (graph/ingest/event_rows.py, graph/ingest/link_records.py).

Printable ASCII without a tab or line break is clean text; without 13 digits in a row (separators
allowed) it holds no card number; without white space at either end it is its own `strip()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graph.ingest.readers import NumberedRow
from graph.ingest.rows import RowError

__all__ = ["CARD_RUN", "COUNT", "INSTANT", "PRINTABLE", "TRIMMED", "instants", "lengths", "matches", "with_row_parser"]

_DAY: Final = 86_400
PRINTABLE: Final = r"^[\x20-\x7e\n]*$"  # the columns of a row, joined by line breaks
CARD_RUN: Final = r"[0-9](?:[ .\-]?[0-9]){12}"
TRIMMED: Final = r"^(?:[!-~](?:.*[!-~])?)?$"
COUNT: Final = r"^(?:[1-9][0-9]{0,11})?$"  # 1 to 10^12 - 1, or empty: never a 13-digit run
INSTANT: Final = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
_INSTANT_CHARS: Final = 20
_SOME_INSTANT: Final = pa.scalar("2000-01-01T00:00:00Z", pa.string())
_MONTH_DAYS: Final = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def matches(values: pa.Array, pattern: str) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.match_substring_regex(values, pattern).to_numpy(zero_copy_only=False), dtype=bool)


def lengths(values: pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(pc.binary_length(values).to_numpy(), dtype=np.int64)


def instants(values: pa.Array, shaped: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which `YYYY-MM-DDTHH:MM:SSZ` values (`shaped`: those of that shape) are real instants, and their
    epoch seconds: the proleptic Gregorian calendar, as datetime has it (days from civil, H. Hinnant)."""
    fixed = pc.if_else(pa.array(shaped), values, _SOME_INSTANT)
    offsets = np.frombuffer(fixed.buffers()[1], dtype=np.int32)[fixed.offset : fixed.offset + len(fixed) + 1]
    text = np.frombuffer(fixed.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, _INSTANT_CHARS)
    digits = text.astype(np.int64) - ord("0")

    def number(first: int, last: int) -> npt.NDArray[np.int64]:
        return digits[:, first:last] @ (10 ** np.arange(last - first - 1, -1, -1, dtype=np.int64))

    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    hour, minute, second = number(11, 13), number(14, 16), number(17, 19)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    valid = shaped & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days) & (hour <= 23) & (
        minute <= 59) & (second <= 59)
    shifted = year - (month <= 2)
    era = shifted // 400
    of_era = shifted - era * 400
    of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146_097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719_468
    return valid, np.where(valid, days * _DAY + hour * 3600 + minute * 60 + second, 0)


RowParser = Callable[[dict[str, str]], Mapping[str, Any]]


def with_row_parser(
    vouched: tuple[npt.NDArray[np.bool_], pa.Table | None],
    header: list[str],
    lines: list[int],
    rows: list[list[str]],
    others: Iterable[NumberedRow],
    parse: RowParser,
    as_table: Callable[[list[Any]], pa.Table],
    schema: pa.Schema,
) -> tuple[pa.Table, list[tuple[int, RowError]]]:
    """The rows a vectorised parser vouched for (`vouched`: which, and their parsed table) completed by
    the row parser `parse` for every other record (`as_table` makes its rows columns of `schema`), in
    record order, and the rejects (line and error) in line order."""
    fast, parsed = vouched
    rejects: list[tuple[int, RowError]] = []
    for other in others:
        try:
            parse(other.fields)
        except RowError as error:
            rejects.append((other.line, error))
    slow_rows: list[Any] = []
    slow_at: list[int] = []
    for at in np.flatnonzero(~fast).tolist():
        try:
            slow_rows.append(parse(dict(zip(header, rows[at], strict=True))))
            slow_at.append(at)
        except RowError as error:
            rejects.append((lines[at], error))
    table = parsed.filter(pa.array(fast)) if parsed is not None else schema.empty_table()
    if slow_rows:
        positions = np.concatenate([np.flatnonzero(fast), np.asarray(slow_at, dtype=np.int64)])
        table = pa.concat_tables([table, as_table(slow_rows)]).take(pa.array(np.argsort(positions)))
    rejects.sort(key=lambda reject: reject[0])
    return table, rejects
