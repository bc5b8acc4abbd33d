"""GET /v1/rings/{ring_id}/report: the ring dossier, a self-contained HTML page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from api.auth import Scope, require_scope
from api.deps import Database, Driver, Metrics
from api.problems import problem_responses
from graph.analyst.dossier_page import ring_dossier

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/rings",
    tags=["rings"],
    dependencies=[require_scope(Scope.READ)],
    responses=problem_responses(401, 403, 404, 422, 503),
)


@router.get(
    "/{ring_id}/report",
    summary="A ring dossier: members, scores, evidence waterfall, evidence subgraph, timeline, run record",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "A self-contained HTML page (no network needed)."}},
)
def ring_report(
    ring_id: Annotated[str, Path(min_length=1, max_length=128, examples=["ring-3f9a2c"])],
    driver: Driver,
    database: Database,
    metrics: Metrics,
    run_id: Annotated[str | None, Query(min_length=1, max_length=128,
                                        description="The ring as this run found it; the latest completed when absent.")
                      ] = None,
) -> HTMLResponse:
    """The same page `ringtrace report` writes. 404 (problem+json) for a ring or run Neo4j does not hold."""
    # Not in the response cache (api/cache.py): besides what the run found, the page shows the members'
    # links, known members and operated addresses as they are now, which every load can change.
    with metrics.neo4j("ring_report"):
        page = ring_dossier(driver, database, ring_id, run_id=run_id)
    return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                  "script-src 'unsafe-inline'; img-src data:"})
