"""Fault injection against the real Neo4j: a loader killed (SIGKILL) anywhere, then re-run, leaves
exactly what one clean load leaves; so does a bundle whose links arrive through the API and the CLI.

Every comparison covers each link's count, first_seen and last_seen, the number of nodes per label,
every IP's enrichment and the attribution relationships (`graph_state.snapshot`). The clean load is
itself checked against counts computed from the files, so "equal to the reference" means "exact".
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import neo4j
from graph.generator.population import generate_population
from graph.ingest.rows import RowError, parse_account, parse_link
from graph.settings import Settings
from graph.vocabulary import ENTITY_KINDS
from tests.integration.graph_state import enrichment, snapshot
from tests.suite_database import wipe_database

_ACCOUNTS = 3000  # ~17k links: two batches of links, one of accounts, ranges and known
_KILLS_PER_ROUND = 2
_ROUNDS = 3
_SEED = 20260611
_INGEST_KEY = "fault-ingest-key-0001"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fault-bundle")
    generate_population(out, _ACCOUNTS, seed=11, events_per_account=0)
    (out / "truth.csv").unlink()
    return out


@pytest.fixture(scope="module")
def resorted(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same rows in another order, as a re-export of the same data would bring them."""
    out = tmp_path_factory.mktemp("fault-bundle-resorted")
    for source in bundle.glob("*.csv"):
        header, *lines = source.read_text().splitlines()
        random.Random(_SEED).shuffle(lines)
        (out / source.name).write_text("\n".join([header, *lines]) + "\n")
    return out


@pytest.fixture(scope="module")
def without_ranges(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fault-bundle-no-ranges")
    for source in bundle.glob("*.csv"):
        if source.name != "ip_ranges.csv":
            shutil.copy(source, out / source.name)
    return out


def _start_load(bundle: Path, rejects: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "graph", "load", str(bundle), "--rejects", str(rejects)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(),
    )


def _load_to_completion(bundle: Path, rejects: Path) -> float:
    started = time.perf_counter()
    process = _start_load(bundle, rejects)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode(errors="replace")
    return time.perf_counter() - started


def _expected_link_counts(bundle: Path) -> dict[tuple[str, str, str], int]:
    """Each link's count straight from the files: every distinct observation counted once."""
    seen: set[tuple[Any, ...]] = set()
    counts: dict[tuple[str, str, str], int] = {}

    def add(account: str, kind: str, value: str, first: Any, last: Any, count: int) -> None:
        if (account, kind, value, first, last, count) not in seen:
            seen.add((account, kind, value, first, last, count))
            key = (ENTITY_KINDS[kind].relationship, account, value)
            counts[key] = counts.get(key, 0) + count

    with open(bundle / "accounts.csv", newline="") as handle:
        for fields in csv.DictReader(handle):
            row = parse_account(fields)
            if row["email"]:
                add(row["account_id"], "email", row["email"], row["created_at"], row["created_at"], 1)
    with open(bundle / "links.csv", newline="") as handle:
        for fields in csv.DictReader(handle):
            try:
                link = parse_link(fields)
            except RowError:
                continue
            add(link["account_id"], link["kind"], link["value"], link["first_seen"], link["last_seen"],
                link["count"])
    return counts


@pytest.fixture(scope="module")
def reference(bundle: Path, driver: neo4j.Driver, settings: Settings,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], float]:
    """What one clean `python -m graph load` leaves, and how long it took."""
    from graph.store.schema import apply_schema

    database = settings.neo4j_database
    wipe_database(driver, database)
    apply_schema(driver, database)
    seconds = _load_to_completion(bundle, tmp_path_factory.mktemp("rejects") / "r.csv")
    state = snapshot(driver, database)
    assert {key: figures[0] for key, figures in state["links"].items()} == _expected_link_counts(bundle)
    assert state["enrichment"] and all(network for network, *_ in state["enrichment"].values())
    return state, seconds


def _kill_then_finish(bundles: list[Path], seconds: float, rng: random.Random, rejects: Path) -> int:
    """Start loads of `bundles` (each run picks one) and SIGKILL them at random moments until
    `_KILLS_PER_ROUND` kills have landed while a loader ran, then load to completion; the kills landed."""
    landed = 0
    for _ in range(4 * _KILLS_PER_ROUND):
        if landed == _KILLS_PER_ROUND:
            break
        process = _start_load(rng.choice(bundles), rejects)
        # Anywhere from interpreter start-up to the last enrichment write of a clean load.
        time.sleep(rng.uniform(0.0, seconds))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            landed += 1
        process.wait(timeout=60)
    _load_to_completion(rng.choice(bundles), rejects)
    return landed


def test_a_loader_killed_anywhere_finishes_exactly_on_re_run(
    empty_db: neo4j.Driver, settings: Settings, bundle: Path, resorted: Path,
    reference: tuple[dict[str, Any], float], tmp_path: Path,
) -> None:
    expected, clean_seconds = reference
    rng = random.Random(_SEED)
    faults = completed = 0
    for round_ in range(_ROUNDS):
        wipe_database(empty_db, settings.neo4j_database)
        # Each re-run may be the re-sorted export of the same bundle: batches never line up.
        faults += _kill_then_finish([bundle, resorted], clean_seconds, rng, tmp_path / "r.csv")
        completed += 1
        assert snapshot(empty_db, settings.neo4j_database) == expected, f"round {round_} (seed {_SEED})"
    print(f"\nkilled while loading: {faults} faults injected; loads completed: {completed}; compared each time: "
          f"{len(expected['links'])} links, {sum(expected['nodes'].values())} nodes, {len(expected['enrichment'])} IPs")
    assert faults == _ROUNDS * _KILLS_PER_ROUND


def test_a_loader_killed_while_ranges_change_leaves_no_ip_stale(
    empty_db: neo4j.Driver, settings: Settings, bundle: Path, without_ranges: Path,
    reference: tuple[dict[str, Any], float], tmp_path: Path,
) -> None:
    """The IPs are known before their ranges arrive; the load that brings the ranges is killed (most
    kills land after the ranges committed, before the IPs were enriched) and re-run: every IP ends
    up as if the ranges had been there from the start."""
    expected, clean_seconds = reference
    database = settings.neo4j_database
    wipe_database(empty_db, database)
    _load_to_completion(without_ranges, tmp_path / "r.csv")
    assert {network for network, *_ in enrichment(empty_db, database).values()} == {"unknown"}
    faults = _kill_then_finish([bundle], clean_seconds, random.Random(_SEED + 1), tmp_path / "r.csv")
    assert snapshot(empty_db, database) == expected, f"seed {_SEED + 1}"
    print(f"\nkilled while ranges changed: {faults} faults injected; loads completed: 1")
    assert faults == _KILLS_PER_ROUND


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    from api.app import create_app
    from api.settings import ApiSettings

    keyed = settings.model_copy(update={"api_keys": SecretStr(f"{_INGEST_KEY}:ingest")})
    with TestClient(create_app(keyed, ApiSettings(max_batch_size=1000, max_body_bytes=4 << 20,
                                                  access_log=False))) as client:
        yield client


def _post_links(api: TestClient, rows: list[dict[str, str]]) -> None:
    for start in range(0, len(rows), 1000):
        body = [{**{k: v for k, v in row.items() if v}, "count": int(row["count"] or 1)}
                for row in rows[start : start + 1000]]
        response = api.post("/v1/links", json={"links": body},
                            headers={"Authorization": f"Bearer {_INGEST_KEY}"})
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == 0


def test_a_bundle_through_the_api_and_the_cli_counts_exactly_once(
    empty_db: neo4j.Driver, settings: Settings, bundle: Path, reference: tuple[dict[str, Any], float],
    api: TestClient, tmp_path: Path,
) -> None:
    expected, _ = reference
    with open(bundle / "links.csv", newline="") as handle:
        links = list(csv.DictReader(handle))
    random.Random(_SEED).shuffle(links)
    # Half of the links reach the API first, in another order and grouping than the file's.
    _post_links(api, links[: len(links) // 2])
    _load_to_completion(bundle, tmp_path / "r.csv")
    assert snapshot(empty_db, settings.neo4j_database) == expected
    # Then every link again through the API: nothing changes.
    _post_links(api, links)
    assert snapshot(empty_db, settings.neo4j_database) == expected
