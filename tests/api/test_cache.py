"""The response cache: a second identical lookup is not read from Neo4j again, a newer completed run
takes over at once (in this process) or within the latest-run copy's second (another process), keys
are still checked on every request, and no failed, running or erroneous answer is ever kept.

Hits are observed as Neo4j queries not sent (the app's driver counts them) and as the cache's own
counters, never by timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

import graph.pipeline.detect
import neo4j
from api.app import create_app
from api.cache import ResponseCache
from graph.detection import DetectionParams
from graph.settings import Settings
from graph.store.runs import claim_run, fail_run, latest_run_id
from tests.api.conftest import LIMITS, Population, assert_problem, auth
from tests.suite_database import wipe_database

#: The one query a hit may still send: which run is the latest, re-read at most once a second.
_LATEST_QUERY = "MATCH (run:DetectionRun {status: 'completed'})"


@pytest.fixture(scope="module")
def cached_app(api_settings: Settings) -> FastAPI:
    """An app of its own, so its cache and counters hold only what this module asked."""
    return create_app(api_settings, LIMITS)


@pytest.fixture(scope="module")
def cached(cached_app: FastAPI, population: Population) -> Iterator[TestClient]:
    with TestClient(cached_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def uncached(api_settings: Settings, population: Population) -> Iterator[TestClient]:
    """The same API with the cache off: what every answer must equal."""
    with TestClient(create_app(api_settings, LIMITS.model_copy(update={"response_cache_bytes": 0})),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module", autouse=True)
def population_reloaded_afterwards(
    graph_driver: neo4j.Driver, api_settings: Settings, population: Population
) -> Iterator[None]:
    """This module completes runs with other parameters, which carry ring ids of their own into later
    runs: the database is left empty, so the next module reloads the population as it always is."""
    yield
    wipe_database(graph_driver, api_settings.neo4j_database)


class _QueryLog:
    """The Cypher the app sent to Neo4j while it was watched."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def reads(self) -> list[str]:
        """What was read besides the latest run's id."""
        return [q for q in self.queries if _LATEST_QUERY not in q]


@pytest.fixture
def neo4j_queries(cached_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> _QueryLog:
    driver = cached_app.state.driver
    log = _QueryLog()
    send = driver.execute_query

    def counted(query: Any, *args: Any, **kwargs: Any) -> Any:
        log.queries.append(str(query))
        return send(query, *args, **kwargs)

    monkeypatch.setattr(driver, "execute_query", counted)
    return log


def _cache(app: FastAPI) -> ResponseCache:
    cache: ResponseCache = app.state.response_cache
    return cache


def _latest(driver: neo4j.Driver, settings: Settings) -> str:
    run = latest_run_id(driver, settings.neo4j_database, cached=False)
    assert run is not None
    return run


def _get(client: TestClient, path: str, scope: str = "read", **params: Any) -> Response:
    response = client.get(path, headers=auth(scope), params=params)
    assert response.status_code == 200, response.text
    return response


def _run_of(body: dict[str, Any]) -> str | None:
    """The run an answer names: its own `run_id`, or its rings' (a page of rings)."""
    ring = body.get("ring") or (body.get("rings") or [None])[0]
    run = body["run_id"] if "run_id" in body else ring["run_id"] if ring else None
    return str(run) if run is not None else None


def _lookups(client: TestClient, population: Population) -> list[tuple[str, dict[str, Any]]]:
    """One request of every cached route, with some parameters that are part of the key."""
    ring_id, members = max(population.ring_members.items(), key=lambda item: (len(item[1]), item[0]))
    operation = _get(client, "/v1/operations", limit=1).json()["operations"][0]["operation_id"]
    return [
        (f"/v1/accounts/{members[0]}/attribution", {}),
        ("/v1/rings", {"limit": 5, "min_score": 0.1}),
        (f"/v1/rings/{ring_id}", {"members_limit": 3}),
        ("/v1/operations", {"limit": 4}),
        (f"/v1/operations/{operation}", {}),
    ]


def test_a_second_identical_request_is_served_from_the_cache(
    cached: TestClient, cached_app: FastAPI, population: Population, neo4j_queries: _QueryLog,
    graph_driver: neo4j.Driver, api_settings: Settings,
) -> None:
    latest = _latest(graph_driver, api_settings)
    for path, params in _lookups(cached, population):
        first = _get(cached, path, **params)
        assert first.headers["cache-status"] == "ringtrace; fwd=uri-miss; stored", path
        assert _run_of(first.json()) == latest
        hits = _cache(cached_app).stats().hits
        neo4j_queries.queries.clear()
        second = _get(cached, path, **params)
        assert second.headers["cache-status"] == "ringtrace; hit", path
        assert second.content == first.content
        assert second.headers["content-type"] == "application/json"
        assert _cache(cached_app).stats().hits == hits + 1
        assert neo4j_queries.reads() == [], path  # nothing read but, at most, which run is the latest
        # Naming the run the answer came from finds the same entry, and needs no Neo4j at all.
        named = _get(cached, path, **params, run_id=latest)
        assert named.headers["cache-status"] == "ringtrace; hit" and named.content == first.content, path
        assert neo4j_queries.reads() == [], path
        assert all(_LATEST_QUERY in q for q in neo4j_queries.queries)
        neo4j_queries.queries.clear()
        assert _get(cached, path, **params, run_id=latest).headers["cache-status"] == "ringtrace; hit"
        assert neo4j_queries.queries == [], path
    assert _cache(cached_app).runs() == {latest}
    hit_count = cached_app.state.metrics.registry.get_sample_value(
        "ringtrace_response_cache_requests_total", {"route": "account_attribution", "outcome": "hit"})
    assert hit_count == 3


def test_cached_answers_are_what_the_uncached_route_sends(
    cached: TestClient, uncached: TestClient, cached_app: FastAPI, population: Population,
) -> None:
    for path, params in _lookups(cached, population):
        _get(cached, path, **params)
        hit = _get(cached, path, **params)
        assert hit.headers["cache-status"] == "ringtrace; hit"
        fresh = _get(uncached, path, **params)
        assert "cache-status" not in fresh.headers  # the cache is off there
        assert hit.content == fresh.content, path
        assert hit.headers["content-type"] == fresh.headers["content-type"]


def test_keys_are_checked_on_every_request_after_an_answer_is_cached(
    cached: TestClient, cached_app: FastAPI, population: Population, neo4j_queries: _QueryLog,
) -> None:
    for path, params in _lookups(cached, population):
        _get(cached, path, **params)
        assert _get(cached, path, **params).headers["cache-status"] == "ringtrace; hit"
        hits = _cache(cached_app).stats().hits
        for headers in ({}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic dGVzdDp0ZXN0"},
                        {"Authorization": f"{auth('read')['Authorization']}x"}):
            response = cached.get(path, params=params, headers=headers)
            assert_problem(response, 401, "unauthenticated")
            assert "cache-status" not in response.headers
        assert_problem(cached.get(path, params=params, headers=auth("ingest")), 403, "forbidden")
        assert _cache(cached_app).stats().hits == hits, "a refused request never reaches the cache"
        for scope in ("read", "admin"):  # admin implies read: the one entry serves every reading key
            assert _get(cached, path, scope, **params).headers["cache-status"] == "ringtrace; hit", scope


def test_a_failed_run_is_never_kept_nor_served(
    cached: TestClient, cached_app: FastAPI, population: Population, graph_driver: neo4j.Driver,
    api_settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = api_settings.neo4j_database
    completed = _latest(graph_driver, api_settings)
    ring_id, members = next(iter(population.ring_members.items()))

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("completion refused by the test")

    # The run writes all its results back, then fails at the very end: they are in Neo4j, not results.
    monkeypatch.setattr(graph.pipeline.detect, "complete_run", refuse)
    with pytest.raises(RuntimeError, match="refused by the test"):
        graph.pipeline.detect.run_detection(graph_driver, database, DetectionParams(seed=1), run_id="run-cache-failed")
    monkeypatch.undo()
    written, _, _ = graph_driver.execute_query(
        "MATCH (:Account)-[m:MEMBER_OF {run_id: $run_id}]->() RETURN count(m) AS n", run_id="run-cache-failed",
        database_=database)
    assert written[0]["n"] > 0, "the failed run did write its results"

    for path in (f"/v1/accounts/{members[0]}/attribution", "/v1/rings", f"/v1/rings/{ring_id}", "/v1/operations"):
        for _ in range(2):
            body = assert_problem(cached.get(path, params={"run_id": "run-cache-failed"}, headers=auth("read")),
                                  409, "run-not-completed")
            assert "failed" in str(body["detail"])
        assert _run_of(_get(cached, path).json()) == completed  # the latest completed run, as before
    assert "run-cache-failed" not in _cache(cached_app).runs()


def test_a_running_run_is_not_served_and_its_refusal_not_kept(
    cached: TestClient, cached_app: FastAPI, population: Population, graph_driver: neo4j.Driver,
    api_settings: Settings,
) -> None:
    database = api_settings.neo4j_database
    path = f"/v1/accounts/{population.benign_account}/attribution"
    claim_run(graph_driver, database, "run-cache-running", {}, "test", lease_seconds=60)
    try:
        for _ in range(2):
            body = assert_problem(cached.get(path, params={"run_id": "run-cache-running"}, headers=auth("read")),
                                  409, "run-not-completed")
            assert "running" in str(body["detail"])
        assert _get(cached, path).json()["run_id"] == _latest(graph_driver, api_settings)
    finally:
        assert fail_run(graph_driver, database, "run-cache-running", reason="stopped by the test")
    # Had the refusal been kept, it would still say "running".
    body = assert_problem(cached.get(path, params={"run_id": "run-cache-running"}, headers=auth("read")), 409,
                          "run-not-completed")
    assert "failed" in str(body["detail"]) and "stopped by the test" in str(body["detail"])
    assert "run-cache-running" not in _cache(cached_app).runs()


def test_errors_and_answers_naming_no_run_are_not_kept(cached: TestClient, cached_app: FastAPI,
                                                       population: Population) -> None:
    path = "/v1/accounts/acc-cache-test-late/attribution"
    for _ in range(2):
        response = cached.get(path, headers=auth("read"))
        assert_problem(response, 404, "not-found")
        assert "cache-status" not in response.headers
    loaded = cached.post("/v1/links", headers=auth("ingest"), json={
        "links": [{"account_id": "acc-cache-test-late", "kind": "device", "value": "dev-cache-test-late"}]})
    assert loaded.status_code == 200, loaded.text
    body = _get(cached, path).json()  # the account exists now: no 404 was kept for it
    assert body["account_id"] == "acc-cache-test-late" and body["ring"] is None
    # An empty page names no run, so nothing says which run it would be filed under: it is not kept.
    for _ in range(2):
        empty = _get(cached, "/v1/rings", organization="No Such Organisation")
        assert empty.json()["rings"] == [] and empty.headers["cache-status"] == "ringtrace; fwd=uri-miss"
    for invalid in ({"cursor": "bm90LWEtY3Vyc29y"}, {"limit": 0}):
        for _ in range(2):
            assert "cache-status" not in cached.get("/v1/rings", params=invalid, headers=auth("read")).headers


def _small_ring_member(driver: neo4j.Driver, settings: Settings) -> tuple[str, int]:
    """A member of the latest run's smallest ring, and that ring's size."""
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[:MEMBER_OF {run_id: $run_id}]->(ring:Ring) WITH ring, collect(a.account_id) AS members "
        "RETURN members ORDER BY size(members), ring.ring_id LIMIT 1",
        run_id=_latest(driver, settings), database_=settings.neo4j_database)
    members = sorted(records[0]["members"])
    return members[0], len(members)


def test_a_newer_completed_run_replaces_the_cached_answer(
    cached: TestClient, uncached: TestClient, cached_app: FastAPI, population: Population,
    graph_driver: neo4j.Driver, api_settings: Settings,
) -> None:
    account, size = _small_ring_member(graph_driver, api_settings)
    path = f"/v1/accounts/{account}/attribution"
    before = _get(cached, path)
    assert _get(cached, path).headers["cache-status"] == "ringtrace; hit"
    old_run = before.json()["run_id"]

    # A run whose rings must be larger than this account's ring: its answer for the account changes.
    newer = graph.pipeline.detect.run_detection(graph_driver, api_settings.neo4j_database,
                                                DetectionParams(seed=1, min_size=size + 1))
    after = _get(cached, path)
    assert after.json()["run_id"] == newer.run_id != old_run
    assert after.headers["cache-status"].startswith("ringtrace; fwd=uri-miss")
    # Every ring of the newer run is larger than the account's old ring: the answer itself changed.
    assert after.json()["ring"] is None or after.json()["ring"]["size"] > size
    assert after.content == _get(uncached, path).content  # the new run's answer, exactly
    again = _get(cached, path)
    assert again.headers["cache-status"] == "ringtrace; hit" and again.content == after.content
    # The old run's answer is still its own, for whoever names that run.
    named = _get(cached, path, run_id=old_run)
    assert named.headers["cache-status"] == "ringtrace; hit" and named.content == before.content
    assert _get(cached, "/v1/rings", limit=5).json()["rings"][0]["run_id"] == newer.run_id


def test_a_run_completed_by_another_process_is_served_within_a_second(
    cached: TestClient, cached_app: FastAPI, population: Population, api_settings: Settings,
    graph_driver: neo4j.Driver,
) -> None:
    """Another process (the CLI, the other worker) completes a run: nothing tells this one but Neo4j."""
    account, size = _small_ring_member(graph_driver, api_settings)
    path = f"/v1/accounts/{account}/attribution"
    old_run = _get(cached, path).json()["run_id"]
    env = {**os.environ, "NEO4J_URI": api_settings.neo4j_uri, "NEO4J_USER": api_settings.neo4j_user,
           "NEO4J_PASSWORD": api_settings.neo4j_password.get_secret_value(),
           "NEO4J_DATABASE": api_settings.neo4j_database}
    script = ("from graph.detection import DetectionParams; from graph.pipeline.detect import run_detection; "
              "from graph.settings import Settings; from graph.store.driver import create_driver; "
              "s = Settings(); d = create_driver(s); "
              f"print(run_detection(d, s.neo4j_database, DetectionParams(seed=1, min_size={size + 1})).run_id); "
              "d.close()")
    detect = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    served: list[str] = []
    while detect.poll() is None:
        served.append(_get(cached, path).json()["run_id"])
        time.sleep(0.05)
    assert detect.returncode == 0
    new_run = detect.stdout.read().strip() if detect.stdout else ""
    exited = time.monotonic()
    while (body := _get(cached, path)).json()["run_id"] != new_run:
        served.append(body.json()["run_id"])
        # This process's copy of the latest run is at most a second old (plus this loop's own pace).
        assert time.monotonic() - exited < 2.5, "the newer run was not served within the copy's second"
        time.sleep(0.05)
    served.append(new_run)
    # The old run's answer until the switch, then only the new run's: never back, never anything else.
    switch = served.index(new_run)
    assert set(served[:switch]) == {old_run} and set(served[switch:]) == {new_run}
    assert body.json()["ring"] is None or body.json()["ring"]["size"] > size
    assert _get(cached, path).headers["cache-status"] == "ringtrace; hit"


def test_nothing_is_kept_before_a_run_completed(
    cached: TestClient, cached_app: FastAPI, graph_driver: neo4j.Driver, api_settings: Settings,
) -> None:
    """Last in the module: it empties the database, as the teardown would anyway."""
    database = api_settings.neo4j_database
    wipe_database(graph_driver, database)
    # The app's copy of the latest run may be under a second old: a wiped database is not a case the
    # copy knows of (runs are never deleted otherwise), so re-read it now.
    assert latest_run_id(cached_app.state.driver, database, cached=False) is None
    loaded = cached.post("/v1/links", headers=auth("ingest"), json={
        "links": [{"account_id": "acc-cache-test-early", "kind": "device", "value": "dev-cache-test-early"}]})
    assert loaded.status_code == 200, loaded.text
    entries = _cache(cached_app).stats().entries
    for path, run_field in (("/v1/accounts/acc-cache-test-early/attribution", "run_id"),
                            ("/v1/operations", "run_id")):
        for _ in range(2):
            response = _get(cached, path)
            assert response.json()[run_field] is None
            assert response.headers["cache-status"] == "ringtrace; fwd=uri-miss"
    assert _cache(cached_app).stats().entries == entries
