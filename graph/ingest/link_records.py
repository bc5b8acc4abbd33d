"""links.csv records validated column by column, for the bulk import: the rows `parse_link` gives.

Parsing a link row by row costs about 20 µs in Python, two minutes for 4.65M links: most of a bulk
import's time. As for the usage log (graph/ingest/event_rows.py), vectorised validation only vouches
for what it can prove valid (clean printable ASCII, no card number, timestamps of the one common
shape, a value its kind's normaliser accepts); every other record goes through `parse_link`, which
accepts or rejects it exactly as it would alone, so both paths give the same rows and rejects. Each
row's observation digest (graph/ingest/observations.py) is computed here too, from the same text
`observation_digest` hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
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
from graph.ingest.normalise import epoch_seconds
from graph.ingest.observations import observation_digest
from graph.ingest.readers import NumberedRow
from graph.ingest.rows import FIELD_LENGTHS, PAYMENT_EXTRAS, TEXT_LENGTH, UNCLEAN, RowError, entity_value, parse_link
from graph.vocabulary import ENTITY_KINDS

__all__ = ["LINKS", "links_table", "parse_link_records"]

#: Parsed links: epochs are whole seconds (None: not given), `digest` the observation's.
LINKS: Final = pa.schema([
    ("account_id", pa.string()), ("kind", pa.string()), ("value", pa.string()), ("first_seen", pa.int64()),
    ("last_seen", pa.int64()), ("count", pa.int64()), ("digest", pa.int64()), ("brand", pa.string()),
    ("bin", pa.string()), ("last4", pa.string()), ("country", pa.string()),
])
_KINDS: Final = "^(?:" + "|".join(ENTITY_KINDS) + ")$"
_BIN: Final = r"^(?:[0-9]{6,8})?$"
_LAST4: Final = r"^(?:[0-9]{4})?$"
# A value whose repr() is itself in single quotes: digest text can then be joined, not repr'd.
_REPR_PLAIN: Final = r"^[^'\"\\]*$"
_FIELDS: Final = ("account_id", "kind", "value", "first_seen", "last_seen", "count", "brand", "bin", "last4",
                  "country")
_LINE_BREAK: Final = pa.scalar("\n", pa.string())
_PAYMENT: Final = pa.scalar("payment", pa.string())


def _digests(texts: list[str]) -> npt.NDArray[np.int64]:
    blake2b = hashlib.blake2b
    return np.fromiter(
        (int.from_bytes(blake2b(t.encode(), digest_size=8).digest(), "big", signed=True) for t in texts),
        dtype=np.int64, count=len(texts))


def _epoch_text(seconds: npt.NDArray[np.int64], given: npt.NDArray[np.bool_]) -> pa.Array:
    # repr() of a whole-second float timestamp: "1767225600.0"; None when not given.
    text = pc.binary_join_element_wise(pc.cast(pa.array(seconds), pa.string()), pa.scalar(".0"), pa.scalar(""))
    return pc.if_else(pa.array(given), text, pa.scalar("None"))


def _vouched(header: list[str], rows: list[list[str]]) -> tuple[npt.NDArray[np.bool_], pa.Table | None]:
    """Which rows `parse_link` would accept, proven column by column, and the parsed links of all rows
    (those of other rows meaningless); None if the header itself needs a closer look."""
    count = len(rows)
    position = {name: number for number, name in enumerate(header)}  # the last of equal names, as a dict has it
    header_text = "\n".join(position)
    if UNCLEAN.search(header_text) or contains_card_number(header_text) or count == 0:
        return np.zeros(count, dtype=bool), None
    try:
        columns = {name: pa.array([row[at] for row in rows], pa.string()) for name, at in position.items()}
    except UnicodeEncodeError:  # undecodable bytes, kept as surrogates: parse_link names them row by row
        return np.zeros(count, dtype=bool), None
    joined = pc.binary_join_element_wise(*columns.values(), _LINE_BREAK)
    fast = matches(joined, PRINTABLE) & ~matches(joined, CARD_RUN)
    sizes = {name: lengths(values) for name, values in columns.items()}
    for name, values in sizes.items():
        fast &= values <= FIELD_LENGTHS.get(name, TEXT_LENGTH)
    missing = pa.array([""] * count, pa.string())
    column = {name: columns.get(name, missing) for name in _FIELDS}
    given = {name: sizes[name] > 0 if name in sizes else np.zeros(count, dtype=bool) for name in column}
    for name in ("account_id", "value", "brand", "country"):
        fast &= matches(column[name], TRIMMED)
    fast &= given["account_id"] & given["value"] & matches(column["kind"], _KINDS)
    fast &= matches(column["account_id"], _REPR_PLAIN)
    first_real, first = instants(column["first_seen"], matches(column["first_seen"], INSTANT))
    last_real, last = instants(column["last_seen"], matches(column["last_seen"], INSTANT))
    fast &= (first_real | ~given["first_seen"]) & (last_real | ~given["last_seen"])
    last_given = given["last_seen"]
    fast &= ~(given["first_seen"] & last_given) | (last >= first)
    last = np.where(last_given, last, first)
    last_known = last_given | given["first_seen"]
    fast &= matches(column["count"], COUNT)
    payment = np.asarray(pc.equal(column["kind"], _PAYMENT).to_numpy(zero_copy_only=False), dtype=bool)
    fast &= ~payment | (matches(column["bin"], _BIN) & matches(column["last4"], _LAST4))

    # Each distinct (kind, value) normalised once by the parser's own function.
    pairs = pc.dictionary_encode(pc.binary_join_element_wise(column["kind"], column["value"], _LINE_BREAK))
    normalised: list[str | None] = []
    for pair in pairs.dictionary.to_pylist():
        kind, _, value = pair.partition("\n")
        try:
            normalised.append(entity_value(kind, value) if kind in ENTITY_KINDS and value else None)
        except RowError:
            normalised.append(None)
    value = pa.array(normalised, pa.string()).take(pairs.indices)
    fast &= np.asarray(pc.is_valid(value)) & matches(pc.fill_null(value, ""), _REPR_PLAIN)
    value = pc.fill_null(value, "")
    counts = np.asarray(pc.cast(pc.if_else(pa.array(fast & given["count"]), column["count"], pa.scalar("1")),
                                pa.int64()).to_numpy(), dtype=np.int64)
    # observation_digest's text: repr((account_id, kind, value, first, last, count)).
    texts = pc.binary_join_element_wise(
        pa.scalar("('"), column["account_id"], pa.scalar("', '"), column["kind"], pa.scalar("', '"), value,
        pa.scalar("', "), _epoch_text(first, given["first_seen"]), pa.scalar(", "),
        _epoch_text(last, last_known), pa.scalar(", "), pc.cast(pa.array(counts), pa.string()), pa.scalar(")"),
        pa.scalar(""),
    )
    texts = pc.if_else(pa.array(fast), texts, pa.scalar(""))

    def extra(name: str, text: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(payment & given[name]), text, pa.scalar(None, pa.string()))

    parsed = pa.Table.from_arrays([
        column["account_id"], column["kind"], value,
        pa.array(first, mask=~given["first_seen"]), pa.array(last, mask=~last_known), pa.array(counts),
        pa.array(_digests(texts.to_pylist())), extra("brand", pc.ascii_lower(column["brand"])),
        extra("bin", column["bin"]), extra("last4", column["last4"]),
        extra("country", pc.ascii_upper(column["country"])),
    ], schema=LINKS)
    return fast, parsed


def links_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows `parse_link` returned, as LINKS columns."""
    return pa.table({
        "account_id": [r["account_id"] for r in rows],
        "kind": [r["kind"] for r in rows],
        "value": [r["value"] for r in rows],
        "first_seen": [epoch_seconds(r["first_seen"]) for r in rows],
        "last_seen": [epoch_seconds(r["last_seen"]) for r in rows],
        "count": [r["count"] for r in rows],
        "digest": [observation_digest(r["account_id"], r["kind"], r["value"], r["first_seen"], r["last_seen"],
                                      r["count"]) for r in rows],
        **{name: [r["entity"].get(name) for r in rows] for name in PAYMENT_EXTRAS},
    }, schema=LINKS)


def parse_link_records(
    header: list[str], lines: list[int], rows: list[list[str]], others: Iterable[NumberedRow]
) -> tuple[pa.Table, list[tuple[int, RowError]]]:
    """A block of links.csv records (each of `rows` of the header's width, starting on its line in
    `lines`; `others`, the rows the reader could not make so) as LINKS, and the rejects (line and
    error) in line order: the rows and rejects `parse_link` gives, record by record."""
    return with_row_parser(_vouched(header, rows), header, lines, rows, others, parse_link, links_table, LINKS)
