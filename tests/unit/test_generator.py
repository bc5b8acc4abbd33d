"""The synthetic population generator: determinism, ground truth, and the sharing rings must show."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from graph.generator import GenerationSummary, generate_population

HEADERS = {
    "accounts.csv": ["account_id", "created_at", "email", "country", "status"],
    "links.csv": ["account_id", "kind", "value", "first_seen", "last_seen", "count", "brand", "bin", "last4"],
    "known.csv": ["account_id", "organization", "source"],
    "ip_ranges.csv": ["cidr", "asn", "organization", "network"],
    "truth.csv": ["account_id", "ring_id", "organization", "cohort"],
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NETWORKS = {"residential", "mobile", "hosting", "vpn", "tor", "corporate", "unknown"}
COHORTS = {"ring", "home", "family", "corporate", "cgnat", "vpn", "traveller", "prior_case"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("bundle")
    return out, generate_population(out, accounts=2_000, seed=11)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _normalised(kind: str, value: str) -> str:
    """What the loader would key an identifier by (just enough of it for these tests)."""
    if kind == "ip":
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return digits[2:] if digits.startswith("00") else digits
    return value


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    generate_population(tmp_path / "a", accounts=600, seed=5)
    generate_population(tmp_path / "b", accounts=600, seed=5)
    generate_population(tmp_path / "c", accounts=600, seed=6)
    for name in HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "links.csv").read_bytes() != (tmp_path / "c" / "links.csv").read_bytes()


def test_headers_are_exact(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    for name, header in HEADERS.items():
        first_line = (out / name).read_text(encoding="utf-8").split("\n", 1)[0]
        assert first_line == ",".join(header), name


def test_summary_matches_files(bundle: tuple[Path, GenerationSummary]) -> None:
    out, summary = bundle
    for name, rows in summary.files.items():
        assert len(_rows(out / name)) == rows, name
    assert summary.accounts == 2_000 == sum(summary.cohorts.values())
    assert summary.links == summary.files["links.csv"]
    assert summary.ring_accounts == summary.cohorts["ring"] == sum(summary.ring_sizes)
    assert summary.rings == len(summary.ring_sizes) >= 3
    assert summary.organizations >= 3


def test_every_account_is_in_accounts_and_truth_once(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    accounts = _rows(out / "accounts.csv")
    truth = _rows(out / "truth.csv")
    ids = [row["account_id"] for row in accounts]
    assert ids == [row["account_id"] for row in truth]
    assert len(set(ids)) == len(ids) == 2_000
    assert ids == sorted(ids) and len({len(i) for i in ids}) == 1
    assert all(re.fullmatch(r"acc_\d{7}", i) for i in ids)
    created = [row["created_at"] for row in accounts]
    assert all(TIMESTAMP.match(c) for c in created)
    assert created == sorted(created), "account ids follow sign-up order"
    assert all(row["email"] and "@" in row["email"] for row in accounts)
    assert {row["status"] for row in accounts} <= {"active", "suspended", "closed"}


def test_ground_truth_is_consistent(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    truth = _rows(out / "truth.csv")
    assert {row["cohort"] for row in truth} <= COHORTS
    members: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in truth:
        assert (row["ring_id"] != "") == (row["cohort"] == "ring")
        if row["cohort"] not in ("ring", "prior_case"):
            assert row["organization"] == ""
        if row["ring_id"]:
            assert re.fullmatch(r"R\d{4,}", row["ring_id"])
            members[row["ring_id"]].append(row)
    assert len(members) >= 3
    orgs = {}
    for ring, rows in members.items():
        assert len(rows) >= 3, ring
        assert len({r["organization"] for r in rows}) == 1, ring
        orgs[ring] = rows[0]["organization"]
    assert any(orgs.values()) and not all(orgs.values())
    benign = sum(row["cohort"] not in ("ring", "prior_case") for row in truth)
    assert benign / len(truth) > 0.9


def test_known_accounts_belong_to_actor_organisations(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    truth = {row["account_id"]: row for row in _rows(out / "truth.csv")}
    actors = {row["organization"] for row in truth.values() if row["ring_id"] and row["organization"]}
    known = _rows(out / "known.csv")
    assert known
    for row in known:
        assert row["organization"] in actors
        assert truth[row["account_id"]]["organization"] == row["organization"]
        assert re.fullmatch(r"case-\d{4}-\d{3,}", row["source"])
    ranges = _rows(out / "ip_ranges.csv")
    benign_corporate = {
        r["organization"] for r in ranges if r["network"] == "corporate" and r["organization"] not in actors
    }
    assert benign_corporate, "benign companies have their own ranges"
    assert not benign_corporate & {row["organization"] for row in known}


def test_links_are_well_formed(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    accounts = {row["account_id"] for row in _rows(out / "accounts.csv")}
    seen: set[tuple[str, str, str]] = set()
    kinds: Counter[str] = Counter()
    for row in _rows(out / "links.csv"):
        assert row["account_id"] in accounts
        kinds[row["kind"]] += 1
        key = (row["account_id"], row["kind"], row["value"])
        assert key not in seen
        seen.add(key)
        assert TIMESTAMP.match(row["first_seen"]) and TIMESTAMP.match(row["last_seen"])
        assert row["first_seen"] <= row["last_seen"]
        assert int(row["count"]) >= 1
        card = (row["brand"], row["bin"], row["last4"])
        if row["kind"] == "payment":
            assert row["value"].startswith("pm_")
            assert not re.fullmatch(r"\d{13,19}", re.sub(r"[\s-]", "", row["value"]))
            assert row["brand"]
            assert re.fullmatch(r"\d{6}", row["bin"]) and re.fullmatch(r"\d{4}", row["last4"])
        else:
            assert card == ("", "", "")
    assert set(kinds) == {"ip", "device", "payment", "email", "phone"}


def test_ranges_are_well_formed(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    ranges = _rows(out / "ip_ranges.csv")
    assert {r["network"] for r in ranges} <= NETWORKS
    assert {"residential", "mobile", "hosting", "vpn", "corporate"} <= {r["network"] for r in ranges}
    assert any(":" in r["cidr"] for r in ranges)
    assert all(r["asn"].isdigit() and r["organization"] for r in ranges)


def test_traffic_is_realistically_messy(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    links = _rows(out / "links.csv")
    values = [row["value"] for row in links]
    assert any(":" in v and v != v.lower() for v in values if v.startswith("2001")), "upper-case IPv6"
    phones = [v for row, v in zip(links, values, strict=True) if row["kind"] == "phone"]
    assert any(p.startswith("00") for p in phones) and any("(" in p for p in phones)
    degree = Counter((row["kind"], _normalised(row["kind"], row["value"])) for row in links)
    assert degree[("phone", "10000000000")] + degree[("phone", "0000000000")] >= 5, "placeholder phone"
    assert max(n for (kind, _), n in degree.items() if kind == "ip") >= 100, "carrier NAT / VPN exits"
    emails = [row["email"] for row in _rows(out / "accounts.csv")]
    assert any("+" in e and e.endswith(("@gmail.com", "@googlemail.com")) for e in emails)


def test_every_ring_member_shares_two_rare_entities_within_its_ring(
    bundle: tuple[Path, GenerationSummary],
) -> None:
    out, _ = bundle
    ring_of = {row["account_id"]: row["ring_id"] for row in _rows(out / "truth.csv") if row["ring_id"]}
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in _rows(out / "links.csv"):
        users[(row["kind"], _normalised(row["kind"], row["value"]))].add(row["account_id"])
    shared: Counter[str] = Counter()
    for accounts in users.values():
        if len(accounts) > 50:
            continue
        for account in accounts:
            ring = ring_of.get(account)
            if ring and any(ring_of.get(other) == ring for other in accounts if other != account):
                shared[account] += 1
    assert all(shared[account] >= 2 for account in ring_of)


def test_small_population_still_has_rings_and_actors(tmp_path: Path) -> None:
    stages: list[tuple[str, float]] = []
    summary = generate_population(tmp_path, accounts=300, seed=3, progress=lambda s, f: stages.append((s, f)))
    truth = _rows(tmp_path / "truth.csv")
    rings = {row["ring_id"] for row in truth if row["ring_id"]}
    with_org = {row["ring_id"] for row in truth if row["ring_id"] and row["organization"]}
    assert len(rings) >= 3 and with_org and with_org != rings
    assert summary.organizations >= 3
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_too_few_accounts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_population(tmp_path, accounts=10, seed=1)
