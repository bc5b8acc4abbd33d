"""Operations through Neo4j: written under the run, one PART_OF per ring, real tie paths, stable ids,
read back by the CLI; a generated population's multi-campaign operators come out grouped."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import neo4j
from graph.cli import app
from graph.evaluation.operations import evaluate_operations
from graph.evaluation.truth import read_truth
from graph.generator import generate_population
from graph.pipeline.detect import DetectionParams, run_detection
from graph.records import OperationRecord, ties_from_json
from graph.settings import Settings
from graph.store.operation_reads import list_operations, operation_detail
from graph.store.results import read_scored_rings
from tests.integration.graph_state import path_exists


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    generate_population(out, 4000, seed=11, events_per_account=0)
    return out


def test_every_ring_is_part_of_one_operation_and_ids_hold_across_runs(loaded: neo4j.Driver,
                                                                      settings: Settings) -> None:
    db = settings.neo4j_database
    first = run_detection(loaded, db, DetectionParams(seed=5))
    records, _, _ = loaded.execute_query(
        "MATCH (r:Ring)-[:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "OPTIONAL MATCH (r)-[p:PART_OF {run_id: $run}]->(op:Operation)-[:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "RETURN r.ring_id AS ring, collect(op.operation_id) AS ops", run=first.run_id, database_=db)
    assert records and all(len(r["ops"]) == 1 for r in records)
    _, operations, _ = list_operations(loaded, db, run_id=first.run_id, limit=10_000)
    assert sum(o.campaigns for o in operations) == first.counts["rings"] == len(records)
    assert first.counts["operations"] == len(operations) and first.counts["multi_campaign_operations"] > 0
    second = run_detection(loaded, db, DetectionParams(seed=5))
    _, again, _ = list_operations(loaded, db, run_id=second.run_id, limit=10_000)
    def ids(found: list[OperationRecord]) -> list[tuple[str, tuple[str, ...]]]:
        return sorted((o.operation_id, o.ring_ids) for o in found)

    assert ids(again) == ids(operations)


def test_ties_are_real_paths_and_the_operation_holds_its_campaigns_in_time_order(loaded: neo4j.Driver,
                                                                                 settings: Settings) -> None:
    db = settings.neo4j_database
    run = run_detection(loaded, db, DetectionParams(seed=5)).run_id
    _, multi, _ = list_operations(loaded, db, run_id=run, min_campaigns=2, limit=1000)
    assert multi and all(o.campaigns >= 2 and o.ties for o in multi)
    paths = [p for o in multi for t in o.ties for p in t.paths]
    assert paths and all(path_exists(loaded, db, p) for p in paths)
    for operation in multi:
        detail = operation_detail(loaded, db, operation.operation_id, run_id=run)
        assert tuple(r.ring_id for r in detail.rings) == operation.ring_ids
        assert all(r.operation_id == operation.operation_id for r in detail.rings)
        starts = [r.active_from for r in detail.rings if r.active_from]
        assert starts == sorted(starts)
        tied = {ring for t in operation.ties for ring in t.rings}
        assert tied == set(operation.ring_ids)  # every campaign is tied in by something
    records, _, _ = loaded.execute_query(
        "MATCH (r:Ring)-[p:PART_OF {run_id: $run}]->(op:Operation {operation_id: $op}) RETURN r.ring_id AS ring, "
        "p.evidence AS evidence", run=run, op=multi[0].operation_id, database_=db)
    for record in records:
        assert all(record["ring"] in t.rings for t in ties_from_json(record["evidence"]))


def test_the_generators_multi_campaign_operators_are_grouped_not_fused(loaded: neo4j.Driver, settings: Settings,
                                                                      population: Path) -> None:
    db = settings.neo4j_database
    run = run_detection(loaded, db, DetectionParams(seed=5)).run_id
    truth = read_truth(population / "truth.csv")
    scored = read_scored_rings(loaded, db, run)
    result = evaluate_operations([sorted(r.members) for r in scored], [r.operation_id or "" for r in scored],
                                 truth.ring, truth.operation, truth.organization)
    assert result.found >= 2 and result.grouped == result.found
    assert result.fused_rings == 0 and result.mixed == 0


def test_cli_lists_operations_and_shows_one(loaded: neo4j.Driver, settings: Settings) -> None:
    db = settings.neo4j_database
    run = run_detection(loaded, db, DetectionParams(seed=5)).run_id
    _, multi, _ = list_operations(loaded, db, run_id=run, min_campaigns=2, limit=1)
    runner = CliRunner()
    listed = runner.invoke(app, ["operations", "--top", "5"])
    assert listed.exit_code == 0, listed.output
    assert multi[0].operation_id in listed.output and "tie (" in listed.output
    one = runner.invoke(app, ["operations", multi[0].operation_id])
    assert one.exit_code == 0 and all(r in one.output for r in multi[0].ring_ids)
    missing = runner.invoke(app, ["operations", "op-0000000000"])
    assert missing.exit_code == 1 and "no operation" in missing.output
    rings = runner.invoke(app, ["rings", "--top", "3"])
    assert rings.exit_code == 0 and "operation op-" in rings.output
