"""Lookups: account attribution, ring detail, the paginated ring list; 404s, 422s, injection strings."""

from __future__ import annotations

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


def test_attribution_of_a_ring_member(client: TestClient, population: Population) -> None:
    ring_id, members = next(iter(population.ring_members.items()))
    response = client.get(f"/v1/accounts/{members[0]}/attribution", headers=auth("read"),
                          params={"run_id": population.run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account_id"] == members[0]
    assert body["run_id"] == population.run_id
    assert body["ring"]["ring_id"] == ring_id
    assert body["ring"]["size"] == len(members)
    assert 0.0 <= body["membership_confidence"] <= 1.0
    for attribution in body["attributions"]:
        assert 0.0 <= attribution["confidence"] <= 1.0
        for item in attribution["evidence"]:
            for path in item["paths"]:
                assert path["nodes"] and all(0 <= r["start"] < len(path["nodes"]) for r in path["relationships"])


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
    assert sorted(m["account_id"] for m in body["members"]) == members
    assert 0.0 <= body["ring"]["score"] <= 1.0
    assert isinstance(body["coordination_evidence"], list)


def test_unknown_ring_and_run_are_404(client: TestClient, population: Population) -> None:
    assert_problem(client.get("/v1/rings/ring-nope", headers=auth("read")), 404, "not-found")
    assert_problem(client.get("/v1/rings", headers=auth("read"), params={"run_id": "run-nope"}), 404, "not-found")


def test_ring_pages_cover_every_ring_once_in_score_order(client: TestClient, population: Population) -> None:
    seen: list[dict[str, object]] = []
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
    response = client.get("/v1/rings", headers=auth("read"), params={"run_id": population.run_id, "min_score": 0.5,
                                                                      "limit": LIMITS.max_page_size})
    assert response.status_code == 200
    assert all(r["score"] >= 0.5 for r in response.json()["rings"])
    for organization in population.organizations[:3]:
        response = client.get("/v1/rings", headers=auth("read"), params={"organization": organization})
        assert response.status_code == 200
        assert all(r["organization"] == organization for r in response.json()["rings"])


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
    assert field in [e["field"] for e in body["errors"]]  # type: ignore[union-attr]
    assert field in str(body["detail"])


def test_malformed_cursor_is_refused_not_crashed(client: TestClient, population: Population) -> None:
    for cursor in ("not-a-cursor", "' OR 1=1 //", "eyJ4IjoxfQ"):
        response = client.get("/v1/rings", headers=auth("read"), params={"cursor": cursor})
        assert response.status_code in (200, 404, 422), response.text
        if response.status_code != 200:
            assert_problem(response, response.status_code)


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
