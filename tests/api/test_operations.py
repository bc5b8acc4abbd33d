"""Operations: the paginated list, one operation with its campaigns and ties, and what rings say of theirs."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

import neo4j
from graph.records import EvidencePath
from graph.settings import Settings
from graph.store.runs import latest_run_id
from tests.api.conftest import LIMITS, Population, assert_problem, auth
from tests.integration.graph_state import path_exists


def _cursor(payload: str) -> str:
    """A cursor made up the way ours are made (URL-safe base64 of JSON), holding `payload`."""
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _page(client: TestClient, **params: str | float | int) -> dict[str, Any]:
    response = client.get("/v1/operations", headers=auth("read"), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def _every_operation(client: TestClient, population: Population, *, limit: int = LIMITS.max_page_size,
                     **params: str | float | int) -> list[dict[str, Any]]:
    """All pages of GET /v1/operations with these filters, in order."""
    operations: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        query: dict[str, str | float | int] = {**params, "run_id": population.run_id, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        page = _page(client, **query)
        assert page["run_id"] == population.run_id
        assert len(page["operations"]) <= limit
        operations += page["operations"]
        cursor = page["next_cursor"]
        if cursor is None:
            return operations
        assert len(page["operations"]) == limit  # only a full page has a next one
    raise AssertionError("the operation list does not end")


def _detail(client: TestClient, population: Population, operation_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/operations/{operation_id}", headers=auth("read"),
                          params={"run_id": population.run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def _multi_campaign(client: TestClient, population: Population) -> list[dict[str, Any]]:
    operations = _every_operation(client, population, min_campaigns=2)
    assert operations, "the generated population has operators that ran more than one campaign"
    return operations


def test_operation_pages_cover_every_ring_once_in_score_order(client: TestClient, population: Population) -> None:
    paged = _every_operation(client, population, limit=3)
    ids = [o["operation_id"] for o in paged]
    assert len(ids) == len(set(ids)), "no operation on two pages"
    assert len(ids) > 3, "more than one page, or the cursor is not tested"
    order = [(-o["score"], o["operation_id"]) for o in paged]
    assert order == sorted(order)  # highest score first, then by id, across pages
    assert paged == _every_operation(client, population), "page size changes nothing but the pages"
    # Every ring of the run is a campaign of exactly one operation.
    assert sum(o["campaigns"] for o in paged) == len(population.ring_ids)
    ring_ids = [ring for o in paged for ring in o["ring_ids"]]
    assert sorted(ring_ids) == sorted(population.ring_ids)
    for operation in paged:
        assert operation["campaigns"] == len(operation["ring_ids"]) >= 1
        assert operation["size"] == sum(len(population.ring_members[r]) for r in operation["ring_ids"])
        assert 0.0 <= operation["score"] <= 1.0


def test_a_cursor_round_trips(client: TestClient, population: Population) -> None:
    first = _page(client, run_id=population.run_id, limit=2)
    assert first["next_cursor"], "more than two operations"
    second = _page(client, run_id=population.run_id, limit=2, cursor=first["next_cursor"])
    again = _page(client, run_id=population.run_id, limit=2, cursor=first["next_cursor"])
    assert again == second  # the same cursor, the same page
    both = _page(client, run_id=population.run_id, limit=4)
    assert both["operations"] == first["operations"] + second["operations"]  # nothing skipped or repeated


def test_default_run_and_page_size(client: TestClient, population: Population,
                                   graph_driver: neo4j.Driver, api_settings: Settings) -> None:
    body = _page(client)
    # The latest completed run: other modules' detections may have followed the population's.
    latest = latest_run_id(graph_driver, api_settings.neo4j_database, cached=False)
    assert body["run_id"] == latest
    explicit = _page(client, run_id=latest, limit=LIMITS.max_page_size)
    assert len(body["operations"]) == min(LIMITS.default_page_size, len(explicit["operations"]))
    assert body["operations"] == explicit["operations"][:LIMITS.default_page_size]


def test_min_campaigns_keeps_only_multi_campaign_operations(client: TestClient, population: Population) -> None:
    everything = _every_operation(client, population)
    several = _multi_campaign(client, population)
    assert all(o["campaigns"] >= 2 for o in several)
    assert several == [o for o in everything if o["campaigns"] >= 2]
    assert len(several) < len(everything), "and single-campaign operations, or the filter is not tested"
    most = max(o["campaigns"] for o in everything)
    assert _every_operation(client, population, min_campaigns=most) == [o for o in everything
                                                                        if o["campaigns"] == most]
    assert _every_operation(client, population, min_campaigns=most + 1) == []


def test_min_score_filter(client: TestClient, population: Population) -> None:
    everything = _every_operation(client, population)
    high = _every_operation(client, population, min_score=0.5)
    assert high, "the population has coordinated operations"
    assert high == [o for o in everything if o["score"] >= 0.5]
    assert len(high) < len(everything), "and operations below 0.5, or the filter is not tested"


def test_operation_detail_lists_its_campaigns_in_order(client: TestClient, population: Population) -> None:
    for summary in _multi_campaign(client, population)[:5]:
        body = _detail(client, population, summary["operation_id"])
        assert body["run_id"] == population.run_id
        assert body["operation"] == summary
        campaigns = body["campaigns"]
        assert [r["ring_id"] for r in campaigns] == summary["ring_ids"]
        starts = [r["active_from"] for r in campaigns if r["active_from"] is not None]
        assert starts == sorted(starts), "in the order they ran"
        if starts:
            assert summary["active_from"] == min(starts)
        ends = [r["active_to"] for r in campaigns if r["active_to"] is not None]
        if ends:
            assert summary["active_to"] == max(ends)
        assert summary["score"] == max(r["score"] for r in campaigns)
        for ring in campaigns:
            assert ring["operation_id"] == summary["operation_id"]
            assert ring["run_id"] == population.run_id
            response = client.get(f"/v1/rings/{ring['ring_id']}", headers=auth("read"),
                                  params={"run_id": population.run_id, "members_limit": 1})
            assert response.status_code == 200, response.text
            assert response.json()["ring"] == ring  # the same ring the ring routes show
        assert body["ties"], "rings are grouped by something they share"
        for tie in body["ties"]:
            assert len(tie["rings"]) == 2 and set(tie["rings"]) <= set(summary["ring_ids"])
            assert tie["rings"][0] != tie["rings"][1]
            assert tie["sentence"] and tie["paths"]


def test_a_single_campaign_operation(client: TestClient, population: Population) -> None:
    single = next(o for o in _every_operation(client, population) if o["campaigns"] == 1)
    body = _detail(client, population, single["operation_id"])
    assert [r["ring_id"] for r in body["campaigns"]] == single["ring_ids"]
    assert body["campaigns"][0]["operation_id"] == single["operation_id"]
    assert body["ties"] == []


def test_every_ring_names_its_operation(client: TestClient, population: Population) -> None:
    operation_of = {ring: o["operation_id"] for o in _every_operation(client, population) for ring in o["ring_ids"]}
    cursor: str | None = None
    seen = 0
    while True:
        params: dict[str, str | int] = {"run_id": population.run_id, "limit": LIMITS.max_page_size}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/v1/rings", headers=auth("read"), params=params).json()
        for ring in page["rings"]:
            assert ring["operation_id"] == operation_of[ring["ring_id"]]
            seen += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == len(population.ring_ids)


def test_an_account_response_carries_its_operation(client: TestClient, population: Population) -> None:
    operation = _multi_campaign(client, population)[0]
    ring_id = operation["ring_ids"][-1]
    account = population.ring_members[ring_id][0]
    response = client.get(f"/v1/accounts/{account}/attribution", headers=auth("read"),
                          params={"run_id": population.run_id})
    assert response.status_code == 200, response.text
    ring = response.json()["ring"]
    assert ring["ring_id"] == ring_id
    assert ring["operation_id"] == operation["operation_id"]
    assert "active_from" in ring and "active_to" in ring
    benign = client.get(f"/v1/accounts/{population.benign_account}/attribution", headers=auth("read"),
                        params={"run_id": population.run_id})
    assert benign.status_code == 200 and benign.json()["ring"] is None


def test_tie_paths_exist_in_neo4j(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    paths: list[tuple[str, dict[str, Any]]] = []
    for summary in _multi_campaign(client, population):
        for tie in _detail(client, population, summary["operation_id"])["ties"]:
            members = {a for ring in tie["rings"] for a in population.ring_members[ring]}
            for path in tie["paths"]:
                ends = [n["value"] for n in (path["nodes"][0], path["nodes"][-1])]
                assert set(ends) <= members, "a tie path runs between members of the rings it ties"
                paths.append((tie["kind"], path))
    assert paths, "the ties name paths in the graph"
    missing = [p for _, p in paths
               if not path_exists(graph_driver, api_settings.neo4j_database, EvidencePath.from_dict(p))]
    assert missing == []


def test_unknown_operation_and_run_are_404(client: TestClient, population: Population) -> None:
    body = assert_problem(client.get("/v1/operations/op-does-not-exist", headers=auth("read")), 404, "not-found")
    assert body["instance"] == "/v1/operations/op-does-not-exist"
    assert_problem(client.get("/v1/operations", headers=auth("read"), params={"run_id": "run-nope"}), 404,
                   "not-found")
    operation_id = _page(client, run_id=population.run_id, limit=1)["operations"][0]["operation_id"]
    assert_problem(client.get(f"/v1/operations/{operation_id}", headers=auth("read"),
                              params={"run_id": "run-nope"}), 404, "not-found")


@pytest.mark.parametrize("path", ["/v1/operations", "/v1/operations/op-unknown"])
def test_a_key_is_needed(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(client.get(path, headers={"Authorization": "Bearer not-a-key"}), 401, "unauthenticated")
    assert_problem(client.get(path, headers=auth("ingest")), 403, "forbidden")


def test_made_up_cursors_are_422(client: TestClient, population: Population) -> None:
    ring_cursor = _page_of_rings_cursor(client, population)
    for cursor in ("not-a-cursor", "' OR 1=1 //", "eyJ4IjoxfQ", ring_cursor,
                   _cursor('["o", "0.5", "op-x"]'), _cursor('["o", true, "op-x"]'), _cursor('["o", 0.5, 3]'),
                   _cursor('["o", NaN, "op-x"]'), _cursor('["r", 0.5, "op-x"]'), _cursor('[0.5, "op-x"]'),
                   _cursor('["o", 0.5, "op-x", 1]')):
        body = assert_problem(client.get("/v1/operations", headers=auth("read"), params={"cursor": cursor}), 422,
                              "invalid-cursor")
        assert "cursor" in str(body["detail"])


def _page_of_rings_cursor(client: TestClient, population: Population) -> str:
    cursor = client.get("/v1/rings", headers=auth("read"), params={"run_id": population.run_id, "limit": 1}
                        ).json()["next_cursor"]
    assert isinstance(cursor, str) and cursor  # a real cursor, of the ring list: not one for operations
    return cursor


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": LIMITS.max_page_size + 1}, "query.limit"),
    ({"limit": 0}, "query.limit"),
    ({"min_campaigns": 0}, "query.min_campaigns"),
    ({"min_campaigns": "two"}, "query.min_campaigns"),
    ({"min_score": 1.5}, "query.min_score"),
    ({"min_score": -0.1}, "query.min_score"),
    ({"min_campaign": 2}, "query.min_campaign"),
])
def test_invalid_query_is_422_naming_the_field(client: TestClient, params: dict[str, object], field: str) -> None:
    body = assert_problem(client.get("/v1/operations", headers=auth("read"), params=params), 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert field in [e["field"] for e in errors]
