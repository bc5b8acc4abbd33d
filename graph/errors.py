"""One error root for ringtrace, with a small tree under it."""

from __future__ import annotations

__all__ = [
    "BundleError",
    "LocalServerError",
    "MissingExtraError",
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


class MissingExtraError(RingtraceError):
    """An optional backend was chosen whose packages are not installed."""

    def __init__(self, what: str, extra: str, missing: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra ({missing} is not installed): "
                         f"pip install 'ringtrace[{extra}]'")
        self.extra = extra
