"""The API against a real Neo4j holding a generated population, loaded and detected once per session.

The database is the one the root conftest admitted (`neo4j_test_settings`: the suite's own server, or
one proven to be a test database); the population is reloaded whenever another module's tests have
wiped it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

import neo4j
from api.app import create_app
from api.settings import ApiSettings
from graph.detection import DetectionParams
from graph.evaluation.truth import read_truth
from graph.generator.population import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import run_detection
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.runs import read_run
from graph.store.schema import apply_schema
from tests.suite_database import wipe_database

KEYS = {"read": "test-read-key-0001", "ingest": "test-ingest-key-0002", "admin": "test-admin-key-0003"}
API_KEYS = ";".join(f"{key}:{scope}" for scope, key in KEYS.items())
LIMITS = ApiSettings(max_body_bytes=64 * 1024, max_batch_size=100, max_page_size=50, default_page_size=20)
POPULATION_SIZE = 3000


def auth(scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[scope]}"}


@dataclass(frozen=True)
class Population:
    run_id: str
    ring_ids: tuple[str, ...]
    ring_members: dict[str, list[str]]  # detected ring id -> member account ids
    benign_account: str
    organizations: tuple[str, ...]


@pytest.fixture(scope="session")
def api_settings(neo4j_test_settings: Settings) -> Settings:
    return neo4j_test_settings.model_copy(update={"api_keys": SecretStr(API_KEYS)})


@pytest.fixture(scope="session")
def graph_driver(api_settings: Settings) -> Iterator[neo4j.Driver]:
    with create_driver(api_settings) as driver:
        driver.verify_connectivity()
        yield driver


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api-population")
    generate_population(out, POPULATION_SIZE, seed=5, events_per_account=0)
    return out


_loaded: dict[str, Population] = {}


def _load(driver: neo4j.Driver, database: str, bundle: Path) -> Population:
    wipe_database(driver, database)
    apply_schema(driver, database)
    load_bundle(driver, database, bundle, rejects_path=bundle.parent / f"{bundle.name}-rejects.csv")
    summary = run_detection(driver, database, DetectionParams(seed=1))
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[:MEMBER_OF {run_id: $run_id}]->(r:Ring) RETURN r.ring_id AS ring, "
        "collect(a.account_id) AS members",
        run_id=summary.run_id, database_=database,
    )
    members = {r["ring"]: sorted(r["members"]) for r in records}
    in_rings = {a for m in members.values() for a in m}
    truth = read_truth(bundle / "truth.csv")
    benign = sorted(a for a, cohort in truth.cohort.items() if truth.ring.get(a) is None and a not in in_rings)
    organizations = tuple(sorted({o for o in truth.organization.values() if o}))
    return Population(summary.run_id, summary.ring_ids, members, benign[0], organizations)


@pytest.fixture(scope="module")
def population(graph_driver: neo4j.Driver, api_settings: Settings, bundle: Path) -> Population:
    """The loaded population; reloaded when another module has wiped the database since."""
    database = api_settings.neo4j_database
    known = _loaded.get("population")
    if known is None or read_run(graph_driver, database, known.run_id) is None:
        _loaded["population"] = _load(graph_driver, database, bundle)
    return _loaded["population"]


@pytest.fixture(scope="session")
def app(api_settings: Settings) -> FastAPI:
    return create_app(api_settings, LIMITS)


@pytest.fixture(scope="module")
def client(app: FastAPI, population: Population) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
        app.state.detections.wait(timeout=300)


def assert_problem(response: object, status: int, slug: str | None = None) -> dict[str, object]:
    """The response is an RFC 9457 problem with this status (and type)."""
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["type"], str) and body["type"].startswith("urn:ringtrace:problem:")
    if slug is not None:
        assert body["type"] == f"urn:ringtrace:problem:{slug}"
    assert "Traceback" not in response.text
    return body
