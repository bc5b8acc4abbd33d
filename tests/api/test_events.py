"""POST /v1/events: templates from prompts, per-row errors, idempotency, limits, and no prompt kept or echoed."""

from __future__ import annotations

import csv
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import neo4j
from graph.ingest.loader import load_bundle
from graph.ingest.rows import MAX_PROMPT_CHARS
from graph.settings import Settings
from tests.api.conftest import LIMITS, Population, assert_problem, auth


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _nonce() -> str:
    """Eight made-up words: enough of a prompt's word pairs that no other test's prompt is its near-duplicate.
    Letters only, as prompts compare every number as `0`."""
    return " ".join("".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10]) for _ in range(8))


def _post(client: TestClient, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/v1/events", json={"events": events}, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _problem_fields(body: dict[str, object]) -> list[str]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return [str(error["field"]) for error in errors]


def _sent(driver: neo4j.Driver, settings: Settings, accounts: list[str]) -> list[tuple[Any, ...]]:
    """(account, template, SENT count, template accounts, template requests, skeleton) of these accounts."""
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[r:SENT]->(t:PromptTemplate) WHERE a.account_id IN $ids "
        "RETURN a.account_id AS account, t.fingerprint AS template, r.count AS count, t.accounts AS accounts, "
        "t.requests AS requests, t.skeleton AS skeleton ORDER BY account, template",
        ids=accounts, database_=settings.neo4j_database,
    )
    return [tuple(r.values()) for r in records]


def _proof_events(nonce: str) -> tuple[list[str], list[dict[str, Any]]]:
    accounts = sorted([_unique("acc-ev"), _unique("acc-ev")])
    events = [
        {"account_id": accounts[0], "ts": "2024-03-01T10:00:00Z", "model": "model-x", "input_tokens": 14,
         "output_tokens": 420, "category": "Reasoning",
         "prompt": f"Reconstruct step by step the proof that 17 is prime, reference {nonce}"},
        {"account_id": accounts[1], "ts": "2024-03-01T10:02:30Z", "model": "model-x", "input_tokens": 14,
         "output_tokens": 380, "category": "reasoning",
         "prompt": f"Reconstruct step by step the proof that 23 is prime, reference {nonce}"},
    ]
    return accounts, events


def test_two_accounts_sending_one_template_share_it_and_a_replay_adds_nothing(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    accounts, events = _proof_events(_nonce())
    assert _post(client, events) == {"received": 2, "loaded": 2, "duplicates": 0, "rejected": 0, "errors": []}
    sent = _sent(graph_driver, api_settings, accounts)
    assert [(s[0], s[2], s[3], s[4], s[5]) for s in sent] == [(accounts[0], 1, 2, 2, None),
                                                              (accounts[1], 1, 2, 2, None)]
    assert sent[0][1] == sent[1][1] != "unshared"

    assert _post(client, events) == {"received": 2, "loaded": 0, "duplicates": 2, "rejected": 0, "errors": []}
    assert _sent(graph_driver, api_settings, accounts) == sent


def test_a_provider_fingerprint_sent_by_two_accounts_is_a_template(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    accounts = sorted([_unique("acc-fp"), _unique("acc-fp")])
    template = _unique("provider-template")
    events = [{"account_id": a, "ts": f"2024-03-02T08:0{i}:00Z", "prompt_fingerprint": template, "count": 3}
              for i, a in enumerate(accounts)]
    assert _post(client, events)["loaded"] == 2
    sent = _sent(graph_driver, api_settings, accounts)
    assert [(s[0], s[2], s[3], s[4]) for s in sent] == [(accounts[0], 3, 2, 6), (accounts[1], 3, 2, 6)]
    assert sent[0][1] == sent[1][1] != "unshared"


def test_the_same_event_twice_in_one_batch_counts_once(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    account = _unique("acc-twice")
    event = {"account_id": account, "ts": "2024-03-03T09:00:00Z", "prompt": f"Summarise {_nonce()}", "count": 2}
    body = _post(client, [event, event, {**event, "ts": "2024-03-03T09:00:01Z"}])
    assert (body["loaded"], body["duplicates"]) == (2, 1)
    assert [(s[1], s[2]) for s in _sent(graph_driver, api_settings, [account])] == [("unshared", 4)]


def test_bad_rows_are_reported_by_index_and_field_and_good_rows_loaded(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    account = _unique("acc-bad")
    secret = f"do not repeat {_nonce()}"
    good = {"account_id": account, "ts": "2024-03-04T12:00:00Z", "prompt": secret}
    events = [
        {**good, "ip": "203.0.113.9"},
        {**good, "ts": "yesterday"},
        {**good, "ip": "999.1.1.1"},
        {**good, "prompt": f"{secret}\x07"},
        {**good, "account_id": "  "},
        {**good, "model": "4111111111111111"},
        {**good, "ts": "2024-03-04T12:00:01Z", "prompt": f"{secret} 4111111111111111"},
    ]
    body = _post(client, events)
    assert (body["received"], body["loaded"], body["duplicates"], body["rejected"]) == (7, 2, 0, 5)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "ts"), (2, "ip"), (3, "prompt"), (4, "account_id"), (5, "model"),
    ]
    assert body["errors"][0]["value"] == "yesterday"
    assert body["errors"][2]["value"] is None
    assert "control character" in body["errors"][2]["reason"]
    text = json.dumps(body)
    assert secret not in text and "4111111111111111" not in text
    assert [(s[1], s[2]) for s in _sent(graph_driver, api_settings, [account])] == [("unshared", 2)]
    records, _, _ = graph_driver.execute_query(
        "MATCH (:Account {account_id: $id})-[:USED_IP]->(ip:IP) RETURN ip.address AS address",
        id=account, database_=api_settings.neo4j_database,
    )
    assert [r["address"] for r in records] == ["203.0.113.9"]


def _properties_containing(driver: neo4j.Driver, settings: Settings, needles: list[str]) -> list[str]:
    """`label.key` or `TYPE.key` of every node or relationship property whose text contains a needle."""
    found: list[str] = []
    for pattern, owner in (("(x)", "labels(x)[0]"), ("()-[x]->()", "type(x)")):
        records, _, _ = driver.execute_query(
            f"MATCH {pattern} UNWIND keys(x) AS key WITH x, key, x[key] AS value "
            "WHERE value IS :: STRING OR value IS :: LIST<STRING NOT NULL> "
            "UNWIND CASE WHEN value IS :: STRING THEN [value] ELSE value END AS text "
            "WITH x, key, text WHERE any(needle IN $needles WHERE toLower(text) CONTAINS needle) "
            f"RETURN DISTINCT {owner} + '.' + key AS at",
            needles=[n.lower() for n in needles], database_=settings.neo4j_database,
        )
        found.extend(r["at"] for r in records)
    return found


def test_no_property_anywhere_holds_a_prompt(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    nonce = _nonce()
    accounts, events = _proof_events(nonce)
    events.append({"account_id": accounts[0], "ts": "2024-03-05T00:00:00Z", "prompt": f"A note only I wrote {nonce}"})
    assert _post(client, events)["loaded"] == 3
    assert len({s[1] for s in _sent(graph_driver, api_settings, accounts)}) == 2  # the template and `unshared`
    assert _properties_containing(graph_driver, api_settings, nonce.split()) == []
    assert _properties_containing(graph_driver, api_settings, [accounts[0]]) == ["Account.account_id"]


def test_a_prompt_is_never_echoed_in_a_problem_or_a_reject_nor_logged(
    client: TestClient, population: Population, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"my secret prompt {_nonce()}"
    event = {"account_id": _unique("acc-secret"), "ts": "2024-03-06T00:00:00Z"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**event, "prompt": secret, "count": "many"}, "body.events.0.count"),
        ({**event, "prompt": secret, "input_tokens": -1}, "body.events.0.input_tokens"),
        ({**event, "prompt": [secret]}, "body.events.0.prompt"),
        ({**event, "prompt": {"text": secret}}, "body.events.0.prompt"),
        ({**event, "prompt": secret * (MAX_PROMPT_CHARS // len(secret) + 1)}, "body.events.0.prompt"),
    ]
    for row, field in cases:
        response = client.post("/v1/events", json={"events": [row]}, headers=auth("ingest"))
        body = assert_problem(response, 422, "validation-error")
        assert _problem_fields(body) == [field]
        assert secret not in response.text
    cut = client.post("/v1/events", content=json.dumps({"events": [{**event, "prompt": secret}]})[:-5].encode(),
                      headers={**auth("ingest"), "Content-Type": "application/json"})
    assert_problem(cut, 422, "validation-error")
    assert secret not in cut.text
    # Loaded and rejected: at DEBUG the driver logs every query's parameters, so no prompt reached Neo4j.
    loaded = _post(client, [{**event, "prompt": secret}, {**event, "prompt": f"{secret}\x1b[2J"}])
    assert (loaded["loaded"], loaded["rejected"]) == (1, 1)
    assert secret not in json.dumps(loaded)
    messages = [record.getMessage() for record in caplog.records]
    assert any(record.name.startswith("neo4j") for record in caplog.records)
    assert all(secret not in message for message in messages)


def test_structural_errors_are_422_naming_the_field(client: TestClient, population: Population) -> None:
    event = {"account_id": "a", "ts": "2024-03-06T00:00:00Z"}
    cases = [
        ({"events": [{"ts": "2024-03-06T00:00:00Z"}]}, "body.events.0.account_id"),
        ({"events": [{"account_id": "a"}]}, "body.events.0.ts"),
        ({"events": [{**event, "count": 0}]}, "body.events.0.count"),
        ({"events": [{**event, "output_tokens": True}]}, "body.events.0.output_tokens"),
        ({"events": [{**event, "tokens": 3}]}, "body.events.0.tokens"),
        ({"events": []}, "body.events"),
        ({"links": [event]}, "body.events"),
        ({"events": [event] * (LIMITS.max_batch_size + 1)}, "body.events"),
    ]
    for batch, field in cases:
        body = assert_problem(client.post("/v1/events", json=batch, headers=auth("ingest")), 422, "validation-error")
        assert field in _problem_fields(body), body


def test_the_longest_prompt_fits_in_a_body_other_routes_would_refuse(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings
) -> None:
    account = _unique("acc-long")
    words = f"{_nonce()} "
    prompt = (words * (MAX_PROMPT_CHARS // len(words) + 1))[:MAX_PROMPT_CHARS]
    payload = json.dumps({"events": [{"account_id": account, "ts": "2024-03-07T00:00:00Z", "prompt": prompt}]})
    assert LIMITS.max_body_bytes < len(payload) <= LIMITS.max_events_body_bytes
    response = client.post("/v1/events", content=payload.encode(),
                           headers={**auth("ingest"), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["loaded"] == 1
    assert [(s[1], s[2]) for s in _sent(graph_driver, api_settings, [account])] == [("unshared", 1)]


def test_a_body_over_the_events_limit_is_413(client: TestClient, population: Population) -> None:
    payload = b"x" * (LIMITS.max_events_body_bytes + 1)
    response = client.post("/v1/events", content=payload, headers={**auth("ingest"),
                                                                    "Content-Type": "application/json"})
    body = assert_problem(response, 413, "content-too-large")
    assert str(LIMITS.max_events_body_bytes) in str(body["detail"])


_COLUMNS = ("account_id", "ts", "prompt", "model", "input_tokens", "output_tokens", "category", "count")


def _write_events(folder: Path, events: list[dict[str, Any]]) -> Path:
    """A bundle of these events (and an empty accounts.csv, as a bundle needs accounts or links)."""
    folder.mkdir()
    (folder / "accounts.csv").write_text("account_id\n")
    with open(folder / "events.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, _COLUMNS)
        writer.writeheader()
        writer.writerows(events)
    return folder


def _usage_log(nonce: str) -> tuple[list[str], list[dict[str, Any]]]:
    accounts, events = _proof_events(nonce)
    events.append({"account_id": accounts[0], "ts": "2024-03-08T00:00:00Z", "prompt": f"My own words {nonce}",
                   "count": 4})
    return accounts, events


def _file_report(driver: neo4j.Driver, settings: Settings, folder: Path, tmp_path: Path) -> tuple[int, int, int]:
    report = load_bundle(driver, settings.neo4j_database, folder, rejects_path=tmp_path / "rejects.csv")
    events = next(f for f in report.files if f.name == "events")
    assert events.error is None, events.error
    return events.loaded, events.skipped, events.rejected


def test_events_a_file_loaded_count_once_when_sent_again_through_the_api(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings, tmp_path: Path
) -> None:
    accounts, events = _usage_log(_nonce())
    folder = _write_events(tmp_path / "bundle", events)
    assert _file_report(graph_driver, api_settings, folder, tmp_path) == (3, 0, 0)
    before = _sent(graph_driver, api_settings, accounts)
    assert len(before) == 3
    body = _post(client, list(reversed(events)))
    assert (body["loaded"], body["duplicates"], body["rejected"]) == (0, 3, 0)
    assert _sent(graph_driver, api_settings, accounts) == before


def test_events_the_api_took_count_once_when_a_file_brings_them_again(
    client: TestClient, population: Population, graph_driver: neo4j.Driver, api_settings: Settings, tmp_path: Path
) -> None:
    accounts, events = _usage_log(_nonce())
    assert _post(client, events)["loaded"] == 3
    before = _sent(graph_driver, api_settings, accounts)
    folder = _write_events(tmp_path / "bundle", list(reversed(events)))
    assert _file_report(graph_driver, api_settings, folder, tmp_path) == (0, 3, 0)
    assert _sent(graph_driver, api_settings, accounts) == before


def test_openapi_documents_the_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/events"]["post"]
    assert operation["tags"] == ["ingest"]
    assert operation["security"] == [{"HTTPBearer": []}]
    assert {"200", "401", "403", "413", "422", "503"} <= set(operation["responses"])
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventsIngested"}
    schemas = spec["components"]["schemas"]
    batch_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    events = schemas[batch_ref.rsplit("/", 1)[1]]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, LIMITS.max_batch_size)
    event = schemas["EventIn"]
    assert event["required"] == ["account_id", "ts"]
    assert set(event["properties"]) == {"account_id", "ts", "prompt", "prompt_fingerprint", "model", "input_tokens",
                                        "output_tokens", "category", "ip", "count"}
    prompt = next(p for p in event["properties"]["prompt"]["anyOf"] if p.get("type") == "string")
    assert prompt["maxLength"] == MAX_PROMPT_CHARS
    assert set(schemas["EventsIngested"]["properties"]) == {"received", "loaded", "duplicates", "rejected", "errors"}
