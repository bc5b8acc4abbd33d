"""Smoke test of the independent population generator (bench/independent): files, headers,
determinism, no card-number-like digits anywhere, rings of at least two, every cohort present."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from bench.independent import generate
from bench.independent.tokens import card_like
from bench.independent.world import COHORTS

_ACCOUNTS = 3_000
_EVENTS_PER_ACCOUNT = 40.0  # keeps the test to a few seconds; the shape is that of the default 100
_HEADERS = {
    "accounts.csv": ["account_id", "created_at", "email", "country", "status"],
    "links.csv": [
        "account_id",
        "kind",
        "value",
        "first_seen",
        "last_seen",
        "count",
        "brand",
        "bin",
        "last4",
        "country",
    ],
    "events.csv.gz": [
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
    "known.csv": ["account_id", "organization", "source"],
    "ip_ranges.csv": ["cidr", "asn", "organization", "network"],
    "truth.csv": ["account_id", "ring_id", "organization", "cohort", "operation_id"],
}
_DIGIT_RUN = re.compile(r"\d(?:[ .\-]?\d){12,}")


def _text(path: Path) -> str:
    return gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text()


def _rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") if path.suffix == ".gz" else open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("independent") / "seed7"
    generate(out, _ACCOUNTS, 7, _EVENTS_PER_ACCOUNT)
    return out


def test_files_and_headers(bundle: Path) -> None:
    assert sorted(p.name for p in bundle.iterdir()) == sorted(_HEADERS)
    for name, header in _HEADERS.items():
        first_line = _text(bundle / name).split("\n", 1)[0]
        assert first_line.split(",") == header, name


def test_deterministic_per_seed(bundle: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", _ACCOUNTS, 7, _EVENTS_PER_ACCOUNT)
    generate(tmp_path / "other", _ACCOUNTS, 8, _EVENTS_PER_ACCOUNT)
    for name in _HEADERS:
        assert (tmp_path / "again" / name).read_bytes() == (bundle / name).read_bytes(), name
    assert (tmp_path / "other" / "truth.csv").read_bytes() != (bundle / "truth.csv").read_bytes()


def test_no_card_number_like_digit_run_anywhere(bundle: Path) -> None:
    # A run cannot cross a comma, quote or line end, so scanning whole files is scanning every field.
    for name in _HEADERS:
        runs = [m.group() for m in _DIGIT_RUN.finditer(_text(bundle / name))]
        assert not [r for r in runs if card_like(r)], name
    assert card_like("pm_4111 1111 1111 1111") and not card_like("pm_4111 1111 1111 x")


def test_truth_rings_cohorts_and_references(bundle: Path) -> None:
    truth = _rows(bundle / "truth.csv")
    accounts = {row["account_id"] for row in _rows(bundle / "accounts.csv")}
    assert len(truth) == len(accounts) == _ACCOUNTS and {row["account_id"] for row in truth} == accounts
    sizes = Counter(row["ring_id"] for row in truth if row["ring_id"])
    assert sizes and min(sizes.values()) >= 2
    assert {row["cohort"] for row in truth} == set(COHORTS)
    for row in truth:
        operated = row["cohort"] == "operated"
        assert bool(row["ring_id"]) == operated == bool(row["operation_id"]), row
        assert operated or not row["organization"], row
    ring_operation = {(row["ring_id"], row["operation_id"]) for row in truth if row["ring_id"]}
    assert len(ring_operation) == len(sizes)  # a ring belongs to exactly one operation
    known = _rows(bundle / "known.csv")
    assert known and {row["account_id"] for row in known} <= accounts
    organisations = {row["organization"] for row in truth if row["organization"]}
    assert {row["organization"] for row in known} <= organisations


def test_links_and_events_are_well_formed(bundle: Path) -> None:
    links = _rows(bundle / "links.csv")
    assert {row["kind"] for row in links} == {"ip", "device", "payment", "email", "phone"}
    assert all(row["brand"] and len(row["last4"]) == 4 for row in links if row["kind"] == "payment")
    ranges = _rows(bundle / "ip_ranges.csv")
    networks = {"residential", "mobile", "hosting", "vpn", "tor", "corporate", "unknown"}
    assert {row["network"] for row in ranges} <= networks and {"residential", "hosting", "corporate"} <= {
        row["network"] for row in ranges
    }
    events = _rows(bundle / "events.csv.gz")
    assert len(events) > _ACCOUNTS * _EVENTS_PER_ACCOUNT * 0.7
    assert all(bool(e["prompt"]) != bool(e["prompt_fingerprint"]) for e in events)
    assert all(e["ts"].endswith("Z") and len(e["ts"]) == 20 for e in events[:: max(1, len(events) // 2000)])
    timestamps = [e["ts"] for e in events]
    assert timestamps == sorted(timestamps)
