"""POST /v1/links: a batch of observations, validated like the loader validates links.csv."""

# No `from __future__ import annotations`: the routes are built in a function and their annotations
# use its local `limits`, which FastAPI must be able to evaluate.
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Scope, require_scope
from api.deps import Database, Driver, Metrics
from api.problems import problem_responses
from api.schemas import LinkIn, LinkRowError, LinksIngested
from api.settings import ApiSettings
from graph.ingest.loader import load_rows
from graph.ingest.rows import RowError, parse_link

__all__ = ["links_router"]


def links_router(limits: ApiSettings) -> APIRouter:
    """The ingest route, with the batch size limit of `limits` in its schema."""

    class LinkBatch(BaseModel):
        """A batch of observations: the rows of a links.csv."""

        model_config = ConfigDict(extra="forbid")

        links: Annotated[list[LinkIn], Field(min_length=1, max_length=limits.max_batch_size)]

    router = APIRouter(
        prefix="/v1/links",
        tags=["ingest"],
        dependencies=[require_scope(Scope.INGEST)],
        responses=problem_responses(400, 401, 403, 413, 422, 503),
    )

    @router.post("", summary="Ingest a batch of observations (idempotent)")
    def ingest_links(batch: LinkBatch, driver: Driver, database: Database, metrics: Metrics) -> LinksIngested:
        """Validate every row; load the valid ones in one transaction; report the others by index.

        An observation counts once, whichever request or file brings it: sending rows that were
        applied before changes no count (`applied: false`) but still enriches their IPs, so a retry
        completes what a failed request left undone. A row with an error never stops the others; a
        batch that is not JSON of this shape is refused whole with 422.
        """
        rows: list[dict[str, Any]] = []
        errors: list[LinkRowError] = []
        for index, link in enumerate(batch.links):
            try:
                rows.append(parse_link(link.as_fields()))
            except RowError as error:
                errors.append(LinkRowError(index=index, field=error.field, reason=error.reason,
                                           value=str(error.value)[:80]))
        applied = False
        if rows:
            with metrics.neo4j("load_links"):
                applied = load_rows(driver, database, "links", rows) > 0
        metrics.links_rows.labels("loaded").inc(len(rows))
        metrics.links_rows.labels("rejected").inc(len(errors))
        return LinksIngested(received=len(batch.links), loaded=len(rows), rejected=len(errors), applied=applied,
                             errors=errors)

    return router
