"""What routes depend on: the process's driver, settings and helpers, from the app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

import neo4j
from api.cache import ResponseCache
from api.detections import DetectionRunner
from api.observability import ApiMetrics
from api.problems import FieldError, ProblemError
from graph.settings import Settings
from graph.store.driver import ping

__all__ = ["Cache", "Database", "Driver", "Metrics", "Runner", "probe_neo4j", "single_valued_query"]


def probe_neo4j(driver: neo4j.Driver, database: str) -> None:
    """Raise at once when Neo4j does not answer (mapped to 503 by the error handlers)."""
    ping(driver, database)


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


# The dependencies are `async def` because they never block: FastAPI runs a plain `def` dependency in
# the thread pool, a hop per dependency per request that cost a worker about a third of its cached
# answers per second (bench/api.py).
async def single_valued_query(request: Request) -> None:
    """422 for a query parameter given twice or not known to the route.

    `?limit=5&limit=500` must not quietly mean one of them, and a misspelt filter (`?min_scor=0.9`)
    must not quietly return everything.
    """
    route = request.scope.get("route")
    known: set[str] | None = None
    if isinstance(route, APIRoute):
        known = _query_names(route.dependant)
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        reason = "given more than once" if key in seen else None
        if known is not None and key not in known:
            reason = "not a parameter of this route"
        if reason:
            raise ProblemError(422, f"invalid input: query.{key} {reason}",
                               errors=[FieldError(field=f"query.{key}", reason=reason)])
        seen.add(key)


async def _driver(request: Request) -> neo4j.Driver:
    driver: neo4j.Driver = request.app.state.driver
    return driver


async def _database(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.neo4j_database


async def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


async def _cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.response_cache
    return cache


async def _runner(request: Request) -> DetectionRunner:
    runner: DetectionRunner = request.app.state.detections
    return runner


Driver = Annotated[neo4j.Driver, Depends(_driver)]
Database = Annotated[str, Depends(_database)]
Metrics = Annotated[ApiMetrics, Depends(_metrics)]
Runner = Annotated[DetectionRunner, Depends(_runner)]
Cache = Annotated[ResponseCache, Depends(_cache)]
