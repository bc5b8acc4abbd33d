"""The identifiers accounts are seen with, and the account-identifier observations (links).

Identifiers are registered per kind as Arrow string arrays and referred to by integer id, so the
population code moves only integers around; text is looked up once, when the bundle is written.
An identifier may have several spellings (an upper-case IPv6 address, a phone number written five
ways); spelling 0 is the canonical one, and which spelling a link shows is chosen per link, the way
a real sign-up form or log records whatever the user typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = [
    "KINDS",
    "EntityRegistry",
    "LinkBuffer",
    "Links",
]

KINDS: tuple[str, ...] = ("ip", "device", "payment", "email", "phone")
_SPELLINGS: dict[str, int] = {"ip": 2, "device": 1, "payment": 1, "email": 1, "phone": 5}
_KIND_CODE: dict[str, int] = {kind: code for code, kind in enumerate(KINDS)}

Ints = npt.NDArray[np.int64]


class EntityRegistry:
    """Every distinct identifier of every kind, with its spellings and (for cards) metadata."""

    def __init__(self) -> None:
        self._chunks: dict[str, list[list[pa.Array]]] = {kind: [] for kind in KINDS}
        self._sizes: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._cards: list[tuple[pa.Array, pa.Array, pa.Array]] = []

    def add(self, kind: str, spellings: list[pa.Array]) -> Ints:
        """Register identifiers given as one array per spelling; returns their ids within `kind`."""
        if len(spellings) != _SPELLINGS[kind]:
            raise ValueError(f"{kind} takes {_SPELLINGS[kind]} spellings, got {len(spellings)}")
        count = len(spellings[0])
        start = self._sizes[kind]
        # An empty list comes back from Arrow as type null; everything here is text.
        self._chunks[kind].append([_flat(s).cast(pa.string()) for s in spellings])
        self._sizes[kind] = start + count
        return np.arange(start, start + count, dtype=np.int64)

    def add_cards(self, tokens: pa.Array, brand: pa.Array, bin_: pa.Array, last4: pa.Array) -> Ints:
        """Register payment instruments: a token (never a card number) and the card's display data."""
        self._cards.append((brand, bin_, last4))
        return self.add("payment", [tokens])

    def size(self, kind: str) -> int:
        """How many identifiers of `kind` exist."""
        return self._sizes[kind]

    def spellings(self, kind: str) -> pa.Array:
        """All spellings of `kind`, spelling-major: identifier i in spelling s is at s * size + i."""
        chunks = self._chunks[kind]
        columns = [
            pa.concat_arrays([chunk[s] for chunk in chunks]) if chunks else pa.array([], pa.string())
            for s in range(_SPELLINGS[kind])
        ]
        return pa.concat_arrays(columns)

    def card_metadata(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Brand, BIN and last four digits of every payment instrument, in id order."""
        if not self._cards:
            empty = pa.array([], pa.string())
            return empty, empty, empty
        brand, bin_, last4 = zip(*self._cards, strict=True)
        return pa.concat_arrays(list(brand)), pa.concat_arrays(list(bin_)), pa.concat_arrays(list(last4))


def _flat(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Arrow hands back chunked arrays for large inputs; the registry keeps plain ones."""
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


@dataclass(frozen=True)
class Links:
    """Deduplicated observations, one per (account, kind, identifier), ordered by account slot."""

    account: Ints  # account slot
    kind: Ints  # index into KINDS
    entity: Ints  # id within the kind
    spelling: Ints
    first_seen: Ints  # unix seconds
    last_seen: Ints
    count: Ints


class LinkBuffer:
    """Collects observations in chunks and merges them into :class:`Links`."""

    def __init__(self) -> None:
        self._chunks: list[tuple[Ints, ...]] = []

    def add(
        self,
        kind: str,
        accounts: Ints,
        entities: Ints,
        first_seen: Ints,
        last_seen: Ints,
        count: Ints,
        spelling: Ints | None = None,
    ) -> None:
        """Record observations; last_seen is raised to first_seen where a caller's spans cross."""
        n = len(accounts)
        first = np.asarray(first_seen, dtype=np.int64)
        self._chunks.append(
            (
                np.asarray(accounts, dtype=np.int64),
                np.full(n, _KIND_CODE[kind], dtype=np.int64),
                np.asarray(entities, dtype=np.int64),
                np.zeros(n, dtype=np.int64) if spelling is None else np.asarray(spelling, dtype=np.int64),
                first,
                np.maximum(np.asarray(last_seen, dtype=np.int64), first),
                np.maximum(np.asarray(count, dtype=np.int64), 1),
            )
        )

    def collect(self, order: Ints, width: int) -> Links:
        """Merge duplicates (earliest first_seen, latest last_seen, summed count) and sort.

        `order` maps account slot -> output rank; rows come out sorted by (rank, kind, id), and a
        merged row keeps the spelling of its earliest observation. `width` bounds ids of every kind.
        """
        columns = [np.concatenate(parts) for parts in zip(*self._chunks, strict=True)]
        account, kind, entity, spelling, first, last, count = columns
        key = (order[account] * len(KINDS) + kind) * width + entity
        # Sorting by (key, first_seen) puts each group's earliest observation first.
        perm = np.lexsort((first, key))
        key = key[perm]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        pick = perm[starts]
        return Links(
            account=account[pick],
            kind=kind[pick],
            entity=entity[pick],
            spelling=spelling[pick],
            first_seen=first[pick],
            last_seen=np.maximum.reduceat(last[perm], starts),
            count=np.add.reduceat(count[perm], starts),
        )
