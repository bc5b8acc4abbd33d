"""The bulk import's files: what `ringtrace load` would store for accounts and links, counted the same."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph.errors import BundleError
from graph.ingest.bulk_import import admin_arguments, count_links, read_bundle_tables, write_import_files
from graph.local_server import is_local
from graph.settings import Settings

_ACCOUNTS = "account_id,created_at,email,country,plan\n"
_LINKS = "account_id,kind,value,first_seen,last_seen,count,brand\n"


def _bundle(tmp_path: Path, accounts: str, links: str) -> Path:
    (tmp_path / "accounts.csv").write_text(_ACCOUNTS + accounts)
    (tmp_path / "links.csv").write_text(_LINKS + links)
    return tmp_path


def _written(tmp_path: Path, bundle: Path) -> tuple[dict[str, list[dict[str, str]]], list]:
    tables, reports = read_bundle_tables(bundle)
    files = write_import_files(tables, tmp_path / "import")
    count_links(reports, files)
    read = {}
    for _, path in [*files.nodes, *files.relationships]:
        with path.open(newline="") as handle:
            read[path.stem] = list(csv.DictReader(handle))
    return read, reports


def test_one_relationship_per_account_and_entity_with_each_observation_once(tmp_path: Path) -> None:
    bundle = _bundle(
        tmp_path,
        "a1,2026-01-05T10:00:00Z,J.Doe@example.com,US,free\n",
        "a1,device,d1,2026-01-07T00:00:00Z,2026-01-08T00:00:00Z,2,\n"
        "a1,device,d1,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,3,\n"
        "a1,device,d1,2026-01-07T00:00:00Z,2026-01-08T00:00:00Z,2,\n"  # the first again: counts nothing
        "a1,device,d1,,,1,\n"  # no dates: counts, widens nothing
        "a1,email,j.doe@example.com,2026-01-05T10:00:00Z,2026-01-05T10:00:00Z,1,\n"  # = the accounts.csv email
        "a2,payment,pm1,2026-02-01T00:00:00Z,2026-02-01T00:00:00Z,1,VISA\n",
    )
    read, reports = _written(tmp_path, bundle)
    [device] = read["used_device"]
    assert device["count:long"] == "6"
    assert (device["first_seen:datetime"], device["last_seen:datetime"]) == ("2026-01-01T00:00:00Z",
                                                                             "2026-01-08T00:00:00Z")
    assert len(device["observation_digests:long[]"].split(";")) == 3
    [email] = read["has_email"]
    assert (email["count:long"], len(email["observation_digests:long[]"].split(";"))) == ("1", 1)
    links = next(r for r in reports if r.name == "links")
    assert (links.read, links.loaded, links.skipped) == (6, 4, 2)
    # a2 is named only by links.csv: an account node with its id and nothing else, like MERGE makes.
    assert [a["account_id"] for a in read["accounts"]] == ["a1", "a2"]
    assert read["accounts"][1]["created_at:datetime"] == "" and read["accounts"][1]["plan"] == ""
    assert read["paymentmethod"][0]["brand"] == "visa"


def test_later_account_rows_overwrite_what_they_give_and_keep_the_rest(tmp_path: Path) -> None:
    bundle = _bundle(
        tmp_path,
        "a1,2026-01-05T10:00:00Z,,US,free\n"
        "a1,,,DE,\n"  # a new country; no date, no plan: both kept
        "a1,,,DE,\n",  # nothing new
        "",
    )
    read, reports = _written(tmp_path, bundle)
    [account] = read["accounts"]
    assert (account["created_at:datetime"], account["country"], account["plan"]) == (
        "2026-01-05T10:00:00Z", "DE", "free")
    accounts = next(r for r in reports if r.name == "accounts")
    assert (accounts.loaded, accounts.skipped) == (2, 1)


def test_bad_rows_are_rejected_by_file_line_and_field_and_the_good_kept(tmp_path: Path) -> None:
    bundle = _bundle(
        tmp_path,
        "a1,2026-01-05T10:00:00Z,,US,free\n",
        "a1,device,d1,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,1,\n"
        "a1,cat,x,,,1,\n"
        "a1,device,d2,2026-01-03T00:00:00Z,2026-01-02T00:00:00Z,1,\n"
        "a1,device,4111111111111111,,,1,\n",
    )
    read, reports = _written(tmp_path, bundle)
    links = next(r for r in reports if r.name == "links")
    assert [(r.line, r.field) for r in links.rejects][:2] == [(3, "kind"), (4, "last_seen")]
    assert len(links.rejects) == 3 and links.loaded == 1
    assert [d["fingerprint"] for d in read["device"]] == ["d1"]
    assert all("4111111111111111" not in str(r) for r in links.rejects)
    text = "".join(path.read_text() for path in (tmp_path / "import").glob("*.csv"))
    assert "4111111111111111" not in text


def test_the_database_comes_before_the_file_lists_and_line_breaks_are_announced(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, 'a1,2026-01-05T10:00:00Z,,US,"two\nlines"\n', "a1,ip,192.0.2.1,,,1,\n")
    tables, _ = read_bundle_tables(bundle)
    files = write_import_files(tables, tmp_path / "import")
    arguments = admin_arguments(files, "neo4j", overwrite=True)
    assert arguments[0] == "neo4j"
    assert "--multiline-fields=true" in arguments and "--overwrite-destination=true" in arguments
    assert "--relationships=USED_IP=" + str(tmp_path / "import" / "used_ip.csv") in arguments
    with (tmp_path / "import" / "ip.csv").open(newline="") as handle:
        ip = next(csv.DictReader(handle))
    assert (ip["network"], ip["ranges_version:long"]) == ("unknown", "0")  # as enriched with no ranges


def test_ips_are_enriched_from_the_bundle_ranges_by_the_longest_prefix(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, "", "a1,ip,192.0.2.1,,,1,\na1,ip,192.0.2.200,,,1,\na1,ip,198.51.100.1,,,1,\n")
    (bundle / "ip_ranges.csv").write_text(
        "cidr,asn,organization,network\n192.0.2.0/24,AS64500,Krill Labs,corporate\n"
        "192.0.2.128/25,64501,Cloudy,hosting\n192.0.2.0/24,AS64500,Krill Labs,corporate\n")
    _, reports = read_bundle_tables(bundle)
    ranges = next(r for r in reports if r.name == "ip_ranges")
    assert (ranges.loaded, ranges.skipped) == (2, 1)
    read, _ = _written(tmp_path, bundle)
    version = read["iprangetable"][0]["version:long"]
    assert int(version) > 0
    assert [(ip["address"], ip["org"], ip["network"], ip["range"], ip["ranges_version:long"]) for ip in read["ip"]] == [
        ("192.0.2.1", "Krill Labs", "corporate", "192.0.2.0/24", version),
        ("192.0.2.200", "Cloudy", "hosting", "192.0.2.128/25", version),
        ("198.51.100.1", "", "unknown", "", version),
    ]
    assert [o["name"] for o in read["organization"]] == ["Cloudy", "Krill Labs"]
    assert len(read["ip_operated_by"]) == 2 and len(read["range_operated_by"]) == 2


def test_a_file_that_cannot_be_read_is_refused_whole_and_the_others_still_imported(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, "a1,2026-01-05T10:00:00Z,,US,free\n", "")
    (bundle / "links.csv").write_text("account,type,val\na1,device,d1\n")
    read, reports = _written(tmp_path, bundle)
    links = next(r for r in reports if r.name == "links")
    assert links.error is not None and "header lacks required field(s) account_id, kind, value" in links.error
    assert [a["account_id"] for a in read["accounts"]] == ["a1"]


def test_a_line_break_anywhere_tells_the_importer(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, '"acc\n1",2026-01-01T00:00:00Z,,US,free\n', "a2,device,d1,,,1,\n")
    tables, _ = read_bundle_tables(bundle)
    assert write_import_files(tables, tmp_path / "import").multiline
    (tmp_path / "plain").mkdir()
    plain = _bundle(tmp_path / "plain", "a1,2026-01-01T00:00:00Z,,US,free\n", "a2,device,d1,,,1,\n")
    tables, _ = read_bundle_tables(plain)
    assert not write_import_files(tables, tmp_path / "plain-import").multiline


def test_counts_beyond_what_neo4j_stores_refuse_the_file(tmp_path: Path) -> None:
    rows = "".join(f"a1,device,d1,2026-01-01T00:{m // 60:02d}:{m % 60:02d}Z,,9007199254740992,\n" for m in range(1025))
    tables, _ = read_bundle_tables(_bundle(tmp_path, "", rows))
    with pytest.raises(BundleError, match=r"account 'a1'.s device link add up to 2\^63"):
        write_import_files(tables, tmp_path / "import")


def test_every_organisation_a_range_row_named_keeps_its_node(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, "", "a1,ip,198.51.100.7,,,1,\n")
    (bundle / "ip_ranges.csv").write_text("cidr,asn,organization,network\n198.51.100.0/24,AS64500,Acme Corp,corporate\n"
                                          "198.51.100.0/24,AS64500,Other Org,hosting\n")
    read, _ = _written(tmp_path, bundle)
    assert [o["name"] for o in read["organization"]] == ["Acme Corp", "Other Org"]
    assert (read["ip"][0]["org"], read["ip"][0]["network"]) == ("Other Org", "hosting")
    assert len(read["range_operated_by"]) == 1


@pytest.mark.parametrize(("uri", "local"), [
    ("bolt://127.0.0.1:7699", True),
    ("neo4j://localhost:7699", True),
    ("bolt://127.0.0.1:7687", False),
    ("neo4j+s://db.example.com:7699", False),
])
def test_only_the_local_server_is_imported_into(uri: str, local: bool) -> None:
    assert is_local(Settings(NEO4J_URI=uri, RINGTRACE_NEO4J_BOLT_PORT=7699)) is local
