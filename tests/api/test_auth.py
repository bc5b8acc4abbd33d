"""Every /v1 route (and /metrics) refuses a missing, a wrong and a wrong-scope key; health is open."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import Scope, parse_api_keys
from tests.api.conftest import KEYS, Population, assert_problem, auth

_LINK = {"links": [{"account_id": "acc-auth-test", "kind": "device", "value": "dev-auth-test"}]}
_EVENT = {"events": [{"account_id": "acc-auth-test", "ts": "2024-03-01T10:00:00Z", "prompt": "auth test"}]}

# (method, path, body, the scope the route needs)
ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", "/v1/accounts/acc-000001/attribution", None, "read"),
    ("GET", "/v1/rings", None, "read"),
    ("GET", "/v1/rings/ring-unknown", None, "read"),
    ("GET", "/v1/rings/ring-unknown/report", None, "read"),
    ("GET", "/v1/operations", None, "read"),
    ("GET", "/v1/operations/op-unknown", None, "read"),
    ("POST", "/v1/links", _LINK, "ingest"),
    ("POST", "/v1/events", _EVENT, "ingest"),
    ("POST", "/v1/detections", {}, "admin"),
    ("GET", "/v1/detections/run-unknown", None, "admin"),
    ("GET", "/metrics", None, "admin"),
]
#: What each route answers once the key is accepted: exactly this, so a 500 behind the auth check fails.
#: (Starting a detection is left to test_detections: here it would run one on the whole population.)
ADMITTED: dict[tuple[str, str], int] = {
    ("GET", "/v1/accounts/acc-000001/attribution"): 404,  # no such account (ids are acc_NNNNN)
    ("GET", "/v1/rings"): 200,
    ("GET", "/v1/rings/ring-unknown"): 404,
    ("GET", "/v1/rings/ring-unknown/report"): 404,
    ("GET", "/v1/operations"): 200,
    ("GET", "/v1/operations/op-unknown"): 404,
    ("POST", "/v1/links"): 200,
    ("POST", "/v1/events"): 200,
    ("GET", "/v1/detections/run-unknown"): 404,
    ("GET", "/metrics"): 200,
}


def _call(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method, path, json=body, headers=headers)


def test_every_v1_route_is_listed(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops if p.startswith("/v1") or p == "/metrics"}
    listed = {(m, p.replace("acc-000001", "{account_id}").replace("ring-unknown", "{ring_id}")
               .replace("op-unknown", "{operation_id}")
               .replace("run-unknown", "{run_id}")) for m, p, _, _ in ROUTES}
    assert documented == listed


@pytest.mark.parametrize(("method", "path", "body", "scope"), ROUTES)
def test_missing_key_is_401(client: TestClient, method: str, path: str, body: Any, scope: str) -> None:
    response = _call(client, method, path, body, {})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body", "scope"), ROUTES)
@pytest.mark.parametrize("header", [
    "Bearer not-a-key",
    f"Bearer {KEYS['admin']}x",
    f"Bearer {KEYS['admin'][:-1]}",
    f"Basic {KEYS['admin']}",
    "Bearer ",
    f"{KEYS['admin']}",
])
def test_wrong_key_is_401(client: TestClient, method: str, path: str, body: Any, scope: str, header: str) -> None:
    assert_problem(_call(client, method, path, body, {"Authorization": header}), 401, "unauthenticated")


@pytest.mark.parametrize(("method", "path", "body", "scope"), ROUTES)
def test_wrong_scope_is_403(client: TestClient, method: str, path: str, body: Any, scope: str) -> None:
    for other in KEYS:
        if other == scope or other == "admin":
            continue
        assert_problem(_call(client, method, path, body, auth(other)), 403, "forbidden")


def _admitted(response: Any, method: str, path: str) -> None:
    expected = ADMITTED[(method, path)]
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert_problem(response, expected, "not-found")


@pytest.mark.parametrize(("method", "path", "body", "scope"), [r for r in ROUTES if (r[0], r[1]) in ADMITTED])
def test_the_right_scope_is_admitted(client: TestClient, method: str, path: str, body: Any, scope: str) -> None:
    _admitted(_call(client, method, path, body, auth(scope)), method, path)


@pytest.mark.parametrize(("method", "path", "body", "scope"), [r for r in ROUTES if r[3] != "admin"])
def test_admin_implies_every_scope(client: TestClient, method: str, path: str, body: Any, scope: str) -> None:
    _admitted(_call(client, method, path, body, auth("admin")), method, path)


def test_every_route_but_starting_a_detection_has_an_expected_answer() -> None:
    assert set(ADMITTED) == {(m, p) for m, p, _, _ in ROUTES} - {("POST", "/v1/detections")}


def test_health_and_readiness_are_open(client: TestClient, population: Population) -> None:
    health, ready = client.get("/healthz"), client.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "neo4j": "unchecked"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "neo4j": "up"})


def test_key_parsing() -> None:
    keys = parse_api_keys(" a:read ; b:read,ingest;c:admin;")
    assert [k.name for k in keys] == ["key1", "key2", "key3"]
    assert keys[0].scopes == {Scope.READ}
    assert keys[1].scopes == {Scope.READ, Scope.INGEST}
    assert keys[2].scopes == set(Scope)
    for bad in ("a", "a:", "a:root", ":read"):
        with pytest.raises(ValueError, match="RINGTRACE_API_KEYS entry 1"):
            parse_api_keys(bad)


def test_access_log_never_holds_the_key(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="ringtrace.api.access")
    assert client.get("/v1/rings", headers=auth("read")).status_code == 200
    assert client.get("/v1/rings", headers={"Authorization": "Bearer guessed-secret-123"}).status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "ringtrace.api.access"]
    assert len(lines) == 2
    assert all(KEYS["read"] not in line and "guessed-secret-123" not in line for line in lines)
    assert '"key": "key1"' in lines[0] and '"route": "/v1/rings"' in lines[0]
