"""An incremental run gives the same rings, ids, scores and evidence as a whole run on the same data.

Two databases with the same history are compared: a bundle loaded and detected, then three later
batches, each followed by a run: one brings every link of a few members of two rings, who join
their rings only now; one crowds every identifier a ring's members share past its cap, so edges
disappear; one floods a ring's template with strangers sending in its minutes. One history runs
`detect --incremental` after each batch, the other a whole `detect`. Everything the runs stored must
be equal, and the incremental runs must really have carried rings over and re-detected others.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import neo4j
from graph.detection import DetectionParams
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import RunSummary, run_detection
from graph.records import AttributionRecord, RingRecord
from graph.settings import Settings
from graph.store.schema import apply_schema
from tests.suite_database import wipe_database

_PARAMS = DetectionParams(seed=5)


def _split(source: Path, held: set[str], first: Path, later: Path) -> None:
    """`first`: the bundle without `held` accounts' links; `later`: just those (new relationships only)."""
    for directory in (first, later):
        directory.mkdir()
    for path in source.iterdir():
        if path.name == "links.csv":
            with path.open(newline="") as f:
                rows = list(csv.reader(f))
            for directory, keep in ((first, False), (later, True)):
                with (directory / path.name).open("w", newline="") as out:
                    writer = csv.writer(out)
                    writer.writerow(rows[0])
                    writer.writerows(r for r in rows[1:] if (r[0] in held) == keep)
        elif path.name not in ("truth.csv", "truth_rings.csv"):
            (first / path.name).write_bytes(path.read_bytes())


def _crowd(source: Path, ring: list[str], strangers: list[str], crowd: Path, flood: Path) -> None:
    """Two batches: in `crowd`, `strangers` take up every identifier two of the ring's members share,
    past every cap (the ring loses those edges, none of its members changed); in `flood` they send a
    template the ring sends, in the ring's minutes, past the per-window cap of co-action."""
    crowd.mkdir()
    flood.mkdir()
    with (source / "links.csv").open(newline="") as f:
        links = [r for r in csv.DictReader(f) if r["account_id"] in ring]
    with (source / "events.csv").open(newline="") as f:
        events = [r for r in csv.DictReader(f) if r["account_id"] in ring]
    users: dict[tuple[str, str], set[str]] = {}
    for r in links:
        users.setdefault((r["kind"], r["value"]), set()).add(r["account_id"])
    shared = {key for key, who in users.items() if len(who) >= 2}
    rows = {(r["kind"], r["value"]): r for r in links if (r["kind"], r["value"]) in shared}
    with (crowd / "links.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(links[0]))
        writer.writeheader()
        writer.writerows({**rows[key], "account_id": a} for key in sorted(rows) for a in strangers[:25])
    prompt = sorted(events, key=lambda r: (r["prompt"], r["ts"]))[0]["prompt"]
    sent = [r for r in events if r["prompt"] == prompt]
    (flood / "links.csv").write_text(",".join(links[0]) + "\n")  # a bundle has links or accounts
    with (flood / "events.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(sent[0]))
        writer.writeheader()
        writer.writerows({**r, "account_id": a, "ip": ""} for a in strangers for r in sent)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    root = tmp_path_factory.mktemp("incremental")
    generate_population(root / "all", 3000, seed=17, events_per_account=20)
    members: dict[str, list[str]] = {}
    with (root / "all" / "truth.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["ring_id"]:
                members.setdefault(row["ring_id"], []).append(row["account_id"])
    rings = sorted((r for r, accounts in members.items() if len(accounts) >= 8), key=lambda r: (-len(members[r]), r))
    held = set(sorted(members[rings[0]])[:3]) | set(sorted(members[rings[1]])[:2])
    _split(root / "all", held, root / "first", root / "later")
    with (root / "all" / "truth.csv").open(newline="") as f:
        strangers = sorted(r["account_id"] for r in csv.DictReader(f) if not r["ring_id"] and not r["organization"])
    _crowd(root / "all", members[rings[2]], strangers[:70], root / "crowd", root / "flood")
    return root / "first", root / "later", root / "crowd", root / "flood"


def _history(
    driver: neo4j.Driver, database: str, bundles: tuple[Path, ...], tmp: Path, *, incremental: bool
) -> list[RunSummary]:
    """Load the first bundle and detect; then each later one, detecting after each (`incremental`)."""
    wipe_database(driver, database)
    apply_schema(driver, database)
    assert load_bundle(driver, database, bundles[0], rejects_path=tmp / "r.csv").ok
    run_detection(driver, database, _PARAMS)
    runs = []
    for bundle in bundles[1:]:
        assert load_bundle(driver, database, bundle, rejects_path=tmp / "r.csv").ok
        runs.append(run_detection(driver, database, _PARAMS, incremental=incremental))
    return runs


def _stored(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, Any]:
    """Everything the run wrote, all values exact."""
    rings, _, _ = driver.execute_query(
        "MATCH (r:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) RETURN r.ring_id AS id, properties(f) AS p",
        run_id=run_id, database_=database,
    )
    members, _, _ = driver.execute_query(
        "MATCH (a:Account)-[m:MEMBER_OF {run_id: $run_id}]->(r:Ring) "
        "RETURN r.ring_id AS ring, a.account_id AS account, m.confidence AS confidence",
        run_id=run_id, database_=database,
    )
    attributions, _, _ = driver.execute_query(
        "MATCH (s)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization) "
        "RETURN labels(s)[0] AS label, coalesce(s.ring_id, s.account_id) AS subject, o.name AS organization, "
        "properties(t) AS p",
        run_id=run_id, database_=database,
    )
    operations, _, _ = driver.execute_query(
        "MATCH (r:Ring)-[p:PART_OF {run_id: $run_id}]->(o:Operation) "
        "RETURN r.ring_id AS ring, o.operation_id AS operation, p.evidence AS evidence",
        run_id=run_id, database_=database,
    )
    return {
        "rings": {r["id"]: RingRecord.from_properties(r["id"], r["p"]) for r in rings},
        "members": sorted((m["ring"], m["account"], m["confidence"]) for m in members),
        "attributions": sorted(
            ((a["label"], a["subject"], a["organization"]),
             AttributionRecord.from_properties(a["subject"], a["organization"], a["p"]))
            for a in attributions
        ),
        "operations": sorted((o["ring"], o["operation"], o["evidence"]) for o in operations),
    }


def _differences(found: dict[str, RingRecord], expected: dict[str, RingRecord]) -> list[tuple[str, str, Any, Any]]:
    """(ring, field, found, expected) wherever two runs' ring records differ: a readable failure."""
    assert found.keys() == expected.keys()
    return [
        (ring, name, getattr(found[ring], name), getattr(expected[ring], name))
        for ring in sorted(found)
        for name in RingRecord.__dataclass_fields__
        if getattr(found[ring], name) != getattr(expected[ring], name)
    ]


def test_an_incremental_run_stores_what_a_whole_run_stores(
    empty_db: neo4j.Driver, settings: Settings, bundles: tuple[Path, ...], tmp_path: Path
) -> None:
    db = settings.neo4j_database
    expected = [(run, _stored(empty_db, db, run.run_id)) for run in _history(empty_db, db, bundles, tmp_path,
                                                                             incremental=False)]
    # Each comparison is made before the next batch: stored results are per run, so they outlive it.
    incremental = _history(empty_db, db, bundles, tmp_path, incremental=True)
    for (whole, stored), run in zip(expected, incremental, strict=True):
        counts = run.counts
        assert counts["incremental"] == 1
        assert counts["redetected_rings"] >= 1 and counts["carried_rings"] >= 5, counts
        assert counts["region_accounts"] < 1500, counts  # of 3,000
        assert run.ring_ids == whole.ring_ids
        found = _stored(empty_db, db, run.run_id)
        assert _differences(found["rings"], stored["rings"]) == []
        assert found["members"] == stored["members"]
        assert found["attributions"] == stored["attributions"]
        assert found["operations"] == stored["operations"]
    assert expected[1][1]["members"] != expected[0][1]["members"]  # the crowding changed rings


def test_without_a_base_run_an_incremental_run_detects_everything(
    empty_db: neo4j.Driver, settings: Settings, bundles: tuple[Path, ...], tmp_path: Path
) -> None:
    db = settings.neo4j_database
    assert load_bundle(empty_db, db, bundles[0], rejects_path=tmp_path / "r.csv").ok
    first = run_detection(empty_db, db, _PARAMS, incremental=True)
    assert first.counts["incremental_refused"] == 1 and first.counts["rings"] > 0
    other = run_detection(empty_db, db, DetectionParams(seed=6), incremental=True)
    assert other.counts["incremental_refused"] == 1  # other parameters: the base's rings are not these
    again = run_detection(empty_db, db, DetectionParams(seed=6), incremental=True)
    assert again.counts["incremental"] == 1 and again.counts["changed_accounts"] == 0
    assert again.ring_ids == other.ring_ids
