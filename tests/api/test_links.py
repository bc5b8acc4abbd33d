"""POST /v1/links: validation like the loader, per-row errors, idempotency, limits, injection strings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from fastapi.testclient import TestClient

import neo4j
from graph.settings import Settings
from tests.api.conftest import LIMITS, Population, assert_problem, auth


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _links(driver: neo4j.Driver, settings: Settings, account_id: str) -> list[dict[str, object]]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Account {account_id: $id})-[r]->(e) RETURN type(r) AS type, r.count AS count, "
        "coalesce(e.address, e.fingerprint, e.number) AS value ORDER BY type, value",
        id=account_id, database_=settings.neo4j_database,
    )
    return [dict(r) for r in records]


def test_valid_batch_is_loaded_once(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    account = _unique("acc-api")
    batch = {"links": [
        {"account_id": account, "kind": "device", "value": _unique("dev"), "first_seen": "2024-03-01T10:00:00Z",
         "last_seen": "2024-03-02T10:00:00Z", "count": 3},
        {"account_id": account, "kind": "ip", "value": "203.0.113.7"},
        {"account_id": account, "kind": "email", "value": "Someone@Example.org"},
    ]}
    first = client.post("/v1/links", json=batch, headers=auth("ingest"))
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 3, "loaded": 3, "rejected": 0, "applied": True, "errors": []}
    stored = _links(graph_driver, api_settings, account)
    assert [r["type"] for r in stored] == ["HAS_EMAIL", "USED_DEVICE", "USED_IP"]
    assert stored[0]["value"] == "someone@example.org"
    assert stored[1]["count"] == 3

    again = client.post("/v1/links", json=batch, headers=auth("ingest"))
    assert again.status_code == 200
    assert again.json()["applied"] is False
    assert _links(graph_driver, api_settings, account) == stored


def test_bad_rows_are_reported_and_good_rows_loaded(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    account = _unique("acc-api")
    batch = {"links": [
        {"account_id": account, "kind": "device", "value": _unique("dev")},
        {"account_id": account, "kind": "carrier-pigeon", "value": "x"},
        {"account_id": account, "kind": "ip", "value": "999.1.1.1"},
        {"account_id": account, "kind": "payment", "value": "4111111111111111"},
        {"account_id": account, "kind": "device", "value": "d", "first_seen": "2024-03-02T00:00:00Z",
         "last_seen": "2024-03-01T00:00:00Z"},
        {"account_id": account, "kind": "device", "value": "d", "first_seen": "yesterday"},
        {"account_id": "  ", "kind": "device", "value": "d"},
        {"account_id": account, "kind": "payment", "value": "tok_1", "bin": "12"},
    ]}
    response = client.post("/v1/links", json=batch, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["loaded"], body["rejected"]) == (8, 1, 7)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "kind"), (2, "value"), (3, "value"), (4, "last_seen"), (5, "first_seen"), (6, "account_id"), (7, "bin"),
    ]
    pan_error = body["errors"][2]
    assert "4111111111111111" not in json.dumps(pan_error)
    assert len(_links(graph_driver, api_settings, account)) == 1


def test_structural_errors_are_422_naming_the_field(client: TestClient, population: Population) -> None:
    cases = [
        ({"links": [{"kind": "ip", "value": "1.2.3.4"}]}, "body.links.0.account_id"),
        ({"links": [{"account_id": "a", "kind": "ip", "value": "1.2.3.4", "count": "many"}]}, "body.links.0.count"),
        ({"links": [{"account_id": "a", "kind": "ip", "value": "1.2.3.4", "count": 0}]}, "body.links.0.count"),
        ({"links": [{"account_id": "a", "kind": "ip", "value": "1.2.3.4", "colour": "red"}]}, "body.links.0.colour"),
        ({"links": []}, "body.links"),
        ({"rows": []}, "body.links"),
        ({"links": [{"account_id": "a", "kind": "ip", "value": "1.2.3.4"}] * (LIMITS.max_batch_size + 1)},
         "body.links"),
    ]
    for batch, field in cases:
        body = assert_problem(client.post("/v1/links", json=batch, headers=auth("ingest")), 422, "validation-error")
        assert field in [e["field"] for e in body["errors"]], body  # type: ignore[union-attr]


def test_body_that_is_not_json_is_422(client: TestClient, population: Population) -> None:
    response = client.post("/v1/links", content=b"account_id,kind,value\n", headers={
        **auth("ingest"), "Content-Type": "application/json"})
    assert_problem(response, 422, "validation-error")


def test_oversized_body_is_413(client: TestClient, population: Population) -> None:
    big = {"links": [{"account_id": "a", "kind": "device", "value": "v" * 500}] * 200}
    payload = json.dumps(big).encode()
    assert len(payload) > LIMITS.max_body_bytes
    assert_problem(client.post("/v1/links", content=payload, headers={**auth("ingest"),
                                                                       "Content-Type": "application/json"}),
                   413, "content-too-large")


def test_oversized_streamed_body_is_413(client: TestClient, population: Population) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"links": ['
        for _ in range(2000):
            yield b'{"account_id": "a", "kind": "device", "value": "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"},'
        yield b"]}"

    response = client.post("/v1/links", content=chunks(), headers={**auth("ingest"),
                                                                    "Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413, "content-too-large")


def test_oversized_body_is_refused_before_auth(client: TestClient, population: Population) -> None:
    payload = b"x" * (LIMITS.max_body_bytes + 1)
    assert_problem(client.post("/v1/detections", content=payload), 413)


def test_injection_strings_in_the_body_are_stored_as_plain_values(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    before, _, _ = graph_driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=api_settings.neo4j_database)
    account = "acc' }) MATCH (n) DETACH DELETE n //" + uuid.uuid4().hex[:6]
    device = '"}) DETACH DELETE n RETURN 1 //'
    response = client.post("/v1/links", json={"links": [{"account_id": account, "kind": "device", "value": device}]},
                           headers=auth("ingest"))
    assert response.status_code == 200, response.text
    assert response.json()["loaded"] == 1
    assert _links(graph_driver, api_settings, account) == [{"type": "USED_DEVICE", "count": 1, "value": device}]
    after, _, _ = graph_driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=api_settings.neo4j_database)
    assert after[0]["n"] >= before[0]["n"] + 1
