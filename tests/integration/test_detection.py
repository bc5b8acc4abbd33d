from __future__ import annotations

from pathlib import Path

import pytest

import neo4j
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import DetectionParams, run_detection
from graph.settings import Settings
from graph.store.results import list_rings
from graph.store.runs import read_ring_members, read_run


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    generate_population(out, 3000, seed=21, events_per_account=0)
    return out


@pytest.fixture
def loaded(empty_db: neo4j.Driver, settings: Settings, population: Path, tmp_path: Path) -> neo4j.Driver:
    report = load_bundle(empty_db, settings.neo4j_database, population, rejects_path=tmp_path / "r.csv")
    assert report.ok and report.rejected == 0
    return empty_db


def test_rerun_gives_the_same_rings_and_ids(loaded: neo4j.Driver, settings: Settings) -> None:
    db = settings.neo4j_database
    first = run_detection(loaded, db, DetectionParams(seed=3))
    second = run_detection(loaded, db, DetectionParams(seed=3))
    assert first.counts["rings"] > 0
    assert first.ring_ids == second.ring_ids and first.ring_sizes == second.ring_sizes
    assert read_ring_members(loaded, db, first.run_id) == read_ring_members(loaded, db, second.run_id)
    assert second.previous_run_id == first.run_id and second.carried_over == first.counts["rings"]
    # Both runs stay queryable, each with its own record.
    run = read_run(loaded, db, first.run_id)
    assert run is not None and run.status == "completed"
    assert run.params["seed"] == 3 and run.counts["rings"] == first.counts["rings"]
    assert set(run.timings) >= {"read", "project", "detect", "write"}
    assert len(list_rings(loaded, db, run_id=first.run_id, limit=10_000)[0]) == first.counts["rings"]


def test_new_links_keep_the_ids_of_unchanged_rings(
    loaded: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    first = run_detection(loaded, db, DetectionParams(seed=3))
    before = read_ring_members(loaded, db, first.run_id)
    # A new ring of four fresh accounts sharing a card and a device appears.
    extra = tmp_path / "extra"
    extra.mkdir()
    rows = [
        f"zz-{i},{kind},{value},2026-10-01T00:0{i}:00Z,2026-10-02T00:00:00Z,1"
        for i in range(4)
        for kind, value in (("payment", "pm_fresh_ring"), ("device", "dev_fresh_ring"))
    ]
    (extra / "links.csv").write_text("account_id,kind,value,first_seen,last_seen,count\n" + "\n".join(rows))
    load_bundle(loaded, db, extra, rejects_path=tmp_path / "r.csv")
    second = run_detection(loaded, db, DetectionParams(seed=3))
    after = read_ring_members(loaded, db, second.run_id)
    assert {ring_id: members for ring_id, members in after.items() if ring_id in before} == before
    new_rings = [members for ring_id, members in after.items() if ring_id not in before]
    assert new_rings == [frozenset(f"zz-{i}" for i in range(4))]


def test_memberships_carry_run_and_confidence(loaded: neo4j.Driver, settings: Settings) -> None:
    db = settings.neo4j_database
    summary = run_detection(loaded, db, DetectionParams(seed=3))
    records, _, _ = loaded.execute_query(
        "MATCH (a:Account)-[m:MEMBER_OF]->(r:Ring)-[:FOUND_IN]->(run:DetectionRun) "
        "WHERE m.run_id = run.run_id RETURN count(*) AS n, min(m.confidence) AS lo, max(m.confidence) AS hi",
        database_=db,
    )
    assert records[0]["n"] == summary.counts["ring_accounts"]
    assert 0.5 <= records[0]["lo"] <= records[0]["hi"] <= 1.0


def test_links_without_times_are_read_and_detected(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "untimed"
    bundle.mkdir()
    rows = [f"u{i},{kind},{value}," for i in range(4) for kind, value in (("device", "dev-x"), ("payment", "pm-x"))]
    rows += ["u1,ip,192.0.2.7,", "u2,ip,192.0.2.7,2026-01-01T00:00:00Z"]
    (bundle / "links.csv").write_text("account_id,kind,value,first_seen\n" + "\n".join(rows) + "\n")
    load_bundle(empty_db, settings.neo4j_database, bundle, rejects_path=tmp_path / "r.csv")
    summary = run_detection(empty_db, settings.neo4j_database, DetectionParams(seed=1))
    assert summary.ring_sizes == (4,)


def test_ring_nodes_show_what_the_latest_completed_run_found(loaded: neo4j.Driver, settings: Settings) -> None:
    db = settings.neo4j_database
    summary = run_detection(loaded, db, DetectionParams(seed=3))
    records, _, _ = loaded.execute_query(
        "MATCH (ring:Ring)-[found:FOUND_IN]->(:DetectionRun {run_id: $run_id}) "
        "RETURN ring.ring_id AS ring_id, properties(ring) AS ring, properties(found) AS found",
        run_id=summary.run_id, database_=db,
    )
    assert len(records) == summary.counts["rings"] > 0
    # Copied whole when the run completed: a property the run left out is gone from the node too.
    for r in records:
        assert r["ring"] == {**r["found"], "ring_id": r["ring_id"], "run_id": summary.run_id}
    run = read_run(loaded, db, summary.run_id)
    assert run is not None and run.status == "completed" and run.heartbeat_at is not None
    assert run.lease_seconds is not None and run.lease_seconds > 0
    records, _, _ = loaded.execute_query("MATCH (lock:DetectionLock) RETURN properties(lock) AS p", database_=db)
    assert len(records) == 1 and records[0]["p"].get("run_id") is None  # released with the completion
