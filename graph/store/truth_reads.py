"""Reads that evaluation against ground truth needs from the observations a run was detected on.

Ground truth says who belongs together; whether a true ring's members share a device or a card is a
fact of the observations, so it is read from the store rather than from a generator's own files and
holds for any population. Accounts are read in batches (`UNWIND $account_ids`) so a truth file of a
million accounts costs a hundred bounded answers, not one unbounded one.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import neo4j

__all__ = ["read_devices_and_cards"]

_BATCH: Final = 10_000
# One row per link; the kind travels with the key because a device and a card may carry equal strings.
_DEVICES_AND_CARDS: Final = """
UNWIND $account_ids AS account_id
MATCH (:Account {account_id: account_id})-[:USED_DEVICE]->(device:Device)
RETURN account_id, 'device' AS kind, device.fingerprint AS key
UNION ALL
UNWIND $account_ids AS account_id
MATCH (:Account {account_id: account_id})-[:PAID_WITH]->(card:PaymentMethod)
RETURN account_id, 'payment' AS kind, card.fingerprint AS key
"""


def read_devices_and_cards(
    driver: neo4j.Driver, database: str, account_ids: Collection[str], *, batch: int = _BATCH
) -> dict[str, set[tuple[str, str]]]:
    """account_id -> the (kind, key) of each device (`device`) and payment method (`payment`) it used.

    Only the accounts asked for, in batches of `batch`; an account that used neither, or is not in the
    store, is absent.
    """
    ordered = sorted(account_ids)
    used: dict[str, set[tuple[str, str]]] = {}
    for start in range(0, len(ordered), batch):
        records, _, _ = driver.execute_query(
            _DEVICES_AND_CARDS,
            account_ids=ordered[start : start + batch],
            database_=database,
            routing_=neo4j.RoutingControl.READ,
        )
        for record in records:
            used.setdefault(str(record["account_id"]), set()).add((str(record["kind"]), str(record["key"])))
    return used
