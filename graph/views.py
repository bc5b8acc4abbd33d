"""What lookups return: rings, attributions and evidence with concrete graph paths, as plain data.

These are the shapes the CLI prints and the API serialises; they carry no Neo4j types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AccountAttributionView",
    "Evidence",
    "EvidencePath",
    "OrgAttribution",
    "PathNode",
    "PathRelationship",
    "RingDetail",
    "RingMember",
    "RingSummary",
]


@dataclass(frozen=True)
class PathNode:
    label: str  # Account, IP, Device, PaymentMethod, Email, Phone, Organization, Ring
    key: str  # the label's key property, e.g. account_id
    value: str


@dataclass(frozen=True)
class PathRelationship:
    type: str  # USED_IP, USED_DEVICE, PAID_WITH, HAS_EMAIL, HAS_PHONE, KNOWN_MEMBER_OF, OPERATED_BY, ...
    start: int  # index into the path's nodes
    end: int
    first_seen: str | None = None  # ISO 8601, for observation links
    last_seen: str | None = None
    count: int | None = None
    source: str | None = None  # KNOWN_MEMBER_OF: the earlier investigation


@dataclass(frozen=True)
class EvidencePath:
    """A path that exists in Neo4j: nodes by label and key, relationships between them."""

    nodes: tuple[PathNode, ...]
    relationships: tuple[PathRelationship, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": [vars(n) for n in self.nodes],
            "relationships": [vars(r) for r in self.relationships],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> EvidencePath:
        return EvidencePath(
            nodes=tuple(PathNode(**n) for n in data["nodes"]),
            relationships=tuple(PathRelationship(**r) for r in data["relationships"]),
        )


@dataclass(frozen=True)
class Evidence:
    """One evidence item: its log-likelihood ratio, its share of the explanation, a sentence, its paths."""

    kind: str
    llr: float
    share: float
    sentence: str
    paths: tuple[EvidencePath, ...]
    accounts: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "llr": self.llr,
            "share": self.share,
            "sentence": self.sentence,
            "accounts": list(self.accounts),
            "paths": [p.as_dict() for p in self.paths],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Evidence:
        return Evidence(
            kind=data["kind"],
            llr=float(data["llr"]),
            share=float(data["share"]),
            sentence=data["sentence"],
            accounts=tuple(data.get("accounts", ())),
            paths=tuple(EvidencePath.from_dict(p) for p in data.get("paths", ())),
        )


@dataclass(frozen=True)
class OrgAttribution:
    organization: str
    confidence: float
    prior_llr: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class RingSummary:
    ring_id: str
    run_id: str
    size: int
    score: float  # coordination probability
    organization: str | None  # the most likely organisation, if any has evidence
    attribution_confidence: float | None


@dataclass(frozen=True)
class RingMember:
    account_id: str
    membership_confidence: float


@dataclass(frozen=True)
class RingDetail:
    summary: RingSummary
    members: tuple[RingMember, ...]
    coordination_prior_llr: float
    coordination_evidence: tuple[Evidence, ...]
    attributions: tuple[OrgAttribution, ...]


@dataclass(frozen=True)
class AccountAttributionView:
    account_id: str
    run_id: str | None  # None when no detection run has completed yet
    ring: RingSummary | None
    membership_confidence: float | None
    attributions: tuple[OrgAttribution, ...]
