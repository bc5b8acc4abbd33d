"""Hostile names in a ring's data reach the dossier's tables and drawings as text, never as markup.

Account ids, entity keys, organisation names, evidence sentences, a provider's template ids and
categories, and template skeletons (words of prompts) come from the loaded data (an attacker can
choose their own account id and prompts). They are fed through every part of the page that shows
data: the cards, the activity summary, the template table, the waterfalls, the evidence paths, the
evidence subgraph (nodes, edges, tooltips), the operation (its campaigns' timeline, the ties between
them), the timeline and the run record. The page must hold no
element or attribute the data wrote, every inline SVG must still be well-formed XML, and the hostile
text must be there, escaped, where the data belongs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

from graph.analyst.charts import GraphEdge, GraphNode
from graph.analyst.dossier import (
    ActivityProfile,
    Dossier,
    OperationView,
    SharedTemplate,
    TimelineLink,
)
from graph.analyst.dossier_page import render_dossier
from graph.records import (
    Evidence,
    EvidencePath,
    OperationRecord,
    OperationTie,
    OrgAttribution,
    PathNode,
    PathRelationship,
    RingDetail,
    RingMember,
    RingRecord,
    RingSummary,
    RunRecord,
)

SCRIPT = "<script>alert('x')</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
CDATA = "]]><svg onload=alert(2)>"
MARKUP = "<iframe src=//evil.example></iframe>&amp;"
QUOTE = "' onmouseover='alert(3)"
HOSTILE = (SCRIPT, BREAKOUT, CDATA, MARKUP, QUOTE)

#: Every element the page itself writes; anything else came from data.
_PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "div", "b", "span",
              "i", "svg", "g", "line", "text", "rect", "circle", "table", "thead", "tbody", "tr", "th", "td", "pre",
              "footer", "script", "path"}
_WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class _Page(HTMLParser):
    """Tags with their attributes, and the text inside each kind of element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.open: list[str] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in ("meta", "line", "rect", "circle"):  # written without a closing tag, or self-closed
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.open:
            self.text.setdefault(self.open[-1], []).append(data)


def _hostile_dossier() -> Dossier:
    accounts = [SCRIPT, BREAKOUT, QUOTE]
    device, email, organisation = BREAKOUT + "-dev", MARKUP, CDATA
    path = EvidencePath(
        nodes=(PathNode("Account", "account_id", accounts[0]), PathNode("Device", "fingerprint", device),
               PathNode("Account", "account_id", accounts[1]), PathNode("Organization", "name", organisation)),
        relationships=(PathRelationship("USED_DEVICE", 0, 1, first_seen=_WHEN.isoformat(), count=2),
                       PathRelationship("USED_DEVICE", 2, 1), PathRelationship("KNOWN_MEMBER_OF", 2, 3,
                                                                                 source=MARKUP)),
    )
    coordination = Evidence("shared_device", 3.5, 0.7, f"3 accounts share {device} {SCRIPT}", (path,),
                            tuple(accounts))
    template = QUOTE + "-template"
    sent = EvidencePath(
        nodes=(PathNode("Account", "account_id", accounts[0]), PathNode("PromptTemplate", "fingerprint", template),
               PathNode("Account", "account_id", accounts[2])),
        relationships=(PathRelationship("SENT", 0, 1, first_seen=_WHEN.isoformat(), last_seen=_WHEN.isoformat(),
                                        count=4), PathRelationship("SENT", 2, 1)),
    )
    coaction = Evidence("coaction", 1.5, 0.3, f"2 members sent {template} together", (sent,), (accounts[0],))
    attribution = Evidence("known_member_in_ring", 2.0, 1.0, f"{QUOTE} was attributed to {organisation}", (path,),
                           (accounts[1],))
    detail = RingDetail(
        summary=RingSummary("ring-" + SCRIPT, "run-" + BREAKOUT, len(accounts), 0.9, organisation, 0.8),
        members=tuple(RingMember(a, 0.9 - i / 10) for i, a in enumerate(accounts)),
        coordination_prior_llr=-1.5,
        coordination_evidence=(coordination, coaction),
        attributions=(OrgAttribution(organisation, 0.8, -1.0, (attribution,)),
                      *(OrgAttribution(f"{h}-{i}", 0.1, -1.0, ()) for i, h in enumerate(HOSTILE))),
    )
    nodes = (
        *(GraphNode(f"Account:{a}", "Account", a, f"membership confidence 0.9 {QUOTE}") for a in accounts),
        GraphNode(f"Device:{device}", "Device", device, f"shared by 3 members, {MARKUP} network"),
        GraphNode(f"Email:{email}", "Email", email, CDATA),
        GraphNode(f"Organization:{organisation}", "Organization", organisation),
        GraphNode(f"PromptTemplate:{template}", "PromptTemplate", template, f"coaction; {SCRIPT}"),
    )
    edges = (
        GraphEdge(f"Account:{accounts[0]}", f"PromptTemplate:{template}", "SENT"),
        *(GraphEdge(f"Account:{a}", f"Device:{device}", "USED_DEVICE") for a in accounts),
        GraphEdge(f"Account:{accounts[0]}", f"Email:{email}", "HAS_EMAIL"),
        GraphEdge(f"Account:{accounts[1]}", f"Organization:{organisation}", "KNOWN_MEMBER_OF"),
    )
    timeline = tuple(
        TimelineLink(_WHEN.replace(day=1 + i), a, "USED_DEVICE", "Device", device, 2) for i, a in enumerate(accounts)
    )
    run = RunRecord(run_id="run-" + BREAKOUT, status="completed", started_at=_WHEN, finished_at=_WHEN,
                    version=MARKUP, params={"method": SCRIPT}, counts={CDATA: 3}, timings={QUOTE: 0.25},
                    lineage=[], error=None)
    activity = ActivityProfile(f"{SCRIPT} sent 3 requests", 3, 120, (1, 2) + (0,) * 22,
                               ((BREAKOUT, 0.67), (MARKUP, 0.33)), model_switch=QUOTE, switch_hours=5.0)
    templates = (SharedTemplate(template, f"{CDATA} … {SCRIPT}", 2, 3, 7, _WHEN, _WHEN),
                 SharedTemplate(MARKUP, None, 2, 2, 2, _WHEN, _WHEN))
    ring_id, sibling = detail.summary.ring_id, "ring-" + QUOTE
    tie = OperationTie("known_member", (sibling, ring_id), f"Both campaigns hold members of {organisation} {SCRIPT}",
                       (path,))
    operation = OperationRecord("op-" + SCRIPT, 2, 5, (sibling, ring_id), 0.9, organisation, 0.8,
                                "2025-11-01T00:00:00Z", "2026-03-02T00:00:00Z", (tie,))
    campaigns = tuple(RingRecord(r, size, 0.9, organisation, 0.8, 1, 1.0, -1.0, (), active_from=start,
                                 active_to=end)
                      for r, size, start, end in ((sibling, 2, "2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z"),
                                                  (ring_id, 3, "2026-02-01T00:00:00Z", "2026-03-02T00:00:00Z")))
    return Dossier(detail, run, nodes, edges, timeline, _WHEN, activity=activity, templates=templates,
                   operation=OperationView.of(ring_id, operation, campaigns, (tie,)))


def test_hostile_names_are_text_everywhere_on_the_page() -> None:
    dossier = _hostile_dossier()
    page = render_dossier(dossier)
    for text in HOSTILE:
        assert text not in page, text
    assert "]]>" not in page

    parsed = _Page()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]
    assert set(tags) <= _PAGE_TAGS, set(tags) - _PAGE_TAGS
    assert tags.count("script") == 1  # the page's own
    handlers = [(tag, name) for tag, attrs in parsed.tags for name, _ in attrs if name.startswith("on")]
    assert handlers == []
    assert not any(value and "javascript:" in value for _, attrs in parsed.tags for _, value in attrs)

    # The data is there, as text: in the drawing's labels, the timeline's lanes and the tables.
    drawn = "".join(parsed.text.get("text", []))
    for account in (SCRIPT, BREAKOUT, QUOTE):
        assert account in drawn
    assert CDATA in drawn  # the organisation's label
    tooltips = "".join(parsed.text.get("title", []))
    assert MARKUP in tooltips and f"shared by 3 members, {MARKUP} network" in tooltips
    cells = "".join(parsed.text.get("td", []))
    for text in HOSTILE:
        assert text in cells, text
    assert f"{CDATA} … {SCRIPT}" in cells  # a template's skeleton
    # the operation: the campaigns' ids on the timeline, the ties' sentences in the table
    assert f"ring-{QUOTE}" in drawn and f"ring-{SCRIPT}" in drawn
    assert f"Both campaigns hold members of {CDATA} {SCRIPT}" in cells and f"op-{SCRIPT}" in "".join(
        parsed.text.get("b", []))
    paths = "".join(parsed.text.get("div", []))
    assert f"(Account {SCRIPT})-[:SENT " in paths and f"(PromptTemplate {QUOTE}-template)<-[:SENT]-" in paths
    assert f"{SCRIPT} sent 3 requests" in "".join(parsed.text.get("p", []))
    assert f"to {QUOTE} after its release" in "".join(parsed.text.get("span", []))
    node_ids = [value for tag, attrs in parsed.tags if tag == "g" for name, value in attrs if name == "data-id"]
    assert f"Account:{BREAKOUT}" in node_ids and f"Device:{BREAKOUT}-dev" in node_ids
    assert f"PromptTemplate:{QUOTE}-template" in node_ids
    edge_ends = [value for tag, attrs in parsed.tags if tag == "line" for name, value in attrs
                 if name in ("data-source", "data-target")]
    assert f"Account:{QUOTE}" in edge_ends and f"Email:{MARKUP}" in edge_ends


def test_every_inline_svg_is_well_formed_xml() -> None:
    page = render_dossier(_hostile_dossier())
    drawings = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    # the subgraph, the timeline, the hours of the day, a waterfall each for coordination and attribution,
    # the operation's campaigns
    assert len(drawings) >= 6
    for svg in drawings:
        root = ET.fromstring(svg)  # an unescaped quote, bracket or ampersand would not parse
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    graph = ET.fromstring(next(svg for svg in drawings if 'id="evidence-graph"' in svg))
    labels = {t.text for t in graph.iter("{http://www.w3.org/2000/svg}text")}
    assert {SCRIPT, BREAKOUT, QUOTE, CDATA} <= labels
