"""Settings from the environment (DESIGN.md §4), read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.resources import default_neo4j_home

__all__ = ["Settings", "get_settings"]



class Settings(BaseSettings):
    """Connection and local-server settings. Environment variables win over defaults."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", alias="NEO4J_USER")
    neo4j_password: SecretStr = Field(SecretStr("ringtrace-dev"), alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", alias="NEO4J_DATABASE")

    # The local development server (`ringtrace neo4j start`).
    neo4j_home: Path = Field(default_factory=default_neo4j_home, alias="RINGTRACE_NEO4J_HOME")
    neo4j_bolt_port: int = Field(7687, alias="RINGTRACE_NEO4J_BOLT_PORT")
    neo4j_http_port: int = Field(7474, alias="RINGTRACE_NEO4J_HTTP_PORT")
    neo4j_heap: str = Field("1g", alias="RINGTRACE_NEO4J_HEAP")
    neo4j_pagecache: str = Field("1g", alias="RINGTRACE_NEO4J_PAGECACHE")
    # Run the local server with the Graph Data Science plugin (fetched on first use), for `--backend gds`.
    neo4j_gds: bool = Field(False, alias="RINGTRACE_NEO4J_GDS")

    api_keys: SecretStr = Field(SecretStr(""), alias="RINGTRACE_API_KEYS")

    # A running detection renews its lease (`heartbeat_at`) every lease/4 seconds at most; a run whose
    # heartbeat is older than its lease is taken for dead (its process was killed or lost Neo4j) and
    # marked failed by the next reader or detection. Longer than any pause of the heartbeat thread.
    detection_lease_seconds: float = Field(60.0, gt=0, alias="RINGTRACE_DETECTION_LEASE_SECONDS")

    @field_validator("neo4j_home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Neo4j refuses directories that are not normalised ("a/../b").
        return value.expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
