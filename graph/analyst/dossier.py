"""Ring dossiers: one self-contained HTML page about a ring, to attach to a case.

The page holds the ring's members and scores, each attribution with its evidence as a waterfall of
log-likelihood ratios, a drawing of the evidence subgraph (accounts, the devices, cards, IPs, emails
and phones they share, organisations), the timeline of first-seen links, and the DetectionRun record
(parameters, counts, code version, times) for the chain of custody. Everything is inline (CSS, SVG,
a few lines of script) and a Content-Security-Policy forbids any fetch: the page works offline and
stays the same when the database changes. Every value is escaped.
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
    GraphEdge,
    GraphNode,
    TimelinePoint,
    WaterfallStep,
    graph_svg,
    timeline_svg,
    waterfall_svg,
)
from graph.records import Evidence, RingDetail, RunRecord
from graph.store.dossier_reads import read_organisation_ties, read_shared_entities
from graph.store.results import ring_detail
from graph.store.runs import read_run

__all__ = ["Dossier", "TimelineLink", "gather_dossier", "render_dossier", "ring_dossier"]

_MAX_ENTITIES: Final = 60
_MAX_TIMELINE_ROWS: Final = 300



@dataclass(frozen=True)
class TimelineLink:
    first_seen: datetime
    account_id: str
    relationship: str
    label: str
    entity: str
    shared_with: int


@dataclass(frozen=True)
class Dossier:
    detail: RingDetail
    run: RunRecord | None
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    timeline: tuple[TimelineLink, ...]
    generated_at: datetime


def _native(value: Any) -> datetime | None:
    if value is None:
        return None
    moment: datetime = value.to_native() if hasattr(value, "to_native") else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _evidence_items(detail: RingDetail) -> list[Evidence]:
    items = list(detail.coordination_evidence)
    for attribution in detail.attributions:
        items.extend(attribution.evidence)
    return items


def gather_dossier(driver: neo4j.Driver, database: str, ring_id: str, *, run_id: str | None = None) -> Dossier:
    """Read what the dossier shows; NotFoundError for an unknown ring or run."""
    detail = ring_detail(driver, database, ring_id, run_id=run_id)
    run_id = detail.summary.run_id
    run = read_run(driver, database, run_id)
    shared = read_shared_entities(driver, database, ring_id, run_id)

    nodes: dict[str, GraphNode] = {}
    edges: set[GraphEdge] = set()
    for member in detail.members:
        nodes[f"Account:{member.account_id}"] = GraphNode(
            f"Account:{member.account_id}", "Account", member.account_id,
            f"membership confidence {member.membership_confidence:.2f}")
    # Evidence paths first: they are what the scores rest on.
    for item in _evidence_items(detail):
        for path in item.paths:
            ids = [f"{n.label}:{n.value}" for n in path.nodes]
            for n, node_id in zip(path.nodes, ids, strict=True):
                nodes.setdefault(node_id, GraphNode(node_id, n.label, n.value, item.kind))
            for rel in path.relationships:
                edges.add(GraphEdge(ids[rel.start], ids[rel.end], rel.type))
    timeline: list[TimelineLink] = []
    entity_count = sum(1 for n in nodes.values() if n.label not in ("Account", "Organization"))
    for record in shared:
        node_id = f"{record['label']}:{record['key']}"
        links = record["links"]
        if node_id not in nodes and entity_count < _MAX_ENTITIES:
            note = f"shared by {len(links)} members" + (f", {record['network']} network" if record["network"] else "")
            nodes[node_id] = GraphNode(node_id, record["label"], record["key"], note)
            entity_count += 1
        for link in links:
            if node_id in nodes:
                edges.add(GraphEdge(f"Account:{link['account_id']}", node_id, link["type"]))
            when = _native(link["first_seen"])
            if when is not None:
                timeline.append(TimelineLink(when, link["account_id"], link["type"], record["label"], record["key"],
                                             len(links) - 1))
    organisations = [a.organization for a in detail.attributions]
    addresses = [n.key for n in nodes.values() if n.label == "IP"]
    related = read_organisation_ties(driver, database, ring_id, run_id, addresses, organisations)
    for record in related:
        org_id = f"Organization:{record['organization']}"
        nodes.setdefault(org_id, GraphNode(org_id, "Organization", record["organization"]))
        edges.add(GraphEdge(f"{record['label']}:{record['key']}", org_id, record["type"]))
    for name in organisations[:3]:
        nodes.setdefault(f"Organization:{name}", GraphNode(f"Organization:{name}", "Organization", name))
    timeline.sort(key=lambda t: (t.first_seen, t.account_id, t.entity))
    return Dossier(detail, run, tuple(nodes.values()), tuple(sorted(edges, key=lambda e: (e.source, e.target, e.type))),
                   tuple(timeline), datetime.now(UTC))


def ring_dossier(driver: neo4j.Driver, database: str, ring_id: str, *, run_id: str | None = None) -> str:
    """The dossier page of a ring, as HTML text."""
    return render_dossier(gather_dossier(driver, database, ring_id, run_id=run_id))


# --- rendering -------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _table(headers: list[str], rows: Sequence[Sequence[object]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{_e(css)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _steps(items: tuple[Evidence, ...]) -> list[WaterfallStep]:
    return [WaterfallStep(item.kind.replace("_", " "), item.llr, item.sentence) for item in items]


def _evidence_table(items: tuple[Evidence, ...]) -> str:
    return _table(["evidence", "LLR", "share", "what it says", "accounts"],
                  [[i.kind, f"{i.llr:+.2f}", f"{i.share:.0%}", i.sentence, len(i.accounts)] for i in items],
                  "evidence")


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
svg.graph{display:block;margin:0 auto;max-height:900px;border:1px solid #e3e6eb;border-radius:6px;background:#fcfcfd}
.edge{stroke:#b8bec8;stroke-width:1}
.edge.KNOWN_MEMBER_OF,.edge.OPERATED_BY{stroke:#C990C0;stroke-width:2}
.node circle{stroke:#fff;stroke-width:1.5}
.node text{fill:#2a2c34;font-size:9px}
.node.Organization text{font-weight:600;font-size:11px}
.node.hl circle{stroke:#d62728;stroke-width:4}
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
footer{color:#8d99a8;font-size:12px;margin-top:32px}
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
        ("members", str(len(detail.members))),
        ("coordination score", _p(summary.score)),
        ("attributed to", top.organization if top else "no organisation"),
        ("attribution confidence", _p(top.confidence) if top else "n/a"),
    ]
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
        "<h2>Evidence subgraph</h2>",
        '<p class="legend">' + "".join(
            f'<span><i style="background:{color}"></i>{_e(label)}</span>'
            for label, color in (("Account", "#4C8EDA"), ("Device", "#F79767"), ("PaymentMethod", "#FFC454"),
                                 ("IP", "#57C7E3"), ("Email", "#8DCC93"), ("Phone", "#D9C8AE"),
                                 ("Organization", "#C990C0"))) + "</p>",
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
        "<h2>Members</h2>",
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
