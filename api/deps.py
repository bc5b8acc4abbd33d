"""What routes depend on: the process's driver, settings and helpers, from the app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

import neo4j
from api.detections import DetectionRunner
from api.observability import ApiMetrics
from api.settings import ApiSettings
from graph.settings import Settings

__all__ = ["ApiLimits", "Database", "Driver", "Metrics", "Runner", "probe_neo4j"]


def probe_neo4j(driver: neo4j.Driver, database: str) -> None:
    """One round trip to Neo4j, not retried: raises at once when it does not answer.

    A pooled connection whose server went away fails here and is dropped, so the next probe after
    Neo4j returns opens a fresh one (`verify_connectivity` alone can be satisfied by a stale one).
    """
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        session.run("RETURN 1").consume()


def _driver(request: Request) -> neo4j.Driver:
    driver: neo4j.Driver = request.app.state.driver
    return driver


def _database(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.neo4j_database


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


def _runner(request: Request) -> DetectionRunner:
    runner: DetectionRunner = request.app.state.detections
    return runner


def _limits(request: Request) -> ApiSettings:
    limits: ApiSettings = request.app.state.api_settings
    return limits


Driver = Annotated[neo4j.Driver, Depends(_driver)]
Database = Annotated[str, Depends(_database)]
Metrics = Annotated[ApiMetrics, Depends(_metrics)]
Runner = Annotated[DetectionRunner, Depends(_runner)]
ApiLimits = Annotated[ApiSettings, Depends(_limits)]
