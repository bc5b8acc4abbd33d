"""A response cache for the lookups: what a completed detection run found never changes.

A run writes its rings, memberships, attributions and operations before it is marked completed, no
later run touches them (each writes under its own `run_id`), and a completed run never becomes
anything else. So the rendered answer of a lookup *in one completed run* can be kept and served again
as it is. Every key starts with that run's id: when a newer run completes, requests for the latest
run look up keys of the new run, and the old run's entries are simply not asked for any more (the
LRU lets them age out). Nothing is ever invalidated in place, so nothing can be invalidated late.

Which run a request without `run_id` reads is decided as the uncached route decides it,
``latest_run_id(cached=True)`` (what `graph.store.results.resolve_run` calls): Neo4j's newest
completed run, as read at most a second ago by this process and re-read at once after a run
completes in it. The cache therefore answers from the very run the route would have read at that
moment. An entry is filed under the run its own answer names, never under the run the request
guessed, so it cannot end up under another run's key; an answer that names no run (before any run
completed, or an empty page) is not kept, nor is any error.

The cache sits inside the route, after FastAPI has checked the API key and its scope and validated
the parameters: a hit skips Neo4j and rendering, never authentication. Answers do not depend on the
key that asks, so one entry serves every key with the `read` scope.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final, TypeVar

from fastapi import Response
from pydantic import BaseModel

import neo4j
from api.observability import ApiMetrics
from graph.store.runs import latest_run_id

__all__ = ["CACHE_STATUS", "CacheStats", "ResponseCache", "serve_lookup"]

#: RFC 9211 `Cache-Status`: whether this answer came from the cache, and if not, whether it was kept.
CACHE_STATUS: Final = "Cache-Status"
_NAME: Final = "ringtrace"
# What an entry costs besides its body: the key's tuple and strings, the LRU's link. An estimate that
# keeps a cache of many small answers from overrunning its budget by much.
_ENTRY_OVERHEAD: Final = 256
# One answer may take at most this share of the budget: a huge ring page must not flush everything.
_LARGEST_SHARE: Final = 8

Key = tuple[str, str, tuple[Hashable, ...]]  # (run_id, route, the route's validated parameters)
Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    bytes: int


class ResponseCache:
    """A byte-bounded LRU of rendered JSON answers, safe to share between the worker's threads.

    `max_bytes` 0 turns it off: nothing is kept and every lookup goes to Neo4j.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[Key, bytes] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()  # sync routes run in a thread pool: every read and write holds it

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0

    def get(self, key: Key) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return body

    def put(self, key: Key, body: bytes) -> bool:
        """Keep `body` under `key`, evicting the least recently used; False when it is too large to keep."""
        size = _cost(key, body)
        if size > self._max_bytes // _LARGEST_SHARE:
            return False
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:  # two threads missed the same key at once: the same answer twice
                self._bytes -= _cost(key, previous)
            self._entries[key] = body
            self._bytes += size
            while self._bytes > self._max_bytes:
                old_key, old_body = self._entries.popitem(last=False)
                self._bytes -= _cost(old_key, old_body)
        return True

    def runs(self) -> frozenset[str]:
        """The runs that have answers kept."""
        with self._lock:
            return frozenset(key[0] for key in self._entries)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(hits=self._hits, misses=self._misses, entries=len(self._entries), bytes=self._bytes)


def _cost(key: Key, body: bytes) -> int:
    # Ids and cursors in the parameters can run to hundreds of characters: they count too.
    texts = len(key[0]) + len(key[1]) + sum(len(p) for p in key[2] if isinstance(p, str))
    return len(body) + _ENTRY_OVERHEAD + texts


def _json(body: bytes, cache_status: str | None) -> Response:
    # The bytes and media type FastAPI itself sends for a response model (its `dump_json` path).
    headers = {CACHE_STATUS: cache_status} if cache_status is not None else None
    return Response(content=body, media_type="application/json", headers=headers)


def serve_lookup(
    cache: ResponseCache,
    driver: neo4j.Driver,
    database: str,
    metrics: ApiMetrics,
    *,
    route: str,
    params: tuple[Hashable, ...],
    run_id: str | None,
    read: Callable[[], Answer],
    answered_run: Callable[[Answer], str | None],
) -> Response:
    """The answer of `read` (the uncached route: its errors propagate), from the cache when it holds it.

    `params` are the route's validated parameters other than `run_id`; `answered_run` says which
    run an answer came from (None when it names none), and that run's id is what the answer is filed
    under.
    """
    outcomes = metrics.response_cache
    if not cache.enabled:
        outcomes.labels(route, "off").inc()
        return _json(_render(read()), None)
    # The run the route would read now: the one named, or the latest completed one exactly as
    # `resolve_run` picks it. None before any run completed: no run to key by, so no lookup.
    run = run_id if run_id is not None else latest_run_id(driver, database, cached=True)
    if run is not None:
        body = cache.get((run, route, params))
        if body is not None:
            outcomes.labels(route, "hit").inc()
            return _json(body, f"{_NAME}; hit")
    outcomes.labels(route, "miss").inc()
    answer = read()
    body = _render(answer)
    answered = answered_run(answer)
    # Filed under the run the answer itself names: a run that completed between the look-up above and
    # the read cannot get another run's answer filed under its id.
    stored = answered is not None and cache.put((answered, route, params), body)
    return _json(body, f"{_NAME}; fwd=uri-miss" + ("; stored" if stored else ""))


def _render(answer: BaseModel) -> bytes:
    return answer.model_dump_json(by_alias=True).encode()
