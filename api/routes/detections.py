"""POST /v1/detections (start a run in the background) and GET /v1/detections/{run_id} (follow it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.auth import Scope, require_scope
from api.deps import Database, Driver, Metrics, Runner, probe_neo4j
from api.problems import ProblemError, problem_responses
from api.schemas import DetectionRunOut, DetectionStart
from graph.detection import DetectionParams
from graph.errors import DetectionRunningError
from graph.store.runs import read_run

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/detections",
    tags=["detections"],
    dependencies=[require_scope(Scope.ADMIN)],
    responses=problem_responses(401, 403, 422, 503),
)


@router.post("", status_code=202, summary="Start a detection run", responses=problem_responses(400, 409, 413))
def start_detection(
    response: Response, driver: Driver, database: Database, runner: Runner, metrics: Metrics,
    body: DetectionStart | None = None,
) -> DetectionRunOut:
    """Start detecting rings in everything Neo4j holds; follow the run at the `Location` it returns.

    One run at a time per database, whichever worker or CLI started it: a start while one runs is
    refused with 409, naming the run. The run is recorded in Neo4j before the 202, so any worker can
    follow it at once.
    """
    start = body or DetectionStart()
    params = DetectionParams.for_method(
        start.method, resolution=start.resolution, merge=start.merge, merge_weight=start.merge_weight,
        seed=start.seed, min_size=start.min_size,
    )
    gap = (start.campaign_gap_days or params.campaign_gap_days) if start.campaign_cut else None
    params = replace(params, campaign_gap_days=gap)
    probe_neo4j(driver, database)  # refuse now (503) rather than fail in the background
    try:
        with metrics.neo4j("claim_run"):
            state = runner.start(params, incremental=start.incremental)
    except DetectionRunningError as busy:
        metrics.detections.labels("refused").inc()
        raise ProblemError(409, f"detection run {busy.run_id} is still running; follow /v1/detections/{busy.run_id}",
                           slug="detection-running", title="A detection run is already running") from None
    metrics.detections.labels("started").inc()
    response.headers["Location"] = f"/v1/detections/{state.run_id}"
    return DetectionRunOut(run_id=state.run_id, status="running", params=params.as_dict())


@router.get("/{run_id}", summary="Follow a detection run", responses=problem_responses(404))
def detection_run(
    run_id: Annotated[str, Path(min_length=1, max_length=128, examples=["run-20240301T120000000000Z-a1b2c3"])],
    driver: Driver,
    database: Database,
    runner: Runner,
    metrics: Metrics,
) -> DetectionRunOut:
    """The run's status (running, completed, failed), parameters, counts and timings.

    The DetectionRun record is the truth, with two corrections: a run whose heartbeat is older than
    its lease reads as failed (its process is gone), and a run this process saw fail reads as failed
    even while Neo4j still says running (the failure could not be recorded yet; the lease will).
    """
    with metrics.neo4j("read_run"):
        record = read_run(driver, database, run_id)
    if record is None:
        raise ProblemError(404, f"no detection run {run_id!r}")
    status, error = record.status, record.error
    local = runner.local(run_id)
    if status == "running" and local is not None and local.status == "failed":
        status, error = "failed", local.error
    return DetectionRunOut(
        run_id=record.run_id, status=status if status in ("running", "completed", "failed") else "unknown",
        started_at=record.started_at, finished_at=record.finished_at, version=record.version,
        params=record.params, counts=record.counts, timings=record.timings, error=error,
    )
