"""Limits and switches of the HTTP layer, from `RINGTRACE_API_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings"]


class ApiSettings(BaseSettings):
    """What the API accepts and exposes. Connection settings stay in `graph.settings.Settings`."""

    model_config = SettingsConfigDict(env_prefix="RINGTRACE_API_", extra="ignore")

    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body accepted (413 above).")
    # A prompt may run to 100,000 characters (graph.ingest.rows.MAX_PROMPT_CHARS): 16 MiB takes a full
    # batch of prompts of ~16 KB each, or a few of the longest even when JSON escapes every character.
    max_events_body_bytes: int = Field(16 * 1_048_576, ge=1024,
                                       description="Largest body of POST /v1/events accepted (413 above).")
    max_batch_size: int = Field(1000, ge=1, le=100_000,
                                description="Most links or events in one POST /v1/links or /v1/events.")
    max_page_size: int = Field(200, ge=1, le=10_000, description="Largest `limit` of GET /v1/rings.")
    default_page_size: int = Field(50, ge=1, le=10_000, description="`limit` of GET /v1/rings when not given.")
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics (admin scope).")
    shutdown_grace_seconds: float = Field(60.0, ge=0, description="How long shutdown waits for a detection run.")
    access_log: bool = Field(True, description="One structured log line per request.")
    # Per worker process. Attribution answers are a few KB, so the default keeps tens of thousands;
    # a completed run's answers never change, so the only cost of a larger cache is memory.
    response_cache_bytes: int = Field(
        64 * 1_048_576, ge=0,
        description="Bytes of rendered lookup answers of completed runs kept per worker (LRU); 0 turns it off.",
    )
