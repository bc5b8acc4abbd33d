"""Response and request models, named for what they show; built from `graph.records` dataclasses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator, model_validator

from graph.detection import (
    DEFAULT_CAMPAIGN_GAP_DAYS,
    DEFAULT_MERGE_WEIGHT,
    DEFAULT_METHOD,
    DEFAULT_MIN_SIZE,
    GDS_METHODS,
    METHODS,
)
from graph.ingest.rows import MAX_PROMPT_CHARS
from graph.records import (
    AccountAttributionView,
    Evidence,
    EvidencePath,
    OperationRecord,
    OperationTie,
    OrgAttribution,
    PathNode,
    PathRelationship,
    RingDetail,
    RingMember,
    RingSummary,
)
from graph.store.operation_reads import OperationDetail

__all__ = [
    "AccountAttributionOut",
    "DetectionRunOut",
    "DetectionStart",
    "EventIn",
    "EventRowError",
    "EventsIngested",
    "EvidenceOut",
    "EvidencePathOut",
    "Health",
    "LinkIn",
    "LinkRowError",
    "LinksIngested",
    "OperationDetailOut",
    "OperationPage",
    "OperationSummaryOut",
    "OperationTieOut",
    "OrgAttributionOut",
    "PathNodeOut",
    "PathRelationshipOut",
    "RingDetailOut",
    "RingMemberOut",
    "RingPage",
    "RingSummaryOut",
]


def _json_number(value: Any) -> Any:
    """JSON numbers only: no booleans, no numeric strings (1.0 still counts as the integer 1)."""
    if isinstance(value, bool | str):
        raise ValueError("expected a JSON number")
    return value


_NUMBER_ONLY = BeforeValidator(_json_number)  # after the constraints, so the schema still shows them

_EXAMPLE_PATH: dict[str, Any] = {
    "nodes": [
        {"label": "Account", "key": "account_id", "value": "acc-000123"},
        {"label": "Device", "key": "fingerprint", "value": "dev-9f2c"},
        {"label": "Account", "key": "account_id", "value": "acc-000456"},
    ],
    "relationships": [
        {"type": "USED_DEVICE", "start": 0, "end": 1, "first_seen": "2024-03-01T10:00:00+00:00",
         "last_seen": "2024-03-09T18:00:00+00:00", "count": 4, "source": None},
        {"type": "USED_DEVICE", "start": 2, "end": 1, "first_seen": "2024-03-02T08:00:00+00:00",
         "last_seen": "2024-03-08T21:00:00+00:00", "count": 2, "source": None},
    ],
}


class PathNodeOut(BaseModel):
    """A node of an evidence path: its label and the value of the label's key property."""

    label: str = Field(examples=["Device"])
    key: str = Field(examples=["fingerprint"])
    value: str = Field(examples=["dev-9f2c"])

    @classmethod
    def of(cls, node: PathNode) -> PathNodeOut:
        return cls(label=node.label, key=node.key, value=node.value)


class PathRelationshipOut(BaseModel):
    """A relationship between two nodes of the path (indexes into `nodes`), with its evidence properties."""

    type: str = Field(examples=["USED_DEVICE"])
    start: int
    end: int
    first_seen: str | None = None
    last_seen: str | None = None
    count: int | None = None
    source: str | None = Field(None, description="KNOWN_MEMBER_OF: the earlier investigation.")

    @classmethod
    def of(cls, rel: PathRelationship) -> PathRelationshipOut:
        return cls(type=rel.type, start=rel.start, end=rel.end, first_seen=rel.first_seen,
                   last_seen=rel.last_seen, count=rel.count, source=rel.source)


class EvidencePathOut(BaseModel):
    """A path that exists in Neo4j; open it in Bloom or match it in Cypher by the node keys."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_PATH]})

    nodes: list[PathNodeOut]
    relationships: list[PathRelationshipOut]

    @classmethod
    def of(cls, path: EvidencePath) -> EvidencePathOut:
        return cls(nodes=[PathNodeOut.of(n) for n in path.nodes],
                   relationships=[PathRelationshipOut.of(r) for r in path.relationships])


class EvidenceOut(BaseModel):
    """One evidence item: its log-likelihood ratio, its share of the explanation, a sentence and its paths."""

    kind: str = Field(examples=["shared_device"])
    llr: float = Field(description="Log-likelihood ratio this item adds to the log odds.", examples=[2.3])
    share: float = Field(description="Share of the explanation, by |llr|.", examples=[0.41])
    sentence: str = Field(examples=["5 of 7 members used device dev-9f2c"])
    accounts: list[str] = Field(default_factory=list)
    paths: list[EvidencePathOut]

    @classmethod
    def of(cls, item: Evidence) -> EvidenceOut:
        return cls(kind=item.kind, llr=item.llr, share=item.share, sentence=item.sentence,
                   accounts=list(item.accounts), paths=[EvidencePathOut.of(p) for p in item.paths])


class OrgAttributionOut(BaseModel):
    """How likely an organisation operates the ring, with the evidence ranked by contribution."""

    organization: str = Field(examples=["Example Actor Ltd"])
    confidence: float = Field(ge=0.0, le=1.0, examples=[0.93])
    prior_llr: float
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, attribution: OrgAttribution) -> OrgAttributionOut:
        return cls(organization=attribution.organization, confidence=attribution.confidence,
                   prior_llr=attribution.prior_llr, evidence=[EvidenceOut.of(e) for e in attribution.evidence])


class RingSummaryOut(BaseModel):
    """A ring as lists show it: size, coordination score, most likely organisation."""

    ring_id: str = Field(examples=["ring-3f9a2c"])
    run_id: str = Field(examples=["run-20240301T120000000000Z-a1b2c3"])
    size: int = Field(examples=[7])
    score: float = Field(description="Coordination probability.", examples=[0.97])
    organization: str | None = Field(examples=["Example Actor Ltd"])
    attribution_confidence: float | None = Field(examples=[0.93])
    requests: int = Field(0, ge=0, description="Requests the members sent (the usage log; 0 without one).",
                          examples=[48000])
    activity: str | None = Field(
        None, description="What the ring was doing, from its members' usage: volume, category, hours, model switch.",
        examples=["16 members sent 48,000 requests (61,200,000 output tokens); 92% of them reasoning; in 24 of "
                  "24 hours of the day; it moved to model-b 6 hours after its release (81% of members within a "
                  "day)."],
    )
    operation_id: str | None = Field(
        None, description="The operation (campaigns of one operator) the ring is part of; see /v1/operations.",
        examples=["op-7c1e04"],
    )
    active_from: str | None = Field(None, description="ISO 8601: when the campaign began (most members' "
                                                      "observations start after it).",
                                    examples=["2024-01-08T09:00:00Z"])
    active_to: str | None = Field(None, description="ISO 8601: when the campaign ended.",
                                  examples=["2024-02-19T17:30:00Z"])

    @classmethod
    def of(cls, ring: RingSummary) -> RingSummaryOut:
        return cls(ring_id=ring.ring_id, run_id=ring.run_id, size=ring.size, score=ring.score,
                   organization=ring.organization, attribution_confidence=ring.attribution_confidence,
                   requests=ring.requests, activity=ring.activity, operation_id=ring.operation_id,
                   active_from=ring.active_from, active_to=ring.active_to)


class RingMemberOut(BaseModel):
    """A member of the ring and how sure the run is that it belongs."""

    account_id: str = Field(examples=["acc-000123"])
    membership_confidence: float = Field(examples=[0.95])

    @classmethod
    def of(cls, member: RingMember) -> RingMemberOut:
        return cls(account_id=member.account_id, membership_confidence=member.membership_confidence)


class RingDetailOut(BaseModel):
    """One ring: a page of its members, coordination score with its evidence, attributions with theirs."""

    ring: RingSummaryOut
    members: list[RingMemberOut] = Field(
        description="A page of members, most confident first; `members_next_cursor` continues it."
    )
    member_count: int = Field(ge=0, description="How many members the ring has in this run, on all pages.",
                              examples=[412])
    members_next_cursor: str | None = Field(
        description="Pass as `members_after` for the next page of members; null on the last page."
    )
    coordination_prior_llr: float
    coordination_evidence: list[EvidenceOut]
    attributions: list[OrgAttributionOut]

    @classmethod
    def of(cls, detail: RingDetail) -> RingDetailOut:
        return cls(
            ring=RingSummaryOut.of(detail.summary),
            members=[RingMemberOut.of(m) for m in detail.members],
            member_count=detail.member_count,
            members_next_cursor=detail.members_next_cursor,
            coordination_prior_llr=detail.coordination_prior_llr,
            coordination_evidence=[EvidenceOut.of(e) for e in detail.coordination_evidence],
            attributions=[OrgAttributionOut.of(a) for a in detail.attributions],
        )


class RingPage(BaseModel):
    """A page of rings, highest score first; pass `next_cursor` as `cursor` for the next page."""

    rings: list[RingSummaryOut]
    next_cursor: str | None = Field(description="Null on the last page.")


class OperationSummaryOut(BaseModel):
    """An operation as lists show it: how many campaigns (rings) of one operator, and who that may be."""

    operation_id: str = Field(examples=["op-7c1e04"])
    campaigns: int = Field(ge=1, description="Rings grouped in the operation.", examples=[3])
    size: int = Field(ge=0, description="Accounts over all its rings.", examples=[41])
    ring_ids: list[str] = Field(description="Its rings in the order they ran, earliest first.",
                                examples=[["ring-3f9a2c", "ring-81d0e7", "ring-c44b19"]])
    score: float = Field(description="The highest coordination score of its rings.", examples=[0.97])
    organization: str | None = Field(description="The most confident attribution among its rings.",
                                     examples=["Example Actor Ltd"])
    attribution_confidence: float | None = Field(examples=[0.93])
    active_from: str | None = Field(description="ISO 8601: when its first campaign began.",
                                    examples=["2024-01-08T09:00:00Z"])
    active_to: str | None = Field(description="ISO 8601: when its last campaign ended.",
                                  examples=["2024-06-30T22:00:00Z"])

    @classmethod
    def of(cls, operation: OperationRecord) -> OperationSummaryOut:
        return cls(operation_id=operation.operation_id, campaigns=operation.campaigns, size=operation.size,
                   ring_ids=list(operation.ring_ids), score=operation.score, organization=operation.organization,
                   attribution_confidence=operation.attribution_confidence, active_from=operation.active_from,
                   active_to=operation.active_to)


class OperationTieOut(BaseModel):
    """Why two of the rings are campaigns of one operator: what they share, in a sentence and real paths."""

    kind: str = Field(description="payment, device, phone, email, ip, known_member or org_network.",
                      examples=["payment"])
    rings: list[str] = Field(min_length=2, max_length=2, description="The two rings the tie joins.",
                             examples=[["ring-3f9a2c", "ring-c44b19"]])
    sentence: str = Field(examples=["The same card pm-51e2 was used by acc-000123 of ring-3f9a2c and by "
                                    "acc-004410 of ring-c44b19; most of its users are in these rings."])
    paths: list[EvidencePathOut]

    @classmethod
    def of(cls, tie: OperationTie) -> OperationTieOut:
        return cls(kind=tie.kind, rings=list(tie.rings), sentence=tie.sentence,
                   paths=[EvidencePathOut.of(p) for p in tie.paths])


class OperationDetailOut(BaseModel):
    """One operation: its figures, its campaigns in the order they ran, and the ties between them."""

    run_id: str = Field(examples=["run-20240301T120000000000Z-a1b2c3"])
    operation: OperationSummaryOut
    campaigns: list[RingSummaryOut] = Field(description="Its rings, in the order of `operation.ring_ids`.")
    ties: list[OperationTieOut] = Field(description="What joins its rings (none for a single campaign).")

    @classmethod
    def of(cls, detail: OperationDetail) -> OperationDetailOut:
        return cls(run_id=detail.run_id, operation=OperationSummaryOut.of(detail.operation),
                   campaigns=[RingSummaryOut.of(r) for r in detail.rings],
                   ties=[OperationTieOut.of(t) for t in detail.operation.ties])


class OperationPage(BaseModel):
    """A page of operations, highest score first; pass `next_cursor` as `cursor` for the next page."""

    run_id: str | None = Field(description="The detection run answered from; null before any run completed.")
    operations: list[OperationSummaryOut]
    next_cursor: str | None = Field(description="Null on the last page.")


class AccountAttributionOut(BaseModel):
    """Is the account in a ring, attributed to whom, with what evidence."""

    account_id: str = Field(examples=["acc-000123"])
    run_id: str | None = Field(description="The detection run answered from; null before any run completed.")
    ring: RingSummaryOut | None
    membership_confidence: float | None
    attributions: list[OrgAttributionOut]

    @classmethod
    def of(cls, view: AccountAttributionView) -> AccountAttributionOut:
        return cls(
            account_id=view.account_id,
            run_id=view.run_id,
            ring=RingSummaryOut.of(view.ring) if view.ring is not None else None,
            membership_confidence=view.membership_confidence,
            attributions=[OrgAttributionOut.of(a) for a in view.attributions],
        )


class LinkIn(BaseModel):
    """One observation, the fields of links.csv. Values are checked like the loader checks a CSV row."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"account_id": "acc-000123", "kind": "device", "value": "dev-9f2c",
                                         "first_seen": "2024-03-01T10:00:00Z", "count": 3}]},
    )

    account_id: str = Field(max_length=256)
    kind: str = Field(max_length=32, description="ip, device, payment, email or phone.")
    value: str = Field(max_length=512)
    first_seen: str | None = Field(None, max_length=64, description="ISO 8601.")
    last_seen: str | None = Field(None, max_length=64, description="ISO 8601; not before first_seen.")
    count: Annotated[int, Field(ge=1, le=1_000_000), _NUMBER_ONLY] | None = Field(
        None, description="Times observed; 1 when absent."
    )
    brand: str | None = Field(None, max_length=64, description="payment only")
    bin: str | None = Field(None, max_length=16, description="payment only: 6-8 digits")
    last4: str | None = Field(None, max_length=8, description="payment only: 4 digits")
    country: str | None = Field(None, max_length=8, description="payment only")

    def as_fields(self) -> dict[str, str]:
        """The CSV fields `graph.ingest.rows.parse_link` takes."""
        return {name: "" if value is None else str(value) for name, value in self.model_dump().items()}


class LinkRowError(BaseModel):
    """A row that was not loaded: its position in `links`, the field at fault and why."""

    index: int = Field(examples=[3])
    field: str = Field(examples=["value"])
    reason: str = Field(examples=["malformed ip: not an IP address"])
    value: str = Field(examples=["999.1.1.1"])


class LinksIngested(BaseModel):
    """What a batch did. Rows with errors are skipped; the others are loaded together, once."""

    received: int
    loaded: int = Field(description="Valid rows written (or already written by an earlier request or load).")
    rejected: int
    applied: bool = Field(description="False when every observation was applied before: no count changed.")
    errors: list[LinkRowError]


class EventIn(BaseModel):
    """One request of the usage log, the fields of events.csv. Values are checked like the loader checks
    a CSV row; `prompt` is only fingerprinted: never stored, never echoed in a response or a problem."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"account_id": "acc-000123", "ts": "2024-03-01T10:00:00Z",
                                         "prompt": "Reconstruct step by step the proof that 17 is prime",
                                         "model": "model-x", "input_tokens": 12, "output_tokens": 480,
                                         "category": "reasoning", "ip": "203.0.113.7"}]},
    )

    account_id: str = Field(max_length=256)
    ts: str = Field(max_length=64, description="ISO 8601: when the request was made.")
    prompt: str | None = Field(
        None, max_length=MAX_PROMPT_CHARS,
        description="The request's text: fingerprinted into its template, never stored or returned.",
    )
    prompt_fingerprint: str | None = Field(
        None, max_length=512, description="The provider's own template id, when the text cannot be sent."
    )
    model: str | None = Field(None, max_length=256)
    input_tokens: Annotated[int, Field(ge=0, le=1_000_000_000), _NUMBER_ONLY] | None = None
    output_tokens: Annotated[int, Field(ge=0, le=1_000_000_000), _NUMBER_ONLY] | None = None
    category: str | None = Field(None, max_length=256, description="The provider's own classifier label.")
    ip: str | None = Field(None, max_length=128, description="Source address; an `ip` observation of the account.")
    count: Annotated[int, Field(ge=1, le=1_000_000), _NUMBER_ONLY] | None = Field(
        None, description="Requests this row stands for; 1 when absent."
    )

    def as_fields(self) -> dict[str, str]:
        """The CSV fields `graph.ingest.rows.parse_event` takes."""
        return {name: "" if value is None else str(value) for name, value in self.model_dump().items()}


class EventRowError(BaseModel):
    """An event that was not loaded: its position in `events`, the field at fault and why."""

    index: int = Field(examples=[3])
    field: str = Field(examples=["ts"])
    reason: str = Field(examples=["not an ISO 8601 timestamp (years 1 to 9999 in UTC)"])
    value: str | None = Field(description="An excerpt of the value; always null for `prompt`.",
                              examples=["yesterday"])


class EventsIngested(BaseModel):
    """What a batch did. Events with errors are skipped; the others are loaded together, each once."""

    received: int
    loaded: int = Field(description="Events new to the graph.")
    duplicates: int = Field(description="Valid events counted before (by an earlier request or load, "
                                        "or earlier in this batch): nothing changed for them.")
    rejected: int
    errors: list[EventRowError]


class DetectionStart(BaseModel):
    """Parameters of a detection run; all optional."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seed": 42, "min_size": 3}]})

    seed: Annotated[int, Field(ge=0, le=2**31 - 1), _NUMBER_ONLY] = 42
    method: str | None = Field(
        None, description="Community detection method; the default when absent.",
        json_schema_extra={"enum": [*sorted(METHODS), None]},
    )
    resolution: Annotated[float, Field(gt=0.0, le=100.0), _NUMBER_ONLY] | None = Field(
        None, description="Default depends on the method."
    )
    min_size: Annotated[
        int, Field(ge=2, le=10_000, description="Smallest ring, in accounts."), _NUMBER_ONLY
    ] = DEFAULT_MIN_SIZE
    merge: StrictBool = Field(
        True, description="Join communities linked by an edge of at least merge_weight, and co-acting groups.")
    merge_weight: Annotated[float, Field(gt=0.0, le=100.0), _NUMBER_ONLY] | None = Field(
        None, description=f"Default {DEFAULT_MERGE_WEIGHT}, as for `ringtrace detect`."
    )
    campaign_cut: StrictBool = Field(True, description="Cut a ring where its members' activity leaves a gap of "
                                                       "more than campaign_gap_days (one campaign per ring); "
                                                       "false never cuts, whatever campaign_gap_days says.")
    campaign_gap_days: Annotated[float, Field(ge=1.0, le=3650.0), _NUMBER_ONLY] | None = Field(
        None, description=f"Default {DEFAULT_CAMPAIGN_GAP_DAYS:g}, as for `ringtrace detect --campaign-gap`."
    )
    incremental: StrictBool = Field(
        False, description="Re-detect only the components changed since the latest completed run (with the same "
                           "parameters) and carry its other rings over: the same rings as a whole run. Without "
                           "such a run, the whole graph is detected (the run's counts say incremental_refused).",
    )

    backend: Literal["in-process", "gds"] = Field(
        "in-process", description="Where components and communities are computed: in ringtrace's process, or "
                                  "in Neo4j's Graph Data Science library (leiden-cpm and leiden-modularity; "
                                  "the server needs the GDS plugin, else 409).")

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str | None) -> str | None:
        if value is not None and value not in METHODS:
            raise ValueError(f"expected one of {', '.join(sorted(METHODS))}")
        return value

    @model_validator(mode="after")
    def _method_of_backend(self) -> DetectionStart:
        if self.backend == "gds" and (self.method or DEFAULT_METHOD) not in GDS_METHODS:
            raise ValueError(f"the gds backend runs {' or '.join(GDS_METHODS)}")
        return self


class DetectionRunOut(BaseModel):
    """A detection run: its status and, once finished, counts and timings."""

    run_id: str = Field(examples=["run-20240301T120000000000Z-a1b2c3"])
    status: Literal["pending", "running", "completed", "failed", "unknown"]
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    neo4j: Literal["up", "down", "unchecked"] = "unchecked"
