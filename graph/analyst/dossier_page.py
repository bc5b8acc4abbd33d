"""The ring dossier as one self-contained HTML page: what :mod:`graph.analyst.dossier` gathered, rendered.

Pure apart from :func:`ring_dossier`, which gathers first: the same dossier gives the same HTML. Every
value from the data is escaped; the page carries its CSS, SVG and a few lines of script inline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Final

import neo4j
from graph.analyst.charts import (
    COLORS,
    TimelinePoint,
    WaterfallStep,
    graph_svg,
    hours_svg,
    timeline_svg,
    waterfall_svg,
)
from graph.analyst.dossier import (
    MAX_TEMPLATE_ROWS,
    ActivityProfile,
    Dossier,
    OperationView,
    SharedTemplate,
    gather_dossier,
)
from graph.analyst.operation_chart import CampaignBar, CampaignLink, campaigns_svg
from graph.behaviour.activity import duration
from graph.records import Evidence, EvidencePath, OperationTie, RingDetail, RunRecord

__all__ = ["render_dossier", "ring_dossier"]

#: What the page lists at most (the drawing's caps live with the gathering, which applies them).
_MAX_TIMELINE_ROWS: Final = 300
_MAX_PATHS_PER_ITEM: Final = 2
_MAX_TIE_ROWS: Final = 30
_LEGEND: Final = ("Account", "Device", "PaymentMethod", "IP", "Email", "Phone", "PromptTemplate", "Organization")


def ring_dossier(driver: neo4j.Driver, database: str, ring_id: str, *, run_id: str | None = None) -> str:
    """The dossier page of a ring, as HTML text."""
    return render_dossier(gather_dossier(driver, database, ring_id, run_id=run_id))




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
    if len(templates) >= MAX_TEMPLATE_ROWS:
        parts.append(f'<p class="note">The {MAX_TEMPLATE_ROWS} templates most members sent; '
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
