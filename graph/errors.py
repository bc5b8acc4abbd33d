"""One error root for ringtrace, with a small tree under it."""

from __future__ import annotations

__all__ = [
    "BundleError",
    "LocalServerError",
    "NotFoundError",
    "RingtraceError",
]


class RingtraceError(Exception):
    """Root of every error ringtrace raises on purpose."""


class LocalServerError(RingtraceError):
    """The local development Neo4j could not be fetched, started or stopped."""


class BundleError(RingtraceError):
    """An input bundle cannot be read at all (missing file, wrong header)."""


class NotFoundError(RingtraceError):
    """An account, ring or run asked for does not exist."""
