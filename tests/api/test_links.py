"""POST /v1/links: validation like the loader, per-row errors, idempotency, limits, injection strings."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import neo4j
from graph.ingest import loader
from graph.ingest.ip_enrichment import IPRange
from graph.ingest.loader import load_bundle
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


def _figures(driver: neo4j.Driver, settings: Settings, account_id: str) -> list[tuple[object, ...]]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Account {account_id: $id})-[r]->(e) RETURN type(r) AS type, "
        "coalesce(e.address, e.fingerprint, e.number) AS value, r.count AS count, "
        "toString(r.first_seen) AS first, toString(r.last_seen) AS last ORDER BY type, value",
        id=account_id, database_=settings.neo4j_database,
    )
    return [tuple(r.values()) for r in records]


def test_duplicate_rows_in_one_request_count_once(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    account, device = _unique("acc-dup"), _unique("dev")
    row = {"account_id": account, "kind": "device", "value": device, "first_seen": "2024-03-01T10:00:00Z",
           "last_seen": "2024-03-02T10:00:00Z", "count": 3}
    response = client.post("/v1/links", json={"links": [row, row, {**row, "count": 2}, row]}, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    assert _figures(graph_driver, api_settings, account) == [
        ("USED_DEVICE", device, 3 + 2, "2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z")]


def test_rows_a_file_loaded_count_once_when_sent_again_through_the_api(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings, bundle: Path
) -> None:
    with open(bundle / "links.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    account = rows[0]["account_id"]
    own = [r for r in rows if r["account_id"] == account]
    before = _figures(graph_driver, api_settings, account)
    assert len(own) >= 2 and before
    # A few of the file's rows, in another order and grouping than the loader's batches.
    resent = [{**{k: v for k, v in r.items() if v}, "count": int(r["count"])}
              for r in reversed(own[: max(2, len(own) // 2)])]
    response = client.post("/v1/links", json={"links": resent}, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    assert response.json()["applied"] is False
    assert _figures(graph_driver, api_settings, account) == before


def test_rows_the_api_took_count_once_when_a_file_brings_them_again(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings, tmp_path: Path
) -> None:
    account = _unique("acc-route")
    fields = ["account_id", "kind", "value", "first_seen", "last_seen", "count"]
    rows = [[account, "device", f"{account}-d{i}", f"2024-04-0{i + 1}T00:00:00Z", "", i + 1] for i in range(4)]
    body = [{name: value for name, value in zip(fields, r, strict=True) if value != ""} for r in rows[:3]]
    sent = client.post("/v1/links", json={"links": body}, headers=auth("ingest"))
    assert sent.status_code == 200, sent.text
    folder = tmp_path / "bundle"
    folder.mkdir()
    with open(folder / "links.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([fields, *reversed(rows)])
    report = load_bundle(graph_driver, api_settings.neo4j_database, folder, rejects_path=tmp_path / "r.csv")
    assert (report.files[0].loaded, report.files[0].skipped) == (1, 3)
    assert [f[2] for f in _figures(graph_driver, api_settings, account)] == [1, 2, 3, 4]


def _fresh_benchmark_address(driver: neo4j.Driver, settings: Settings) -> str:
    # 198.18.0.0/15 (RFC 2544) is in no generated range; pick an address no node has yet.
    while True:
        address = f"198.18.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}"
        found, _, _ = driver.execute_query("MATCH (ip:IP {address: $a}) RETURN count(ip) AS n", a=address,
                                           database_=settings.neo4j_database)
        if found[0]["n"] == 0:
            return address


def test_a_retry_enriches_ips_that_a_failed_enrichment_left_behind(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = _fresh_benchmark_address(graph_driver, api_settings)
    batch = {"links": [{"account_id": _unique("acc-enrich"), "kind": "ip", "value": address}]}
    assert client.post("/v1/links", json=batch, headers=auth("ingest")).status_code == 200
    # New ranges commit, then the process that loaded them dies before enriching any IP.
    ranges = tmp_path / "ranges"
    ranges.mkdir()
    (ranges / "ip_ranges.csv").write_text("cidr,asn,organization,network\n198.18.0.0/15,64512,,hosting\n")
    (ranges / "accounts.csv").write_text("account_id\n")

    def die(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the process died after the ranges committed")

    monkeypatch.setattr(loader, "enrich_ips", die)
    with pytest.raises(RuntimeError):
        load_bundle(graph_driver, api_settings.neo4j_database, ranges, rejects_path=tmp_path / "r.csv")
    monkeypatch.undo()
    retry = client.post("/v1/links", json=batch, headers=auth("ingest"))
    assert retry.status_code == 200 and retry.json()["applied"] is False
    records, _, _ = graph_driver.execute_query(
        "MATCH (ip:IP {address: $a}) RETURN ip.network AS network, ip.asn AS asn, ip.range AS range",
        a=address, database_=api_settings.neo4j_database,
    )
    assert [tuple(r.values()) for r in records] == [("hosting", 64512, "198.18.0.0/15")]


def test_a_request_reads_the_range_table_only_when_it_changed(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []
    real = loader.read_ip_ranges

    def counted(driver: neo4j.Driver, database: str) -> list[IPRange]:
        reads.append(database)
        return real(driver, database)

    monkeypatch.setattr(loader, "read_ip_ranges", counted)
    for _ in range(2):  # the first request may fill the cache; no later one reads the table again
        reads.clear()
        address = _fresh_benchmark_address(graph_driver, api_settings)
        batch = {"links": [{"account_id": _unique("acc-cache"), "kind": "ip", "value": address}]}
        assert client.post("/v1/links", json=batch, headers=auth("ingest")).status_code == 200
    assert reads == []
