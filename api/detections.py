"""Detection runs started over HTTP: claimed in Neo4j before the 202, run in a background thread.

"One detection at a time" is the database's rule, not this process's: `claim_detection` takes the
database's detection lock and records the run as running in one transaction, so every API worker
(and the CLI) refuses a second run, and any worker can follow the run the moment its 202 is sent.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import neo4j
from graph.detection import DetectionParams
from graph.pipeline.detect import ClaimedRun, claim_detection, run_claimed

__all__ = ["DetectionRunner", "LocalRunState"]

_log = logging.getLogger("ringtrace.api.detections")


@dataclass
class LocalRunState:
    """What this process knows of a run it started: its thread's outcome, which Neo4j may not know yet."""

    run_id: str
    params: DetectionParams
    status: str  # running, completed, failed
    error: str | None = None


class DetectionRunner:
    """Claims a run (`DetectionRunningError` while one runs anywhere) and runs it in a thread."""

    def __init__(self, driver: neo4j.Driver, database: str, *, lease_seconds: float | None = None) -> None:
        self._driver = driver
        self._database = database
        self._lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._claims: dict[str, ClaimedRun] = {}
        self._runs: dict[str, LocalRunState] = {}

    def start(self, params: DetectionParams, *, incremental: bool = False) -> LocalRunState:
        """Claim and start a run (`incremental`: see graph.pipeline.incremental); returns once its
        DetectionRun record is in Neo4j."""
        claimed = claim_detection(self._driver, self._database, params, lease_seconds=self._lease_seconds)
        state = LocalRunState(run_id=claimed.run_id, params=params, status="running")
        thread = threading.Thread(target=self._run, args=(claimed, state, incremental), name=f"detect-{claimed.run_id}",
                                  daemon=True)
        with self._lock:
            # Only unfinished runs need remembering: a finished one is read from Neo4j.
            self._runs = {k: v for k, v in self._runs.items() if v.status == "running"}
            self._runs[state.run_id] = state
            self._threads = {k: t for k, t in self._threads.items() if t.is_alive()}
            self._threads[state.run_id] = thread
            self._claims[state.run_id] = claimed
        thread.start()
        return state

    def local(self, run_id: str) -> LocalRunState | None:
        return self._runs.get(run_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for this process's runs in progress; True when none is left running."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    def shutdown(self, timeout: float) -> bool:
        """Give the runs in progress `timeout` seconds, then record the rest failed; True if all finished.

        A run still computing when the process stops would otherwise hold the lock until its lease ran
        out; recording it now frees the database for the next run at once. (Its thread, should it
        reach the end, then finds the run no longer its own and cannot complete it.)
        """
        if self.wait(timeout):
            return True
        with self._lock:
            unfinished = [self._claims.get(run_id) for run_id, t in self._threads.items() if t.is_alive()]
        for claimed in filter(None, unfinished):
            claimed.lease.fail("the API shut down before the run finished", retry_seconds=5.0)
        return False

    def _run(self, claimed: ClaimedRun, state: LocalRunState, incremental: bool) -> None:
        try:
            summary = run_claimed(self._driver, self._database, claimed, incremental=incremental)
        except Exception as error:  # the run records its own failure (or its lease does)
            state.status = "failed"
            state.error = f"{type(error).__name__}: {error}"
            _log.error("detection run %s failed: %s", state.run_id, state.error)
            return
        finally:
            with self._lock:
                self._claims.pop(state.run_id, None)
        state.status = "completed"
        _log.info("detection run %s completed: %s", state.run_id, summary.counts)
