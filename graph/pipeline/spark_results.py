"""Recording a Spark job's results in Neo4j as a DetectionRun, so the CLI, API, Bloom and dossier serve them.

The job (graph/spark/job.py) wrote the records the in-process run's write stage receives; here they
go through the same steps as that stage: the run is claimed (the database's one detection lock, a
lease kept alive while writing), the records written by `graph.store.write_back.write_results`, and
the run completed with the job's counts and timings, becoming what analysts see in that one
transaction. Ring ids are the job's (those of a first run, derived from the members): a ring that
did not change has the id an earlier run gave it, a changed one a new id, and no lineage is recorded.
"""

from __future__ import annotations

import time
from pathlib import Path

import neo4j
from graph.pipeline.detect import new_run_id
from graph.pipeline.lease import RunLease
from graph.settings import get_settings
from graph.spark.results import RunResults, read_results
from graph.store.runs import claim_run, complete_run, latest_run_id
from graph.store.write_back import write_results

__all__ = ["record_results", "record_results_directory"]


def record_results(
    driver: neo4j.Driver, database: str, results: RunResults, *, run_id: str | None = None,
    lease_seconds: float | None = None,
) -> str:
    """Record `results` under a new completed DetectionRun and return its id; `DetectionRunningError`
    while another run holds the lock. A failure on the way leaves the run ``failed``."""
    run = results.run
    params = dict(run["params"])
    model_version = params.pop("scoring_model", None)
    run_id = run_id or new_run_id(params)
    lease_seconds = lease_seconds or get_settings().detection_lease_seconds
    claim_run(driver, database, run_id, {**params, "scoring_model": model_version, "engine": "spark"},
              str(run["code_version"]), lease_seconds=lease_seconds, watermark=False)
    lease = RunLease(driver, database, run_id, lease_seconds).start()
    timings = dict(run["timings"])
    previous_run_id: str | None = None
    try:
        previous_run_id = latest_run_id(driver, database)
        started = time.perf_counter()
        write_results(
            driver, database, run_id, rings=results.rings, memberships=results.memberships,
            ring_attributions=results.ring_attributions, account_attributions=results.account_attributions,
            operations=results.operations, part_of=results.part_of,
        )
        timings["write_back"] = round(time.perf_counter() - started, 3)
        lease.check()
        complete_run(driver, database, run_id, counts=dict(run["counts"]), timings=timings, lineage=[],
                     previous_run_id=previous_run_id)
    except BaseException as error:
        lease.fail(f"{type(error).__name__}: {error}", timings, previous_run_id)
        raise
    lease.stop()
    return run_id


def record_results_directory(driver: neo4j.Driver, database: str, directory: Path) -> str:
    """:func:`record_results` of the job's output directory."""
    return record_results(driver, database, read_results(directory))
