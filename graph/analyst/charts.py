"""Inline SVG for ring dossiers: the evidence waterfall, the evidence subgraph, the first-seen timeline,
the requests by hour of the day.

Pure functions from plain data to SVG text; every value that reaches the markup is escaped. Layouts are
deterministic (sorted input, no randomness), so the same ring always draws the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Final

from graph.analyst.layout import Shape, evidence_layout

__all__ = [
    "GraphEdge",
    "GraphNode",
    "TimelinePoint",
    "WaterfallStep",
    "graph_svg",
    "hours_svg",
    "timeline_svg",
    "waterfall_svg",
]

#: colour per node label, as in the Bloom perspective and the Browser style
COLORS: Final[dict[str, str]] = {
    "Account": "#4C8EDA", "IP": "#57C7E3", "Device": "#F79767", "PaymentMethod": "#FFC454",
    "Email": "#8DCC93", "Phone": "#D9C8AE", "Organization": "#C990C0", "Ring": "#F16667",
    "PromptTemplate": "#569480",
}
_RADIUS: Final = {"Account": 9.0, "Organization": 16.0}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _short(text: str, width: int = 16) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- waterfall -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaterfallStep:
    label: str
    llr: float
    detail: str = ""


def waterfall_svg(title: str, prior_llr: float, steps: list[WaterfallStep], probability: float) -> str:
    """How the prior and each evidence item's log-likelihood ratio add up to the final log-odds."""
    rows = [("prior", prior_llr, "log-odds before any evidence"), *((s.label, s.llr, s.detail) for s in steps)]
    total = prior_llr + sum(s.llr for s in steps)
    running, ends = 0.0, [0.0]
    for _, llr, _ in rows:
        running += llr
        ends.append(running)
    low, high = min(*ends, total, 0.0), max(*ends, total, 0.0)
    span = (high - low) or 1.0
    left, width, row_h, label_w = 250, 430, 24, 240
    height = (len(rows) + 2) * row_h + 30

    def x(value: float) -> float:
        return left + (value - low) / span * width

    parts = [
        f'<svg class="waterfall" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 90} {height}" '
        f'role="img" aria-label="{_e(title)}">',
        f'<line x1="{x(0):.1f}" y1="4" x2="{x(0):.1f}" y2="{height - 20}" class="axis"/>',
    ]
    start = 0.0
    for i, (label, llr, detail) in enumerate(rows):
        y = 8 + i * row_h
        end = start + llr
        kind = "prior" if i == 0 else ("up" if llr >= 0 else "down")
        x0, x1 = sorted((x(start), x(end)))
        parts.append(
            f'<g class="step {kind}"><title>{_e(label)}: {llr:+.2f} ({_e(detail)})</title>'
            f'<text x="{label_w}" y="{y + 15}" text-anchor="end">{_e(_short(label, 34))}</text>'
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{row_h - 8}"/>'
            f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 15}" class="value">{llr:+.2f}</text></g>'
        )
        if i < len(rows) - 1:
            parts.append(f'<line x1="{x(end):.1f}" y1="{y + row_h - 5}" x2="{x(end):.1f}" y2="{y + row_h + 3}" '
                         'class="connector"/>')
        start = end
    y = 8 + len(rows) * row_h
    x0, x1 = sorted((x(0), x(total)))
    parts.append(
        f'<g class="step total"><title>total log-odds {total:+.2f}, probability {probability:.3f}</title>'
        f'<text x="{label_w}" y="{y + 15}" text-anchor="end">total (p = {probability:.3f})</text>'
        f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{row_h - 8}"/>'
        f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 15}" class="value">{total:+.2f}</text></g>'
    )
    parts.append(f'<text x="{x(0):.1f}" y="{height - 6}" text-anchor="middle" class="tick">0</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- evidence subgraph -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphNode:
    id: str  # "Label:key"
    label: str
    key: str
    note: str = ""


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    type: str


def _text_length(node: GraphNode, shown: str) -> float:
    """About how long a label is, in drawing units (organisations are written larger)."""
    return len(shown) * (6.6 if node.label == "Organization" else 5.3)


def graph_svg(nodes: list[GraphNode], edges: list[GraphEdge], *, element_id: str = "evidence-graph") -> str:
    """Members gathered around the devices, cards, addresses and templates they share.

    :func:`graph.analyst.layout.evidence_layout` places the nodes: groups of members round what they
    share, what ties groups between them, deterministic for the same data. A link to a widely shared
    entity is drawn fainter: it says less about who belongs with whom.
    """
    by_id = {n.id: n for n in sorted(nodes, key=lambda n: n.id)}
    drawn = sorted({(e.source, e.target, e.type) for e in edges if e.source in by_id and e.target in by_id})
    texts = {key: node.key if node.label in ("Account", "Organization") else _short(node.key)
             for key, node in by_id.items()}
    shapes = {key: Shape(node.label, _RADIUS.get(node.label, 7.0), _text_length(node, texts[key]))
              for key, node in by_id.items()}
    placed = evidence_layout(shapes, [(s, t) for s, t, _ in drawn])
    degree: dict[str, int] = {}
    for source, target, _ in drawn:
        degree[source] = degree.get(source, 0) + 1
        degree[target] = degree.get(target, 0) + 1

    boxes = [placed[key].box(shape.radius, shape.text) for key, shape in shapes.items()] or [(0.0, 0.0, 100.0, 100.0)]
    margin = 12.0
    low_x, low_y = min(b[0] for b in boxes) - margin, min(b[1] for b in boxes) - margin
    wide, high = max(b[2] for b in boxes) - low_x + margin, max(b[3] for b in boxes) - low_y + margin
    # Drawn at its own size (a unit a pixel) unless the page is narrower, so text keeps its size.
    parts = [f'<svg id="{_e(element_id)}" class="graph" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="{low_x:.0f} {low_y:.0f} {wide:.0f} {high:.0f}" width="{wide:.0f}" role="img" '
             'aria-label="evidence subgraph">']
    parts.append('<g class="edges">')
    for source, target, kind in drawn:
        a, b = placed[source], placed[target]
        hub = max(degree[source], degree[target])
        opacity = 0.9 if hub <= 3 else max(0.25, 0.9 * math.sqrt(3 / hub))
        parts.append(f'<line x1="{a.x:.1f}" y1="{a.y:.1f}" x2="{b.x:.1f}" y2="{b.y:.1f}" '
                     f'class="edge {_e(kind)}" stroke-opacity="{opacity:.2f}" data-source="{_e(source)}" '
                     f'data-target="{_e(target)}"><title>{_e(kind)}</title></line>')
    parts.append("</g>")
    loose = [key for key in by_id if key not in degree]
    if loose and degree:  # entities whose members the capped drawing leaves out
        first = min((placed[k] for k in loose), key=lambda p: (p.y, p.x))
        parts.append(f'<text x="{first.x - 7:.1f}" y="{first.y - 16:.1f}" class="loose">'
                     "linked to no member drawn here:</text>")
    parts.append('<g class="nodes">')
    for key, node in by_id.items():
        p, r = placed[key], shapes[key].radius
        tx, ty, anchor = p.anchor(r)
        if p.turned:  # along the radius, read left to right on either side
            angle = math.degrees(math.atan2(p.dy, p.dx)) + (180 if p.dx < 0 else 0)
            turn = f' transform="rotate({angle:.1f} {tx:.1f} {ty:.1f})"'
            ty += 3
        else:
            turn = ""
            ty += 3 if anchor != "middle" else (9 if p.dy > 0 else -1)
        parts.append(
            f'<g class="node {_e(node.label)}" data-id="{_e(key)}">'
            f'<title>{_e(node.label)} {_e(node.key)}{(" - " + _e(node.note)) if node.note else ""}</title>'
            f'<circle cx="{p.x:.1f}" cy="{p.y:.1f}" r="{r}" fill="{COLORS.get(node.label, "#A5ABB6")}"/>'
            f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}"{turn}>{_e(texts[key])}</text></g>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


# --- timeline --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelinePoint:
    when: datetime
    account_id: str
    label: str  # the entity's label
    entity: str


def timeline_svg(points: list[TimelinePoint], *, max_lanes: int = 60) -> str:
    """One lane per account (in order of its first shared link), a dot per first-seen link."""
    if not points:
        return '<p class="empty">No dated links to shared entities.</p>'
    first: dict[str, datetime] = {}
    for p in sorted(points, key=lambda p: (p.when, p.account_id)):
        first.setdefault(p.account_id, p.when)
    lanes = sorted(first, key=lambda a: (first[a], a))[:max_lanes]
    lane_of = {a: i for i, a in enumerate(lanes)}
    start, end = min(p.when for p in points), max(p.when for p in points)
    span = (end - start).total_seconds() or 1.0
    left, width, lane_h = 120, 700, 14
    height = len(lanes) * lane_h + 40

    def x(moment: datetime) -> float:
        return left + (moment - start).total_seconds() / span * width

    parts = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 20} {height}" '
             'role="img" aria-label="first-seen links over time">']
    for account, i in lane_of.items():
        y = 10 + i * lane_h
        parts.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" class="lane">{_e(account)}</text>'
                     f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" class="lane-line"/>')
    for p in sorted(points, key=lambda p: (p.when, p.account_id, p.entity)):
        if p.account_id in lane_of:
            y = 10 + lane_of[p.account_id] * lane_h
            parts.append(f'<circle cx="{x(p.when):.1f}" cy="{y}" r="3.5" fill="{COLORS.get(p.label, "#A5ABB6")}">'
                         f'<title>{_e(p.when.isoformat())} {_e(p.account_id)} - {_e(p.label)} {_e(p.entity)}</title>'
                         '</circle>')
    axis_y = height - 18
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + width}" y2="{axis_y}" class="axis"/>')
    parts.append(f'<text x="{left}" y="{axis_y + 14}" class="tick">{_e(start.date().isoformat())}</text>')
    parts.append(f'<text x="{left + width}" y="{axis_y + 14}" text-anchor="end" class="tick">'
                 f'{_e(end.date().isoformat())}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- hours of the day ------------------------------------------------------------------------------


def hours_svg(counts: Sequence[int]) -> str:
    """Requests per UTC hour of the day, a bar each: an operator's pipeline runs at every hour, people sleep."""
    if len(counts) != 24:
        raise ValueError(f"expected 24 hourly counts, got {len(counts)}")
    total, peak = sum(counts), max(counts) or 1
    left, bar_w, gap, top, plot_h = 34, 18, 4, 10, 110
    width, height = left + 24 * (bar_w + gap) + 10, top + plot_h + 34
    base = top + plot_h
    parts = [f'<svg class="hours" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             'aria-label="requests by hour of the day, UTC">',
             f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" class="axis"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="tick">{peak:,}</text>',
             f'<text x="{left - 4}" y="{base}" text-anchor="end" class="tick">0</text>']
    for hour, count in enumerate(counts):
        x = left + gap / 2 + hour * (bar_w + gap)
        h = plot_h * count / peak
        share = count / total if total else 0.0
        parts.append(f'<g class="hour"><title>{hour:02d}:00-{(hour + 1) % 24:02d}:00 UTC: {count:,} requests '
                     f'({share:.0%})</title><rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w}" '
                     f'height="{max(h, 0.5):.1f}"/></g>')
        if hour % 3 == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                         f'class="tick">{hour:02d}</text>')
    parts.append(f'<text x="{left + 12 * (bar_w + gap):.1f}" y="{base + 30}" text-anchor="middle" '
                 'class="tick">hour of the day (UTC)</text>')
    parts.append("</svg>")
    return "".join(parts)
