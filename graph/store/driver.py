"""The Neo4j driver: created once per process from the settings and passed in."""

from __future__ import annotations

import neo4j
from graph.settings import Settings

__all__ = ["create_driver", "ping"]


def create_driver(settings: Settings, *, retry_seconds: float = 30.0) -> neo4j.Driver:
    """A driver for `settings`; the caller owns it and closes it.

    `retry_seconds` bounds how long managed transactions are retried (a server answering requests
    wants to fail fast with 503 rather than hold a client for the driver's default 30 s).
    """
    return neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        max_connection_pool_size=50,
        connection_acquisition_timeout=30,
        max_transaction_retry_time=retry_seconds,
        # Schema-less hints ("property key does not exist" on a fresh database) are not errors.
        notifications_min_severity="OFF",
    )


def ping(driver: neo4j.Driver, database: str) -> None:
    """One round trip to Neo4j, not retried: raises at once when it does not answer.

    An auto-commit query, so the driver tries once instead of retrying. A pooled connection whose
    server went away fails here and is dropped, so the next ping after Neo4j returns opens a fresh
    one (`verify_connectivity` alone can be satisfied by a stale one).
    """
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        session.run("RETURN 1").consume()
