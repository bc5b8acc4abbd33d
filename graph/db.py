"""The Neo4j driver: created once per process from the settings and passed in."""

from __future__ import annotations

import neo4j
from graph.settings import Settings

__all__ = ["create_driver"]


def create_driver(settings: Settings) -> neo4j.Driver:
    """A driver for `settings`; the caller owns it and closes it."""
    return neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        max_connection_pool_size=50,
        connection_acquisition_timeout=30,
        # Schema-less hints ("property key does not exist" on a fresh database) are not errors.
        notifications_min_severity="OFF",
    )
