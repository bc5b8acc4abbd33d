"""The records ringtrace writes to Neo4j and reads back, and the result shapes built from them.

A property name of a ring, membership, attribution or run exists here and nowhere else in Python:
write-back stores ``record.properties()``, reads rebuild the record ``from_properties``, and the
tests check the Cypher library and the Bloom perspective against :data:`STORED_PROPERTIES`. These
are the shapes the CLI prints and the API serialises; they carry no Neo4j types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

__all__ = [
    "STORED_PROPERTIES",
    "AccountAttributionView",
    "AttributionRecord",
    "Evidence",
    "EvidencePath",
    "MembershipRecord",
    "OperationRecord",
    "OperationTie",
    "OrgAttribution",
    "PartOfRecord",
    "PathNode",
    "PathRelationship",
    "RingDetail",
    "RingMember",
    "RingRecord",
    "RingSummary",
    "RunRecord",
    "ScoredRing",
    "evidence_from_json",
    "evidence_to_json",
    "ties_from_json",
    "ties_to_json",
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


def evidence_to_json(items: tuple[Evidence, ...]) -> str:
    return json.dumps([e.as_dict() for e in items], sort_keys=True)


def evidence_from_json(text: str | None) -> tuple[Evidence, ...]:
    return tuple(Evidence.from_dict(item) for item in json.loads(text)) if text else ()


def _float(value: Any, default: float = 0.0) -> float:
    return default if value is None else float(value)


@dataclass(frozen=True)
class RingRecord:
    """A ring as one run found it: on ``(:Ring)-[:FOUND_IN]->(:DetectionRun)``, and on the Ring node."""

    ring_id: str
    size: int
    score: float  # coordination probability
    organization: str | None  # the most likely organisation, if any has evidence
    attribution_confidence: float | None
    edges: int  # account pairs linked inside the ring
    weighted_density: float  # summed pair weight / pairs of members
    coordination_prior_llr: float
    coordination_evidence: tuple[Evidence, ...]
    requests: int = 0  # the usage log's requests by members (0 without one)
    output_tokens: int = 0
    activity: str | None = None  # what the ring was doing, in one sentence
    activity_profile: str | None = None  # JSON: hours (24 counts), categories (name, share), model switch
    operation_id: str | None = None  # the operation (campaigns of one operator) the ring is part of
    active_from: str | None = None  # ISO 8601: when most of the members' observations begin and end
    active_to: str | None = None

    def properties(self) -> dict[str, Any]:
        """The stored properties (all but the key); a None removes the property."""
        return {
            "operation_id": self.operation_id,
            "active_from": self.active_from,
            "active_to": self.active_to,
            "requests": self.requests,
            "output_tokens": self.output_tokens,
            "activity": self.activity,
            "activity_profile": self.activity_profile,
            "size": self.size,
            "score": self.score,
            "organization": self.organization,
            "attribution_confidence": self.attribution_confidence,
            "edges": self.edges,
            "weighted_density": self.weighted_density,
            "coordination_prior_llr": self.coordination_prior_llr,
            "coordination_evidence": evidence_to_json(self.coordination_evidence),
        }

    @classmethod
    def from_properties(cls, ring_id: str, p: dict[str, Any]) -> RingRecord:
        return cls(
            ring_id=ring_id,
            size=int(p.get("size") or 0),
            score=_float(p.get("score")),
            organization=p.get("organization"),
            attribution_confidence=p.get("attribution_confidence"),
            edges=int(p.get("edges") or 0),
            weighted_density=_float(p.get("weighted_density")),
            coordination_prior_llr=_float(p.get("coordination_prior_llr")),
            coordination_evidence=evidence_from_json(p.get("coordination_evidence")),
            requests=int(p.get("requests") or 0),
            output_tokens=int(p.get("output_tokens") or 0),
            activity=p.get("activity"),
            activity_profile=p.get("activity_profile"),
            operation_id=p.get("operation_id"),
            active_from=p.get("active_from"),
            active_to=p.get("active_to"),
        )

    def summary(self, run_id: str) -> RingSummary:
        return RingSummary(
            ring_id=self.ring_id, run_id=run_id, size=self.size, score=self.score,
            organization=self.organization, attribution_confidence=self.attribution_confidence,
            requests=self.requests, activity=self.activity, operation_id=self.operation_id,
            active_from=self.active_from, active_to=self.active_to,
        )


@dataclass(frozen=True)
class OperationTie:
    """Why two rings are campaigns of one operator: an asset, a known member or a network they share."""

    kind: str  # payment, device, phone, email, ip, known_member, org_network
    rings: tuple[str, str]
    sentence: str
    paths: tuple[EvidencePath, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rings": list(self.rings), "sentence": self.sentence,
                "paths": [p.as_dict() for p in self.paths]}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> OperationTie:
        first, second = data["rings"]
        return OperationTie(kind=data["kind"], rings=(first, second), sentence=data["sentence"],
                            paths=tuple(EvidencePath.from_dict(p) for p in data.get("paths", ())))


def ties_to_json(ties: tuple[OperationTie, ...]) -> str:
    return json.dumps([t.as_dict() for t in ties], sort_keys=True)


def ties_from_json(text: str | None) -> tuple[OperationTie, ...]:
    return tuple(OperationTie.from_dict(item) for item in json.loads(text)) if text else ()


@dataclass(frozen=True)
class OperationRecord:
    """An operation as one run found it: on ``(:Operation)-[:FOUND_IN]->(:DetectionRun)`` and the node.

    `score` is the highest coordination score of its rings; the organisation is the most confident
    attribution among them (each ring keeps its own); `ties` are what groups the rings.
    """

    operation_id: str
    campaigns: int
    size: int  # accounts over all its rings
    ring_ids: tuple[str, ...]  # by when they were active, earliest first
    score: float
    organization: str | None
    attribution_confidence: float | None
    active_from: str | None
    active_to: str | None
    ties: tuple[OperationTie, ...]

    def properties(self) -> dict[str, Any]:
        return {
            "campaigns": self.campaigns,
            "size": self.size,
            "ring_ids": list(self.ring_ids),
            "score": self.score,
            "organization": self.organization,
            "attribution_confidence": self.attribution_confidence,
            "active_from": self.active_from,
            "active_to": self.active_to,
            "ties": ties_to_json(self.ties),
        }

    @classmethod
    def from_properties(cls, operation_id: str, p: dict[str, Any]) -> OperationRecord:
        return cls(
            operation_id=operation_id,
            campaigns=int(p.get("campaigns") or 0),
            size=int(p.get("size") or 0),
            ring_ids=tuple(p.get("ring_ids") or ()),
            score=_float(p.get("score")),
            organization=p.get("organization"),
            attribution_confidence=p.get("attribution_confidence"),
            active_from=p.get("active_from"),
            active_to=p.get("active_to"),
            ties=ties_from_json(p.get("ties")),
        )


@dataclass(frozen=True)
class PartOfRecord:
    """``(:Ring)-[:PART_OF {run_id, evidence}]->(:Operation)``: `ties` are those that touch the ring."""

    ring_id: str
    operation_id: str
    ties: tuple[OperationTie, ...]


@dataclass(frozen=True)
class MembershipRecord:
    """``(:Account)-[:MEMBER_OF {run_id, confidence}]->(:Ring)``."""

    account_id: str
    ring_id: str
    confidence: float


@dataclass(frozen=True)
class AttributionRecord:
    """``(:Ring|Account)-[:ATTRIBUTED_TO {run_id, confidence, prior_llr, evidence}]->(:Organization)``.

    `subject` is the ring id or the account id; an account's attribution also names the account's
    ring in that run (`ring_id`, None outside rings).
    """

    subject: str
    organization: str
    confidence: float
    prior_llr: float
    evidence: tuple[Evidence, ...]
    ring_id: str | None = None

    def properties(self, *, with_ring: bool) -> dict[str, Any]:
        props: dict[str, Any] = {"prior_llr": self.prior_llr, "evidence": evidence_to_json(self.evidence)}
        if with_ring:
            props["ring_id"] = self.ring_id
        return props

    def view(self) -> OrgAttribution:
        return OrgAttribution(self.organization, self.confidence, self.prior_llr, self.evidence)

    @classmethod
    def from_properties(cls, subject: str, organization: str, p: dict[str, Any]) -> AttributionRecord:
        return cls(
            subject=subject,
            organization=organization,
            confidence=_float(p.get("confidence")),
            prior_llr=_float(p.get("prior_llr")),
            evidence=evidence_from_json(p.get("evidence")),
            ring_id=p.get("ring_id"),
        )


@dataclass(frozen=True)
class RunRecord:
    """``(:DetectionRun)``: the audit record of one detection run."""

    run_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    version: str
    params: dict[str, Any]
    counts: dict[str, Any]
    timings: dict[str, float]
    lineage: list[dict[str, Any]]
    error: str | None
    # The lease: a `running` run whose heartbeat is older than `lease_seconds` has lost its process.
    heartbeat_at: datetime | None = None
    lease_seconds: float | None = None
    previous_run_id: str | None = None


@dataclass(frozen=True)
class ScoredRing:
    """A ring of a run reduced to what evaluation compares with ground truth."""

    members: frozenset[str]
    score: float
    attributions: tuple[tuple[str, float], ...]  # (organisation, confidence), most likely first
    operation_id: str | None = None


def _names(record: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(record))


#: Every property ringtrace writes on result nodes and relationships, by what carries it.
STORED_PROPERTIES: Final[dict[str, frozenset[str]]] = {
    "Ring": _names(RingRecord) | {"run_id"},
    "FOUND_IN": (_names(RingRecord) - {"ring_id"}) | (_names(OperationRecord) - {"operation_id"}),
    "MEMBER_OF": frozenset({"run_id", "confidence"}),
    "ATTRIBUTED_TO": frozenset({"run_id", "confidence", "prior_llr", "evidence", "ring_id"}),
    "DetectionRun": _names(RunRecord) | {"previous_run_id"},
    "Operation": _names(OperationRecord) | {"run_id"},
    "PART_OF": frozenset({"run_id", "evidence"}),
}


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
    requests: int = 0  # the usage log's requests by members
    activity: str | None = None  # what the ring was doing, in one sentence
    operation_id: str | None = None
    active_from: str | None = None
    active_to: str | None = None


@dataclass(frozen=True)
class RingMember:
    account_id: str
    membership_confidence: float


@dataclass(frozen=True)
class RingDetail:
    """A ring with one page of its members (most confident first), its evidence and its attributions."""

    summary: RingSummary
    members: tuple[RingMember, ...]  # a page; `member_count` says how many the ring has
    coordination_prior_llr: float
    coordination_evidence: tuple[Evidence, ...]
    attributions: tuple[OrgAttribution, ...]
    member_count: int = 0  # members on all pages; left at 0, `members` is taken to be all of them
    members_next_cursor: str | None = None  # where the next page of members starts; None on the last page

    def __post_init__(self) -> None:
        # A ring has at least the members on this page: a smaller count means none was given.
        if self.member_count < len(self.members):
            object.__setattr__(self, "member_count", len(self.members))


@dataclass(frozen=True)
class AccountAttributionView:
    account_id: str
    run_id: str | None  # None when no detection run has completed yet
    ring: RingSummary | None
    membership_confidence: float | None
    attributions: tuple[OrgAttribution, ...]
