"""The synthetic population generator: determinism, ground truth, and the sharing rings must show."""

from __future__ import annotations

import csv
import gzip
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from graph.generator import GenerationSummary, generate_population
from graph.ingest.card_numbers import contains_card_number

HEADERS = {
    "accounts.csv": ["account_id", "created_at", "email", "country", "status"],
    "links.csv": ["account_id", "kind", "value", "first_seen", "last_seen", "count", "brand", "bin", "last4"],
    "known.csv": ["account_id", "organization", "source"],
    "ip_ranges.csv": ["cidr", "asn", "organization", "network"],
    "truth.csv": ["account_id", "ring_id", "organization", "cohort", "operation_id"],
    "truth_rings.csv": [
        "ring_id",
        "operation_id",
        "campaign",
        "organization",
        "size",
        "sharing",
        "accounts",
        "cells",
        "tie",
        "start",
        "end",
    ],
    "events.csv": [
        "account_id",
        "ts",
        "prompt",
        "prompt_fingerprint",
        "model",
        "input_tokens",
        "output_tokens",
        "category",
        "ip",
        "count",
    ],
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NETWORKS = {"residential", "mobile", "hosting", "vpn", "tor", "corporate", "unknown"}
BENIGN = {"home", "family", "corporate", "cgnat", "vpn", "traveller"}
HARD_NEGATIVES = {"student", "researcher", "pipeline", "team"}
COHORTS = BENIGN | HARD_NEGATIVES | {"ring", "prior_case"}
DAY = 86_400


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("bundle")
    return out, generate_population(out, accounts=2_000, seed=11)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _events(out: Path) -> Iterator[dict[str, str]]:
    with (out / "events.csv").open(newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def _seconds(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _normalised(kind: str, value: str) -> str:
    """What the loader would key an identifier by (just enough of it for these tests)."""
    if kind == "ip":
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return digits[2:] if digits.startswith("00") else digits
    return value


def _holders(out: Path, kinds: tuple[str, ...]) -> dict[tuple[str, str], set[str]]:
    """(kind, identifier) -> accounts linked to it."""
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in _rows(out / "links.csv"):
        if row["kind"] in kinds:
            users[(row["kind"], _normalised(row["kind"], row["value"]))].add(row["account_id"])
    return users


def _rings(out: Path) -> dict[str, dict[str, str]]:
    return {row["ring_id"]: row for row in _rows(out / "truth_rings.csv")}


def _members(out: Path) -> dict[str, set[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for row in _rows(out / "truth.csv"):
        if row["ring_id"]:
            members[row["ring_id"]].add(row["account_id"])
    return members


def _components(accounts: set[str], groups: Iterable[set[str]]) -> dict[str, str]:
    """Each account's component when accounts in one group are joined (union-find)."""
    parent = {a: a for a in accounts}

    def find(a: str) -> str:
        while parent[a] != a:
            a = parent[a]
        return a

    for group in groups:
        inside = sorted(group & accounts)
        for a in inside[1:]:
            parent[find(a)] = find(inside[0])
    return {a: find(a) for a in accounts}


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    generate_population(tmp_path / "a", accounts=600, seed=5)
    generate_population(tmp_path / "b", accounts=600, seed=5)
    generate_population(tmp_path / "c", accounts=600, seed=6)
    for name in HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in ("links.csv", "events.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name


def test_the_usage_log_has_its_own_random_stream(tmp_path: Path) -> None:
    """Retuning the usage log (here: its volume) changes events.csv and nothing else."""
    generate_population(tmp_path / "a", accounts=600, seed=5, events_per_account=20)
    generate_population(tmp_path / "b", accounts=600, seed=5, events_per_account=60)
    generate_population(tmp_path / "none", accounts=600, seed=5, events_per_account=0)
    for name in HEADERS:
        if name != "events.csv":
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "none" / name).read_bytes(), name
    small, large = (len((tmp_path / d / "events.csv").read_bytes()) for d in ("a", "b"))
    assert 2 * small < large
    assert not (tmp_path / "none" / "events.csv").exists()


def test_a_compressed_usage_log_holds_the_same_text(tmp_path: Path) -> None:
    generate_population(tmp_path / "plain", accounts=300, seed=2, events_per_account=20)
    generate_population(tmp_path / "gz", accounts=300, seed=2, events_per_account=20, compress_events=True)
    plain = (tmp_path / "plain" / "events.csv").read_bytes()
    assert gzip.decompress((tmp_path / "gz" / "events.csv.gz").read_bytes()) == plain
    assert not (tmp_path / "gz" / "events.csv").exists()


def test_headers_are_exact(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    for name, header in HEADERS.items():
        with (out / name).open(encoding="utf-8") as f:
            assert f.readline().rstrip("\n") == ",".join(header), name


def test_summary_matches_files(bundle: tuple[Path, GenerationSummary]) -> None:
    out, summary = bundle
    for name, rows in summary.files.items():
        if name != "events.csv":
            assert len(_rows(out / name)) == rows, name
    assert summary.events == summary.files["events.csv"] == sum(1 for _ in _events(out))
    assert 150_000 < summary.events < 250_000, "about 100 events per account"
    assert summary.accounts == 2_000 == sum(summary.cohorts.values())
    assert summary.links == summary.files["links.csv"]
    assert summary.ring_accounts == summary.cohorts["ring"] == sum(summary.ring_sizes)
    assert summary.rings == len(summary.ring_sizes) == summary.files["truth_rings.csv"] >= 6
    assert 3 <= summary.operations < summary.rings
    assert summary.organizations >= 3
    assert summary.ring_kinds is not None and summary.ring_kinds["behaviour-only"] >= 1


def test_every_cohort_is_present(bundle: tuple[Path, GenerationSummary]) -> None:
    out, summary = bundle
    truth = _rows(out / "truth.csv")
    assert {row["cohort"] for row in truth} == COHORTS
    assert set(summary.cohorts) == COHORTS
    assert all(summary.cohorts[c] >= 2 for c in HARD_NEGATIVES)


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
    assert len({row["email"] for row in accounts}) == len(accounts)
    assert {row["status"] for row in accounts} <= {"active", "suspended", "closed"}


def test_ground_truth_is_consistent(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    truth = _rows(out / "truth.csv")
    rings = _rings(out)
    members: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in truth:
        assert (row["ring_id"] != "") == (row["cohort"] == "ring")
        if row["cohort"] not in ("ring", "prior_case"):
            assert row["organization"] == "" and row["operation_id"] == ""
        else:
            assert re.fullmatch(r"OP\d{4,}", row["operation_id"])
        if row["ring_id"]:
            assert re.fullmatch(r"R\d{4,}", row["ring_id"])
            members[row["ring_id"]].append(row)
    assert set(members) == set(rings)
    orgs = {}
    for ring, rows in members.items():
        assert len(rows) >= 3 and len(rows) == int(rings[ring]["size"]), ring
        assert len({r["organization"] for r in rows}) == 1, ring
        assert {r["operation_id"] for r in rows} == {rings[ring]["operation_id"]}, ring
        assert rows[0]["organization"] == rings[ring]["organization"]
        orgs[ring] = rows[0]["organization"]
        assert rings[ring]["sharing"] in ("infrastructure", "behaviour")
        assert rings[ring]["accounts"] in ("fresh", "bought")
        assert rings[ring]["start"] <= rings[ring]["end"]
    assert any(orgs.values()) and not all(orgs.values())
    assert {r["accounts"] for r in rings.values()} == {"fresh", "bought"}
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
    assert len({r["cidr"] for r in ranges}) == len(ranges)


def test_no_file_holds_anything_like_a_card_number(bundle: tuple[Path, GenerationSummary]) -> None:
    """The loader's own guard (Luhn-valid 13-19 digit runs, separators allowed) finds nothing, and no
    prompt or template id holds a run of 13 digits at all."""
    out, _ = bundle
    for name in HEADERS:
        with (out / name).open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                assert not contains_card_number(line), f"{name}:{number}"
    long_run = re.compile(r"\d(?:[ .\-]?\d){12,}")
    assert not any(long_run.search(row["prompt"] + " " + row["prompt_fingerprint"]) for row in _events(out))


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


def test_every_infrastructure_ring_member_shares_two_rare_entities_within_its_ring(
    bundle: tuple[Path, GenerationSummary],
) -> None:
    out, _ = bundle
    rings = _rings(out)
    ring_of = {row["account_id"]: row["ring_id"] for row in _rows(out / "truth.csv") if row["ring_id"]}
    shared: Counter[str] = Counter()
    for accounts in _holders(out, ("ip", "device", "payment", "email", "phone")).values():
        if len(accounts) > 50:
            continue
        for account in accounts:
            ring = ring_of.get(account)
            if ring and any(ring_of.get(other) == ring for other in accounts if other != account):
                shared[account] += 1
    infrastructure = [a for a, r in ring_of.items() if rings[r]["sharing"] == "infrastructure"]
    assert infrastructure and all(shared[account] >= 2 for account in infrastructure)


def test_behaviour_only_rings_share_no_device_or_card_with_anyone(bundle: tuple[Path, GenerationSummary]) -> None:
    out, _ = bundle
    members = _members(out)
    behaviour = [r for r, row in _rings(out).items() if row["sharing"] == "behaviour"]
    assert behaviour
    holders = _holders(out, ("device", "payment", "phone", "email"))
    for ring in behaviour:
        for accounts in holders.values():
            assert not (accounts & members[ring]) or len(accounts) == 1, ring
    # What they do share: residential proxy exits, which benign households use too.
    truth = {row["account_id"]: row["cohort"] for row in _rows(out / "truth.csv")}
    households = {"home", "family", "traveller"}
    ips = _holders(out, ("ip",))
    with_home = [a for a in ips.values() if a & members[behaviour[0]] and any(truth[x] in households for x in a)]
    assert with_home, "the ring's proxy exits are households' addresses"


def test_an_operations_campaigns_are_months_apart_and_tied_by_a_reused_asset(
    bundle: tuple[Path, GenerationSummary],
) -> None:
    out, _ = bundle
    rings = _rings(out)
    members = _members(out)
    holders = _holders(out, ("device", "payment"))
    known = _rows(out / "known.csv")
    operations: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rings.values():
        operations[row["operation_id"]].append(row)
    multi = {op: sorted(rows, key=lambda r: int(r["campaign"])) for op, rows in operations.items() if len(rows) > 1}
    assert multi
    ties: Counter[str] = Counter()
    for campaigns in multi.values():
        for earlier, later in itertools.pairwise(campaigns):
            assert _seconds(later["start"]) - _seconds(earlier["start"]) >= 60 * DAY
            assert earlier["end"] < later["start"], "campaigns do not overlap in time"
            tie = later["tie"]
            ties[tie] += 1
            before = set().union(*(members[c["ring_id"]] for c in campaigns if c["campaign"] < later["campaign"]))
            if tie in ("device", "card"):
                kind = "device" if tie == "device" else "payment"
                assert any(
                    k == kind and a & members[later["ring_id"]] and a & before for (k, _), a in holders.items()
                ), later["ring_id"]
            elif tie == "known":
                sources = {r["source"] for r in known if r["account_id"] in members[later["ring_id"]]}
                assert any(r["source"] in sources for r in known if r["account_id"] in before)
    assert ties["device"] >= 1


def test_a_campaign_split_into_cells_shares_cards_and_ips_across_cells_within_a_week(
    bundle: tuple[Path, GenerationSummary],
) -> None:
    out, _ = bundle
    members = _members(out)
    created = {row["account_id"]: _seconds(row["created_at"]) for row in _rows(out / "accounts.csv")}
    cells = [r for r, row in _rings(out).items() if int(row["cells"]) > 1]
    assert cells
    devices = _holders(out, ("device",))
    others = _holders(out, ("payment", "ip"))
    for ring in cells:
        ring_members = members[ring]
        component = _components(ring_members, devices.values())
        assert len(set(component.values())) >= 2, f"{ring}: its cells use devices of their own"
        bridges = [a for a in others.values() if len(a) <= 50 and len({component.get(x) for x in a} - {None}) > 1]
        assert bridges, f"{ring}: cards or IPs tie its cells"
        if _rings(out)[ring]["accounts"] == "fresh":
            times = [created[a] for a in ring_members]
            assert max(times) - min(times) <= 7 * DAY, ring


def test_small_population_still_has_rings_and_actors(tmp_path: Path) -> None:
    stages: list[tuple[str, float]] = []
    summary = generate_population(
        tmp_path, accounts=300, seed=3, progress=lambda s, f: stages.append((s, f)), events_per_account=10
    )
    truth = _rows(tmp_path / "truth.csv")
    rings = {row["ring_id"] for row in truth if row["ring_id"]}
    with_org = {row["ring_id"] for row in truth if row["ring_id"] and row["organization"]}
    assert len(rings) >= 3 and with_org and with_org != rings
    assert summary.organizations >= 3
    assert {row["cohort"] for row in truth} >= HARD_NEGATIVES
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_too_few_accounts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_population(tmp_path, accounts=10, seed=1)
    with pytest.raises(ValueError, match="negative"):
        generate_population(tmp_path, accounts=200, seed=1, events_per_account=-1)
