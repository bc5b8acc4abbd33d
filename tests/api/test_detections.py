"""POST /v1/detections starts a run in the background; a second start is 409; GET follows it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import neo4j
from api.app import create_app
from graph import local_server
from graph.detection import DEFAULT_CAMPAIGN_GAP_DAYS
from graph.settings import Settings
from graph.store import write_back
from graph.store.gds import gds_version
from tests.api.conftest import LIMITS, Population, assert_problem, auth


def test_start_refuse_second_and_follow(client: TestClient, population: Population) -> None:
    started = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
    assert started.status_code == 202, started.text
    run = started.json()
    run_id = run["run_id"]
    assert started.headers["location"] == f"/v1/detections/{run_id}"
    assert run["status"] == "running"  # recorded in Neo4j before the 202
    assert run["params"]["seed"] == 1 and run["params"]["campaign_gap_days"] == DEFAULT_CAMPAIGN_GAP_DAYS

    second = client.post("/v1/detections", json={}, headers=auth("admin"))
    body = assert_problem(second, 409, "detection-running")
    assert run_id in str(body["detail"])

    deadline = time.monotonic() + 300
    statuses = set()
    while True:
        followed = client.get(f"/v1/detections/{run_id}", headers=auth("admin"))
        assert followed.status_code == 200, followed.text
        state = followed.json()
        statuses.add(state["status"])
        if state["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert state["status"] == "completed", state
    assert statuses <= {"running", "completed"}
    assert state["counts"]["accounts"] > 0 and state["finished_at"] and state["version"]

    rings = client.get("/v1/rings", headers=auth("read"), params={"run_id": run_id})
    assert rings.status_code == 200
    assert {r["run_id"] for r in rings.json()["rings"]} <= {run_id}
    # The same data and parameters as the population's run: the same rings, under the same ids.
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"run_id": run_id, "limit": 50, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/rings", headers=auth("read"), params=params).json()
        ids |= {r["ring_id"] for r in page["rings"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == set(population.ring_ids)

    again = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
    assert again.status_code == 202
    client.app.state.detections.wait(timeout=300)  # type: ignore[attr-defined]


def test_invalid_parameters_are_422(client: TestClient, population: Population) -> None:
    for body, field in [({"method": "magic"}, "body.method"), ({"min_size": 1}, "body.min_size"),
                        ({"resolution": 0}, "body.resolution"), ({"seed": -1}, "body.seed"),
                        ({"colour": "red"}, "body.colour"), ({"campaign_gap_days": 0}, "body.campaign_gap_days"),
                        ({"campaign_cut": "no"}, "body.campaign_cut"), ({"backend": "spark"}, "body.backend"),
                        ({"backend": "gds", "method": "louvain"}, "body")]:
        problem = assert_problem(client.post("/v1/detections", json=body, headers=auth("admin")), 422)
        assert field in [e["field"] for e in problem["errors"]]  # type: ignore[union-attr]


def test_gds_backend_without_the_plugin_is_409_before_any_run_is_recorded(
    client: TestClient, graph_driver: neo4j.Driver, api_settings: Settings, population: Population
) -> None:
    database = api_settings.neo4j_database
    if gds_version(graph_driver, database) is not None:
        pytest.skip("the suite's server runs GDS; tests/integration/test_gds_backend.py covers it")
    def runs() -> int:
        records, _, _ = graph_driver.execute_query("MATCH (r:DetectionRun) RETURN count(r) AS n", database_=database)
        return int(records[0]["n"])

    before = runs()
    problem = assert_problem(client.post("/v1/detections", json={"backend": "gds"}, headers=auth("admin")), 409,
                             "gds-unavailable")
    assert "--with-gds" in str(problem["detail"])
    assert runs() == before


def test_campaign_cut_is_a_parameter_of_the_run(client: TestClient, population: Population) -> None:
    for body, gap in (({"campaign_cut": False}, None), ({"campaign_gap_days": 90}, 90.0),
                      ({"campaign_cut": False, "campaign_gap_days": 30}, None)):
        started = client.post("/v1/detections", json={"seed": 1, **body}, headers=auth("admin"))
        assert started.status_code == 202, started.text
        assert started.json()["params"]["campaign_gap_days"] == gap
        client.app.state.detections.wait(timeout=300)  # type: ignore[attr-defined]


def test_unknown_run_is_404(client: TestClient, population: Population) -> None:
    assert_problem(client.get("/v1/detections/run-nope", headers=auth("admin")), 404, "not-found")


@pytest.fixture
def stalled_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Detection runs in this process stop at their write stage until the event is set."""
    release = threading.Event()
    write = write_back._write

    def wait_then_write(*args: Any, **kwargs: Any) -> None:
        release.wait(timeout=600)
        write(*args, **kwargs)

    monkeypatch.setattr(write_back, "_write", wait_then_write)
    yield release
    release.set()


def _follow(client: TestClient, run_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/detections/{run_id}", headers=auth("admin"))
        if response.status_code == 200 and response.json()["status"] in ("completed", "failed"):
            state: dict[str, Any] = response.json()
            return state
        assert time.monotonic() < deadline, response.text
        time.sleep(0.25)


def test_one_detection_per_database_across_workers(
    client: TestClient, app: FastAPI, api_settings: Settings, population: Population,
    stalled_writes: threading.Event,
) -> None:
    # A second app with its own driver and runner: what the other worker of `compose` is.
    with TestClient(create_app(api_settings, LIMITS), raise_server_exceptions=False) as other:
        started = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        # The run is in Neo4j before the 202: the other worker finds it at once.
        seen = other.get(f"/v1/detections/{run_id}", headers=auth("admin"))
        assert seen.status_code == 200, seen.text
        assert seen.json()["status"] == "running" and seen.json()["params"]["seed"] == 1
        for worker in (other, client):
            refused = worker.post("/v1/detections", json={}, headers=auth("admin"))
            body = assert_problem(refused, 409, "detection-running")
            assert run_id in str(body["detail"])
        # A running run is not a result.
        for path in ("/v1/rings", f"/v1/rings/{population.ring_ids[0]}",
                     f"/v1/accounts/{population.benign_account}/attribution"):
            body = assert_problem(client.get(path, params={"run_id": run_id}, headers=auth("read")), 409,
                                  "run-not-completed")
            assert run_id in str(body["detail"]) and "running" in str(body["detail"])
        stalled_writes.set()
        assert app.state.detections.wait(timeout=300)
        assert _follow(other, run_id, 60)["status"] == "completed"
        assert client.get("/v1/rings", params={"run_id": run_id}, headers=auth("read")).status_code == 200


def test_neo4j_stopped_during_a_detection_gives_503_then_recovers(
    client: TestClient, app: FastAPI, api_settings: Settings, population: Population,
    stalled_writes: threading.Event,
) -> None:
    if not (api_settings.neo4j_uri.endswith(f":{api_settings.neo4j_bolt_port}")
            and local_server.status(api_settings).running):
        pytest.skip("needs a local Neo4j server that this test may stop and start")
    latest = client.get("/v1/rings", params={"limit": 1}, headers=auth("read")).json()["rings"][0]["run_id"]
    started = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    local_server.stop(api_settings)
    try:
        for path, scope in ((f"/v1/detections/{run_id}", "admin"), ("/v1/rings", "read"),
                            (f"/v1/accounts/{population.benign_account}/attribution", "read")):
            response = client.get(path, headers=auth(scope))
            assert_problem(response, 503, "neo4j-unavailable")
            assert int(response.headers["retry-after"]) > 0
        stalled_writes.set()  # the write stage now meets a Neo4j that is gone
        time.sleep(1)
    finally:
        local_server.start(api_settings, timeout=180)
    # No manual step: the run is recorded as failed, Neo4j is served again, the lock is free.
    state = _follow(client, run_id, 180)
    assert state["status"] == "failed" and state["error"], state
    assert client.get("/readyz").status_code == 200
    page = client.get("/v1/rings", params={"limit": 1}, headers=auth("read"))
    assert page.status_code == 200 and page.json()["rings"][0]["run_id"] == latest
    body = assert_problem(client.get("/v1/rings", params={"run_id": run_id}, headers=auth("read")), 409,
                          "run-not-completed")
    assert "failed" in str(body["detail"])
    again = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
    assert again.status_code == 202, again.text
    assert app.state.detections.wait(timeout=300)
    assert _follow(client, again.json()["run_id"], 60)["status"] == "completed"


def test_shutdown_records_an_unfinished_run_failed_and_frees_the_lock(
    client: TestClient, app: FastAPI, api_settings: Settings, population: Population,
    stalled_writes: threading.Event,
) -> None:
    quick = LIMITS.model_copy(update={"shutdown_grace_seconds": 0.5})
    with TestClient(create_app(api_settings, quick), raise_server_exceptions=False) as worker:
        started = worker.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
    # That worker has stopped with its run still at the write stage: recorded failed, not left running.
    state = client.get(f"/v1/detections/{run_id}", headers=auth("admin")).json()
    assert state["status"] == "failed" and "shut down" in state["error"], state
    stalled_writes.set()  # the orphaned thread meets a closed driver: it can neither write nor complete
    again = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
    assert again.status_code == 202, again.text
    assert app.state.detections.wait(timeout=300)
    assert _follow(client, again.json()["run_id"], 60)["status"] == "completed"
    assert client.get(f"/v1/detections/{run_id}", headers=auth("admin")).json()["status"] == "failed"
