"""One error root for ringtrace, with a small tree under it."""

from __future__ import annotations

__all__ = [
    "BundleError",
    "DetectionRunningError",
    "GdsUnavailableError",
    "LeaseLostError",
    "LocalServerError",
    "MissingExtraError",
    "NotFoundError",
    "RingtraceError",
    "RunNotCompletedError",
]


class RingtraceError(Exception):
    """Root of every error ringtrace raises on purpose."""


class LocalServerError(RingtraceError):
    """The local development Neo4j could not be fetched, started or stopped."""


class GdsUnavailableError(RingtraceError):
    """The GDS detection backend was asked of a Neo4j server without the Graph Data Science plugin."""


class BundleError(RingtraceError):
    """An input bundle cannot be read at all (missing file, wrong header)."""


class NotFoundError(RingtraceError):
    """An account, ring or run asked for does not exist."""


class MissingExtraError(RingtraceError):
    """An optional backend was chosen whose packages are not installed."""

    def __init__(self, what: str, extra: str, missing: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra ({missing} is not installed): "
                         f"pip install 'ringtrace[{extra}]'")
        self.extra = extra


class DetectionRunningError(RingtraceError):
    """Another detection run holds the database's detection lock: one detection at a time per database."""

    def __init__(self, run_id: str, heartbeat_at: str | None = None) -> None:
        since = f" (last heartbeat {heartbeat_at})" if heartbeat_at else ""
        super().__init__(f"detection run {run_id} is still running{since}; one detection at a time per database")
        self.run_id = run_id


class RunNotCompletedError(RingtraceError):
    """A detection run asked for by id is running or failed: only completed runs are results."""

    def __init__(self, run_id: str, status: str, reason: str | None = None) -> None:
        state = {"running": "is still running", "failed": "failed"}.get(status, f"is {status}")
        why = f": {reason}" if reason else ""
        super().__init__(f"detection run {run_id} {state}{why}; only completed runs can be read")
        self.run_id = run_id
        self.status = status
        self.reason = reason


class LeaseLostError(RingtraceError):
    """This process's detection run is no longer running in Neo4j (its lease ran out): it cannot complete."""
