"""POST /v1/events: a batch of usage events, validated like the loader validates events.csv."""

# No `from __future__ import annotations`: the routes are built in a function and their annotations
# use its local `limits`, which FastAPI must be able to evaluate.
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Scope, require_scope
from api.deps import Database, Driver, Metrics
from api.problems import problem_responses
from api.schemas import EventIn, EventRowError, EventsIngested
from api.settings import ApiSettings
from graph.ingest.loader import load_event_rows
from graph.ingest.rows import RowError, parse_event

__all__ = ["events_router"]


def events_router(limits: ApiSettings) -> APIRouter:
    """The usage ingest route, with the batch size limit of `limits` in its schema."""

    class EventBatch(BaseModel):
        """A batch of usage events: the rows of an events.csv."""

        model_config = ConfigDict(extra="forbid")

        events: Annotated[list[EventIn], Field(min_length=1, max_length=limits.max_batch_size)]

    router = APIRouter(
        prefix="/v1/events",
        tags=["ingest"],
        dependencies=[require_scope(Scope.INGEST)],
        responses=problem_responses(400, 401, 403, 413, 422, 503),
    )

    @router.post("", summary="Ingest a batch of usage events (idempotent)")
    def ingest_events(batch: EventBatch, driver: Driver, database: Database, metrics: Metrics) -> EventsIngested:
        """Validate every event; load the valid ones as one load; report the others by index.

        Each prompt is fingerprinted into its template on the way in and then dropped: no response,
        problem or log line repeats it. An event counts once, whichever request or file brings it:
        events counted before are `duplicates`. A template becomes a `PromptTemplate` once two
        accounts sent it in one load (this batch) or if it is stored already. A row with an error
        never stops the others; a batch that is not JSON of this shape is refused whole with 422.
        """
        rows: list[dict[str, Any]] = []
        errors: list[EventRowError] = []
        for index, event in enumerate(batch.events):
            try:
                rows.append(parse_event(event.as_fields()))
            except RowError as error:
                # Not even an excerpt of a prompt, whatever the parser put in the error.
                value = None if error.field == "prompt" else str(error.value)[:80]
                errors.append(EventRowError(index=index, field=error.field, reason=error.reason, value=value))
        loaded = 0
        if rows:
            with metrics.neo4j("load_events"):
                loaded = load_event_rows(driver, database, rows)
        metrics.events_rows.labels("loaded").inc(loaded)
        metrics.events_rows.labels("duplicate").inc(len(rows) - loaded)
        metrics.events_rows.labels("rejected").inc(len(errors))
        return EventsIngested(received=len(batch.events), loaded=loaded, duplicates=len(rows) - loaded,
                              rejected=len(errors), errors=errors)

    return router
