"""Fault injection against the real Neo4j: every detection run ends `completed` or `failed`, one runs at a time.

A run holds a lease (its `heartbeat_at`, renewed by a thread) and the database's one DetectionLock;
these tests kill `ringtrace detect` mid-write, race claims, stop Neo4j under a running detection, and
check that only completed runs are ever served and that Ring nodes change only when a run completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

import neo4j
from api.app import create_app
from graph import local_server
from graph.cli import app as cli_app
from graph.errors import DetectionRunningError, NotFoundError, RunNotCompletedError
from graph.generator import generate_population
from graph.pipeline.detect import DetectionParams, run_detection
from graph.settings import Settings
from graph.store import write_back
from graph.store.driver import create_driver
from graph.store.results import resolve_run
from graph.store.runs import claim_run, fail_run, latest_run_id, read_run
from graph.store.schema import SchemaNotAppliedError, apply_schema

_REPO = Path(__file__).resolve().parents[2]
_STALLED = Path(__file__).resolve().parent / "stalled_detect.py"
_LEASE = 3.0  # seconds: short, so a killed run is seen as gone within a test
cli = CliRunner()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lifecycle-population")
    generate_population(out, 2000, seed=8, events_per_account=0)
    return out


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _ring_nodes(driver: neo4j.Driver, database: str) -> dict[str, dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (ring:Ring) RETURN ring.ring_id AS ring_id, properties(ring) AS p", database_=database
    )
    return {r["ring_id"]: dict(r["p"]) for r in records}


def _env(lease: float = _LEASE) -> dict[str, str]:
    return {**os.environ, "RINGTRACE_DETECTION_LEASE_SECONDS": str(lease), "PYTHONPATH": str(_REPO)}


@pytest.fixture
def stalled(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    """Start `ringtrace detect` stalled mid-write; returns (process, run id) once its first batch is in."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        marker = tmp_path / f"stalled-{len(started)}"
        process = subprocess.Popen(
            [sys.executable, str(_STALLED), str(marker), *args], env=_env(), cwd=_REPO,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        started.append(process)

        def written() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"stalled detect exited early:\n{process.stdout.read() if process.stdout else ''}")
            return marker.exists() and bool(marker.read_text())

        _wait_for(written, 240, "the stalled detection to commit its first write batch")
        return process, marker.read_text()

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _cli(*args: str) -> tuple[int, str]:
    result = cli.invoke(cli_app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_killed_detect_ends_failed_and_the_previous_run_is_still_served(
    loaded: neo4j.Driver, settings: Settings, stalled: Callable[..., tuple[subprocess.Popen[str], str]],
    tmp_path: Path,
) -> None:
    db = settings.neo4j_database
    previous = run_detection(loaded, db, DetectionParams(seed=3))
    rings_before = _ring_nodes(loaded, db)
    assert rings_before and all(p["run_id"] == previous.run_id for p in rings_before.values())

    process, run_id = stalled("--seed", "3")
    # Mid-write: the run's first batch of rings is committed, and it is running, not a result.
    records, _, _ = loaded.execute_query(
        "MATCH (:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) RETURN count(f) AS n", run_id=run_id,
        database_=db,
    )
    assert records[0]["n"] > 0
    record = read_run(loaded, db, run_id)
    assert record is not None and record.status == "running" and record.heartbeat_at is not None
    with pytest.raises(RunNotCompletedError) as running:
        resolve_run(loaded, db, run_id)
    assert running.value.status == "running"
    # Nothing a reader sees has moved: the half-written run did not touch the shared Ring nodes.
    assert _ring_nodes(loaded, db) == rings_before

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # No process records the failure: the lease does, once it runs out, for whoever reads next.
    _wait_for(lambda: (r := read_run(loaded, db, run_id)) is not None and r.status == "failed",
              _LEASE + 30, "the killed run to be seen as failed")
    failed = read_run(loaded, db, run_id)
    assert failed is not None and failed.finished_at is not None
    assert failed.error is not None and failed.error.startswith("process gone: no heartbeat since ")

    assert latest_run_id(loaded, db) == previous.run_id
    assert _ring_nodes(loaded, db) == rings_before
    code, out = _cli("rings", "--top", "1")
    assert code == 0 and f"rings of {previous.run_id}" in out
    code, out = _cli("export", "--out", str(tmp_path / "export"), "--run", run_id)
    assert code == 1 and run_id in out and "failed" in out and "process gone" in out
    assert not (tmp_path / "export").exists()
    keyed = settings.model_copy(update={"api_keys": SecretStr("lifecycle-read-key:read")})
    with TestClient(create_app(keyed), raise_server_exceptions=False) as client:
        page = client.get("/v1/rings", headers={"Authorization": "Bearer lifecycle-read-key"}).json()
        assert page["rings"] and {r["run_id"] for r in page["rings"]} == {previous.run_id}
        refused = client.get("/v1/rings", params={"run_id": run_id},
                             headers={"Authorization": "Bearer lifecycle-read-key"})
        assert refused.status_code == 409 and "failed" in refused.json()["detail"]

    # The lock went with the lease: the next detection runs, and its completion moves the Ring nodes.
    after = run_detection(loaded, db, DetectionParams(seed=3))
    assert after.previous_run_id == previous.run_id
    assert {p["run_id"] for p in _ring_nodes(loaded, db).values()} >= {after.run_id}


def test_a_second_detect_is_refused_while_one_runs(
    loaded: neo4j.Driver, settings: Settings, stalled: Callable[..., tuple[subprocess.Popen[str], str]],
) -> None:
    db = settings.neo4j_database
    process, run_id = stalled()
    second = subprocess.run(
        [str(Path(sys.executable).parent / "ringtrace"), "detect"], env=_env(), cwd=_REPO,
        capture_output=True, text=True, timeout=240, check=False,
    )
    output = " ".join((second.stdout + second.stderr).split())
    assert second.returncode == 1, output
    assert run_id in output and "running" in output and "Traceback" not in output
    records, _, _ = loaded.execute_query(
        "MATCH (run:DetectionRun) RETURN run.run_id AS run_id, run.status AS status", database_=db
    )
    assert [(r["run_id"], r["status"]) for r in records] == [(run_id, "running")]
    # In-process too: the same refusal, naming the run, and nothing written.
    with pytest.raises(DetectionRunningError) as busy:
        run_detection(loaded, db, DetectionParams(seed=1), lease_seconds=_LEASE)
    assert busy.value.run_id == run_id
    process.kill()
    process.wait(timeout=30)


def test_concurrent_claims_admit_exactly_one(empty_db: neo4j.Driver, settings: Settings) -> None:
    db = settings.neo4j_database
    contenders = 6
    barrier = threading.Barrier(contenders)
    outcomes: dict[str, str] = {}

    def contend(index: int) -> None:
        run_id = f"run-race-{index}"
        barrier.wait()
        try:
            claim_run(empty_db, db, run_id, {"seed": index}, "test", lease_seconds=60)
            outcomes[run_id] = "claimed"
        except DetectionRunningError as busy:
            outcomes[run_id] = f"refused:{busy.run_id}"

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    winners = [run_id for run_id, outcome in outcomes.items() if outcome == "claimed"]
    assert len(outcomes) == contenders and len(winners) == 1, outcomes
    assert all(o == f"refused:{winners[0]}" for r, o in outcomes.items() if r != winners[0])
    records, _, _ = empty_db.execute_query(
        "MATCH (run:DetectionRun) RETURN run.run_id AS run_id, run.status AS status", database_=db
    )
    assert [(r["run_id"], r["status"]) for r in records] == [(winners[0], "running")]
    records, _, _ = empty_db.execute_query("MATCH (lock:DetectionLock) RETURN lock.run_id AS run_id", database_=db)
    assert [r["run_id"] for r in records] == [winners[0]]

    # Failing the run releases the lock at once; a run that lost its process releases it with its lease.
    assert fail_run(empty_db, db, winners[0], reason="test over")
    claim_run(empty_db, db, "run-after", {}, "test", lease_seconds=1.0)  # no heartbeat: a process that died
    with pytest.raises(DetectionRunningError):
        claim_run(empty_db, db, "run-too-soon", {}, "test", lease_seconds=60)
    time.sleep(1.5)
    claim_run(empty_db, db, "run-next", {}, "test", lease_seconds=60)
    gone = read_run(empty_db, db, "run-after")
    assert gone is not None and gone.status == "failed"
    assert gone.error is not None and gone.error.startswith("process gone: no heartbeat since ")
    failed = read_run(empty_db, db, winners[0])
    assert failed is not None and failed.status == "failed" and failed.error == "test over"


def test_a_claim_needs_the_lock_constraint(empty_db: neo4j.Driver, settings: Settings) -> None:
    db = settings.neo4j_database
    empty_db.execute_query("DROP CONSTRAINT detection_lock_name", database_=db)
    try:
        with pytest.raises(SchemaNotAppliedError, match="detection_lock_name"):
            claim_run(empty_db, db, "run-unguarded", {}, "test", lease_seconds=60)
        assert read_run(empty_db, db, "run-unguarded") is None
    finally:
        apply_schema(empty_db, db)


def test_explicit_run_ids_must_name_a_completed_run(
    loaded: neo4j.Driver, settings: Settings, population: Path, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    done = run_detection(loaded, db, DetectionParams(seed=3))
    claim_run(loaded, db, "run-in-progress", {}, "test", lease_seconds=600)
    account = next(iter(_ring_members(loaded, db, done.run_id)))
    ring_id = done.ring_ids[0]
    truth = str(population / "truth.csv")
    commands: list[list[str]] = [
        ["export", "--out", str(tmp_path / "x")], ["eval", "--truth", truth], ["rings"],
        ["explain", account], ["report", ring_id, "--out", str(tmp_path / "x.html")],
    ]
    for run, expected in (("run-typo", "no detection run 'run-typo'"), ("run-in-progress", "running")):
        if run == "run-typo":
            with pytest.raises(NotFoundError):
                resolve_run(loaded, db, run)
        else:
            with pytest.raises(RunNotCompletedError):
                resolve_run(loaded, db, run)
        for command in commands:
            code, out = _cli(*command, "--run", run)
            assert code == 1 and expected in out and run in out, (command, out)
    assert fail_run(loaded, db, "run-in-progress", reason="stopped by the test")
    code, out = _cli("export", "--out", str(tmp_path / "x"), "--run", "run-in-progress")
    assert code == 1 and "failed" in out and "stopped by the test" in out
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.html").exists()
    assert resolve_run(loaded, db, done.run_id) == done.run_id
    code, out = _cli("export", "--out", str(tmp_path / "x"), "--run", done.run_id)
    assert code == 0, out


def _ring_members(driver: neo4j.Driver, database: str, run_id: str) -> set[str]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[:MEMBER_OF {run_id: $run_id}]->(:Ring) RETURN a.account_id AS id",
        run_id=run_id, database_=database,
    )
    return {r["id"] for r in records}


def test_a_failed_run_leaves_ring_nodes_alone(loaded: neo4j.Driver, settings: Settings,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    db = settings.neo4j_database
    previous = run_detection(loaded, db, DetectionParams(seed=3))
    before = _ring_nodes(loaded, db)
    write = write_back._write
    calls: list[int] = []

    def fail_after_first_batch(*args: Any, **kwargs: Any) -> None:
        if calls:
            raise RuntimeError("injected write failure")
        calls.append(1)
        write(*args, **kwargs)

    monkeypatch.setattr(write_back, "_write", fail_after_first_batch)
    with pytest.raises(RuntimeError, match="injected"):
        run_detection(loaded, db, DetectionParams(seed=3, min_size=4))
    records, _, _ = loaded.execute_query(
        "MATCH (run:DetectionRun) WHERE run.run_id <> $previous RETURN run.status AS status, run.error AS error",
        previous=previous.run_id, database_=db,
    )
    assert [(r["status"], r["error"]) for r in records] == [("failed", "RuntimeError: injected write failure")]
    after = _ring_nodes(loaded, db)
    assert {k: after[k] for k in before} == before
    # Rings only the failed run found exist as bare nodes: no score or size for Bloom to style by.
    assert all(set(p) == {"ring_id"} for k, p in after.items() if k not in before)


def test_neo4j_stopped_during_a_detection_then_recovered(
    loaded: neo4j.Driver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (settings.neo4j_uri.endswith(f":{settings.neo4j_bolt_port}") and local_server.status(settings).running):
        pytest.skip("needs a local Neo4j server that this test may stop and start")
    db = settings.neo4j_database
    previous = run_detection(loaded, db, DetectionParams(seed=3))
    before = _ring_nodes(loaded, db)
    write = write_back._write
    stopped = threading.Event()

    def stop_neo4j_first(*args: Any, **kwargs: Any) -> None:
        if not stopped.is_set():
            local_server.stop(settings)
            stopped.set()
        write(*args, **kwargs)

    monkeypatch.setattr(write_back, "_write", stop_neo4j_first)
    restarter = threading.Thread(target=lambda: (stopped.wait(300), time.sleep(2), local_server.start(settings)))
    restarter.start()
    # A driver that gives up quickly, as the API's does: the write fails while Neo4j is down.
    with create_driver(settings, retry_seconds=1.0) as impatient:
        try:
            summary = run_detection(impatient, db, DetectionParams(seed=3), lease_seconds=20.0)
            outcome = ("completed", summary.run_id)
        except Exception as error:  # whatever Neo4j's absence raised; the record below is what counts
            outcome = ("failed", f"{type(error).__name__}: {error}")
    restarter.join(timeout=300)
    assert stopped.is_set()
    loaded.verify_connectivity()
    # Recovered without a manual step: the run is recorded failed (or completed), never left running.
    records, _, _ = loaded.execute_query(
        "MATCH (run:DetectionRun) WHERE run.run_id <> $previous RETURN run.run_id AS run_id",
        previous=previous.run_id, database_=db,
    )
    run_id = records[0]["run_id"]
    _wait_for(lambda: (r := read_run(loaded, db, run_id)) is not None and r.status != "running",
              60, "the interrupted run to be recorded as ended")
    record = read_run(loaded, db, run_id)
    assert record is not None and record.status == outcome[0], (record, outcome)
    if record.status == "failed":
        assert record.error and latest_run_id(loaded, db) == previous.run_id
        assert _ring_nodes(loaded, db) == before
    assert run_detection(loaded, db, DetectionParams(seed=3)).previous_run_id in (previous.run_id, run_id)
