"""Ring dossiers, what one holds and how it is gathered from a completed run; the page itself, one
self-contained HTML file to attach to a case, is :mod:`graph.analyst.dossier_page`.

The page holds the ring's members and scores, what the ring was doing (its usage log's activity
summary: requests, output tokens, requests by hour of the day, category mix, and the prompt templates
its members sent in common), each attribution with its evidence as a waterfall of log-likelihood
ratios and the evidence's graph paths, a drawing of the evidence subgraph (accounts gathered around
the devices, cards, IPs, emails, phones and prompt templates they share, organisations), the operation
the ring is a campaign of (its campaigns on one timeline, the ties between them as sentences and
paths), the timeline of first-seen links, and the DetectionRun record (parameters, counts, code version, times) for the
chain of custody. Everything is inline (CSS, SVG, a few lines of script) and a Content-Security-Policy
forbids any fetch: the page works offline and stays the same when the database changes. Every value
is escaped.

A ring can hold thousands of accounts, so the page is bounded whatever its size: the drawing shows at
most 60 accounts and 60 shared entities, chosen by evidence rank (what the strongest evidence names
first, then the most confident members and the most widely shared entities) and says what it left
out; the member table lists the first 1,000 members, most confident first, and the template table the
20 templates most members sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import neo4j
from graph.analyst.charts import (
    GraphEdge,
    GraphNode,
)
from graph.analyst.queries import QUERY_DIR, read_query
from graph.records import Evidence, OperationRecord, OperationTie, RingDetail, RingRecord, RunRecord
from graph.store.dossier_reads import read_operation, read_organisation_ties, read_ring_record, read_shared_entities
from graph.store.library import run_query
from graph.store.results import MAX_MEMBER_PAGE_SIZE, ring_detail
from graph.store.runs import read_run

__all__ = [
    "MAX_TEMPLATE_ROWS",
    "ActivityProfile",
    "Dossier",
    "DrawingExtent",
    "OperationView",
    "SharedTemplate",
    "TimelineLink",
    "gather_dossier",
]

#: What one page draws and lists at most: a drawing of more nodes is unreadable, and a page of any size
#: must stay cheap to build and to open.
_MAX_DRAWN_ACCOUNTS: Final = 60
_MAX_DRAWN_ENTITIES: Final = 60
_MAX_DRAWN_ORGANISATIONS: Final = 12
_MAX_MEMBER_ROWS: Final = MAX_MEMBER_PAGE_SIZE
MAX_TEMPLATE_ROWS: Final = 20
_NOT_ENTITIES: Final = frozenset({"Account", "Organization"})


@dataclass(frozen=True)
class TimelineLink:
    first_seen: datetime
    account_id: str
    relationship: str
    label: str
    entity: str
    shared_with: int


@dataclass(frozen=True)
class ActivityProfile:
    """What the ring was doing, from its members' usage log (the ring record's activity summary)."""

    sentence: str
    requests: int
    output_tokens: int
    hours: tuple[int, ...]  # requests per UTC hour of the day, 24 of them
    categories: tuple[tuple[str, float], ...]  # (category, share of requests), largest first
    model_switch: str | None = None  # the first model the ring took up after its release
    switch_hours: float | None = None  # from that model's release to the ring's first use of it
    round_the_clock: float = 0.0  # evenness of the hours: 0 all in one hour, 1 every hour alike

    @classmethod
    def from_record(cls, ring: RingRecord) -> ActivityProfile | None:
        """None for a ring none of whose members is in the usage log."""
        if not ring.requests or not ring.activity_profile:
            return None
        profile = json.loads(ring.activity_profile)
        return cls(
            sentence=ring.activity or "",
            requests=ring.requests,
            output_tokens=ring.output_tokens,
            hours=tuple(int(count) for count in profile["hours"]),
            categories=tuple((str(name), float(share)) for name, share in profile.get("categories", ())),
            model_switch=profile.get("model_switch"),
            switch_hours=profile.get("switch_hours"),
            round_the_clock=float(profile.get("round_the_clock") or 0.0),
        )


@dataclass(frozen=True)
class SharedTemplate:
    """A prompt template two or more members sent (a row of `ringtrace query ring_templates`)."""

    fingerprint: str
    skeleton: str | None  # kept only for templates enough accounts sent
    members: int
    requests: int  # the members' requests with it
    accounts: int  # accounts that sent it at all: few outside the ring is telling
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class DrawingExtent:
    """How much of the ring the evidence drawing shows, against how much there is."""

    members_drawn: int
    members: int
    entities_drawn: int
    entities: int
    organisations_drawn: int = 0
    organisations: int = 0

    @property
    def capped(self) -> bool:
        return (self.members_drawn, self.entities_drawn, self.organisations_drawn) != (
            self.members, self.entities, self.organisations)

    def note(self) -> str:
        if not self.capped:
            return f"Showing all {self.members:,} members and {self.entities:,} shared entities."
        organisations = (f", {self.organisations_drawn:,} of {self.organisations:,} organisations"
                         if self.organisations_drawn != self.organisations else "")
        return (f"Showing {self.members_drawn:,} of {self.members:,} members and {self.entities_drawn:,} of "
                f"{self.entities:,} shared entities{organisations}: the drawing is capped, and shows what the "
                "strongest evidence names first, then the most confident members and the most widely shared "
                "entities.")


@dataclass(frozen=True)
class OperationView:
    """The operation the ring is a campaign of: its record, its campaigns in the order they ran, and the
    ties between them, those of this ring first."""

    operation: OperationRecord
    campaigns: tuple[RingRecord, ...]
    ties: tuple[OperationTie, ...]

    @classmethod
    def of(cls, ring_id: str, operation: OperationRecord, campaigns: Sequence[RingRecord],
           own: Sequence[OperationTie]) -> OperationView:
        """The ring's own ties (all of them), then the operation's others (the record keeps the first 50)."""
        seen = {(t.kind, t.rings, t.sentence) for t in own}
        others = [t for t in operation.ties if (t.kind, t.rings, t.sentence) not in seen and ring_id not in t.rings]
        return cls(operation, tuple(campaigns), (*own, *others))


@dataclass(frozen=True)
class Dossier:
    detail: RingDetail  # with the first page of members (at most 1,000)
    run: RunRecord | None
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    timeline: tuple[TimelineLink, ...]
    generated_at: datetime
    extent: DrawingExtent | None = None  # None: the nodes are all there is
    activity: ActivityProfile | None = None  # None: no usage log for the ring's members
    templates: tuple[SharedTemplate, ...] = ()  # most members first
    operation: OperationView | None = None  # None: the run grouped the ring in no operation

    def drawing_extent(self) -> DrawingExtent:
        if self.extent is not None:
            return self.extent
        members = {m.account_id for m in self.detail.members}
        drawn = sum(1 for n in self.nodes if n.label == "Account" and n.key in members)
        entities = sum(1 for n in self.nodes if n.label not in _NOT_ENTITIES)
        organisations = sum(1 for n in self.nodes if n.label == "Organization")
        return DrawingExtent(drawn, self.detail.member_count, entities, entities, organisations, organisations)


def _native(value: Any) -> datetime | None:
    if value is None:
        return None
    moment: datetime = value.to_native() if hasattr(value, "to_native") else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _evidence_items(detail: RingDetail) -> list[Evidence]:
    """Every evidence item of the ring, strongest first (coordination before attribution on ties)."""
    items = list(detail.coordination_evidence)
    for attribution in detail.attributions:
        items.extend(attribution.evidence)
    return sorted(items, key=lambda item: -abs(item.llr))  # stable: ties keep their stored rank


def _ranked_accounts(detail: RingDetail, items: list[Evidence]) -> dict[str, GraphNode]:
    """Accounts in drawing order: those the strongest evidence names (its paths, then its accounts),
    then the remaining members, most confident first."""
    members = {m.account_id: m.membership_confidence for m in detail.members}
    named: dict[str, str] = {}
    for item in items:
        for path in item.paths:
            for node in path.nodes:
                if node.label == "Account":
                    named.setdefault(node.value, item.kind)
        for account in item.accounts:
            named.setdefault(account, item.kind)
    for account in members:
        named.setdefault(account, "")
    ranked = {}
    for account, kind in named.items():
        note = (f"membership confidence {members[account]:.2f}" if account in members
                else f"named by the evidence ({kind})")
        ranked[account] = GraphNode(f"Account:{account}", "Account", account, note)
    return ranked


def _ranked_entities(items: list[Evidence], shared: list[dict[str, Any]]) -> dict[str, GraphNode]:
    """Shared entities in drawing order: those on the strongest evidence's paths, then the most shared."""
    ranked: dict[str, GraphNode] = {}
    for item in items:
        for path in item.paths:
            for node in path.nodes:
                node_id = f"{node.label}:{node.value}"
                if node.label not in _NOT_ENTITIES and node_id not in ranked:
                    ranked[node_id] = GraphNode(node_id, node.label, node.value, item.kind)
    for record in shared:  # most shared first, as read
        node_id = f"{record['label']}:{record['key']}"
        if node_id not in ranked:
            network = f", {record['network']} network" if record["network"] else ""
            ranked[node_id] = GraphNode(node_id, record["label"], record["key"],
                                        f"shared by {len(record['links'])} members{network}")
    return ranked


def _shared_templates(driver: neo4j.Driver, database: str, ring_id: str, run_id: str) -> tuple[SharedTemplate, ...]:
    """The library's ring_templates query, so the page and `ringtrace query ring_templates` agree."""
    query = read_query(QUERY_DIR / "ring_templates.cypher")
    _, rows = run_query(driver, database, query.cypher,
                        {"ring_id": ring_id, "run_id": run_id, "limit": MAX_TEMPLATE_ROWS})
    return tuple(SharedTemplate(row["fingerprint"], row["skeleton"], row["members"], row["requests"], row["accounts"],
                                _native(row["first_seen"]), _native(row["last_seen"])) for row in rows)


def _annotated(entities: dict[str, GraphNode], templates: tuple[SharedTemplate, ...]) -> dict[str, GraphNode]:
    """Template nodes say how many accounts sent them: a rare template is the telling one."""
    about = {f"PromptTemplate:{t.fingerprint}": t for t in templates}
    return {
        node_id: GraphNode(node.id, node.label, node.key, f"{node.note}; sent by {about[node_id].members} members, "
                                                           f"{about[node_id].accounts:,} accounts in all")
        if node_id in about else node
        for node_id, node in entities.items()
    }


def gather_dossier(driver: neo4j.Driver, database: str, ring_id: str, *, run_id: str | None = None) -> Dossier:
    """Read what the dossier shows; NotFoundError for an unknown ring or run."""
    detail = ring_detail(driver, database, ring_id, run_id=run_id, members_limit=_MAX_MEMBER_ROWS)
    run_id = detail.summary.run_id
    run = read_run(driver, database, run_id)
    found = read_ring_record(driver, database, ring_id, run_id)
    activity = ActivityProfile.from_record(found) if found is not None else None
    templates = _shared_templates(driver, database, ring_id, run_id) if activity is not None else ()
    shared = read_shared_entities(driver, database, ring_id, run_id)
    grouped = read_operation(driver, database, ring_id, run_id)
    operation = OperationView.of(ring_id, *grouped) if grouped is not None else None
    items = _evidence_items(detail)

    accounts = _ranked_accounts(detail, items)
    entities = _annotated(_ranked_entities(items, shared), templates)
    account_nodes = {node.id: node for node in list(accounts.values())[:_MAX_DRAWN_ACCOUNTS]}
    drawn_entities = dict(list(entities.items())[:_MAX_DRAWN_ENTITIES])
    drawn: dict[str, GraphNode] = {**account_nodes, **drawn_entities}

    organisations = [a.organization for a in detail.attributions]
    addresses = [n.key for n in drawn_entities.values() if n.label == "IP"]
    ties = [t for t in read_organisation_ties(driver, database, ring_id, run_id, addresses, organisations)
            if f"{t['label']}:{t['key']}" in drawn]
    # Organisations: on the strongest evidence's paths, the three most likely, then those tied to the drawing.
    candidates = [n.value for item in items for path in item.paths for n in path.nodes if n.label == "Organization"]
    candidates += organisations[:3] + [t["organization"] for t in ties]
    ranked_organisations = list(dict.fromkeys(candidates))
    for name in ranked_organisations[:_MAX_DRAWN_ORGANISATIONS]:
        drawn[f"Organization:{name}"] = GraphNode(f"Organization:{name}", "Organization", name)

    edges: set[GraphEdge] = set()
    for item in items:
        for path in item.paths:
            ids = [f"{n.label}:{n.value}" for n in path.nodes]
            edges.update(GraphEdge(ids[r.start], ids[r.end], r.type) for r in path.relationships
                         if ids[r.start] in drawn and ids[r.end] in drawn)
    timeline: list[TimelineLink] = []
    for record in shared:
        node_id = f"{record['label']}:{record['key']}"
        links = record["links"]
        for link in links:
            if node_id in drawn and f"Account:{link['account_id']}" in drawn:
                edges.add(GraphEdge(f"Account:{link['account_id']}", node_id, link["type"]))
            when = _native(link["first_seen"])
            if when is not None:
                timeline.append(TimelineLink(when, link["account_id"], link["type"], record["label"], record["key"],
                                             len(links) - 1))
    for tie in ties:
        org_id = f"Organization:{tie['organization']}"
        if org_id in drawn:
            edges.add(GraphEdge(f"{tie['label']}:{tie['key']}", org_id, tie["type"]))
    timeline.sort(key=lambda t: (t.first_seen, t.account_id, t.entity))

    members = {m.account_id for m in detail.members} | {a for i in detail.coordination_evidence for a in i.accounts}
    extent = DrawingExtent(
        members_drawn=sum(1 for node in account_nodes.values() if node.key in members),
        members=detail.member_count,
        entities_drawn=len(drawn_entities),
        entities=len(entities),
        organisations_drawn=min(len(ranked_organisations), _MAX_DRAWN_ORGANISATIONS),
        organisations=len(ranked_organisations),
    )
    return Dossier(detail, run, tuple(drawn.values()), tuple(sorted(edges, key=lambda e: (e.source, e.target, e.type))),
                   tuple(timeline), datetime.now(UTC), extent, activity, templates, operation)
