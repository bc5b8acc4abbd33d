"""The Spark job against `ringtrace detect`: the same bundle, loaded and detected in process, and read
and detected on Spark (local[2]), gives the same rings, ring ids and membership confidences."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

import neo4j
from graph.detection import DetectionParams
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import run_detection
from graph.settings import Settings
from graph.store.runs import read_ring_members
from tests.integration.conftest import FIXTURES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    generate_population(out, 2000, seed=5, events_per_account=0)
    return out


def _confidences(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, float]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[m:MEMBER_OF {run_id: $run_id}]->(:Ring) RETURN a.account_id AS a, m.confidence AS c",
        run_id=run_id, database_=database)
    return {str(r["a"]): float(r["c"]) for r in records}


def test_the_spark_job_finds_the_rings_detect_finds(
    spark: SparkSession, loaded: neo4j.Driver, settings: Settings, population: Path, tmp_path: Path
) -> None:
    from graph.spark.communities import RingPlacement
    from graph.spark.job import MEMBERSHIPS_FILE, RINGS_FILE, run_job

    params = DetectionParams(seed=11)
    in_process = run_detection(loaded, settings.neo4j_database, params)
    expected = read_ring_members(loaded, settings.neo4j_database, in_process.run_id)
    # Small bins and a low giant threshold: components spread over several tasks, the largest on the driver.
    summary = run_job(spark, population, tmp_path / "out", params, RingPlacement(bin_accounts=100, giant_size=20))
    memberships = pq.read_table(tmp_path / "out" / MEMBERSHIPS_FILE).to_pylist()
    found: dict[str, set[str]] = {}
    for row in memberships:
        found.setdefault(row["ring_id"], set()).add(row["account_id"])

    assert len(expected) >= 5
    assert {k: frozenset(v) for k, v in found.items()} == expected
    assert summary.ring_ids == in_process.ring_ids and summary.ring_sizes == in_process.ring_sizes
    assert summary.counts["bins"] > 1 and summary.counts["giant_components"] >= 1
    assert {r["account_id"]: r["membership_confidence"] for r in memberships} == _confidences(
        loaded, settings.neo4j_database, in_process.run_id)
    rings = pq.read_table(tmp_path / "out" / RINGS_FILE).to_pylist()
    assert [(r["ring_id"], r["size"]) for r in rings] == list(zip(in_process.ring_ids, in_process.ring_sizes,
                                                                  strict=True))


def test_the_spark_job_rejects_the_rows_load_rejects(
    spark: SparkSession, empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    from graph.spark.bundle import read_bundle_links

    report = load_bundle(empty_db, settings.neo4j_database, FIXTURES / "bad", rejects_path=tmp_path / "r.csv")
    loaded = {f.name: f.rejected for f in report.files if f.name in ("accounts", "links")}
    assert sum(loaded.values()) > 0
    assert read_bundle_links(spark, FIXTURES / "bad").rejected == {k: v for k, v in loaded.items() if v}
