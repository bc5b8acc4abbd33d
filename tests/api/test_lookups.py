"""Lookups: account attribution, ring detail, the paginated ring list; 404s, 422s, injection strings."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

import neo4j
from graph.settings import Settings
from tests.api.conftest import LIMITS, Population, assert_problem, auth

INJECTIONS = [
    "' OR 1=1 //",
    "x' }) DETACH DELETE n //",
    '"}) MATCH (n) DETACH DELETE n RETURN 1 //',
    "acc-000001' RETURN 1 UNION MATCH (n) RETURN n //",
    "$account_id",
    "`Account`",
    "\\u0027; CALL db.clearQueryCaches()",
    "MATCH (n) DETACH DELETE n",
]


def _node_count(driver: neo4j.Driver, settings: Settings) -> int:
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=settings.neo4j_database)
    return int(records[0]["n"])


def _error_fields(problem: dict[str, object]) -> list[str]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    return [str(error["field"]) for error in errors]


def _cursor(payload: str) -> str:
    """A cursor made up the way ours are made (URL-safe base64 of JSON), holding `payload`."""
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _every_ring(client: TestClient, **params: str | float) -> list[dict[str, Any]]:
    """All pages of GET /v1/rings with these filters, in order."""
    rings: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        query: dict[str, str | float] = {**params, "limit": LIMITS.max_page_size}
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get("/v1/rings", headers=auth("read"), params=query)
        assert response.status_code == 200, response.text
        rings += response.json()["rings"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return rings
    raise AssertionError("the ring list does not end")


def _attributed_ring(client: TestClient, population: Population) -> dict[str, Any]:
    """The most coordinated ring attributed to an organisation (the population has several)."""
    attributed = [r for r in _every_ring(client, run_id=population.run_id)
                  if r["organization"] is not None and r["attribution_confidence"] >= 0.5]
    assert attributed, "the generated population has attributed rings"
    return attributed[0]


def test_attribution_of_a_ring_member(client: TestClient, population: Population) -> None:
    ring = _attributed_ring(client, population)
    members = population.ring_members[ring["ring_id"]]
    response = client.get(f"/v1/accounts/{members[0]}/attribution", headers=auth("read"),
                          params={"run_id": population.run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account_id"] == members[0]
    assert body["run_id"] == population.run_id
    assert body["ring"]["ring_id"] == ring["ring_id"]
    assert body["ring"]["size"] == len(members)
    assert 0.0 <= body["membership_confidence"] <= 1.0
    assert body["attributions"], "a member of an attributed ring is attributed too"
    assert ring["organization"] in [a["organization"] for a in body["attributions"]]
    paths = []
    for attribution in body["attributions"]:
        assert 0.0 <= attribution["confidence"] <= 1.0
        assert attribution["evidence"]
        paths += [p for item in attribution["evidence"] for p in item["paths"]]
    assert paths, "the evidence names paths in the graph"
    for path in paths:
        assert path["nodes"] and path["relationships"]
        assert all(0 <= r["start"] < len(path["nodes"]) and 0 <= r["end"] < len(path["nodes"])
                   for r in path["relationships"])


def test_attribution_of_an_account_in_no_ring(client: TestClient, population: Population) -> None:
    response = client.get(f"/v1/accounts/{population.benign_account}/attribution", headers=auth("read"),
                          params={"run_id": population.run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ring"] is None
    assert body["membership_confidence"] is None


def test_unknown_account_is_404(client: TestClient, population: Population) -> None:
    body = assert_problem(client.get("/v1/accounts/acc-does-not-exist/attribution", headers=auth("read")), 404,
                          "not-found")
    assert body["instance"] == "/v1/accounts/acc-does-not-exist/attribution"


def test_ring_detail(client: TestClient, population: Population) -> None:
    ring_id, members = next(iter(population.ring_members.items()))
    response = client.get(f"/v1/rings/{ring_id}", headers=auth("read"), params={"run_id": population.run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ring"]["ring_id"] == ring_id
    assert sorted(m["account_id"] for m in body["members"]) == members  # fewer than a page: all of them
    assert body["member_count"] == len(members) and body["members_next_cursor"] is None
    assert 0.0 <= body["ring"]["score"] <= 1.0
    assert body["coordination_evidence"], "every ring is explained"


def _largest_ring(population: Population) -> tuple[str, list[str]]:
    ring_id = max(population.ring_members, key=lambda r: (len(population.ring_members[r]), r))
    return ring_id, population.ring_members[ring_id]


def test_ring_members_come_in_pages(client: TestClient, population: Population) -> None:
    ring_id, members = _largest_ring(population)
    assert len(members) >= 7
    seen: list[dict[str, Any]] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"run_id": population.run_id, "members_limit": 3}
        if after is not None:
            params["members_after"] = after
        response = client.get(f"/v1/rings/{ring_id}", headers=auth("read"), params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["member_count"] == len(members)
        assert len(body["members"]) <= 3
        seen += body["members"]
        pages += 1
        after = body["members_next_cursor"]
        if after is None:
            break
        assert len(body["members"]) == 3 and pages < len(members)
    assert pages == -(-len(members) // 3)
    assert sorted(m["account_id"] for m in seen) == members  # each member once
    order = [(-m["membership_confidence"], m["account_id"]) for m in seen]
    assert order == sorted(order)  # most confident first, then by id, across pages


def test_member_page_size_is_bounded(client: TestClient, population: Population) -> None:
    ring_id, members = _largest_ring(population)
    for limit in (0, 1001, "all"):
        body = assert_problem(client.get(f"/v1/rings/{ring_id}", headers=auth("read"),
                                         params={"members_limit": limit}), 422, "validation-error")
        assert "query.members_limit" in _error_fields(body)
    one = client.get(f"/v1/rings/{ring_id}", headers=auth("read"), params={"members_limit": 1}).json()
    assert len(one["members"]) == 1 and one["member_count"] == len(members) and one["members_next_cursor"]
    most = client.get(f"/v1/rings/{ring_id}", headers=auth("read"), params={"members_limit": 1000}).json()
    assert len(most["members"]) == len(members) and most["members_next_cursor"] is None


def test_made_up_member_cursors_are_422(client: TestClient, population: Population) -> None:
    ring_id, _ = _largest_ring(population)
    ring_cursor = client.get("/v1/rings", headers=auth("read"),
                             params={"run_id": population.run_id, "limit": 1}).json()["next_cursor"]
    assert ring_cursor  # a real cursor, of the ring list: not one for members
    for cursor in ("not-a-cursor", "' OR 1=1 //", ring_cursor, _cursor('["m", "0.5", "acc-1"]'),
                   _cursor('["m", true, "acc-1"]'), _cursor('["m", 0.5, 7]'), _cursor('["m", NaN, "acc-1"]'),
                   _cursor('["m", 0.5]')):
        assert_problem(client.get(f"/v1/rings/{ring_id}", headers=auth("read"),
                                  params={"members_after": cursor}), 422, "invalid-cursor")


def test_unknown_ring_and_run_are_404(client: TestClient, population: Population) -> None:
    assert_problem(client.get("/v1/rings/ring-nope", headers=auth("read")), 404, "not-found")
    assert_problem(client.get("/v1/rings", headers=auth("read"), params={"run_id": "run-nope"}), 404, "not-found")


def test_ring_pages_cover_every_ring_once_in_score_order(client: TestClient, population: Population) -> None:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        params: dict[str, str | int] = {"run_id": population.run_id, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/v1/rings", headers=auth("read"), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["rings"]) <= 7
        seen.extend(page["rings"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [r["ring_id"] for r in seen]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(population.ring_ids)
    scores = [r["score"] for r in seen]
    assert scores == sorted(scores, reverse=True)


def test_ring_filters(client: TestClient, population: Population) -> None:
    everything = _every_ring(client, run_id=population.run_id)
    assert sorted(r["ring_id"] for r in everything) == sorted(population.ring_ids)
    high = _every_ring(client, run_id=population.run_id, min_score=0.5)
    assert high, "the population has coordinated rings"
    assert [r["ring_id"] for r in high] == [r["ring_id"] for r in everything if r["score"] >= 0.5]
    assert len(high) < len(everything), "and rings below 0.5, or the filter is not tested"
    organisations = sorted({r["organization"] for r in everything if r["organization"]})
    assert organisations, "the population has attributed rings"
    for organization in organisations[:3]:
        filtered = _every_ring(client, run_id=population.run_id, organization=organization)
        assert [r["ring_id"] for r in filtered] == [r["ring_id"] for r in everything
                                                    if r["organization"] == organization]


def test_default_page_size(client: TestClient, population: Population) -> None:
    response = client.get("/v1/rings", headers=auth("read"), params={"run_id": population.run_id})
    assert len(response.json()["rings"]) == min(LIMITS.default_page_size, len(population.ring_ids))


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": LIMITS.max_page_size + 1}, "query.limit"),
    ({"limit": 0}, "query.limit"),
    ({"limit": "ten"}, "query.limit"),
    ({"min_score": 1.5}, "query.min_score"),
    ({"min_score": "high"}, "query.min_score"),
])
def test_invalid_query_is_422_naming_the_field(client: TestClient, params: dict[str, object], field: str) -> None:
    body = assert_problem(client.get("/v1/rings", headers=auth("read"), params=params), 422, "validation-error")
    assert field in _error_fields(body)
    assert field in str(body["detail"])


@pytest.mark.parametrize("cursor", [
    "not-a-cursor", "' OR 1=1 //", "eyJ4IjoxfQ",
    # Well-formed base64 JSON, but not a (score, ring id) pair this API would issue:
    _cursor('["0.5", "ring-x"]'), _cursor('[true, "ring-x"]'), _cursor('[0.5, 3]'), _cursor('[NaN, "ring-x"]'),
    _cursor('[Infinity, "ring-x"]'), _cursor('{"1": 0, "ring-x": 0}'), _cursor('[0.5, "ring-x", 1]'),
])
def test_made_up_cursor_is_422(client: TestClient, population: Population, cursor: str) -> None:
    body = assert_problem(client.get("/v1/rings", headers=auth("read"), params={"cursor": cursor}), 422,
                          "invalid-cursor")
    assert "cursor" in str(body["detail"])


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_are_plain_values(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings, text: str
) -> None:
    before = _node_count(graph_driver, api_settings)
    segment = quote(text.replace("/", "#"), safe="")  # a "/" would only miss the route
    assert_problem(client.get(f"/v1/accounts/{segment}/attribution", headers=auth("read")), 404)
    assert_problem(client.get(f"/v1/rings/{segment}", headers=auth("read")), 404)
    assert_problem(client.get(f"/v1/accounts/{population.benign_account}/attribution", headers=auth("read"),
                              params={"run_id": text}), 404)
    assert_problem(client.get("/v1/rings", headers=auth("read"), params={"run_id": text}), 404)
    response = client.get("/v1/rings", headers=auth("read"), params={"organization": text})
    assert response.status_code == 200, response.text
    assert response.json()["rings"] == []
    assert_problem(client.get(f"/v1/detections/{segment}", headers=auth("admin")), 404)
    assert _node_count(graph_driver, api_settings) == before


def test_repeated_or_unknown_query_parameters_are_422(client: TestClient, population: Population) -> None:
    body = assert_problem(client.get("/v1/rings?limit=5&limit=50", headers=auth("read")), 422)
    assert body["errors"] == [{"field": "query.limit", "reason": "given more than once"}]
    body = assert_problem(client.get("/v1/rings?min_scor=0.9", headers=auth("read")), 422)
    assert body["errors"] == [{"field": "query.min_scor", "reason": "not a parameter of this route"}]
