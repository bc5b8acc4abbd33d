"""Ring dossiers: one self-contained HTML page about a ring, to attach to a case.

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
from html import escape
from typing import Any, Final

import neo4j
from graph.analyst.charts import (
    COLORS,
    GraphEdge,
    GraphNode,
    TimelinePoint,
    WaterfallStep,
    graph_svg,
    hours_svg,
    timeline_svg,
    waterfall_svg,
)
from graph.analyst.operation_chart import CampaignBar, CampaignLink, campaigns_svg
from graph.analyst.queries import QUERY_DIR, read_query
from graph.behaviour.activity import duration
from graph.records import Evidence, EvidencePath, OperationRecord, OperationTie, RingDetail, RingRecord, RunRecord
from graph.store.dossier_reads import read_operation, read_organisation_ties, read_ring_record, read_shared_entities
from graph.store.library import run_query
from graph.store.results import MAX_MEMBER_PAGE_SIZE, ring_detail
from graph.store.runs import read_run

__all__ = [
    "ActivityProfile",
    "Dossier",
    "DrawingExtent",
    "OperationView",
    "SharedTemplate",
    "TimelineLink",
    "gather_dossier",
    "render_dossier",
    "ring_dossier",
]

#: What one page draws and lists at most: a drawing of more nodes is unreadable, and a page of any size
#: must stay cheap to build and to open.
_MAX_DRAWN_ACCOUNTS: Final = 60
_MAX_DRAWN_ENTITIES: Final = 60
_MAX_DRAWN_ORGANISATIONS: Final = 12
_MAX_MEMBER_ROWS: Final = MAX_MEMBER_PAGE_SIZE
_MAX_TIMELINE_ROWS: Final = 300
_MAX_TEMPLATE_ROWS: Final = 20
_MAX_PATHS_PER_ITEM: Final = 2
_MAX_TIE_ROWS: Final = 30
_NOT_ENTITIES: Final = frozenset({"Account", "Organization"})
_LEGEND: Final = ("Account", "Device", "PaymentMethod", "IP", "Email", "Phone", "PromptTemplate", "Organization")


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
                        {"ring_id": ring_id, "run_id": run_id, "limit": _MAX_TEMPLATE_ROWS})
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


def ring_dossier(driver: neo4j.Driver, database: str, ring_id: str, *, run_id: str | None = None) -> str:
    """The dossier page of a ring, as HTML text."""
    return render_dossier(gather_dossier(driver, database, ring_id, run_id=run_id))


# --- rendering -------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _minute(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _table(headers: list[str], rows: Sequence[Sequence[object]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{_e(css)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _steps(items: tuple[Evidence, ...]) -> list[WaterfallStep]:
    return [WaterfallStep(item.kind.replace("_", " "), item.llr, item.sentence) for item in items]


def _path_text(path: EvidencePath) -> str:
    """A path as Cypher-like text, as `ringtrace rings` prints it, to find again in Bloom or Browser."""
    text, position = f"({path.nodes[0].label} {path.nodes[0].value})", 0
    for rel in path.relationships:
        seen = ""
        if rel.first_seen:
            seen = f" {rel.first_seen[:16]}" + (f"..{rel.last_seen[:16]}" if rel.last_seen else "")
        label = f"[:{rel.type}{seen}{f' x{rel.count}' if rel.count else ''}]"
        if rel.start == position:
            text, position = text + f"-{label}->", rel.end
        else:
            text, position = text + f"<-{label}-", rel.start
        node = path.nodes[position]
        text += f"({node.label} {node.value})"
    return text


def _evidence_table(items: tuple[Evidence, ...]) -> str:
    """One row per item; under it, the first few of the graph paths that back it."""
    rows = []
    for item in items:
        cells = [item.kind, f"{item.llr:+.2f}", f"{item.share:.0%}", item.sentence, len(item.accounts)]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        if item.paths:
            shown = item.paths[:_MAX_PATHS_PER_ITEM]
            more = len(item.paths) - len(shown)
            lines = "".join(f'<div class="path">{_e(_path_text(p))}</div>' for p in shown)
            if more:
                lines += f'<div class="path more">and {more} more {"path" if more == 1 else "paths"}</div>'
            rows.append(f'<tr class="paths"><td colspan="{len(cells)}">{lines}</td></tr>')
    head = "".join(f"<th>{_e(h)}</th>" for h in ("evidence", "LLR", "share", "what it says", "accounts"))
    return f'<table class="evidence"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _activity_section(activity: ActivityProfile | None, templates: tuple[SharedTemplate, ...]) -> list[str]:
    if activity is None:
        return ["<p>The usage log has no requests from this ring's members.</p>"]
    active = sum(1 for count in activity.hours if count)
    cards = [("requests", f"{activity.requests:,}"), ("output tokens", f"{activity.output_tokens:,}"),
             ("hours of the day with requests", f"{active} of 24"),
             ("round-the-clock evenness", f"{activity.round_the_clock:.0%}")]
    if activity.model_switch is not None and activity.switch_hours is not None:
        cards.append((f"to {activity.model_switch} after its release", duration(activity.switch_hours)))
    categories = _table(["category", "share of requests"],
                        [[name, f"{share:.0%}"] for name, share in activity.categories], "categories")
    parts = [
        f'<p class="activity">{_e(activity.sentence)}</p>',
        '<div class="cards">' + "".join(f"<div class=\"card\"><b>{_e(v)}</b><span>{_e(k)}</span></div>"
                                        for k, v in cards) + "</div>",
        '<div class="cols"><div><h3>Requests by hour of the day (UTC)</h3>' + hours_svg(activity.hours) + "</div>"
        "<div><h3>Category mix</h3>" + categories + "</div></div>",
        "<h3>Prompt templates the members sent in common</h3>",
    ]
    if not templates:
        parts.append("<p>No template was sent by two or more members.</p>")
        return parts
    parts += [
        "<p>Families of near-duplicate prompts that two or more members sent, most members first. <i>Accounts "
        "in all</i> counts every sender: a template few accounts outside the ring send is telling, a popular "
        "public one is not. Only a template enough accounts sent keeps its skeleton (its shared words, the "
        "varying parts masked as …); no prompt text is stored.</p>",
        _table(["template", "members", "requests", "accounts in all", "first seen (UTC)", "last seen (UTC)",
                "skeleton"],
               [[t.fingerprint, t.members, f"{t.requests:,}", f"{t.accounts:,}",
                 _minute(t.first_seen), _minute(t.last_seen),
                 t.skeleton or "(not kept: too few senders)"] for t in templates], "templates"),
    ]
    if len(templates) >= _MAX_TEMPLATE_ROWS:
        parts.append(f'<p class="note">The {_MAX_TEMPLATE_ROWS} templates most members sent; '
                     "ringtrace query ring_templates lists them all.</p>")
    return parts


def _members_note(detail: RingDetail) -> str:
    if detail.member_count <= len(detail.members):
        return ""
    return (f'<p class="note">Listing the {len(detail.members):,} most confident of {detail.member_count:,} members; '
            f"the API lists them all, a page at a time (GET /v1/rings/{_e(detail.summary.ring_id)}, "
            "following members_next_cursor).</p>")


def _moment(text: str | None) -> datetime | None:
    """An ISO 8601 time as stored on a ring (UTC when no zone is given); None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(text: str | None) -> str:
    moment = _moment(text)
    return moment.date().isoformat() if moment is not None else "an unknown date"


def _ties_table(ties: Sequence[OperationTie], order: Sequence[str]) -> str:
    """One row per tie (the campaigns, earlier first, its kind, its sentence); under it the graph path behind it."""
    rows = []
    rank = {ring_id: i for i, ring_id in enumerate(order)}
    for tie in ties:
        first, second = sorted(tie.rings, key=lambda r: (rank.get(r, len(rank)), r))
        cells = [f"{first} and {second}", tie.kind.replace("_", " "), tie.sentence]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        if tie.paths:
            lines = "".join(f'<div class="path">{_e(_path_text(p))}</div>' for p in tie.paths[:_MAX_PATHS_PER_ITEM])
            rows.append(f'<tr class="paths"><td colspan="3">{lines}</td></tr>')
    head = "".join(f"<th>{_e(h)}</th>" for h in ("campaigns", "tie", "what ties them"))
    return f'<table class="ties"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _operation_section(view: OperationView | None, ring_id: str) -> list[str]:
    """The ring among the other campaigns of its operator: one timeline, and the ties as sentences."""
    if view is None:
        return ["<p>The detection run grouped this ring in no operation.</p>"]
    operation = view.operation
    if len(view.campaigns) <= 1:
        return [f"<p>Operation {_e(operation.operation_id)} is this ring alone: no other campaign of the run shares "
                "a card, device, phone, email or hosting address with it, holds a known member of the same "
                "organisation, or used the same organisation's own network.</p>"]
    ids = [c.ring_id for c in view.campaigns]
    position = ids.index(ring_id) + 1 if ring_id in ids else None
    who = (f"most confidently attributed to {_e(operation.organization)} ({operation.attribution_confidence:.3f})"
           if operation.organization and operation.attribution_confidence is not None
           else "attributed to no organisation")
    place = f"campaign {position} of {len(ids)}" if position else f"one of {len(ids)} campaigns"
    parts = [
        f"<p>This ring is {place} of operation <b>{_e(operation.operation_id)}</b>: rings of one operator, each a "
        "campaign cohesive in time, grouped by what ties them (a card, device, phone, email or hosting address "
        "members of both used, accounts an earlier case attributed to one organisation, or an organisation's "
        f"own network). Together {operation.size:,} accounts, active from {_e(_day(operation.active_from))} to "
        f"{_e(_day(operation.active_to))}; highest coordination score {_p(operation.score)}; {who}.</p>",
    ]
    kinds: dict[tuple[str, str], list[str]] = {}
    for tie in view.ties:
        pair = (min(tie.rings), max(tie.rings))
        if tie.kind not in kinds.setdefault(pair, []):
            kinds[pair].append(tie.kind)
    bars = [CampaignBar(c.ring_id, _moment(c.active_from), _moment(c.active_to), c.size, c.score, c.organization,
                        c.ring_id == ring_id) for c in view.campaigns]
    parts.append(campaigns_svg(bars, [CampaignLink(a, b, tuple(k.replace("_", " ") for k in kinds[(a, b)]))
                                      for a, b in sorted(kinds)]))
    own = [t for t in view.ties if ring_id in t.rings]
    others = [t for t in view.ties if ring_id not in t.rings]
    shown_own = own[:_MAX_TIE_ROWS]
    shown_others = others[:max(_MAX_TIE_ROWS - len(shown_own), 10)]
    parts.append("<h3>What ties this campaign to the others</h3>")
    parts.append(_ties_table(shown_own, ids) if shown_own else "<p>No tie of this campaign is recorded.</p>")
    if others:
        parts += ["<h3>What ties the other campaigns</h3>", _ties_table(shown_others, ids)]
    left = len(own) - len(shown_own) + len(others) - len(shown_others)
    if left > 0:
        parts.append(f'<p class="note">{left:,} more ties are not listed here; ringtrace operations '
                     f"{_e(operation.operation_id)} and GET /v1/operations/{_e(operation.operation_id)} show them.</p>")
    return parts


def _run_section(run: RunRecord | None, run_id: str) -> str:
    if run is None:
        return f"<p>No DetectionRun record for {_e(run_id)}.</p>"
    facts = [["run id", run.run_id], ["status", run.status], ["code version", run.version],
             ["started", run.started_at.isoformat() if run.started_at else ""],
             ["finished", run.finished_at.isoformat() if run.finished_at else ""]]
    counts = _table(["count", "value"], [[k, v] for k, v in sorted(run.counts.items())], "counts")
    timings = _table(["stage", "seconds"], [[k, f"{v:.3f}"] for k, v in run.timings.items()], "counts")
    return (_table(["field", "value"], facts, "facts") + '<div class="cols">' + counts + timings + "</div>"
            + "<h3>Parameters</h3><pre>" + _e(json.dumps(run.params, indent=2, sort_keys=True)) + "</pre>")


_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2430;margin:0;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;border-bottom:2px solid #e3e6eb;padding-bottom:4px;margin-top:32px}
h3{font-size:14px;margin:18px 0 6px}
.sub{color:#5b6472;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #e3e6eb;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}
.card span{color:#5b6472;font-size:12px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border-bottom:1px solid #e9ecf0;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f5}
tr.hl td{background:#fff3c4}
.cols{display:flex;gap:24px;flex-wrap:wrap}
pre{background:#f0f2f5;padding:10px;overflow:auto;font-size:12px}
svg{max-width:100%;height:auto;font-size:11px}
svg.graph{display:block;margin:0 auto;border:1px solid #e3e6eb;border-radius:6px;background:#fcfcfd}
.edge{stroke:#b8bec8;stroke-width:1}
.edge.KNOWN_MEMBER_OF,.edge.OPERATED_BY{stroke:#C990C0;stroke-width:2}
.edge.SENT{stroke:#569480;stroke-width:1.5;stroke-dasharray:4 2}
.node circle{stroke:#fff;stroke-width:1.5}
.node text{fill:#2a2c34;font-size:9px;paint-order:stroke;stroke:#fcfcfd;stroke-width:3px;stroke-linejoin:round}
.node.Organization text{font-weight:600;font-size:11px}
.node.hl circle{stroke:#d62728;stroke-width:4}
svg.graph .loose{fill:#8d99a8;font-size:10px;font-style:italic}
.waterfall rect{fill:#8d99a8}
.waterfall .up rect{fill:#2ca02c}
.waterfall .down rect{fill:#d62728}
.waterfall .total rect{fill:#1f4e8c}
.waterfall .prior rect{fill:#8d99a8}
.waterfall text{fill:#1d2430}
.waterfall .value{font-size:10px;fill:#5b6472}
.axis{stroke:#5b6472}
.connector{stroke:#8d99a8;stroke-dasharray:2 2}
.lane{font-size:9px;fill:#5b6472}
.lane-line{stroke:#eef0f3}
.tick{font-size:10px;fill:#5b6472}
.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
svg.hours{width:560px}
.hours rect{fill:#4C8EDA}
.hours .hour:hover rect{fill:#1f4e8c}
p.activity{font-size:15px}
tr.paths td{border-bottom:1px solid #e3e6eb;padding-top:0;padding-left:24px}
.path{font:11px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#3d4654;overflow-wrap:anywhere}
.path.more{font-style:italic;color:#8d99a8}
table.templates td:nth-child(5),table.templates td:nth-child(6){white-space:nowrap}
table.templates td:last-child{font-style:italic;color:#3d4654}
svg.campaigns{display:block;font-size:11px}
.campaigns .grid{stroke:#eef0f3}
.campaigns .ring{fill:#1d2430}
.campaign.current .ring{font-weight:600;fill:#D62728}
.campaigns .facts{fill:#3d4654}
.tie{fill:none;stroke:#8E44AD;stroke-opacity:.55;stroke-width:1.5}
.tie.current{stroke:#D62728;stroke-opacity:.85;stroke-width:2}
table.ties{width:100%;table-layout:fixed}
table.ties th:first-child{width:27%}
table.ties th:nth-child(2){width:11%}
footer{color:#8d99a8;font-size:12px;margin-top:32px}
.note{color:#5b6472;font-style:italic}
"""

_SCRIPT: Final = """
(function () {
  var rows = document.querySelectorAll('tr[data-node]');
  function mark(id, on) {
    var nodes = document.querySelectorAll('#evidence-graph g.node');
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].getAttribute('data-id') === id) { nodes[i].classList.toggle('hl', on); }
    }
  }
  for (var i = 0; i < rows.length; i++) {
    rows[i].addEventListener('mouseenter', function () {
      this.classList.add('hl'); mark(this.getAttribute('data-node'), true);
    });
    rows[i].addEventListener('mouseleave', function () {
      this.classList.remove('hl'); mark(this.getAttribute('data-node'), false);
    });
  }
  document.documentElement.setAttribute('data-ready', 'yes');
})();
"""


def render_dossier(dossier: Dossier) -> str:
    """The page. Pure: the same dossier gives the same HTML."""
    detail, summary = dossier.detail, dossier.detail.summary
    top = detail.attributions[0] if detail.attributions else None
    cards = [
        ("members", f"{detail.member_count:,}"),
        ("coordination score", _p(summary.score)),
        ("attributed to", top.organization if top else "no organisation"),
        ("attribution confidence", _p(top.confidence) if top else "n/a"),
    ]
    grouped = dossier.operation
    if grouped is not None and len(grouped.campaigns) > 1:
        cards.append((f"campaigns of operation {grouped.operation.operation_id}", f"{len(grouped.campaigns)}"))
    members = "".join(
        f'<tr data-node="{_e("Account:" + m.account_id)}"><td>{_e(m.account_id)}</td>'
        f"<td>{m.membership_confidence:.3f}</td></tr>"
        for m in detail.members
    )
    coordination_probability = summary.score
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
        "script-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Ring dossier {_e(summary.ring_id)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>Ring {_e(summary.ring_id)}</h1>",
        f'<p class="sub">Detection run {_e(summary.run_id)} · dossier generated '
        f"{_e(dossier.generated_at.replace(microsecond=0).isoformat())}</p>",
        '<div class="cards">' + "".join(f"<div class=\"card\"><b>{_e(v)}</b><span>{_e(k)}</span></div>"
                                        for k, v in cards) + "</div>",
        "<h2>Activity</h2>",
        *_activity_section(dossier.activity, dossier.templates),
        "<h2>Evidence subgraph</h2>",
        '<p class="legend">' + "".join(f'<span><i style="background:{COLORS[label]}"></i>{_e(label)}</span>'
                                       for label in _LEGEND) + "</p>",
        f'<p class="note" id="drawing-extent">{_e(dossier.drawing_extent().note())}</p>',
        graph_svg(list(dossier.nodes), list(dossier.edges)),
        "<h2>Coordination</h2>",
        "<p>How likely the ring is one operator rather than coincidental sharing: the prior log-odds plus each "
        "evidence item's log-likelihood ratio.</p>",
        waterfall_svg("coordination", detail.coordination_prior_llr, _steps(detail.coordination_evidence),
                      coordination_probability),
        _evidence_table(detail.coordination_evidence),
        "<h2>Attribution</h2>",
    ]
    if not detail.attributions:
        parts.append("<p>No organisation has evidence pointing to it.</p>")
    for attribution in detail.attributions[:3]:
        parts += [
            f"<h3>{_e(attribution.organization)} — confidence {attribution.confidence:.3f}</h3>",
            waterfall_svg(f"attribution to {attribution.organization}", attribution.prior_llr,
                          _steps(attribution.evidence), attribution.confidence),
            _evidence_table(attribution.evidence),
        ]
    if len(detail.attributions) > 3:
        parts.append(_table(["other organisation", "confidence"],
                            [[a.organization, f"{a.confidence:.3f}"] for a in detail.attributions[3:]]))
    parts += [
        "<h2>Operation</h2>",
        *_operation_section(dossier.operation, summary.ring_id),
        "<h2>Members</h2>",
        _members_note(detail),
        f'<table class="members"><thead><tr><th>account</th><th>membership confidence</th></tr></thead>'
        f"<tbody>{members}</tbody></table>",
        "<h2>Timeline of first-seen links</h2>",
        "<p>When each member was first seen with an entity another member also used.</p>",
        timeline_svg([TimelinePoint(t.first_seen, t.account_id, t.label, t.entity) for t in dossier.timeline]),
        _table(["first seen", "account", "link", "entity", "other members"],
               [[t.first_seen.isoformat(), t.account_id, t.relationship, f"{t.label} {t.entity}", t.shared_with]
                for t in dossier.timeline[:_MAX_TIMELINE_ROWS]], "timeline"),
        "<h2>Detection run (chain of custody)</h2>",
        _run_section(dossier.run, summary.run_id),
        "<footer>Generated by ringtrace from Neo4j. Scores are calibrated probabilities; each evidence item is "
        "backed by graph paths that can be opened in Neo4j Bloom or queried in Cypher.</footer>",
        f"</main><script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts)
