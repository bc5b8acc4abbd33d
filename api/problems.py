"""Errors as `application/problem+json` (RFC 9457): a stable `type` per kind, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

import neo4j.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.errors import NotFoundError, RunNotCompletedError
from graph.ingest.excerpt import excerpt

__all__ = [
    "PROBLEM_JSON",
    "FieldError",
    "Problem",
    "ProblemError",
    "install_problem_handlers",
    "problem_response",
    "problem_responses",
]

PROBLEM_JSON: Final = "application/problem+json"
_TYPE_PREFIX: Final = "urn:ringtrace:problem:"
_log = logging.getLogger("ringtrace.api")

#: status -> (type slug, title) for problems raised without a more specific type
_BY_STATUS: Final[dict[int, tuple[str, str]]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Missing or invalid API key"),
    403: ("forbidden", "API key lacks the scope this route needs"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("content-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid input"),
    500: ("internal-error", "Internal error"),
    503: ("neo4j-unavailable", "Neo4j is unavailable"),
}


class FieldError(BaseModel):
    """One invalid input: where it is (`query.limit`, `body.links.3.count`) and what is wrong."""

    field: str = Field(examples=["query.limit"])
    reason: str = Field(examples=["Input should be less than or equal to 200"])


class Problem(BaseModel):
    """An RFC 9457 problem detail. `type` is stable and can be matched on; `detail` is for people."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:ringtrace:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(None, examples=["no account 'acc-000042'"])
    instance: str | None = Field(None, examples=["/v1/accounts/acc-000042/attribution"])
    errors: list[FieldError] | None = Field(None, description="Invalid fields (validation errors only).")


@dataclass
class ProblemError(Exception):
    """Raise from a route to answer with a problem; `slug` overrides the status's default type."""

    status: int
    detail: str
    slug: str | None = None
    title: str | None = None
    headers: Mapping[str, str] | None = None
    errors: list[FieldError] | None = None


def problem_response(
    request: Request | None,
    status: int,
    detail: str | None,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    default_slug, default_title = _BY_STATUS.get(status, ("error", HTTPStatus(status).phrase))
    body: dict[str, Any] = {
        "type": _TYPE_PREFIX + (slug or default_slug),
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problems a route can answer with."""
    return {
        status: {
            "model": Problem,
            "description": _BY_STATUS.get(status, ("error", HTTPStatus(status).phrase))[1],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _location(loc: tuple[int | str, ...]) -> str:
    # A location can hold a key the client sent (`body.links.0.<key>`): card numbers masked.
    return excerpt(".".join(str(part) for part in loc), 200)


async def _on_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # Location and message only, never pydantic's `input` or `ctx`: the offending value may be a prompt
    # (POST /v1/events promises never to repeat one) or a card number.
    errors = [
        FieldError(field=_location(tuple(e.get("loc", ()))), reason=str(e.get("msg", ""))) for e in error.errors()
    ]
    names = ", ".join(e.field for e in errors[:5])
    return problem_response(request, 422, f"invalid input: {names}", errors=errors)


async def _on_http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return problem_response(request, error.status_code, str(error.detail), headers=error.headers)


async def _on_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(request, error.status, error.detail, slug=error.slug, title=error.title,
                            headers=error.headers, errors=error.errors)


async def _on_not_found(request: Request, error: Exception) -> JSONResponse:
    return problem_response(request, 404, str(error) or "not found")


async def _on_run_not_completed(request: Request, error: Exception) -> JSONResponse:
    # The run exists but is no result (yet, or ever): a conflict with the run's state, not a missing one.
    return problem_response(request, 409, str(error), slug="run-not-completed", title="Detection run not completed")


async def _on_neo4j_down(request: Request, error: Exception) -> JSONResponse:
    _log.warning("neo4j unavailable: %s", type(error).__name__)
    return problem_response(request, 503, "the graph database cannot be reached; retry later",
                            headers={"Retry-After": "5"})


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    _log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.url.path, exc_info=error)
    return problem_response(request, 500, "an internal error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(NotFoundError, _on_not_found)
    app.add_exception_handler(RunNotCompletedError, _on_run_not_completed)
    app.add_exception_handler(neo4j.exceptions.ServiceUnavailable, _on_neo4j_down)
    app.add_exception_handler(neo4j.exceptions.SessionExpired, _on_neo4j_down)
    app.add_exception_handler(Exception, _on_unexpected)
