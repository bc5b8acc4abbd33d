"""Usage events while they are drawn (integer columns), and the writer that turns them into CSV text.

A source of usage hands over an :class:`Events` batch: which account sent which frame when, with
`-1` where the account's habits decide (slot values, model, source IP). :class:`EventLog` writes
resolved, time-ordered rows to `events.csv` (or `events.csv.gz`) in chunks: memory holds one
chunk's text at a time, and a background thread writes (and compresses) one chunk while the next is
being drawn. Text is built with Arrow kernels, column by column, never one Python string per row; a
prompt is quoted (RFC 4180) only when it holds a comma, quote or line break.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graph.generator.habits import MODELS
from graph.generator.templates import CATEGORIES, MAX_SLOTS, Catalog
from graph.generator.text import decimal_strings, iso_timestamps
from graph.generator.timeline import WINDOW_END, WINDOW_START

__all__ = ["EVENT_COLUMNS", "EventLog", "Events", "ResolvedEvents"]

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
EVENT_COLUMNS: tuple[str, ...] = (
    "account_id",
    "ts",
    "prompt",
    "prompt_fingerprint",
    "model",
    "input_tokens",
    "output_tokens",
    "category",
    "ip",
    "count",
)
_ROWS_PER_WRITE = 200_000
_MAX_COUNT = 1_000
_FIRST_DAY = WINDOW_START // 86_400
_DAYS = (WINDOW_END // 86_400) - _FIRST_DAY + 2


class _Columns:
    """Equal-length array columns: concatenated, indexed and sized alike."""

    __dataclass_fields__: dict[str, object]

    @classmethod
    def concat(cls: type[_C], batches: Sequence[_C]) -> _C:
        return cls(*(np.concatenate([getattr(b, name) for b in batches]) for name in cls.__dataclass_fields__))

    def take(self: _C, index: Ints | Bools) -> _C:
        return type(self)(*(getattr(self, name)[index] for name in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(getattr(self, next(iter(self.__dataclass_fields__))))


_C = TypeVar("_C", bound=_Columns)


@dataclass(frozen=True)
class Events(_Columns):
    """A batch of requests; -1 in `fill`, `model` or `ip` leaves the choice to the account's habits."""

    slot: Ints
    ts: Ints
    frame: Ints
    fill: Ints  # (n, MAX_SLOTS) global vocabulary index per slot position
    model: Ints
    ip: Ints
    key: Ints  # requests sharing a non-negative key share a source IP
    count: Ints

    @staticmethod
    def of(
        slot: Ints,
        ts: Ints,
        frame: Ints,
        *,
        fill: Ints | None = None,
        model: Ints | None = None,
        ip: Ints | None = None,
        key: Ints | None = None,
        count: Ints | None = None,
    ) -> Events:
        n = len(slot)

        def column(values: Ints | None, default: int) -> Ints:
            if values is None:
                return np.full(n, default, dtype=np.int64)
            return np.asarray(values, dtype=np.int64)

        return Events(
            slot=np.asarray(slot, dtype=np.int64),
            ts=np.asarray(ts, dtype=np.int64),
            frame=np.asarray(frame, dtype=np.int64),
            fill=np.full((n, MAX_SLOTS), -1, dtype=np.int64) if fill is None else fill,
            model=column(model, -1),
            ip=column(ip, -1),
            key=column(key, -1),
            count=column(count, 1),
        )


@dataclass(frozen=True)
class ResolvedEvents(_Columns):
    """Rows ready to write: every choice made, in output order."""

    slot: Ints
    ts: Ints
    frame: Ints
    fill: Ints
    model: Ints
    input_tokens: Ints
    output_tokens: Ints
    category: Ints
    ip: Ints  # -1: no address
    count: Ints
    hidden: Bools  # text withheld: the template id instead


class EventLog:
    """events.csv (or .csv.gz) written chunk by chunk, in the order the chunks come.

    Every piece of text a row can hold is prepared once as a lookup table (frame pieces and slot
    values, plain and CSV-escaped; timestamps as a day part and a time-of-day part), so a chunk's
    lines are a handful of `take`s and one element-wise join, built and written on a background
    thread while the next chunk is drawn.
    """

    def __init__(self, path: Path, ids: pa.Array, rank: Ints, catalog: Catalog, ip_text: pa.Array) -> None:
        self.path = path
        self.rows = 0
        self._ids = ids
        self._rank = rank
        frames = len(catalog)
        self._frames = frames
        pieces = catalog.pieces
        last = len(pieces) - 1
        escaped = [pc.replace_substring(p, '"', '""') for p in pieces]
        escaped[0] = pc.binary_join_element_wise('"', escaped[0], "")
        escaped[last] = pc.binary_join_element_wise(escaped[last], '"', "")
        empty = pa.array([""], pa.string())
        self._pieces = [pa.concat_arrays([p, e, empty]) for p, e in zip(pieces, escaped, strict=True)]
        values = catalog.vocabulary.values
        self._values = pa.concat_arrays([values, pc.replace_substring(values, '"', '""')])
        self._value_count = len(values)
        self._special_frame = _special(pa.concat_arrays(list(pieces)), frames)
        self._special_value = _special(values, len(values))
        self._fingerprints = pa.concat_arrays([catalog.fingerprint, empty])
        self._ip_text = pa.concat_arrays([ip_text.cast(pa.string()), empty])
        self._models = pa.array(MODELS, pa.string())
        self._categories = pa.array(CATEGORIES, pa.string())
        self._counts = pa.array([f"{k}\n" for k in range(_MAX_COUNT + 1)], pa.string())
        days = np.arange(_FIRST_DAY, _FIRST_DAY + _DAYS, dtype=np.int64)
        self._days = pc.utf8_slice_codeunits(iso_timestamps(days * 86_400), 0, 11)
        self._clock = pc.utf8_slice_codeunits(iso_timestamps(np.arange(86_400, dtype=np.int64)), 11, 20)
        raw = path.open("wb")
        gz = path.suffix == ".gz"
        self._sink: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) if gz else raw
        self._raw = raw
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events-writer")
        self._pending: Future[None] | None = None
        self._sink.write((",".join(EVENT_COLUMNS) + "\n").encode("utf-8"))

    def write(self, rows: ResolvedEvents) -> None:
        for start in range(0, len(rows), _ROWS_PER_WRITE):
            part = rows.take(np.arange(start, min(start + _ROWS_PER_WRITE, len(rows))))
            self._wait()
            self._pending = self._pool.submit(self._put, part)
            self.rows += len(part)

    def close(self) -> None:
        self._wait()
        self._pool.shutdown()
        if self._sink is not self._raw:
            self._sink.close()
        self._raw.close()

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def _put(self, rows: ResolvedEvents) -> None:
        lines = self._lines(rows)
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
        self._sink.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])

    def _lines(self, rows: ResolvedEvents) -> pa.Array:
        frames, count = self._frames, self._value_count
        quote = self._special_frame[rows.frame] | self._special_value[rows.fill].any(axis=1)
        frame = np.where(rows.hidden, 2 * frames, rows.frame + quote * frames)
        fill = np.where(rows.hidden[:, None], 0, rows.fill + quote[:, None] * count)
        text: list[pa.Array | str] = []
        for j in range(MAX_SLOTS):
            text += [self._pieces[j].take(pa.array(frame)), self._values.take(pa.array(fill[:, j]))]
        text += [self._pieces[MAX_SLOTS].take(pa.array(frame)), ""]
        ts = rows.ts
        columns: list[pa.Array | str] = [
            self._ids.take(pa.array(self._rank[rows.slot])),
            pc.binary_join_element_wise(
                self._days.take(pa.array(ts // 86_400 - _FIRST_DAY)), self._clock.take(pa.array(ts % 86_400)), ""
            ),
            pc.binary_join_element_wise(*text),
            self._fingerprints.take(pa.array(np.where(rows.hidden, rows.frame, frames))),
            self._models.take(pa.array(rows.model)),
            decimal_strings(rows.input_tokens),
            decimal_strings(rows.output_tokens),
            self._categories.take(pa.array(rows.category)),
            self._ip_text.take(pa.array(np.where(rows.ip < 0, len(self._ip_text) - 1, rows.ip))),
            self._counts.take(pa.array(np.minimum(rows.count, _MAX_COUNT))),
            ",",
        ]
        lines: pa.Array = pc.binary_join_element_wise(*columns)
        return lines


def _special(text: pa.Array, n: int) -> Bools:
    """Per entry of `n` (the text holds one or more arrays of `n`, one after the other): whether any
    of its strings holds a character that CSV must quote."""
    hit = pc.match_substring_regex(text, '[",\r\n]').to_numpy(zero_copy_only=False)
    folded: Bools = hit.reshape(-1, n).any(axis=0) if len(hit) else np.zeros(n, dtype=np.bool_)
    return folded
