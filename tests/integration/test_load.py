from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

import neo4j
from graph.ingest.loader import BATCH_ROWS, load_bundle
from graph.settings import Settings
from tests.integration.conftest import FIXTURES, counts


def _props(driver: neo4j.Driver, database: str) -> list[Any]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:AppliedBatch RETURN labels(n) AS l, properties(n) AS p",
        database_=database,
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, elementId(a) AS a, elementId(b) AS b "
        "ORDER BY a, b, t",
        database_=database,
    )
    return sorted(repr((r["l"], sorted(r["p"].items()))) for r in records) + [
        repr((r["t"], sorted(r["p"].items()))) for r in rels
    ]


def test_loading_the_same_bundle_twice_changes_nothing(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    first = load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    assert first.ok and first.rejected == 0
    before_counts, before_props = counts(empty_db, db), _props(empty_db, db)
    second = load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    assert counts(empty_db, db) == before_counts
    assert _props(empty_db, db) == before_props
    assert sum(f.loaded for f in second.files) == 0
    assert sum(f.skipped for f in second.files) == sum(f.read for f in second.files)


def test_a_new_observation_widens_the_interval_and_adds_to_count(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    later = tmp_path / "later"
    later.mkdir()
    (later / "links.csv").write_text(
        "account_id,kind,value,first_seen,last_seen,count\n"
        "a1,ip,203.0.113.7,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,5\n"
    )
    load_bundle(empty_db, db, later, rejects_path=tmp_path / "r.csv")
    load_bundle(empty_db, db, later, rejects_path=tmp_path / "r.csv")  # replay: no double counting
    records, _, _ = empty_db.execute_query(
        "MATCH (:Account {account_id: 'a1'})-[r:USED_IP]->(:IP {address: '203.0.113.7'}) "
        "RETURN r.count AS count, toString(r.first_seen) AS first, toString(r.last_seen) AS last",
        database_=db,
    )
    assert records[0]["count"] == 3 + 5
    assert records[0]["first"].startswith("2026-01-01T00:00")
    assert records[0]["last"].startswith("2026-02-01T00:00")


def test_an_interrupted_load_is_finished_by_a_rerun(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    bundle = tmp_path / "big"
    bundle.mkdir()
    rows = [f"u{i},device,dev-{i % 700},2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,1" for i in range(12000)]
    (bundle / "links.csv").write_text("account_id,kind,value,first_seen,last_seen,count\n" + "\n".join(rows))
    full = load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    reference = counts(empty_db, db)
    total = empty_db.execute_query("MATCH ()-[r:USED_DEVICE]->() RETURN sum(r.count) AS n", database_=db)
    assert total.records[0]["n"] == 12000 and full.files[0].loaded == 12000
    # Start again as if the process had died after committing only the first batch, then re-run.
    with empty_db.session(database=db) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    partial = bundle / "partial"
    partial.mkdir()
    (partial / "links.csv").write_text(
        "account_id,kind,value,first_seen,last_seen,count\n" + "\n".join(rows[:BATCH_ROWS])
    )
    load_bundle(empty_db, db, partial, rejects_path=tmp_path / "r.csv")  # the first batch committed
    rerun = load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    assert rerun.files[0].skipped == BATCH_ROWS and rerun.files[0].loaded == 12000 - BATCH_ROWS
    assert counts(empty_db, db) == reference
    total = empty_db.execute_query("MATCH ()-[r:USED_DEVICE]->() RETURN sum(r.count) AS n", database_=db)
    assert total.records[0]["n"] == 12000


def test_normalised_entities_and_payment_details(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    emails = empty_db.execute_query(
        "MATCH (a:Account)-[:HAS_EMAIL]->(e:Email) RETURN a.account_id AS a, e.address AS e ORDER BY a",
        database_=db,
    ).records
    assert [(r["a"], r["e"]) for r in emails] == [
        ("a1", "jdoe@gmail.com"), ("a2", "jdoe@gmail.com"), ("a3", "ops@krill-labs.example"),
        ("a4", "alice@outlook.com"), ("a5", "bob@example.org"), ("a5", "b.o.b@outlook.com"),
    ]
    phones = empty_db.execute_query(
        "MATCH (p:Phone)<-[:HAS_PHONE]-(a) RETURN p.number AS n, count(a) AS c", database_=db
    ).records
    assert [(r["n"], r["c"]) for r in phones] == [("+442079460000", 2)]
    card = empty_db.execute_query("MATCH (p:PaymentMethod) RETURN properties(p) AS p", database_=db).records
    assert card[0]["p"] == {"fingerprint": "pm_card_7f3a", "brand": "visa", "bin": "411111", "last4": "1111"}
    a3 = empty_db.execute_query(
        "MATCH (a:Account {account_id: 'a3'}) RETURN a.email_domain AS d, toString(a.created_at) AS c, a.plan AS p",
        database_=db,
    ).records[0]
    assert (a3["d"], a3["p"]) == ("krill-labs.example", "pro")
    assert a3["c"].startswith("2026-01-05T09:09:00")


def test_ip_enrichment_uses_the_most_specific_range(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    report = load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    assert report.enriched_ips == 4
    records, _, _ = empty_db.execute_query(
        "MATCH (ip:IP) OPTIONAL MATCH (ip)-[:OPERATED_BY]->(o:Organization) "
        "RETURN ip.address AS ip, ip.network AS network, ip.asn AS asn, o.name AS org ORDER BY ip",
        database_=db,
    )
    got = {r["ip"]: (r["network"], r["asn"], r["org"]) for r in records}
    assert got == {
        "192.0.2.1": ("unknown", None, None),
        "198.51.100.20": ("hosting", 64502, "Nimbus Cloud"),
        "2001:db8::1": ("hosting", 64503, "Nimbus Cloud"),
        "203.0.113.7": ("corporate", 64500, "Krill Labs"),
    }


def test_ranges_loaded_later_re_enrich_known_ips(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    bundle = tmp_path / "b"
    shutil.copytree(FIXTURES / "small", bundle)
    (bundle / "ip_ranges.csv").unlink()
    load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    ranges = tmp_path / "ranges"
    ranges.mkdir()
    shutil.copy(FIXTURES / "small" / "ip_ranges.csv", ranges / "ip_ranges.csv")
    (ranges / "accounts.csv").write_text("account_id\n")
    load_bundle(empty_db, db, ranges, rejects_path=tmp_path / "r.csv")
    network = empty_db.execute_query(
        "MATCH (ip:IP {address: '203.0.113.7'})-[:OPERATED_BY]->(o) RETURN ip.network AS n, o.name AS o",
        database_=db,
    ).records
    assert [(r["n"], r["o"]) for r in network] == [("corporate", "Krill Labs")]


def test_bad_rows_are_named_and_good_rows_kept(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    rejects_file = tmp_path / "rejects.csv"
    report = load_bundle(empty_db, db, FIXTURES / "bad", rejects_path=rejects_file)
    by_file = {f.name: f for f in report.files}
    links = by_file["links"]
    found = {(r.line, r.field) for r in links.rejects}
    assert found == {(3, "kind"), (4, "account_id"), (5, "first_seen"), (6, "value"), (7, "value"),
                     (9, "last_seen"), (10, "count")}
    assert links.loaded == 2  # b1's IP and b7's device
    assert all(r.file.endswith("links.csv") for r in links.rejects)
    # A wrong header refuses the file, naming it and the missing fields; other files still load.
    assert by_file["known"].error is not None
    assert "known.csv" in by_file["known"].error and "account_id" in by_file["known"].error
    assert by_file["accounts"].loaded == 1
    assert [(r.line, r.field) for r in by_file["accounts"].rejects] == [(3, "email")]
    kept = empty_db.execute_query(
        "MATCH (a:Account)-[r]->(e) RETURN a.account_id AS a, type(r) AS t ORDER BY a, t", database_=db
    ).records
    assert [(r["a"], r["t"]) for r in kept] == [("b1", "HAS_EMAIL"), ("b1", "USED_IP"), ("b7", "USED_DEVICE")]
    with open(rejects_file, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    pan_row = next(r for r in rows if r["line"] == "7")
    assert "card number" in pan_row["reason"] and "4111111111111111" not in pan_row["value"]


def test_a_raw_card_number_is_never_stored(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    load_bundle(empty_db, db, FIXTURES / "bad", rejects_path=tmp_path / "r.csv")
    records, _, _ = empty_db.execute_query(
        "MATCH (n) UNWIND keys(n) AS k WITH n[k] AS v WHERE v IS :: STRING "
        "AND replace(replace(v, ' ', ''), '-', '') CONTAINS '4111111111111111' RETURN count(*) AS n",
        database_=db,
    )
    assert records[0]["n"] == 0


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "csv.gz"])
def test_other_formats_load_like_csv(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path, suffix: str
) -> None:
    import gzip
    import json

    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    db = settings.neo4j_database
    table = pacsv.read_csv(FIXTURES / "small" / "links.csv",
                           convert_options=pacsv.ConvertOptions(strings_can_be_null=False,
                                                                column_types={"bin": pa.string(),
                                                                              "last4": pa.string()}))
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    rows = table.to_pylist()
    if suffix == "jsonl":
        (bundle / "links.jsonl").write_text("\n".join(json.dumps(r, default=str) for r in rows))
    elif suffix == "parquet":
        pq.write_table(table, bundle / "links.parquet")
    else:
        with gzip.open(bundle / "links.csv.gz", "wb") as handle:
            handle.write((FIXTURES / "small" / "links.csv").read_bytes())
    report = load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    assert report.rejected == 0 and report.files[0].loaded == len(rows)
    assert counts(empty_db, db).get("USED_IP") == 5
