"""The Spark job against `ringtrace detect`: the same bundle, loaded and detected in process, and read,
detected and scored on Spark (local[2]) then written back, records the same rings, ids, memberships,
scores, attributions, evidence (behavioural evidence too, for a bundle with a usage log) and operations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import neo4j
from graph.behaviour.coaction import CoactionParams
from graph.detection import DetectionParams
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import run_detection
from graph.settings import Settings
from graph.store.runs import latest_run_id, read_ring_members, read_run
from graph.store.usage import UNSHARED
from graph.store.usage_reads import read_coaction_templates
from tests.integration.conftest import FIXTURES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module", params=["whole", "without_ranges", "usage_log"])
def population(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated population; without its IP ranges no account is on an organisation's network, so
    the rings' neighbourhood the job scores on is a part of the store, not all of it. With its usage
    log, rings are found by co-action too (the generator's behaviour-only rings share no infrastructure)."""
    out = tmp_path_factory.mktemp("population")
    if request.param == "usage_log":
        generate_population(out, 1500, seed=5)
        return out
    generate_population(out, 2000, seed=5, events_per_account=0)
    if request.param == "without_ranges":
        (out / "ip_ranges.csv").unlink()
    return out


def _stored(driver: neo4j.Driver, database: str, run_id: str) -> dict[str, Any]:
    """Everything a run recorded, keyed so two runs over the same data compare equal."""
    def rows(query: str) -> list[dict[str, Any]]:
        records, _, _ = driver.execute_query(query, run_id=run_id, database_=database)
        return sorted((r.data() for r in records), key=repr)

    return {
        "rings": rows("MATCH (r:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) "
                      "RETURN r.ring_id AS ring, properties(f) AS p"),
        "memberships": rows("MATCH (a:Account)-[m:MEMBER_OF {run_id: $run_id}]->(r:Ring) "
                            "RETURN a.account_id AS account, r.ring_id AS ring, m.confidence AS confidence"),
        "attributions": rows("MATCH (s)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization) "
                             "RETURN labels(s) AS label, coalesce(s.ring_id, s.account_id) AS subject, o.name AS org, "
                             "t{.*, run_id: null} AS p"),
        "operations": rows("MATCH (op:Operation)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) "
                           "RETURN op.operation_id AS operation, properties(f) AS p"),
        "part_of": rows("MATCH (r:Ring)-[p:PART_OF {run_id: $run_id}]->(op:Operation) "
                        "RETURN r.ring_id AS ring, op.operation_id AS operation, p.evidence AS evidence"),
    }


def test_the_spark_job_records_what_detect_records(
    spark: SparkSession, loaded: neo4j.Driver, settings: Settings, population: Path, tmp_path: Path
) -> None:
    from graph.pipeline.spark_results import record_results_directory
    from graph.spark.communities import RingPlacement
    from graph.spark.job import run_job

    db = settings.neo4j_database
    params = DetectionParams(seed=11)
    in_process = run_detection(loaded, db, params)
    persisted = spark.sparkContext._jsc.getPersistentRDDs().size()
    # Small bins and a low giant threshold: components spread over several tasks, the largest on the driver.
    summary = run_job(spark, population, tmp_path / "out", params, RingPlacement(bin_accounts=100, giant_size=20))
    # What the job cached it released: a session that runs it again must not hold every run's frames
    # (it ran out of driver memory on the third run of this module, and pyspark then waits forever).
    assert spark.sparkContext._jsc.getPersistentRDDs().size() == persisted
    assert summary.counts["bins"] > 1 and summary.counts["giant_components"] >= 1
    assert summary.ring_ids == in_process.ring_ids and summary.ring_sizes == in_process.ring_sizes
    assert len(in_process.ring_ids) >= 5
    if not (population / "ip_ranges.csv").exists():
        assert summary.counts["neighbourhood_accounts"] < summary.counts["accounts"]
    if (population / "events.csv").exists():
        # Co-action joined the projection: the comparison is not the one without a usage log again.
        assert in_process.counts["coaction_pairs"] > 0 and summary.counts["coaction_pairs"] > 0
        assert summary.counts["templates"] == in_process.counts["templates"] > 0

    spark_run = record_results_directory(loaded, db, tmp_path / "out")
    assert read_ring_members(loaded, db, spark_run) == read_ring_members(loaded, db, in_process.run_id)
    expected, found = _stored(loaded, db, in_process.run_id), _stored(loaded, db, spark_run)
    for name in expected:
        assert found[name] == expected[name], name
    recorded = read_run(loaded, db, spark_run)
    assert recorded is not None and recorded.status == "completed"
    # The counts the in-process run records, the job's own figures besides them.
    assert {k: v for k, v in recorded.counts.items() if k in in_process.counts} == in_process.counts
    assert latest_run_id(loaded, db) == spark_run


def test_the_spark_job_rejects_the_rows_load_rejects(
    spark: SparkSession, empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    from graph.spark.bundle import read_bundle

    report = load_bundle(empty_db, settings.neo4j_database, FIXTURES / "bad", rejects_path=tmp_path / "r.csv")
    loaded = {f.name: f.rejected for f in report.files if f.rejected}
    assert sum(loaded.values()) > 0
    bundle = read_bundle(spark, FIXTURES / "bad")
    assert bundle.rejected == loaded
    # A file the load cannot read at all (known.csv without its header) is reported, and the rest read.
    assert set(bundle.unreadable) == {f.name for f in report.files if f.error is not None} == {"known"}


def test_the_spark_job_assigns_the_templates_a_load_assigns(
    spark: SparkSession, empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    """Template families depend on the order prompts arrive in: the job's, assigned on its driver, are
    the load's (fingerprints, senders, skeletons), and so are the minutes co-action reads."""
    from pyspark.sql import functions as F  # noqa: N812

    from graph.spark.bundle import read_bundle
    from graph.spark.coaction import sent_minutes

    db = settings.neo4j_database
    generate_population(tmp_path, 300, seed=3)
    assert load_bundle(empty_db, db, tmp_path, rejects_path=tmp_path / "r.csv").ok
    records, _, _ = empty_db.execute_query(
        "MATCH (t:PromptTemplate) WHERE t.fingerprint <> $unshared "
        "RETURN t.fingerprint AS template, t.accounts AS senders, t.skeleton AS skeleton",
        unshared=UNSHARED, database_=db)
    usage = read_bundle(spark, tmp_path).usage
    assert usage is not None
    found = sorted((r["template"], r["senders"], r["skeleton"]) for r in usage.templates.collect())
    assert found == sorted((r["template"], r["senders"], r["skeleton"]) for r in records)
    assert any(skeleton is not None for _, _, skeleton in found)
    params = CoactionParams()
    stored = {(t, a, tuple(m)) for t, _, _, sent in read_coaction_templates(empty_db, db, params.max_senders)
              for a, m in sent}
    minutes = sent_minutes(usage.requests, usage.templates, params).groupBy("template", "account_id").agg(
        F.array_sort(F.collect_list("minute")).alias("minutes")).collect()
    assert {(r["template"], r["account_id"], tuple(r["minutes"])) for r in minutes} == stored
