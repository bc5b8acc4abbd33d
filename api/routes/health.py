"""GET /healthz (the process answers), GET /readyz (Neo4j answers too), GET /metrics (admin)."""

from __future__ import annotations

import neo4j.exceptions
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import Scope, require_scope
from api.deps import Database, Driver, Metrics, probe_neo4j
from api.problems import ProblemError, problem_responses
from api.schemas import Health

__all__ = ["metrics_router", "router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    """Always 200 while the process serves requests; says nothing about Neo4j."""
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: Neo4j answers", responses=problem_responses(503))
def readyz(driver: Driver, database: Database) -> Health:
    """200 when Neo4j answers now, 503 problem+json when it does not (the driver reconnects by itself)."""
    try:
        probe_neo4j(driver, database)
    except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, OSError) as error:
        raise ProblemError(
            503, f"Neo4j does not answer ({type(error).__name__})", headers={"Retry-After": "5"}
        ) from None
    return Health(status="ok", neo4j="up")


metrics_router = APIRouter(tags=["health"], dependencies=[require_scope(Scope.ADMIN)])


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics (admin scope)",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}},
              "description": "Prometheus text exposition format."},
        **problem_responses(401, 403),
    },
)
def metrics(registry: Metrics) -> PlainTextResponse:
    """Request latency histograms by route, Neo4j time per operation, ingest and detection counters."""
    return PlainTextResponse(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
