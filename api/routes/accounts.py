"""GET /v1/accounts/{account_id}/attribution."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth import Scope, require_scope
from api.cache import serve_lookup
from api.deps import Cache, Database, Driver, Metrics
from api.problems import problem_responses
from api.schemas import AccountAttributionOut
from graph.store import results

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/accounts",
    tags=["accounts"],
    dependencies=[require_scope(Scope.READ)],
    responses=problem_responses(401, 403, 404, 422, 503),
)

AccountId = Annotated[str, Path(min_length=1, max_length=256, description="The account's id.",
                                examples=["acc-000123"])]
RunId = Annotated[str | None, Query(min_length=1, max_length=128,
                                    description="Answer from this detection run; the latest completed when absent.")]


@router.get("/{account_id}/attribution", summary="Ring, scores and attributions of one account",
            response_model=AccountAttributionOut)
def account_attribution(
    account_id: AccountId, driver: Driver, database: Database, metrics: Metrics, cache: Cache, run_id: RunId = None
) -> Response:
    """Whether the account is in a ring, attributed to whom and how surely, with ranked evidence paths.

    404 for an account Neo4j does not hold, or an unknown `run_id`.
    """

    def read() -> AccountAttributionOut:
        with metrics.neo4j("account_attribution"):
            view = results.account_attribution(driver, database, account_id, run_id=run_id)
        return AccountAttributionOut.of(view)

    return serve_lookup(cache, driver, database, metrics, route="account_attribution", params=(account_id,),
                        run_id=run_id, read=read, answered_run=lambda answer: answer.run_id)
