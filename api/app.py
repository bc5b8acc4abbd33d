"""The app factory: `create_app()` builds the API; its lifespan owns the process's one Neo4j driver."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import neo4j.exceptions
from fastapi import Depends, FastAPI

import graph
from api.auth import KeyRing, parse_api_keys
from api.cache import ResponseCache
from api.deps import single_valued_query
from api.detections import DetectionRunner
from api.limits import BodyLimitMiddleware
from api.observability import AccessLogMiddleware, ApiMetrics
from api.problems import install_problem_handlers
from api.routes import accounts, detections, events, health, links, operations, rings
from api.settings import ApiSettings
from graph.settings import Settings, get_settings
from graph.store.driver import create_driver

__all__ = ["create_app"]

_log = logging.getLogger("ringtrace.api")

_DESCRIPTION = """\
Rings of coordinated accounts found in Neo4j, their attribution to organisations, and the evidence
paths behind every score.

Every `/v1` route needs `Authorization: Bearer KEY` with a key from `RINGTRACE_API_KEYS` and the
route's scope: `read` for lookups, `ingest` for `POST /v1/links` and `POST /v1/events`, `admin` for
detections and `/metrics`. Errors are `application/problem+json` (RFC 9457) with a stable `type`
(`urn:ringtrace:problem:...`).
"""


def _ensure_log_output() -> None:
    """Under `ringtrace serve` uvicorn configures only its own loggers: give ours a stderr handler."""
    api_logger = logging.getLogger("ringtrace.api")
    if api_logger.level == logging.NOTSET:
        api_logger.setLevel(logging.INFO)
    if not logging.getLogger().handlers and not api_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        api_logger.addHandler(handler)


def create_app(settings: Settings | None = None, api_settings: ApiSettings | None = None) -> FastAPI:
    """The API over the Neo4j that `settings` names (the environment when None)."""
    settings = settings or get_settings()
    _ensure_log_output()
    notifications = logging.getLogger("neo4j.notifications")
    if notifications.level == logging.NOTSET:  # one warning per query would flood the log under load
        notifications.setLevel(logging.ERROR)
    api_settings = api_settings or ApiSettings()
    keyring = KeyRing(parse_api_keys(settings.api_keys.get_secret_value()))
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = create_driver(settings, retry_seconds=2.0)
        try:
            driver.verify_connectivity()
        except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, OSError) as error:
            _log.warning("Neo4j at %s does not answer (%s); serving anyway, /readyz says 503 until it does",
                         settings.neo4j_uri, type(error).__name__)
        if not len(keyring):
            _log.warning("RINGTRACE_API_KEYS is empty: every /v1 route answers 401")
        app.state.driver = driver
        app.state.detections = DetectionRunner(driver, settings.neo4j_database,
                                               lease_seconds=settings.detection_lease_seconds)
        try:
            yield
        finally:
            # A detection run in progress gets a grace period to finish; one that does not is recorded
            # failed, so the database's detection lock is free for the next run at once.
            if not app.state.detections.shutdown(timeout=api_settings.shutdown_grace_seconds):
                _log.warning("closing the Neo4j driver while a detection run (now recorded failed) still computes")
            driver.close()

    app = FastAPI(
        title="ringtrace",
        version=graph.__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(single_valued_query)],
        openapi_tags=[
            {"name": "accounts", "description": "Is this account in a ring, attributed to whom."},
            {"name": "rings", "description": "Rings found by detection runs, with members and evidence."},
            {"name": "operations", "description": "Operations: rings grouped as campaigns of one operator."},
            {"name": "ingest", "description": "Observations and usage events in, as links.csv and events.csv rows."},
            {"name": "detections", "description": "Detection runs: start one, follow it."},
            {"name": "health", "description": "Liveness, readiness, metrics."},
        ],
    )
    app.state.settings = settings
    app.state.api_settings = api_settings
    app.state.keyring = keyring
    app.state.metrics = metrics
    app.state.response_cache = ResponseCache(api_settings.response_cache_bytes)
    install_problem_handlers(app)
    app.include_router(health.router)
    if api_settings.metrics_enabled:
        app.include_router(health.metrics_router)
    app.include_router(accounts.router)
    app.include_router(rings.rings_router(api_settings))
    app.include_router(operations.operations_router(api_settings))
    app.include_router(links.links_router(api_settings))
    app.include_router(events.events_router(api_settings))
    app.include_router(detections.router)
    from api.routes.report import router as report_router  # the ring dossier page (issue 6)
    app.include_router(report_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=api_settings.max_body_bytes,
                       path_limits={"/v1/events": api_settings.max_events_body_bytes})
    app.add_middleware(AccessLogMiddleware, metrics=metrics, log=api_settings.access_log)
    return app
