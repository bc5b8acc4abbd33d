"""Access log lines and Prometheus metrics. Nothing here reads the Authorization header."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.ingest.card_numbers import mask_card_numbers

__all__ = ["AccessLogMiddleware", "ApiMetrics", "access_logger"]

access_logger: Final = logging.getLogger("ringtrace.api.access")

_LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The app's own registry, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "ringtrace_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route", "status"], registry=self.registry, buckets=_LATENCY_BUCKETS,
        )
        self.neo4j_seconds = Histogram(
            "ringtrace_neo4j_query_duration_seconds", "Time spent in Neo4j per API operation.",
            ["operation", "outcome"], registry=self.registry, buckets=_LATENCY_BUCKETS,
        )
        self.links_rows = Counter(
            "ringtrace_links_rows_total", "Rows received by POST /v1/links, by outcome.",
            ["outcome"], registry=self.registry,
        )
        self.events_rows = Counter(
            "ringtrace_events_rows_total", "Events received by POST /v1/events, by outcome.",
            ["outcome"], registry=self.registry,
        )
        self.response_cache = Counter(
            "ringtrace_response_cache_requests_total",
            "Lookups by route and response cache outcome: hit, miss (answered by Neo4j) or off.",
            ["route", "outcome"], registry=self.registry,
        )
        self.detections = Counter(
            "ringtrace_detection_runs_total", "Detection runs started through the API, by outcome.",
            ["outcome"], registry=self.registry,
        )

    @contextmanager
    def neo4j(self, operation: str) -> Iterator[None]:
        """Time one graph operation (its Cypher round trips) under `operation`."""
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        finally:
            self.neo4j_seconds.labels(operation, outcome).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"


class AccessLogMiddleware:
    """One JSON log line and one latency observation per request; sets and echoes X-Request-ID."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, *, log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.request_seconds.labels(scope["method"], route, str(status)).observe(elapsed)
            if self.log and access_logger.isEnabledFor(logging.INFO):
                state: dict[str, Any] = scope.get("state", {})
                client = scope.get("client")
                access_logger.info(json.dumps({
                    "event": "http_request",
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": mask_card_numbers(scope["path"]),  # an id in the path may be a card number
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "client": client[0] if client else None,
                    "key": state.get("principal"),
                }))


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if 0 < len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return uuid.uuid4().hex
