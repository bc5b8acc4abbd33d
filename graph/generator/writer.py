"""Writes the bundle: accounts, links, known, ip_ranges and truth as UTF-8 CSV with exact headers.

Besides truth.csv (one row per account) the ground truth has truth_rings.csv, one row per true ring:
its operation and campaign, what its members share, whether they are fresh or bought accounts, its
device cells, how it is tied to the operation's earlier campaign, and when it ran. The usage log
(events.csv) is written by `graph.generator.usage`.

Arrow's CSV writer quotes header names, so the header line is written by hand and the body by
Arrow without quoting (no generated value contains a comma, quote or newline).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from graph.generator.draft import COHORTS, COUNTRY_CODES, STATUSES, Draft
from graph.generator.entities import KINDS, Links
from graph.generator.rings import RingWorld
from graph.generator.text import iso_timestamps, prefixed_numbers

__all__ = ["write_bundle"]

Ints = npt.NDArray[np.int64]

HEADERS: dict[str, tuple[str, ...]] = {
    "accounts.csv": ("account_id", "created_at", "email", "country", "status"),
    "links.csv": ("account_id", "kind", "value", "first_seen", "last_seen", "count", "brand", "bin", "last4"),
    "known.csv": ("account_id", "organization", "source"),
    "ip_ranges.csv": ("cidr", "asn", "organization", "network"),
    "truth.csv": ("account_id", "ring_id", "organization", "cohort", "operation_id"),
    "truth_rings.csv": (
        "ring_id",
        "operation_id",
        "campaign",
        "organization",
        "size",
        "sharing",
        "accounts",
        "cells",
        "tie",
        "start",
        "end",
    ),
}


def write_bundle(out_dir: Path, draft: Draft, world: RingWorld, rank: Ints, links: Links) -> dict[str, int]:
    """Write the bundle and its ground truth; returns rows per file name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    slot_of = np.argsort(rank)
    width = max(7, len(str(draft.accounts - 1)))
    ids = prefixed_numbers("acc_", np.arange(draft.accounts, dtype=np.int64), width)
    rows: dict[str, int] = {}
    rows["accounts.csv"] = _write(
        out_dir / "accounts.csv",
        [
            ids,
            iso_timestamps(draft.created[slot_of]),
            _emails(draft).take(pa.array(slot_of)),
            pa.array(COUNTRY_CODES).take(pa.array(draft.country[slot_of])),
            pa.array(STATUSES).take(pa.array(draft.status[slot_of])),
        ],
    )
    rows["links.csv"] = _write(out_dir / "links.csv", _link_columns(draft, ids, rank, links))
    rows["known.csv"] = _write(out_dir / "known.csv", _known_columns(draft, ids, rank))
    ranges = draft.infra.ranges
    rows["ip_ranges.csv"] = _write(
        out_dir / "ip_ranges.csv",
        [
            pa.array([r.cidr for r in ranges], pa.string()),
            pa.array([r.asn for r in ranges], pa.int64()),
            pa.array([r.organization for r in ranges], pa.string()),
            pa.array([r.network for r in ranges], pa.string()),
        ],
    )
    ring_ids, operation_ids = truth_ids(world)
    ring = draft.ring[slot_of]
    actor = draft.organization[slot_of]
    operation = _operations(draft, world)[slot_of]
    actors = pa.array([a.name for a in world.actors], pa.string())
    rows["truth.csv"] = _write(
        out_dir / "truth.csv",
        [
            ids,
            ring_ids.take(pa.array(np.maximum(ring, 0), mask=ring < 0)),
            actors.take(pa.array(np.maximum(actor, 0), mask=actor < 0)),
            pa.array(COHORTS).take(pa.array(draft.cohort[slot_of])),
            operation_ids.take(pa.array(np.maximum(operation, 0), mask=operation < 0)),
        ],
    )
    rows["truth_rings.csv"] = _write(out_dir / "truth_rings.csv", _ring_columns(draft, world, ring_ids, operation_ids))
    return rows


def truth_ids(world: RingWorld) -> tuple[pa.Array, pa.Array]:
    """Ring ids (R0001, ...) and operation ids (OP0001, ...) in plan order."""
    ring_width = max(4, len(str(len(world.plans))))
    ring_ids = prefixed_numbers("R", np.arange(1, len(world.plans) + 1, dtype=np.int64), ring_width)
    op_width = max(4, len(str(world.operations)))
    operation_ids = prefixed_numbers("OP", np.arange(1, world.operations + 1, dtype=np.int64), op_width)
    return ring_ids, operation_ids


def _operations(draft: Draft, world: RingWorld) -> Ints:
    """Each account's operation: its ring's, or for an earlier case's account the ring it preceded."""
    of_ring = np.array([p.operation for p in world.plans] + [-1], dtype=np.int64)
    operation: Ints = of_ring[draft.ring]  # ring -1 picks the trailing -1
    prior = np.flatnonzero(draft.cohort == COHORTS.index("prior_case"))
    if len(prior):
        # Earlier cases' accounts come in plan order, one block per ring with prior accounts.
        blocks = np.repeat([p.operation for p in world.plans], [p.prior_accounts for p in world.plans])
        operation[prior] = blocks
    return operation


def _ring_columns(draft: Draft, world: RingWorld, ring_ids: pa.Array, operation_ids: pa.Array) -> list[pa.Array]:
    plans = world.plans
    members = [np.flatnonzero(draft.ring == i) for i in range(len(plans))]
    start = np.array([int(draft.operated_from[m].min()) for m in members], dtype=np.int64)
    end = np.array([int(draft.operated_until[m].max()) for m in members], dtype=np.int64)
    actor = np.array([p.actor for p in plans], dtype=np.int64)
    actors = pa.array([a.name for a in world.actors], pa.string())
    return [
        ring_ids,
        operation_ids.take(pa.array([p.operation for p in plans], pa.int64())),
        pa.array([p.campaign + 1 for p in plans], pa.int64()),
        actors.take(pa.array(np.maximum(actor, 0), mask=actor < 0)),
        pa.array([p.size for p in plans], pa.int64()),
        pa.array([p.sharing for p in plans], pa.string()),
        pa.array(["bought" if p.aged else "fresh" for p in plans], pa.string()),
        pa.array([p.cells for p in plans], pa.int64()),
        pa.array([p.tie for p in plans], pa.string()),
        iso_timestamps(start),
        iso_timestamps(end),
    ]


def _write(path: Path, columns: list[pa.Array]) -> int:
    header = HEADERS[path.name]
    table = pa.table(dict(zip(header, columns, strict=True)))
    with path.open("wb") as sink:
        sink.write((",".join(header) + "\n").encode("utf-8"))
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)
        pacsv.write_csv(table, sink, options)
    return int(table.num_rows)


def _emails(draft: Draft) -> pa.Array:
    """Sign-up emails in slot order (the generators hand them over in contiguous chunks)."""
    chunks = sorted(draft.emails, key=lambda chunk: chunk[0])
    starts = [start for start, _ in chunks]
    ends = [start + len(array) for start, array in chunks]
    if starts[0] != 0 or ends[-1] != draft.accounts or starts[1:] != ends[:-1]:
        raise AssertionError("sign-up emails do not cover every account exactly once")
    return pa.chunked_array([array for _, array in chunks], pa.string()).combine_chunks()


def _link_columns(draft: Draft, ids: pa.Array, rank: Ints, links: Links) -> list[pa.Array]:
    registry = draft.registry
    sizes = np.array([registry.size(kind) for kind in KINDS], dtype=np.int64)
    spellings = [registry.spellings(kind) for kind in KINDS]
    offsets = np.r_[0, np.cumsum([len(s) for s in spellings])[:-1]].astype(np.int64)
    where = offsets[links.kind] + links.spelling * sizes[links.kind] + links.entity
    values = pa.concat_arrays(spellings).take(pa.array(where))
    payment = links.kind == KINDS.index("payment")
    card = pa.array(np.where(payment, links.entity, 0), mask=~payment)
    brand, bin_, last4 = registry.card_metadata()
    return [
        ids.take(pa.array(rank[links.account])),
        pa.array(KINDS).take(pa.array(links.kind)),
        values,
        iso_timestamps(links.first_seen),
        iso_timestamps(links.last_seen),
        pa.array(links.count),
        brand.take(card),
        bin_.take(card),
        last4.take(card),
    ]


def _known_columns(draft: Draft, ids: pa.Array, rank: Ints) -> list[pa.Array]:
    account = np.concatenate([rank[k.slots] for k in draft.known] + [np.zeros(0, dtype=np.int64)])
    organization = [k.organization for k in draft.known for _ in k.slots]
    source = [k.source for k in draft.known for _ in k.slots]
    order = np.argsort(account, kind="stable")
    return [
        ids.take(pa.array(account[order])),
        pa.array(organization, pa.string()).take(pa.array(order)),
        pa.array(source, pa.string()).take(pa.array(order)),
    ]
