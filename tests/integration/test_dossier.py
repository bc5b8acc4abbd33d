"""Ring dossiers: written by `ringtrace report` and served by the API, rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

import neo4j
from api.app import create_app
from graph.analyst.charts import GraphEdge, GraphNode, graph_svg
from graph.analyst.dossier import Dossier, gather_dossier
from graph.analyst.dossier_page import render_dossier
from graph.analyst.layout import Shape, evidence_layout
from graph.settings import Settings
from graph.store.usage import UNSHARED
from tests.integration.test_queries import load_two_runs

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--hide-scrollbars")


class _GraphText(HTMLParser):
    """The text of every <text> element inside <svg id="evidence-graph">."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.in_text = False
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg" and ("id", "evidence-graph") in attrs:
            self.depth = 1
        elif self.depth and tag == "svg":
            self.depth += 1
        self.in_text = bool(self.depth) and tag == "text"

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "svg":
            self.depth -= 1
        if tag == "text":
            self.in_text = False

    def handle_data(self, data: str) -> None:
        if self.in_text:
            self.texts.append(data)


@pytest.fixture(scope="module")
def ring(driver: neo4j.Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Dossier:
    """The dossier of the most coordinated ring that has an attribution."""
    load_two_runs(driver, settings.neo4j_database, tmp_path_factory.mktemp("dossier"))
    records, _, _ = driver.execute_query(
        "MATCH (r:Ring)-[:ATTRIBUTED_TO {run_id: r.run_id}]->(:Organization) "
        "RETURN r.ring_id AS id ORDER BY r.score DESC, r.size DESC, id LIMIT 1", database_=settings.neo4j_database)
    return gather_dossier(driver, settings.neo4j_database, records[0]["id"])


@pytest.fixture(scope="module")
def campaign(driver: neo4j.Driver, settings: Settings, ring: Dossier) -> Dossier:
    """The dossier of the largest campaign of the operation of most campaigns (after `ring` loaded the data)."""
    records, _, _ = driver.execute_query(
        "MATCH (run:DetectionRun {run_id: $run})<-[found:FOUND_IN]-(op:Operation) "
        "WITH op ORDER BY found.campaigns DESC, found.score DESC, op.operation_id LIMIT 1 "
        "MATCH (r:Ring)-[:PART_OF {run_id: $run}]->(op) MATCH (r)-[f:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "RETURN r.ring_id AS id ORDER BY f.size DESC, id LIMIT 1",
        run=ring.detail.summary.run_id, database_=settings.neo4j_database)
    return gather_dossier(driver, settings.neo4j_database, records[0]["id"])


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    if _CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":  # CI must render the page: `make test` installs chromium
            pytest.fail("chromium is not installed, and under CI=true the dossier must render: `make test` "
                        "installs it (apt-get install -y chromium) when apt is available")
        pytest.skip("chromium is not installed (`make test` installs it with apt-get install -y chromium)")
    return subprocess.run([_CHROMIUM, *_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_writes_a_self_contained_page(ring: Dossier, tmp_path: Path) -> None:
    from graph.cli import app

    out = tmp_path / "ring.html"
    result = CliRunner().invoke(app, ["report", ring.detail.summary.ring_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    # No fetch at view time: the only URL is the SVG namespace; no external src/href at all.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for member in ring.detail.members:
        assert member.account_id in page
    run = ring.run
    assert run is not None and run.run_id in page and run.version in page
    for name in run.counts:
        assert name in page
    assert 'class="waterfall"' in page and 'class="timeline"' in page
    for item in ring.detail.attributions[0].evidence:
        assert f"{item.llr:+.2f}" in page  # every item's contribution is in the waterfall


def test_chromium_renders_the_page_without_console_errors(ring: Dossier, tmp_path: Path) -> None:
    page = tmp_path / "ring.html"
    page.write_text(render_dossier(ring), encoding="utf-8")
    dumped = _chromium("--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri(), tmp=tmp_path)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    console = [line for line in dumped.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, "console messages: " + "\n".join(console)
    assert 'data-ready="yes"' in dumped.stdout  # the inline script ran to its end
    parser = _GraphText()
    parser.feed(dumped.stdout)
    drawn = set(parser.texts)
    missing = [m.account_id for m in ring.detail.members if m.account_id not in drawn]
    assert not missing, f"members missing from the drawing: {missing}"
    assert any(o.organization in drawn for o in ring.detail.attributions)

    shot = tmp_path / "ring.png"
    taken = _chromium(f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri(), tmp=tmp_path)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_page_says_what_the_ring_was_doing(ring: Dossier) -> None:
    activity = ring.activity
    assert activity is not None, "the population has a usage log"
    assert activity.requests > 0 and len(activity.hours) == 24 and sum(activity.hours) == activity.requests
    page = render_dossier(ring)
    assert escape(activity.sentence) in page
    assert f"{activity.requests:,}" in page and f"{activity.output_tokens:,}" in page
    assert 'class="hours"' in page
    for name, share in activity.categories:
        assert f"<td>{escape(name)}</td><td>{share:.0%}</td>" in page
    assert ring.templates, "members of a coordinated ring send templates in common"
    for template in ring.templates:
        assert template.fingerprint != UNSHARED and 2 <= template.members <= template.accounts
        assert f"<td>{escape(template.fingerprint)}</td>" in page
    assert [t.members for t in ring.templates] == sorted((t.members for t in ring.templates), reverse=True)


def test_behavioural_evidence_is_drawn_and_listed_with_its_sent_paths(ring: Dossier) -> None:
    behavioural = [item for item in ring.detail.coordination_evidence
                   if any(r.type == "SENT" for path in item.paths for r in path.relationships)]
    assert behavioural, "the ring's coordination evidence has SENT paths"
    page = render_dossier(ring)
    listed = re.findall(r'<div class="path">(.*?)</div>', page)
    for item in behavioural:
        template = next(n.value for n in item.paths[0].nodes if n.label == "PromptTemplate")
        assert any(f"(PromptTemplate {escape(template)})" in text and "[:SENT " in text for text in listed), item.kind
    on_paths = {n.value for item in behavioural for path in item.paths for n in path.nodes
                if n.label == "PromptTemplate"}
    drawn = {node.key for node in ring.nodes if node.label == "PromptTemplate"}
    assert on_paths <= drawn
    assert any(edge.type == "SENT" for edge in ring.edges) and 'class="edge SENT"' in page


def test_api_serves_the_same_page(ring: Dossier, settings: Settings) -> None:
    keyed = settings.model_copy(update={"api_keys": SecretStr("dossier-read-key:read;dossier-ingest-key:ingest")})
    ring_id = ring.detail.summary.ring_id
    with TestClient(create_app(keyed)) as client:
        page = client.get(f"/v1/rings/{ring_id}/report", headers={"Authorization": "Bearer dossier-read-key"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert all(m.account_id in page.text for m in ring.detail.members)
        assert f"Ring {ring_id}" in page.text
        anonymous = client.get(f"/v1/rings/{ring_id}/report")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        wrong_scope = client.get(f"/v1/rings/{ring_id}/report", headers={"Authorization": "Bearer dossier-ingest-key"})
        assert wrong_scope.status_code == 403
        unknown = client.get("/v1/rings/ring-nope/report", headers={"Authorization": "Bearer dossier-read-key"})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")


def test_the_operation_section_puts_the_campaigns_on_one_timeline_with_their_ties(
    campaign: Dossier, driver: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    view, ring_id = campaign.operation, campaign.detail.summary.ring_id
    assert view is not None and len(view.campaigns) >= 2, "the population has an operation of two or more campaigns"
    records, _, _ = driver.execute_query(
        "MATCH (:Operation {operation_id: $op})-[found:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "RETURN found.ring_ids AS ring_ids", op=view.operation.operation_id, run=campaign.detail.summary.run_id,
        database_=settings.neo4j_database)
    assert [c.ring_id for c in view.campaigns] == records[0]["ring_ids"]  # in the order they ran
    own = [t for t in view.ties if ring_id in t.rings]
    assert own and view.ties[:len(own)] == tuple(own)  # this ring's ties first
    page = render_dossier(campaign)
    section = page[page.index("<h2>Operation</h2>"):page.index("<h2>Members</h2>")]
    chart = re.search(r'<svg class="campaigns".*?</svg>', section, flags=re.DOTALL)
    assert chart is not None
    bars = re.findall(r'<rect [^>]*fill="(#[0-9A-F]{6})"', chart.group(0))
    dated = [c for c in view.campaigns if c.active_from and c.active_to]
    assert len(bars) == len(dated) and bars.count("#D62728") == 1  # one bar each, this ring's highlighted
    for c in view.campaigns:
        assert f"{c.size:,} accounts · score {c.score:.3f}" in chart.group(0)
    assert chart.group(0).count('class="tie') >= 1  # tied campaigns are joined
    for tie in view.ties[:10]:
        assert escape(tie.sentence) in section
    assert f"campaign {[c.ring_id for c in view.campaigns].index(ring_id) + 1} of {len(view.campaigns)}" in section

    shot = tmp_path / "campaign.html"
    shot.write_text(page, encoding="utf-8")
    dumped = _chromium("--enable-logging=stderr", "--v=0", "--dump-dom", shot.as_uri(), tmp=tmp_path)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert not [line for line in dumped.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert 'data-ready="yes"' in dumped.stdout and 'class="campaigns"' in dumped.stdout


def test_a_single_campaign_says_so(ring: Dossier) -> None:
    view = ring.operation
    assert view is not None  # every ring of a run is a campaign of some operation
    page = render_dossier(ring)
    section = page[page.index("<h2>Operation</h2>"):page.index("<h2>Members</h2>")]
    if len(view.campaigns) == 1:
        assert "is this ring alone" in section and 'class="campaigns"' not in section
    else:
        assert 'class="campaigns"' in section


def _drawing(dossier: Dossier) -> tuple[dict[str, Shape], list[tuple[str, str]]]:
    shapes = {n.id: Shape(n.label, 9.0 if n.label == "Account" else 7.0, 60.0) for n in dossier.nodes}
    return shapes, [(e.source, e.target) for e in dossier.edges]


def test_the_drawing_is_the_same_for_the_same_data_whatever_its_order(ring: Dossier) -> None:
    nodes, edges = list(ring.nodes), list(ring.edges)
    assert graph_svg(nodes, edges) == graph_svg(nodes[::-1], edges[::-1])
    shapes, links = _drawing(ring)
    assert evidence_layout(shapes, links) == evidence_layout(dict(reversed(shapes.items())), links[::-1])


def test_members_gather_round_what_they_share_and_nothing_overlaps(ring: Dossier) -> None:
    # Two phone farms: three accounts on each device, and one card used by a member of each.
    farm = {"Device:d1": ["Account:a1", "Account:a2", "Account:a3"], "Device:d2": ["Account:b1", "Account:b2",
                                                                                     "Account:b3"]}
    nodes = [GraphNode(key, key.split(":")[0], key.split(":")[1]) for key in
             [*farm, *(a for members in farm.values() for a in members), "PaymentMethod:card"]]
    edges = [GraphEdge(a, device, "USED_DEVICE") for device, members in farm.items() for a in members]
    edges += [GraphEdge("Account:a3", "PaymentMethod:card", "PAID_WITH"),
              GraphEdge("Account:b1", "PaymentMethod:card", "PAID_WITH")]
    shapes = {n.id: Shape(n.label, 9.0 if n.label == "Account" else 7.0, 60.0) for n in nodes}
    placed = evidence_layout(shapes, [(e.source, e.target) for e in edges])

    def far(a: str, b: str) -> float:
        return float(((placed[a].x - placed[b].x) ** 2 + (placed[a].y - placed[b].y) ** 2) ** 0.5)

    for device, members in farm.items():
        other = next(d for d in farm if d != device)
        assert all(far(m, device) < far(m, other) for m in members), f"{device}'s accounts are not round it"
    # the card both farms used sits between them
    assert far("PaymentMethod:card", "Device:d1") < far("Device:d1", "Device:d2")
    assert far("PaymentMethod:card", "Device:d2") < far("Device:d1", "Device:d2")
    assert 'id="evidence-graph"' in graph_svg(nodes, edges)

    # On the population's ring: no two nodes on top of each other, and a page wide at most.
    shapes, links = _drawing(ring)
    drawn = evidence_layout(shapes, links)
    keys = sorted(drawn)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            gap = ((drawn[a].x - drawn[b].x) ** 2 + (drawn[a].y - drawn[b].y) ** 2) ** 0.5
            assert gap >= shapes[a].radius + shapes[b].radius, f"{a} and {b} overlap"
    assert max(p.x for p in drawn.values()) - min(p.x for p in drawn.values()) <= 1100
