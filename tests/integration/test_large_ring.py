"""A ring of 150 accounts: its members come in bounded pages and its dossier draws a capped picture.

The ring is built to be found whole: a chain of cards each shared by two neighbouring accounts (so
every community of the chain is joined to the next by a strong edge and merged back), and devices
shared by groups of five, so it has more shared entities than the drawing shows too.
"""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

import neo4j
from api.app import create_app
from graph.analyst.dossier import gather_dossier
from graph.analyst.dossier_page import render_dossier
from graph.cli import app as cli
from graph.cli.render import print_ring
from graph.detection import DetectionParams
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import run_detection
from graph.records import RingDetail
from graph.settings import Settings
from graph.store.results import MAX_MEMBER_PAGE_SIZE, MEMBER_PAGE_SIZE, ring_detail
from graph.store.schema import apply_schema
from tests.suite_database import wipe_database

SIZE = 150
_ACCOUNTS = [f"big-{i:03d}" for i in range(SIZE)]


@pytest.fixture(scope="module")
def large_ring(driver: neo4j.Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> RingDetail:
    db = settings.neo4j_database
    wipe_database(driver, db)
    apply_schema(driver, db)
    bundle = tmp_path_factory.mktemp("large-ring")
    rows = ["account_id,kind,value,first_seen,last_seen,count"]
    for i, account in enumerate(_ACCOUNTS):
        day = f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        if i + 1 < SIZE:
            rows += [f"{account},payment,pm_chain_{i:03d},{day},{day},1",
                     f"{_ACCOUNTS[i + 1]},payment,pm_chain_{i:03d},{day},{day},1"]
        rows.append(f"{account},device,dev_group_{i // 5:02d},{day},{day},2")
    (bundle / "links.csv").write_text("\n".join(rows) + "\n")
    report = load_bundle(driver, db, bundle, rejects_path=bundle / "rejects.csv")
    assert report.ok and report.rejected == 0
    run_id = run_detection(driver, db, DetectionParams(seed=1)).run_id
    records, _, _ = driver.execute_query(
        "MATCH (:Account {account_id: $account})-[:MEMBER_OF {run_id: $run_id}]->(r:Ring) RETURN r.ring_id AS id",
        account=_ACCOUNTS[0], run_id=run_id, database_=db,
    )
    assert records, "the chain is found as a ring"
    detail = ring_detail(driver, db, records[0]["id"], run_id=run_id)
    assert detail.member_count == SIZE == detail.summary.size, "the chain is found whole"
    return detail


def test_a_large_ring_comes_one_bounded_page_at_a_time(
    driver: neo4j.Driver, settings: Settings, large_ring: RingDetail
) -> None:
    db, ring = settings.neo4j_database, large_ring.summary
    first = large_ring
    assert len(first.members) == MEMBER_PAGE_SIZE < SIZE and first.members_next_cursor is not None
    rest = ring_detail(driver, db, ring.ring_id, run_id=ring.run_id, members_after=first.members_next_cursor)
    assert len(rest.members) == SIZE - MEMBER_PAGE_SIZE and rest.members_next_cursor is None
    assert rest.member_count == SIZE
    members = first.members + rest.members
    assert sorted(m.account_id for m in members) == _ACCOUNTS
    order = [(-m.membership_confidence, m.account_id) for m in members]
    assert order == sorted(order)
    whole = ring_detail(driver, db, ring.ring_id, run_id=ring.run_id, members_limit=MAX_MEMBER_PAGE_SIZE)
    assert whole.members == members and whole.members_next_cursor is None


def test_member_page_arguments_are_checked(driver: neo4j.Driver, settings: Settings, large_ring: RingDetail) -> None:
    db, ring = settings.neo4j_database, large_ring.summary
    for limit in (0, MAX_MEMBER_PAGE_SIZE + 1):
        with pytest.raises(ValueError, match="members_limit"):
            ring_detail(driver, db, ring.ring_id, run_id=ring.run_id, members_limit=limit)
    with pytest.raises(ValueError, match="cursor"):
        ring_detail(driver, db, ring.ring_id, run_id=ring.run_id, members_after="bm90LWEtY3Vyc29y")


def test_the_api_pages_the_members_of_a_large_ring(settings: Settings, large_ring: RingDetail) -> None:
    keyed = settings.model_copy(update={"api_keys": SecretStr("large-ring-read-key:read")})
    ring = large_ring.summary
    headers = {"Authorization": "Bearer large-ring-read-key"}
    with TestClient(create_app(keyed)) as client:
        first = client.get(f"/v1/rings/{ring.ring_id}", headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert (len(body["members"]), body["member_count"]) == (MEMBER_PAGE_SIZE, SIZE)
        second = client.get(f"/v1/rings/{ring.ring_id}", headers=headers,
                            params={"members_after": body["members_next_cursor"]}).json()
        assert (len(second["members"]), second["member_count"], second["members_next_cursor"]) == (
            SIZE - MEMBER_PAGE_SIZE, SIZE, None)
        ids = [m["account_id"] for m in body["members"] + second["members"]]
        assert sorted(ids) == _ACCOUNTS
        report = client.get(f"/v1/rings/{ring.ring_id}/report", headers=headers)
        assert report.status_code == 200
        assert f"Showing 60 of {SIZE} members" in report.text


def test_the_dossier_draws_at_most_60_accounts_and_60_entities_and_says_so(
    driver: neo4j.Driver, settings: Settings, large_ring: RingDetail
) -> None:
    ring = large_ring.summary
    dossier = gather_dossier(driver, settings.neo4j_database, ring.ring_id, run_id=ring.run_id)
    labels = [n.label for n in dossier.nodes]
    accounts = {n.key for n in dossier.nodes if n.label == "Account"}
    entities = [n for n in dossier.nodes if n.label not in ("Account", "Organization")]
    assert len(accounts) == 60 and len(entities) == 60
    assert len(labels) == len({n.id for n in dossier.nodes})
    drawn = {n.id for n in dossier.nodes}
    assert all(e.source in drawn and e.target in drawn for e in dossier.edges)  # no edge to a node left out
    # Chosen by evidence rank: every account and entity on the strongest evidence's paths is drawn.
    strongest = max(large_ring.coordination_evidence, key=lambda item: abs(item.llr))
    assert strongest.paths
    on_paths = {f"{n.label}:{n.value}" for p in strongest.paths for n in p.nodes}
    assert on_paths <= drawn
    extent = dossier.drawing_extent()
    assert (extent.members_drawn, extent.members, extent.entities_drawn) == (60, SIZE, 60)
    assert extent.entities == SIZE - 1 + SIZE // 5  # every chain card and group device is shared

    page = render_dossier(dossier)
    note = re.search(r'<p class="note" id="drawing-extent">([^<]*)</p>', page)
    assert note is not None
    assert f"Showing 60 of {SIZE} members and 60 of {extent.entities} shared entities" in note.group(1)
    assert page.count('<g class="node Account"') == 60
    assert page.count("<tr data-node=") == SIZE  # the member table lists every member (up to 1,000)
    assert f"<b>{SIZE}</b><span>members</span>" in page


def _printed(detail: RingDetail) -> str:
    out = io.StringIO()
    print_ring(Console(file=out, width=200, color_system=None), 1, detail, evidence=3)
    return out.getvalue()


def test_the_cli_prints_the_ring_as_before(driver: neo4j.Driver, settings: Settings, large_ring: RingDetail) -> None:
    ring = large_ring.summary
    result = CliRunner().invoke(cli, ["rings", "--top", "1", "--run", ring.run_id])
    assert result.exit_code == 0, result.output
    assert f"{ring.ring_id}  {SIZE} accounts" in result.output  # the ring's size, not the size of a page
    # What `rings` prints of a ring does not depend on how many members were read with it.
    one = ring_detail(driver, settings.neo4j_database, ring.ring_id, run_id=ring.run_id, members_limit=1)
    every = ring_detail(driver, settings.neo4j_database, ring.ring_id, run_id=ring.run_id,
                        members_limit=MAX_MEMBER_PAGE_SIZE)
    assert _printed(one) == _printed(every)
    assert f"{SIZE} accounts" in _printed(one)
