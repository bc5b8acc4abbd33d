"""The same data gives the same rings, scores and evidence whatever the store held before.

Neo4j reuses the ids of deleted nodes, so the order a scan returns entities in depends on the
store's history; evidence ties (which entity a sentence names, which paths an item shows) must not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import neo4j
from graph.detection import DetectionParams
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import run_detection
from graph.settings import Settings
from graph.store.schema import apply_schema
from tests.suite_database import wipe_database


def _results(driver: neo4j.Driver, database: str, run_id: str) -> list[Any]:
    records, _, _ = driver.execute_query(
        "MATCH (ring:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) "
        "OPTIONAL MATCH (ring)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization) "
        "WITH ring, f, collect([o.name, t.confidence, t.evidence]) AS attributions "
        "RETURN ring.ring_id AS ring, f.score AS score, f.coordination_evidence AS evidence, attributions "
        "ORDER BY ring",
        run_id=run_id, database_=database,
    )
    return [[r["ring"], r["score"], json.loads(r["evidence"]), sorted(map(str, r["attributions"]))] for r in records]


def _fresh_load(driver: neo4j.Driver, database: str, bundle: Path) -> list[Any]:
    wipe_database(driver, database)
    apply_schema(driver, database)
    load_bundle(driver, database, bundle)
    return _results(driver, database, run_detection(driver, database, DetectionParams(seed=3)).run_id)


def test_evidence_does_not_depend_on_what_the_store_held_before(
    driver: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    database = settings.neo4j_database
    generate_population(tmp_path / "target", 1500, seed=11, events_per_account=0)
    generate_population(tmp_path / "other", 1500, seed=12, events_per_account=0)
    first = _fresh_load(driver, database, tmp_path / "target")
    # Fill the store with other entities and delete them, so their ids are reused in another order.
    wipe_database(driver, database)
    apply_schema(driver, database)
    load_bundle(driver, database, tmp_path / "other")
    again = _fresh_load(driver, database, tmp_path / "target")
    assert first, "the population has rings"
    assert again == first
