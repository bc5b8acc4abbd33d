"""GET /v1/operations (paginated) and GET /v1/operations/{operation_id}: the campaigns of one operator."""

# No `from __future__ import annotations`: the routes are built in a function and their annotations
# use its local `limits`, which FastAPI must be able to evaluate.
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth import Scope, require_scope
from api.cache import serve_lookup
from api.deps import Cache, Database, Driver, Metrics
from api.problems import ProblemError, problem_responses
from api.schemas import OperationDetailOut, OperationPage, OperationSummaryOut
from api.settings import ApiSettings
from graph.store import operation_reads

__all__ = ["operations_router"]

RunId = Annotated[str | None, Query(min_length=1, max_length=128,
                                    description="Operations of this detection run; the latest completed when absent.")]


def operations_router(limits: ApiSettings) -> APIRouter:
    """The operation routes, with the page size limit of `limits` in their schema."""
    router = APIRouter(
        prefix="/v1/operations",
        tags=["operations"],
        dependencies=[require_scope(Scope.READ)],
        responses=problem_responses(401, 403, 404, 422, 503),
    )

    @router.get("", summary="Operations, highest coordination score first", response_model=OperationPage)
    def list_operations(
        driver: Driver,
        database: Database,
        metrics: Metrics,
        cache: Cache,
        run_id: RunId = None,
        min_campaigns: Annotated[int, Query(ge=1, le=1_000_000,
                                            description="Only operations of at least this many rings.")] = 1,
        min_score: Annotated[float, Query(ge=0.0, le=1.0,
                                          description="Only operations whose best ring scores at least this.")] = 0.0,
        cursor: Annotated[str | None, Query(min_length=1, max_length=512,
                                            description="`next_cursor` of the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, le=limits.max_page_size, description="Page size.")] = (
            limits.default_page_size
        ),
    ) -> Response:
        """A page of operations; follow `next_cursor` until it is null. 404 for an unknown `run_id`."""

        def read() -> OperationPage:
            try:
                with metrics.neo4j("list_operations"):
                    run, page, next_cursor = operation_reads.list_operations(
                        driver, database, run_id=run_id, min_campaigns=min_campaigns, min_score=min_score,
                        after=cursor, limit=limit,
                    )
            except ValueError as error:  # a cursor that is not one of ours
                raise ProblemError(422, f"cursor: {error}", slug="invalid-cursor", title="Invalid cursor") from None
            return OperationPage(run_id=run, operations=[OperationSummaryOut.of(o) for o in page],
                                 next_cursor=next_cursor)

        return serve_lookup(cache, driver, database, metrics, route="list_operations",
                            params=(min_campaigns, min_score, cursor, limit), run_id=run_id, read=read,
                            answered_run=lambda page: page.run_id)

    @router.get("/{operation_id}", summary="One operation: its campaigns in the order they ran, and their ties",
                response_model=OperationDetailOut)
    def operation_detail(
        operation_id: Annotated[str, Path(min_length=1, max_length=128, examples=["op-7c1e04"])],
        driver: Driver,
        database: Database,
        metrics: Metrics,
        cache: Cache,
        run_id: RunId = None,
    ) -> Response:
        """The operation as the run found it: its rings (as `GET /v1/rings` lists them) and what ties them.

        404 for an operation or run Neo4j does not hold.
        """

        def read() -> OperationDetailOut:
            with metrics.neo4j("operation_detail"):
                detail = operation_reads.operation_detail(driver, database, operation_id, run_id=run_id)
            return OperationDetailOut.of(detail)

        return serve_lookup(cache, driver, database, metrics, route="operation_detail", params=(operation_id,),
                            run_id=run_id, read=read, answered_run=lambda detail: detail.run_id)

    return router
