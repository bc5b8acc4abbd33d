"""The identity of an observation: what makes a link row count once, whatever carries it.

An observation is (account, kind, value, first_seen, last_seen, count) after normalisation. Its digest
is stored on the link's relationship in the transaction that adds its count, so the same observation
arriving again (another file, batch, order, the API, a re-run after a crash) finds its digest there
and adds nothing; see `graph.store.ingest`.

The digest is 64 bits of BLAKE2b, kept as a Neo4j integer (a compact `long[]` on the relationship).
It only has to tell apart the observations of one relationship, whose account, kind and value are
fixed: with n observations on one link the chance that two collide is about n²/2⁶⁵ (3·10⁻¹² for a
link observed every day for ten years). Hashing the whole tuple anyway keeps the digest meaningful on
its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

__all__ = ["distinct_links", "observation_digest", "with_email_digests"]


def _instant(moment: datetime | None) -> float | None:
    # Full precision (a float's repr round-trips it), so observations a millisecond apart stay two;
    # twice as fast as isoformat, which is most of a digest's cost.
    return None if moment is None else moment.timestamp()


def observation_digest(
    account_id: str, kind: str, value: str, first_seen: datetime | None, last_seen: datetime | None, count: int
) -> int:
    """A signed 64-bit digest of one normalised observation (the same tuple, the same digest)."""
    # repr of a tuple of str, float and int is unambiguous: no separator inside a value can shift a field.
    data = repr((account_id, kind, value, _instant(first_seen), _instant(last_seen), count)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def distinct_links(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each observation of parsed link rows once (in the order first seen), its row given a `digest`.

    The rows are the caller's freshly parsed dicts and are updated in place: copying them cost as much
    as hashing. Entity details (a payment's brand, BIN, ...) of a repeated row still reach the entity:
    they describe the payment method, not the observation.
    """
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        digest = observation_digest(
            row["account_id"], row["kind"], row["value"], row["first_seen"], row["last_seen"], row["count"]
        )
        first = seen.get(digest)
        if first is None:
            row["digest"] = digest
            seen[digest] = row
        elif row["entity"]:
            first["entity"] = {**first["entity"], **row["entity"]}
    return list(seen.values())


def with_email_digests(accounts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parsed accounts.csv rows with the `email_digest` of their email (None without one, and for a
    repeat of the same account and email in these rows: one batch must carry an observation once).

    An account's email is a link like any other (DESIGN.md §4), observed once, when the account was
    created; the same observation in links.csv has the same digest, so it counts once.
    """
    seen: set[tuple[str, int]] = set()
    result = []
    for row in accounts:
        digest = None
        if row.get("email"):
            digest = observation_digest(row["account_id"], "email", row["email"], row["created_at"],
                                        row["created_at"], 1)
            key = (row["account_id"], digest)
            if key in seen:
                digest = None
            else:
                seen.add(key)
        result.append({**row, "email_digest": digest})
    return result
