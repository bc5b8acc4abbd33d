"""Detection runs started over HTTP: one at a time per process, in a background thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import neo4j
from graph.detection import DetectionParams
from graph.pipeline.detect import new_run_id, run_detection

__all__ = ["DetectionBusyError", "DetectionRunner", "LocalRunState"]

_log = logging.getLogger("ringtrace.api.detections")


class DetectionBusyError(Exception):
    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id


@dataclass
class LocalRunState:
    """What this process knows of a run it started, before (or without) its DetectionRun node."""

    run_id: str
    params: DetectionParams
    status: str  # pending, running, completed, failed
    error: str | None = None


class DetectionRunner:
    """Starts `run_detection` in a thread; refuses a second start while one runs."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._runs: dict[str, LocalRunState] = {}

    def start(self, params: DetectionParams) -> LocalRunState:
        with self._lock:
            current = self.current()
            if current is not None:
                raise DetectionBusyError(current.run_id)
            state = LocalRunState(run_id=new_run_id(params), params=params, status="pending")
            self._runs = {k: v for k, v in self._runs.items() if v.status in ("pending", "running")}
            self._runs[state.run_id] = state
            self._thread = threading.Thread(target=self._run, args=(state,), name=f"detect-{state.run_id}",
                                            daemon=True)
            self._thread.start()
            return state

    def current(self) -> LocalRunState | None:
        """The run in progress in this process, if any."""
        if self._thread is None or not self._thread.is_alive():
            return None
        return next((s for s in self._runs.values() if s.status in ("pending", "running")), None)

    def local(self, run_id: str) -> LocalRunState | None:
        return self._runs.get(run_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run in progress; True when none is left running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self, state: LocalRunState) -> None:
        state.status = "running"
        try:
            summary = run_detection(self._driver, self._database, state.params, run_id=state.run_id)
        except Exception as error:  # the run records its own failure when it got that far
            state.status = "failed"
            state.error = f"{type(error).__name__}: {error}"
            _log.error("detection run %s failed: %s", state.run_id, state.error)
            return
        state.status = "completed"
        _log.info("detection run %s completed: %s", state.run_id, summary.counts)
