"""The HTTP API over `graph` (DESIGN.md §4): `create_app()` builds it; `ringtrace serve` runs it."""

from api.app import create_app

__all__ = ["create_app"]
