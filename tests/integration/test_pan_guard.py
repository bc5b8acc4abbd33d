"""No raw card number is stored, printed or written to a rejects file, whatever field or format carries it.

Property-based (hypothesis): a Luhn-valid 13-19 digit number, written with random separators, prefix
and suffix, goes into a random field (or column name) of a random bundle file in a random format,
next to a good row; the bundle is loaded with `ringtrace load` against the real Neo4j. The same for
the fields of a `POST /v1/links` body. Then nothing in the graph, the terminal output, rejects.csv
or the API's answer holds the number's digits, and the good row is loaded.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from typer.testing import CliRunner

import neo4j
from api.app import create_app
from api.settings import ApiSettings
from graph.cli import app as cli_app
from graph.settings import Settings
from tests.pan_strategies import WrittenPan, digits_of, written_pans

_KEY = "pan-guard-ingest-key"
# Every (file, field) in every format is a test of its own, each with a few random card numbers.
_EXAMPLES = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_ids = itertools.count()

# One good row per file; the hostile row is a copy with one field (or a column name) replaced.
_ROWS: dict[str, dict[str, str]] = {
    "accounts": {"account_id": "", "created_at": "2026-01-01T00:00:00Z", "email": "someone@example.org",
                 "country": "DE", "status": "active", "plan": "pro"},
    "links": {"account_id": "", "kind": "payment", "value": "pm_card_x", "first_seen": "2026-01-01T00:00:00Z",
              "last_seen": "2026-01-02T00:00:00Z", "count": "2", "brand": "visa", "bin": "411111", "last4": "1111",
              "country": "US"},
    "known": {"account_id": "", "organization": "Krill Labs", "source": "case-1", "since": "2025-01-01T00:00:00Z"},
    "ip_ranges": {"cidr": "", "asn": "AS64500", "organization": "Krill Labs", "network": "corporate"},
}
_COLUMN_NAME = "(column name)"
_TARGETS = [(file, field) for file, row in _ROWS.items() for field in [*row, _COLUMN_NAME]]
_FORMATS = ("csv", "csv.gz", "jsonl", "parquet")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _unique(file: str) -> str:
    n = next(_ids)
    return f"10.{n // 256 % 256}.{n % 256}.0/24" if file == "ip_ranges" else f"acct-pan-{n}"


def _write(path: Path, fmt: str, rows: list[dict[str, str]]) -> None:
    header = list(dict.fromkeys(k for row in rows for k in row))
    if fmt in ("csv", "csv.gz"):
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows([row.get(k, "") for k in header] for row in rows)
        data = text.getvalue().encode("utf-8")
        path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({k: [row.get(k, "") for row in rows] for k in header}), path)


def _stored_texts(driver: neo4j.Driver, database: str) -> Iterator[str]:
    """Every property key and value of every node and relationship, as text."""
    for query in ("MATCH (n) RETURN properties(n) AS p", "MATCH ()-[r]->() RETURN properties(r) AS p"):
        records, _, _ = driver.execute_query(query, database_=database, routing_=neo4j.RoutingControl.READ)
        for record in records:
            for key, value in record["p"].items():
                yield f"{key}={value}"


def _assert_not_stored(driver: neo4j.Driver, database: str, digits: str) -> None:
    leaked = [text for text in _stored_texts(driver, database) if digits in _digits(text)]
    assert leaked == []


@pytest.mark.parametrize("fmt", _FORMATS)
@pytest.mark.parametrize(("file", "field"), _TARGETS)
@given(pan=written_pans())
@_EXAMPLES
def test_a_card_number_in_any_field_of_any_file_is_never_stored_or_shown(
    empty_db: neo4j.Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory,
    file: str, field: str, fmt: str, pan: WrittenPan,
) -> None:
    bundle = tmp_path_factory.mktemp("pan-bundle")
    key = "cidr" if file == "ip_ranges" else "account_id"
    good = {**_ROWS[file], key: _unique(file)}
    hostile = {**_ROWS[file], key: _unique(file)}
    if field == _COLUMN_NAME:
        hostile[f"x{pan.text}"] = "yes"
        good[f"x{pan.text}"] = ""  # the column exists in every row of a CSV or Parquet file
    else:
        hostile[field] = pan.text
    _write(bundle / f"{file}.{fmt}", fmt, [good, hostile])
    if file in ("known", "ip_ranges"):
        _write(bundle / "links.csv", "csv", [{**_ROWS["links"], "account_id": _unique("links")}])
    rejects = bundle / "rejects.csv"

    result = CliRunner().invoke(cli_app, ["load", str(bundle), "--rejects", str(rejects)])

    assert result.exit_code == 3, result.output
    # The load summary is a table of counts: with every non-digit dropped, a column of zeros between a
    # 1 and an 8 reads as 100000000000000008. A number is searched for as a card is written (groups
    # joined by spaces, dots or dashes), within each line of the table.
    assert all(pan.digits not in digits_of(cell) for line in result.output.splitlines() for cell in line.split("│"))
    text = rejects.read_text(encoding="utf-8")
    assert pan.digits not in _digits(text)
    with open(rejects, newline="", encoding="utf-8") as handle:
        [reject] = list(csv.DictReader(handle))
    assert reject["file"].endswith(f"{file}.{fmt}") and reject["line"] == ("2" if fmt in ("jsonl", "parquet") else "3")
    assert reject["field"] == field or (field == _COLUMN_NAME and "*" in reject["field"])
    assert "card number" in reject["reason"]
    _assert_not_stored(empty_db, settings.neo4j_database, pan.digits)
    if file == "ip_ranges":
        records, _, _ = empty_db.execute_query("MATCH (r:IPRange {cidr: $cidr}) RETURN count(r) AS n",
                                               cidr=good["cidr"], database_=settings.neo4j_database)
    else:
        records, _, _ = empty_db.execute_query("MATCH (a:Account {account_id: $id}) RETURN count(a) AS n",
                                               id=good["account_id"], database_=settings.neo4j_database)
    assert records[0]["n"] == 1


@pytest.fixture
def client(empty_db: neo4j.Driver, settings: Settings) -> Iterator[TestClient]:
    api = create_app(settings.model_copy(update={"api_keys": SecretStr(f"{_KEY}:ingest")}),
                     ApiSettings(access_log=False))
    with TestClient(api, raise_server_exceptions=False) as test_client:
        yield test_client


# The fields of LinkIn (api/schemas.py) with their schema limits: a longer value refuses the batch (422).
_LINK_FIELDS = {"account_id": 256, "kind": 32, "value": 512, "first_seen": 64, "last_seen": 64, "brand": 64,
                "bin": 16, "last4": 8, "country": 8}


@pytest.mark.parametrize("field", sorted(_LINK_FIELDS))
@given(kind=st.sampled_from(["ip", "device", "payment", "email", "phone"]), pan=written_pans(max_affix=6))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_card_number_in_any_field_of_a_links_body_is_never_stored_or_echoed(
    client: TestClient, empty_db: neo4j.Driver, settings: Settings, field: str, kind: str, pan: WrittenPan
) -> None:
    good = {"account_id": _unique("links"), "kind": "device", "value": "dev-good"}
    hostile = {"account_id": _unique("links"), "kind": kind, "value": "pm_x" if kind == "payment" else "dev-x",
               field: pan.text}
    response = client.post("/v1/links", json={"links": [good, hostile]}, headers={"Authorization": f"Bearer {_KEY}"})
    assert pan.digits not in _digits(response.text)
    if len(pan.text) > _LINK_FIELDS[field]:
        assert response.status_code == 422, response.text
    else:
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["loaded"], body["rejected"]) == (1, 1)
        [error] = body["errors"]
        assert (error["index"], error["field"]) == (1, field) and "card number" in error["reason"]
    _assert_not_stored(empty_db, settings.neo4j_database, pan.digits)


def test_the_access_log_masks_a_card_number_in_a_path(
    empty_db: neo4j.Driver, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    api = create_app(settings.model_copy(update={"api_keys": SecretStr(f"{_KEY}:read")}), ApiSettings())
    with TestClient(api, raise_server_exceptions=False) as test_client, caplog.at_level("INFO", "ringtrace.api.access"):
        test_client.get("/v1/accounts/4111111111111111/attribution", headers={"Authorization": f"Bearer {_KEY}"})
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "ringtrace.api.access")
    assert "/v1/accounts/411111******1111/attribution" in logged and "4111111111111111" not in logged


@pytest.mark.parametrize(
    "link",
    [
        {"account_id": "a", "kind": "device", "value": "d", "x4111111111111111": "1"},  # an unknown key
        {"account_id": "a", "kind": "device", "value": "d", "count": 4111111111111111},  # over the count limit
        {"account_id": "a", "kind": "device", "value": ["4111111111111111"]},  # not a string
    ],
)
def test_a_refused_body_does_not_echo_a_card_number(client: TestClient, link: dict[str, object]) -> None:
    response = client.post("/v1/links", json={"links": [link]}, headers={"Authorization": f"Bearer {_KEY}"})
    assert response.status_code == 422, response.text
    assert "4111111111111111" not in _digits(response.text)
