"""POST /v1/detections starts a run in the background; a second start is 409; GET follows it."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.api.conftest import Population, assert_problem, auth


def test_start_refuse_second_and_follow(client: TestClient, population: Population) -> None:
    started = client.post("/v1/detections", json={"seed": 1}, headers=auth("admin"))
    assert started.status_code == 202, started.text
    run = started.json()
    run_id = run["run_id"]
    assert started.headers["location"] == f"/v1/detections/{run_id}"
    assert run["status"] == "pending"
    assert run["params"]["seed"] == 1

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
    assert statuses <= {"pending", "running", "completed"}
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
                        ({"colour": "red"}, "body.colour")]:
        problem = assert_problem(client.post("/v1/detections", json=body, headers=auth("admin")), 422)
        assert field in [e["field"] for e in problem["errors"]]  # type: ignore[union-attr]


def test_unknown_run_is_404(client: TestClient, population: Population) -> None:
    assert_problem(client.get("/v1/detections/run-nope", headers=auth("admin")), 404, "not-found")
