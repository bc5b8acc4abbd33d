from __future__ import annotations

import csv
import random
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

import neo4j
from graph.ingest import loader
from graph.ingest.loader import load_bundle, load_rows
from graph.ingest.rows import parse_link
from graph.settings import Settings
from tests.integration.conftest import FIXTURES, counts
from tests.integration.graph_state import enrichment, link_figures, snapshot
from tests.suite_database import wipe_database

_LINKS_HEADER = "account_id,kind,value,first_seen,last_seen,count\n"


def _links_bundle(directory: Path, rows: list[str]) -> Path:
    directory.mkdir(parents=True)
    (directory / "links.csv").write_text(_LINKS_HEADER + "\n".join(rows) + "\n")
    return directory


def _total_count(driver: neo4j.Driver, database: str, relationship: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH ()-[r]->() WHERE type(r) = $type RETURN sum(r.count) AS n", type=relationship, database_=database
    )
    return int(records[0]["n"])


def _props(driver: neo4j.Driver, database: str) -> list[Any]:
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p",
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
    rows = [f"u{i},device,dev-{i % 700},2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,1" for i in range(12000)]
    bundle = _links_bundle(tmp_path / "big", rows)
    full = load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    reference = snapshot(empty_db, db)
    assert full.files[0].loaded == 12000 and _total_count(empty_db, db, "USED_DEVICE") == 12000
    # Start again as if the process had died after committing some rows, wherever a batch ended
    # (here 7,321 rows: not a multiple of any batch size), then re-run the whole file.
    wipe_database(empty_db, db)
    load_bundle(empty_db, db, _links_bundle(tmp_path / "partial", rows[:7321]), rejects_path=tmp_path / "r.csv")
    rerun = load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    assert rerun.files[0].skipped == 7321 and rerun.files[0].loaded == 12000 - 7321
    assert snapshot(empty_db, db) == reference


def test_duplicate_rows_count_once(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    row = "d1,device,dev-dup,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,4"
    other = "d1,device,dev-dup,2026-01-03T00:00:00Z,2026-01-04T00:00:00Z,2"
    report = load_bundle(empty_db, db, _links_bundle(tmp_path / "b", [row, other, row, row]),
                         rejects_path=tmp_path / "r.csv")
    assert (report.files[0].loaded, report.files[0].skipped) == (2, 2)
    figures = link_figures(empty_db, db)[("USED_DEVICE", "d1", "dev-dup")]
    assert figures[0] == 4 + 2
    assert figures[1].startswith("2026-01-01T00:00") and figures[2].startswith("2026-01-04T00:00")


def test_a_re_sorted_bundle_changes_nothing(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    reference = snapshot(empty_db, db)
    resorted = tmp_path / "resorted"
    resorted.mkdir()
    for source in (FIXTURES / "small").glob("*.csv"):
        header, *lines = source.read_text().splitlines()
        (resorted / source.name).write_text("\n".join([header, *reversed(lines)]) + "\n")
    report = load_bundle(empty_db, db, resorted, rejects_path=tmp_path / "r.csv")
    assert snapshot(empty_db, db) == reference
    assert sum(f.loaded for f in report.files) == 0


def test_fixing_a_rejected_row_adds_only_that_row(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    rows = [f"f{i},device,dev-{i % 7},2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,{i + 1}" for i in range(200)]
    broken = [*rows[:50], "f50,carrier-pigeon,dev-0,2026-01-01T00:00:00Z,,1", *rows[51:]]
    first = load_bundle(empty_db, db, _links_bundle(tmp_path / "broken", broken), rejects_path=tmp_path / "r.csv")
    assert first.rejected == 1 and first.files[0].loaded == 199
    fixed = load_bundle(empty_db, db, _links_bundle(tmp_path / "fixed", rows), rejects_path=tmp_path / "r.csv")
    assert (fixed.files[0].loaded, fixed.files[0].skipped) == (1, 199)
    assert _total_count(empty_db, db, "USED_DEVICE") == sum(range(1, 201))


def test_appending_a_row_adds_only_that_row(empty_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    rows = [f"g{i % 40},ip,198.51.100.{i % 9},2026-01-0{1 + i % 5}T00:00:00Z,,{1 + i % 3}" for i in range(300)]
    load_bundle(empty_db, db, _links_bundle(tmp_path / "first", rows), rejects_path=tmp_path / "r.csv")
    before = _total_count(empty_db, db, "USED_IP")
    appended = [*rows, "g1,ip,198.51.100.1,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,10"]
    load_bundle(empty_db, db, _links_bundle(tmp_path / "appended", appended), rejects_path=tmp_path / "r.csv")
    assert _total_count(empty_db, db, "USED_IP") == before + 10
    assert link_figures(empty_db, db)[("USED_IP", "g1", "198.51.100.1")][2].startswith("2026-03-02T00:00")


def test_an_observation_in_another_file_counts_once(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    shared = "h1,phone,+15550100,2026-01-01T00:00:00Z,2026-01-05T00:00:00Z,3"
    load_bundle(empty_db, db, _links_bundle(tmp_path / "one", ["h2,phone,+15550100,,,1", shared]),
                rejects_path=tmp_path / "r.csv")
    load_bundle(empty_db, db, _links_bundle(tmp_path / "two", [shared, "h1,phone,+15550100,2025-12-01T00:00:00Z,,2"]),
                rejects_path=tmp_path / "r.csv")
    figures = link_figures(empty_db, db)
    assert figures[("HAS_PHONE", "h1", "+15550100")][:2] == (3 + 2, "2025-12-01T00:00:00Z")
    assert figures[("HAS_PHONE", "h2", "+15550100")][0] == 1


def test_an_account_email_counts_alike_whichever_file_comes_first(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    accounts = tmp_path / "accounts"
    accounts.mkdir()
    account = "m1,2026-01-01T00:00:00Z,m1@example.org\n"
    (accounts / "accounts.csv").write_text("account_id,created_at,email\n" + account + account)  # a repeat too
    links = _links_bundle(tmp_path / "links", ["m1,email,m1@example.org,2026-02-01T00:00:00Z,,4"])
    load_bundle(empty_db, db, accounts, rejects_path=tmp_path / "r.csv")
    load_bundle(empty_db, db, links, rejects_path=tmp_path / "r.csv")
    accounts_first = snapshot(empty_db, db)
    wipe_database(empty_db, db)
    load_bundle(empty_db, db, links, rejects_path=tmp_path / "r.csv")
    load_bundle(empty_db, db, accounts, rejects_path=tmp_path / "r.csv")
    assert snapshot(empty_db, db) == accounts_first
    assert accounts_first["links"][("HAS_EMAIL", "m1", "m1@example.org")][0] == 1 + 4


@pytest.mark.parametrize("batch_rows", [loader.BATCH_ROWS, 1])
def test_repeated_account_rows_count_alike_in_one_batch_or_many(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(loader, "BATCH_ROWS", batch_rows)
    (tmp_path / "accounts.csv").write_text(
        "account_id,created_at,country\n"
        "r1,2026-01-01T00:00:00Z,US\n"
        "r1,2026-01-01T00:00:00Z,US\n"  # changes nothing
        "r1,,DE\n"  # a new country, the date kept
        "r2,2026-01-02T00:00:00Z,FR\n"
    )
    report = load_bundle(empty_db, settings.neo4j_database, tmp_path, rejects_path=tmp_path / "r.csv")
    [accounts] = report.files
    assert (accounts.loaded, accounts.skipped) == (3, 1)
    records, _, _ = empty_db.execute_query(
        "MATCH (a:Account {account_id: 'r1'}) RETURN a.country AS country, toString(a.created_at) AS created",
        database_=settings.neo4j_database)
    assert (records[0]["country"], records[0]["created"]) == ("DE", "2026-01-01T00:00:00Z")


def test_a_known_member_keeps_the_earliest_since_in_any_order(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    undated, dated = tmp_path / "undated", tmp_path / "dated"
    for folder, since in ((undated, ""), (dated, "2024-05-01T00:00:00Z")):
        folder.mkdir()
        (folder / "accounts.csv").write_text("account_id\nk1\n")
        (folder / "known.csv").write_text(f"account_id,organization,source,since\nk1,Krill Labs,case-1,{since}\n")
    query = "MATCH (:Account {account_id: 'k1'})-[r:KNOWN_MEMBER_OF]->() RETURN toString(r.since) AS since"
    seen = []
    for order in ((undated, dated), (dated, undated)):
        wipe_database(empty_db, db)
        for folder in order:
            load_bundle(empty_db, db, folder, rejects_path=tmp_path / "r.csv")
        seen.append(empty_db.execute_query(query, database_=db).records[0]["since"])
    assert seen == ["2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z"]


def test_concurrent_writers_count_each_observation_once(empty_db: neo4j.Driver, settings: Settings) -> None:
    """Loads and API requests at once, each sending every observation of one link in its own order:
    without a lock taken before the digests are read, two of them would both count one observation."""
    db = settings.neo4j_database
    fields = ["account_id", "kind", "value", "first_seen", "last_seen", "count"]
    rows = [parse_link(dict(zip(fields, ["c1", "device", "dev-hot", f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z",
                                         "", str(i + 1)], strict=True)))
            for i in range(120)]
    applied: list[int] = []

    def write(seed: int) -> None:
        order = rows[:]
        random.Random(seed).shuffle(order)
        applied.append(sum(load_rows(empty_db, db, "links", [row]) for row in order))

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(applied) == len(rows)
    assert link_figures(empty_db, db)[("USED_DEVICE", "c1", "dev-hot")] == (
        sum(range(1, 121)), "2026-01-01T00:00:00Z", "2026-01-05T23:00:00Z")


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


def _ranges_bundle(directory: Path, ranges: str) -> Path:
    directory.mkdir()
    (directory / "ip_ranges.csv").write_text("cidr,asn,organization,network\n" + ranges)
    (directory / "accounts.csv").write_text("account_id\n")
    return directory


def test_ranges_committed_before_their_enrichment_are_applied_by_a_rerun(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = settings.neo4j_database
    bundle = tmp_path / "b"
    shutil.copytree(FIXTURES / "small", bundle)
    (bundle / "ip_ranges.csv").unlink()
    load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    ranges = _ranges_bundle(tmp_path / "ranges", (FIXTURES / "small" / "ip_ranges.csv").read_text().split("\n", 1)[1])

    def die(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the process died after the ranges committed")

    monkeypatch.setattr(loader, "enrich_ips", die)
    with pytest.raises(RuntimeError):
        load_bundle(empty_db, db, ranges, rejects_path=tmp_path / "r.csv")
    monkeypatch.undo()
    load_bundle(empty_db, db, ranges, rejects_path=tmp_path / "r.csv")  # the re-run
    assert enrichment(empty_db, db) == {
        "192.0.2.1": ("unknown", None, None, None),
        "198.51.100.20": ("hosting", 64502, "Nimbus Cloud", "198.51.100.16/28"),
        "2001:db8::1": ("hosting", 64503, "Nimbus Cloud", "2001:db8::/32"),
        "203.0.113.7": ("corporate", 64500, "Krill Labs", "203.0.113.0/24"),
    }


def test_a_changed_range_moves_it_and_its_ips_to_the_new_organization(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    load_bundle(empty_db, db, FIXTURES / "small", rejects_path=tmp_path / "r.csv")
    load_bundle(empty_db, db, _ranges_bundle(tmp_path / "moved", "203.0.113.0/24,64999,Tarpon Traffic,hosting\n"),
                rejects_path=tmp_path / "r.csv")
    operated, _, _ = empty_db.execute_query(
        "MATCH (n)-[:OPERATED_BY]->(o) WHERE n.cidr = '203.0.113.0/24' OR n.address = '203.0.113.7' "
        "RETURN coalesce(n.cidr, n.address) AS n, o.name AS o ORDER BY n", database_=db,
    )
    assert [(r["n"], r["o"]) for r in operated] == [("203.0.113.0/24", "Tarpon Traffic"),
                                                    ("203.0.113.7", "Tarpon Traffic")]
    assert enrichment(empty_db, db)["203.0.113.7"] == ("hosting", 64999, "Tarpon Traffic", "203.0.113.0/24")


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
