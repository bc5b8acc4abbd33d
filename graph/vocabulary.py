"""The vocabulary of the graph model (DESIGN.md §2), and the allow-lists Cypher labels come from.

A label or relationship type that varies at run time is looked up here, never taken from input text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ENTITY_KINDS",
    "KIND_ORDER",
    "NETWORK_CLASSES",
    "EntityKind",
]


@dataclass(frozen=True)
class EntityKind:
    """One kind of identifier an account can be observed with."""

    name: str  # the `kind` value in links.csv
    label: str  # Neo4j node label
    key: str  # the node's unique key property
    relationship: str  # Account -> entity relationship type


ENTITY_KINDS: Final[dict[str, EntityKind]] = {
    k.name: k
    for k in (
        EntityKind("ip", "IP", "address", "USED_IP"),
        EntityKind("device", "Device", "fingerprint", "USED_DEVICE"),
        EntityKind("payment", "PaymentMethod", "fingerprint", "PAID_WITH"),
        EntityKind("email", "Email", "address", "HAS_EMAIL"),
        EntityKind("phone", "Phone", "number", "HAS_PHONE"),
    )
}

#: Entity kinds in the order their integer codes follow (Incidence.entity_kind).
KIND_ORDER: Final[tuple[str, ...]] = tuple(ENTITY_KINDS)

NETWORK_CLASSES: Final[tuple[str, ...]] = (
    "residential",
    "mobile",
    "hosting",
    "vpn",
    "tor",
    "corporate",
    "unknown",
)

