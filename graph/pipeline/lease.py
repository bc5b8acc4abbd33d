"""The lease of a running detection: a heartbeat thread, and how the run ends when things go wrong.

A claimed run (`graph.store.runs.claim_run`) stays alive only while its process renews
``heartbeat_at``; the store's readers take a run whose heartbeat is older than its lease for gone.
:class:`RunLease` renews it from a daemon thread, notices when the run is no longer running in
Neo4j (lease lost), and records the run's failure, retrying while Neo4j is briefly away. A failure it
cannot record is not lost: once the heartbeat stops, the lease runs out and the next reader records it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Final

import neo4j
from graph.errors import LeaseLostError
from graph.store.runs import fail_run, heartbeat_run

__all__ = ["RunLease"]

_log = logging.getLogger("ringtrace.detection")

# Renew four times per lease (so two missed beats still keep it), but at least every 10 s.
_BEATS_PER_LEASE: Final = 4
_MAX_INTERVAL: Final = 10.0
# What the failure path waits for when Neo4j does not answer: a fresh attempt after a pause that grows.
_RETRY_PAUSE: Final = (0.5, 1.0, 2.0, 5.0)
_UNREACHABLE: Final = (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, OSError)


class RunLease:
    """Keeps a claimed run's lease alive from a daemon thread until the run ends; see the module."""

    def __init__(self, driver: neo4j.Driver, database: str, run_id: str, lease_seconds: float) -> None:
        self.run_id = run_id
        self.lease_seconds = lease_seconds
        self._driver = driver
        self._database = database
        self._stop = threading.Event()
        self._lost: str | None = None
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    @property
    def interval(self) -> float:
        return min(self.lease_seconds / _BEATS_PER_LEASE, _MAX_INTERVAL)

    def start(self) -> RunLease:
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                alive = heartbeat_run(self._driver, self._database, self.run_id)
            except _UNREACHABLE as error:
                # Keep trying: if Neo4j is back within the lease nothing is lost; if not, the run is gone.
                _log.warning("heartbeat of detection run %s failed: %s", self.run_id, type(error).__name__)
                continue
            if not alive and not self._stop.is_set():
                self._lost = f"detection run {self.run_id} is no longer running in Neo4j (its lease ran out)"
                _log.error("%s; abandoning it", self._lost)
                return

    def check(self) -> None:
        """Raise `LeaseLostError` once the run has been given up for gone: its work can no longer count."""
        if self._lost is not None:
            raise LeaseLostError(self._lost)

    def stop(self) -> None:
        """Stop renewing; the run must now be completed or failed (or left for the lease to expire)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.interval + 1)

    def fail(self, reason: str, timings: dict[str, float] | None = None, previous_run_id: str | None = None,
             *, retry_seconds: float | None = None) -> bool:
        """Stop renewing and record the run failed, retrying for up to `retry_seconds` (default: the lease).

        Retrying longer than the lease is pointless: by then the lease has run out and any reader
        records the failure. False when it could not be recorded (or the run had already ended).
        """
        self.stop()
        deadline = time.monotonic() + (self.lease_seconds if retry_seconds is None else retry_seconds)
        for attempt in itertools.count():
            try:
                return fail_run(self._driver, self._database, self.run_id, reason=reason, timings=timings,
                                previous_run_id=previous_run_id)
            except _UNREACHABLE as error:
                pause = _RETRY_PAUSE[min(attempt, len(_RETRY_PAUSE) - 1)]
                if time.monotonic() + pause > deadline:
                    _log.error("could not record detection run %s as failed (%s); its lease (%.0f s) will "
                               "mark it failed once it runs out", self.run_id, type(error).__name__,
                               self.lease_seconds)
                    return False
                time.sleep(pause)
        raise AssertionError("unreachable")
