"""GET /v1/rings (paginated) and GET /v1/rings/{ring_id}."""

# No `from __future__ import annotations`: the routes are built in a function and their annotations
# use its local `limits`, which FastAPI must be able to evaluate.
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth import Scope, require_scope
from api.cache import serve_lookup
from api.deps import Cache, Database, Driver, Metrics
from api.problems import ProblemError, problem_responses
from api.schemas import RingDetailOut, RingPage, RingSummaryOut
from api.settings import ApiSettings
from graph.store import results
from graph.store.results import MAX_MEMBER_PAGE_SIZE, MEMBER_PAGE_SIZE

__all__ = ["rings_router"]

RunId = Annotated[str | None, Query(min_length=1, max_length=128,
                                    description="Rings of this detection run; the latest completed when absent.")]


def rings_router(limits: ApiSettings) -> APIRouter:
    """The ring routes, with the page size limit of `limits` in their schema."""
    router = APIRouter(
        prefix="/v1/rings",
        tags=["rings"],
        dependencies=[require_scope(Scope.READ)],
        responses=problem_responses(401, 403, 404, 422, 503),
    )

    @router.get("", summary="Rings, highest coordination score first", response_model=RingPage)
    def list_rings(
        driver: Driver,
        database: Database,
        metrics: Metrics,
        cache: Cache,
        run_id: RunId = None,
        min_score: Annotated[float, Query(ge=0.0, le=1.0, description="Only rings scoring at least this.")] = 0.0,
        organization: Annotated[str | None, Query(min_length=1, max_length=256,
                                                  description="Only rings attributed to this organisation.")] = None,
        cursor: Annotated[str | None, Query(min_length=1, max_length=512,
                                            description="`next_cursor` of the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, le=limits.max_page_size, description="Page size.")] = (
            limits.default_page_size
        ),
    ) -> Response:
        """A page of rings; follow `next_cursor` until it is null. 404 for an unknown `run_id`."""

        def read() -> RingPage:
            try:
                with metrics.neo4j("list_rings"):
                    page, next_cursor = results.list_rings(
                        driver, database, run_id=run_id, min_score=min_score, organization=organization,
                        after=cursor, limit=limit,
                    )
            except ValueError as error:  # a cursor that is not one of ours
                raise ProblemError(422, f"cursor: {error}", slug="invalid-cursor", title="Invalid cursor") from None
            return RingPage(rings=[RingSummaryOut.of(r) for r in page], next_cursor=next_cursor)

        # A page names its run only through its rings: an empty page names none and is not kept.
        return serve_lookup(cache, driver, database, metrics, route="list_rings",
                            params=(min_score, organization, cursor, limit), run_id=run_id, read=read,
                            answered_run=lambda page: page.rings[0].run_id if page.rings else None)

    @router.get("/{ring_id}", summary="One ring: a page of members, scores, attributions and evidence paths",
                response_model=RingDetailOut)
    def ring_detail(
        ring_id: Annotated[str, Path(min_length=1, max_length=128, examples=["ring-3f9a2c"])],
        driver: Driver,
        database: Database,
        metrics: Metrics,
        cache: Cache,
        run_id: RunId = None,
        members_limit: Annotated[int, Query(ge=1, le=MAX_MEMBER_PAGE_SIZE,
                                            description="Members per page, most confident first.")] = (
            MEMBER_PAGE_SIZE
        ),
        members_after: Annotated[str | None, Query(min_length=1, max_length=512,
                                                   description="`members_next_cursor` of the previous page.")] = None,
    ) -> Response:
        """The ring as the run found it, with one page of its members (`member_count` says how many in all).

        404 for a ring or run Neo4j does not hold; 422 for a `members_after` this API did not issue.
        """

        def read() -> RingDetailOut:
            try:
                with metrics.neo4j("ring_detail"):
                    detail = results.ring_detail(driver, database, ring_id, run_id=run_id,
                                                 members_limit=members_limit, members_after=members_after)
            except ValueError as error:  # the limit is bounded by the schema, so: a cursor that is not one of ours
                raise ProblemError(422, f"members_after: {error}", slug="invalid-cursor",
                                   title="Invalid cursor") from None
            return RingDetailOut.of(detail)

        return serve_lookup(cache, driver, database, metrics, route="ring_detail",
                            params=(ring_id, members_limit, members_after), run_id=run_id, read=read,
                            answered_run=lambda detail: detail.ring.run_id)

    return router
