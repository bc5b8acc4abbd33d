"""The service around the routes: OpenAPI, problem responses, metrics, Neo4j going away and coming back."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from graph.settings import Settings
from tests.api.conftest import API_KEYS, LIMITS, Population, assert_problem, auth


def test_openapi_documents_every_route_model_and_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    schemas = spec["components"]["schemas"]
    for name in ("Problem", "AccountAttributionOut", "RingDetailOut", "RingPage", "LinksIngested",
                 "DetectionRunOut", "EvidencePathOut"):
        assert name in schemas
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") and operation.get("description"), (method, path)
            responses = operation["responses"]
            if path.startswith("/v1") or path == "/metrics":
                assert {"401", "403"} <= set(responses), (method, path)
                assert operation["security"] == [{"HTTPBearer": []}]
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, status)
    limit = next(p for p in spec["paths"]["/v1/rings"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == LIMITS.max_page_size


def test_unknown_path_and_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/v2/nothing"), 404, "not-found")
    assert_problem(client.delete("/v1/rings", headers=auth("read")), 405, "method-not-allowed")


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32


def test_metrics_show_request_latency_and_neo4j_time(client: TestClient, population: Population) -> None:
    client.get(f"/v1/accounts/{population.benign_account}/attribution", headers=auth("read"))
    text = client.get("/metrics", headers=auth("admin")).text
    assert 'ringtrace_http_request_duration_seconds_bucket{le="0.005",method="GET",' in text
    assert 'route="/v1/accounts/{account_id}/attribution"' in text
    assert 'ringtrace_neo4j_query_duration_seconds_count{operation="account_attribution",outcome="ok"}' in text


class _Proxy:
    """A TCP forwarder to Neo4j that a test can cut and restore, as if Neo4j went away and came back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []

    def up(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            with suppress(OSError):  # wakes the thread blocked in accept() (close alone does not)
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        for conn in self._conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@contextmanager
def _app_through(proxy: _Proxy, settings: Settings) -> Iterator[TestClient]:
    through = settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{proxy.port}",
                                          "api_keys": SecretStr(API_KEYS)})
    with TestClient(create_app(through, LIMITS), raise_server_exceptions=False) as client:
        yield client


def test_neo4j_down_at_start_then_back(api_settings: Settings, population: Population) -> None:
    host, port = api_settings.neo4j_uri.removeprefix("bolt://").split(":")
    proxy = _Proxy((host, int(port)))
    path = f"/v1/accounts/{population.benign_account}/attribution"
    # Not asked before Neo4j goes away, so not in the response cache.
    other = f"/v1/accounts/{next(iter(population.ring_members.values()))[0]}/attribution"
    with _app_through(proxy, api_settings) as client:  # Neo4j unreachable at start-up: the app still serves
        assert client.get("/healthz").status_code == 200
        assert_problem(client.get("/readyz"), 503, "neo4j-unavailable")
        proxy.up()
        try:
            assert client.get("/readyz").status_code == 200
            first = client.get(path, headers=auth("read"))
            assert first.status_code == 200
            proxy.down()  # Neo4j goes away while serving
            assert_problem(client.get("/readyz"), 503)
            # Slow: graph.store.driver's driver retries a managed read for up to 30 s before giving up.
            body = assert_problem(client.get(other, headers=auth("read")), 503, "neo4j-unavailable")
            assert "bolt" not in str(body["detail"]) and str(proxy.port) not in str(body["detail"])
            # A completed run's answer the cache holds needs no Neo4j, for a request that names the run.
            named = client.get(path, params={"run_id": first.json()["run_id"]}, headers=auth("read"))
            assert named.status_code == 200 and named.content == first.content
            assert_problem(client.post("/v1/detections", json={}, headers=auth("admin")), 503)
            proxy.up()  # and comes back: no restart needed
            assert client.get("/readyz").status_code == 200
            assert client.get(path, headers=auth("read")).status_code == 200
        finally:
            proxy.down()
