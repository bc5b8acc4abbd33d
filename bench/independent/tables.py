"""The bundle's small files (accounts, links, known, ip_ranges) and the ground truth, as CSV.

Rows are ordered by something a real export would be ordered by (account id, first sighting,
address), never by how the population was built. Fields are quoted only where CSV needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .operations import Operation, Ring
from .population import KINDS, STATUSES, Population
from .world import COHORTS, COUNTRIES

__all__ = ["HEADERS", "account_ids", "write_tables"]

# A CSV column: Arrow strings as they are, anything else (numpy or list) via str().
Column: TypeAlias = "pa.Array | np.ndarray | Sequence[object]"

HEADERS: Final = {
    "accounts.csv": ("account_id", "created_at", "email", "country", "status"),
    "links.csv": (
        "account_id",
        "kind",
        "value",
        "first_seen",
        "last_seen",
        "count",
        "brand",
        "bin",
        "last4",
        "country",
    ),
    "known.csv": ("account_id", "organization", "source"),
    "ip_ranges.csv": ("cidr", "asn", "organization", "network"),
    "truth.csv": ("account_id", "ring_id", "organization", "cohort", "operation_id"),
}


def account_ids(pop: Population) -> pa.Array:
    """Account ids in index order: a seeded permutation, so an id says nothing about its cohort."""
    permutation = np.random.default_rng([pop.seed, 99]).permutation(pop.n) + 1
    return pa.array(np.char.add("ac", np.char.zfill(permutation.astype(str), 7)), pa.string())


def _iso(seconds: np.ndarray) -> pa.Array:
    return pc.strftime(
        pa.array(np.asarray(seconds, np.int64), pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ"
    )


def _text(values: Column) -> pa.Array:
    array = (
        values if isinstance(values, pa.Array) else pa.array(np.asarray(values, dtype=object).astype(str), pa.string())
    )
    if array.type != pa.string():
        array = pc.cast(array, pa.string())
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(array, r'[",\n\r]'), quoted, array)


def write_csv(path: Path, header: tuple[str, ...], columns: list[Column]) -> None:
    texts = [_text(c) for c in columns]
    with open(path, "wb") as sink:
        sink.write((",".join(header) + "\n").encode())
        if texts and len(texts[0]):
            lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*texts, ","), "", "\n")
            for chunk in range(0, len(lines), 500_000):
                piece = lines.slice(chunk, 500_000)
                offsets = np.frombuffer(piece.buffers()[1], np.int32)[piece.offset : piece.offset + len(piece) + 1]
                sink.write(memoryview(piece.buffers()[2])[offsets[0] : offsets[-1]])


def _links(pop: Population, ids: pa.Array, addresses: pa.Array) -> list[Column]:
    chunks = pop.links.chunks
    column = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    kind = column["kind"]
    value = column["value"]
    is_ip = kind == KINDS.index("ip")
    text = np.empty(value.size, dtype=object)
    text[~is_ip] = value[~is_ip]
    text[is_ip] = addresses.take(pa.array(value[is_ip].astype(np.int64))).to_numpy(zero_copy_only=False)
    order = np.lexsort((kind, column["account"], column["first"]))
    account = column["account"][order]
    return [
        ids.take(pa.array(account)),
        np.array(KINDS, dtype=object)[kind[order]],
        text[order],
        _iso(column["first"][order]),
        _iso(column["last"][order]),
        pa.array(column["count"][order]),
        column["brand"][order],
        column["bin"][order],
        column["last4"][order],
        column["country"][order],
    ]


def write_tables(
    directory: Path, pop: Population, operations: list[Operation], rings: list[Ring], ids: pa.Array
) -> None:
    by_id = np.argsort(ids.to_numpy(zero_copy_only=False))
    addresses = pop.networks.registry.strings()
    countries = np.array([c.code for c in COUNTRIES], dtype=object)
    write_csv(
        directory / "accounts.csv",
        HEADERS["accounts.csv"],
        [
            ids.take(pa.array(by_id)),
            _iso(pop.created[by_id]),
            pop.email[by_id],
            countries[pop.country[by_id]],
            np.array(STATUSES, dtype=object)[pop.status[by_id]],
        ],
    )
    write_csv(directory / "links.csv", HEADERS["links.csv"], _links(pop, ids, addresses))
    known = sorted(pop.known, key=lambda row: ids[row[0]].as_py())
    write_csv(
        directory / "known.csv",
        HEADERS["known.csv"],
        [[ids[a].as_py() for a, _, _ in known], [o for _, o, _ in known], [s for _, _, s in known]] if known else [],
    )
    ranges = pop.networks.range_rows()
    network_int = [sum(int(o) << (8 * (3 - i)) for i, o in enumerate(r[0].split("/")[0].split("."))) for r in ranges]
    ranges = [r for _, r in sorted(zip(network_int, ranges, strict=True), key=lambda x: (x[0], x[1][0]))]
    write_csv(directory / "ip_ranges.csv", HEADERS["ip_ranges.csv"], [list(col) for col in zip(*ranges, strict=True)])
    ring_ids = np.array([""] + [r.ring_id for r in rings], dtype=object)
    op_ids = np.array([""] + [f"op-{o.index + 1:03d}" for o in operations], dtype=object)
    orgs = np.array(["", *pop.orgs], dtype=object)
    write_csv(
        directory / "truth.csv",
        HEADERS["truth.csv"],
        [
            ids.take(pa.array(by_id)),
            ring_ids[pop.ring[by_id] + 1],
            orgs[pop.org[by_id] + 1],
            np.array(COHORTS, dtype=object)[pop.cohort[by_id]],
            op_ids[pop.operation[by_id] + 1],
        ],
    )
