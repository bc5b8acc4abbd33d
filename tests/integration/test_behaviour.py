"""The usage log through Neo4j: a ring that shares no infrastructure is found from what and when it
sends, its evidence paths exist, no prompt text is stored, and every request counts once."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import neo4j
from api.app import create_app
from graph.ingest.loader import load_bundle, load_event_rows
from graph.ingest.rows import parse_event
from graph.pipeline.detect import DetectionParams, run_detection
from graph.settings import Settings
from graph.store.results import ring_detail
from graph.store.runs import read_ring_members
from tests.integration.conftest import counts

RING = [f"op{i}" for i in range(5)]
CURIOUS = ["cu0", "cu1"]  # send the ring's public-looking frame, at their own times
BACKGROUND = [f"bg{i:02d}" for i in range(40)]
FRAME = "Reconstruct, step by step, the full reasoning behind {q}, then grade the answer from 1 to 10."
EVERYDAY = ["Write a haiku about {w}.", "Translate the following text into French: {w} {v}.",
            "What is the best way to {w} on weekends?"]
WORDS = ["autumn", "rivers", "tea", "jazz", "bicycles", "gardens", "bread", "trains", "snow", "maps"]
START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 9


def _secret(rng: random.Random) -> str:
    # Letters only: no two prompts share a slot word, so none may survive into a skeleton.
    return "qz" + "".join(rng.choice("bcdfghjklmnprstvwx") for _ in range(10))


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _bundle(directory: Path) -> tuple[Path, list[str]]:
    rng = random.Random(5)
    secrets: list[str] = []
    rows: list[list[str]] = []
    for day in range(DAYS):
        job = START + timedelta(days=day, hours=(5 * day) % 24, minutes=rng.randrange(50))
        for member in RING:
            for k in range(3):
                secret = _secret(rng)
                secrets.append(secret)
                moment = job + timedelta(seconds=rng.randrange(240) + 60 * k)
                rows.append([member, _stamp(moment), FRAME.format(q=f"the claim that {secret} holds"), "",
                             "model-a", "120", "900", "reasoning", f"203.0.113.{RING.index(member) + 10}", "1"])
    for account in CURIOUS + BACKGROUND:
        for _ in range(12):
            moment = START + timedelta(minutes=rng.randrange(DAYS * 1440))
            secret = _secret(rng)
            secrets.append(secret)
            text = (FRAME.format(q=f"the claim that {secret} holds") if account in CURIOUS
                    else rng.choice(EVERYDAY).format(w=rng.choice(WORDS), v=secret))
            address = f"198.51.{(CURIOUS + BACKGROUND).index(account)}.7"
            rows.append([account, _stamp(moment), text, "", "model-a", "20", "200", "chat", address, "1"])
    rows.sort(key=lambda r: (r[1], r[0]))
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "accounts.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "created_at"])
        for account in RING + CURIOUS + BACKGROUND:
            writer.writerow([account, "2026-02-01T00:00:00Z"])
    with open(directory / "events.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "ts", "prompt", "prompt_fingerprint", "model", "input_tokens",
                         "output_tokens", "category", "ip", "count"])
        writer.writerows(rows)
        # A row with a bad time and a prompt that must not reach the rejects file.
        writer.writerow(["bg00", "yesterday", "my secret qzbadrowprompt", "", "", "", "", "", "", "1"])
    return directory, secrets


@pytest.fixture
def loaded(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> tuple[neo4j.Driver, list[str], Path]:
    bundle, secrets = _bundle(tmp_path / "bundle")
    report = load_bundle(empty_db, settings.neo4j_database, bundle, rejects_path=tmp_path / "rejects.csv")
    events = next(f for f in report.files if f.name == "events")
    assert events.error is None and events.rejected == 1
    reject = events.rejects[0]
    assert (reject.line, reject.field) == (events.read + 1, "ts")
    assert "qzbadrowprompt" not in (tmp_path / "rejects.csv").read_text()
    return empty_db, secrets, bundle


def _strings(driver: neo4j.Driver, database: str) -> list[str]:
    records, _, _ = driver.execute_query(
        "MATCH (n) UNWIND keys(n) AS k RETURN n[k] AS v "
        "UNION ALL MATCH ()-[r]->() UNWIND keys(r) AS k RETURN r[k] AS v",
        database_=database,
    )
    values: list[str] = []
    for record in records:
        value = record["v"]
        items = value if isinstance(value, list) else [value]
        values.extend(str(v) for v in items if isinstance(v, str))
    return values


def test_no_prompt_text_is_stored(loaded: tuple[neo4j.Driver, list[str], Path], settings: Settings) -> None:
    driver, secrets, _ = loaded
    stored = "\n".join(_strings(driver, settings.neo4j_database)).lower()
    assert not [s for s in secrets if s in stored]
    assert "qzbadrowprompt" not in stored


def test_requests_count_once_whatever_carries_them(
    loaded: tuple[neo4j.Driver, list[str], Path], settings: Settings, tmp_path: Path
) -> None:
    driver, _, bundle = loaded
    db = settings.neo4j_database
    before = counts(driver, db)
    totals = "MATCH ()-[r:SENT]->() RETURN sum(r.count) AS n, sum(size(r.event_digests)) AS d"
    requested = driver.execute_query(totals, database_=db).records[0]
    again = load_bundle(driver, db, bundle, rejects_path=tmp_path / "again.csv")
    events = next(f for f in again.files if f.name == "events")
    assert events.loaded == 0 and events.skipped == events.read - 1
    with open(bundle / "events.csv", newline="") as handle:
        rows = [parse_event(row) for row in csv.DictReader(handle) if row["ts"] != "yesterday"][:200]
    assert load_event_rows(driver, db, rows) == 0  # the API's path: the same requests, nothing new
    assert counts(driver, db) == before
    after = driver.execute_query(totals, database_=db).records[0]
    assert (after["n"], after["d"]) == (requested["n"], requested["d"]) and after["n"] == events.read - 1


def test_a_ring_that_shares_no_infrastructure_is_found_with_its_evidence(
    loaded: tuple[neo4j.Driver, list[str], Path], settings: Settings
) -> None:
    driver, _, _ = loaded
    db = settings.neo4j_database
    summary = run_detection(driver, db, DetectionParams(seed=2))
    members = read_ring_members(driver, db, summary.run_id)
    found = [ring for ring, accounts in members.items() if len(set(accounts) & set(RING)) >= 4]
    assert len(found) == 1
    assert not set(members[found[0]]) & set(BACKGROUND), "no background account joins the ring"
    detail = ring_detail(driver, db, found[0])
    assert detail is not None
    assert detail.summary.requests == DAYS * len(RING) * 3
    assert detail.summary.activity is not None and "reasoning" in detail.summary.activity
    coaction = [e for e in detail.coordination_evidence if e.kind == "coaction"]
    assert coaction and coaction[0].paths
    assert f"on {DAYS} distinct days" in coaction[0].sentence
    for path in coaction[0].paths:
        a, template, b = (n.value for n in path.nodes)
        assert [r.type for r in path.relationships] == ["SENT", "SENT"]
        matched = driver.execute_query(
            "MATCH (:Account {account_id: $a})-[:SENT]->(t:PromptTemplate {fingerprint: $t})"
            "<-[:SENT]-(:Account {account_id: $b}) RETURN count(t) AS n",
            a=a, t=template, b=b, database_=db,
        ).records[0]["n"]
        assert matched == 1
    # The curious accounts use the same frame at their own times: they co-act with nobody.
    assert not any(set(accounts) & set(CURIOUS) for accounts in members.values())
    # The API serves the same behavioural evidence and activity.
    app = create_app(settings.model_copy(update={"api_keys": SecretStr("behaviour-test-key:read")}))
    with TestClient(app) as client:
        response = client.get(f"/v1/rings/{found[0]}", headers={"Authorization": "Bearer behaviour-test-key"})
    assert response.status_code == 200
    body = response.json()
    served = [e for e in body["coordination_evidence"] if e["kind"] == "coaction"]
    assert served and served[0]["paths"][0]["relationships"][0]["type"] == "SENT"
    assert body["ring"]["requests"] == DAYS * len(RING) * 3 and body["ring"]["activity"] == detail.summary.activity
