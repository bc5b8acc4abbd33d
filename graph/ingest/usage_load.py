"""Loading the usage log: a file in two passes, an API batch in one.

A template is kept once two accounts sent it in one load (graph/ingest/usage.py), which is only known
after the whole file: the first pass parses, validates, fingerprints and spools each request to
temporary Arrow files, one per bucket of accounts; the second reads one bucket at a time and writes
(SENT aggregates, IP observations), then the skeletons. A usage log is in time order, so a batch of
it holds few requests per (account, template): written batch by batch, each account's SENT lists
would be rewritten in every batch. A bucket holds all requests of its accounts, so each SENT
relationship is written once per load. Memory holds one bucket (~BUCKET_REQUESTS requests), the
template index and the senders per family.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa

import neo4j
from graph.ingest.prompts import TemplateIndex
from graph.ingest.usage import (
    SKELETON_MIN_ACCOUNTS,
    PendingRequests,
    Senders,
    SentBatch,
    assign_templates,
    ip_observations,
    kept_template,
    remember_stored,
    sent_batch,
)
from graph.store.ingest import write_links
from graph.store.usage import UNSHARED, write_models, write_sent, write_skeletons

__all__ = [
    "BUCKET_REQUESTS",
    "PAIRS_PER_WRITE",
    "EventSpool",
    "bucket_count",
    "write_requests",
    "write_template_skeletons",
]

#: Requests a spool bucket is meant to hold (the bucket count follows from the file's size).
BUCKET_REQUESTS: Final = 50_000
_MAX_BUCKETS: Final = 1024
#: SENT relationships per write transaction.
PAIRS_PER_WRITE: Final = 10_000
_LINKS_PER_WRITE: Final = 10_000
_SCHEMA: Final = pa.schema([
    ("account_id", pa.string()), ("second", pa.int64()), ("count", pa.int64()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("model", pa.string()),
    ("category", pa.string()), ("ip", pa.string()), ("family", pa.string()), ("digest", pa.int64()),
])


def _requests(rows: list[dict[str, Any]], families: list[str | None], digests: list[int]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "account_id": [r["account_id"] for r in rows],
        "second": [int(r["ts"].timestamp()) for r in rows],
        "count": [r["count"] for r in rows],
        "input_tokens": [r["input_tokens"] for r in rows],
        "output_tokens": [r["output_tokens"] for r in rows],
        "model": [r["model"] for r in rows],
        "category": [r["category"] for r in rows],
        "ip": [r["ip"] for r in rows],
        "family": families,
        "digest": digests,
    }, schema=_SCHEMA)


def bucket_count(expected_requests: int) -> int:
    return max(1, min(_MAX_BUCKETS, -(-expected_requests // BUCKET_REQUESTS)))


class EventSpool:
    """Parsed, fingerprinted requests of one file, on disk between the two passes, bucketed by account."""

    def __init__(self, index: TemplateIndex, buckets: int) -> None:
        self.index = index
        self.senders = Senders()
        self.spooled = 0
        self._buckets = buckets
        self._directory = tempfile.TemporaryDirectory(prefix="ringtrace-events-")
        self._paths = [Path(self._directory.name) / f"bucket-{i:04d}.arrow" for i in range(buckets)]
        self._sinks: list[Any] = []
        self._writers: list[Any] = []
        for path in self._paths:
            self._sinks.append(pa.OSFile(str(path), "wb"))
            self._writers.append(pa.ipc.new_stream(self._sinks[-1], _SCHEMA))
        self._open = True

    def add(self, rows: list[dict[str, Any]]) -> None:
        families, digests = assign_templates(self.index, rows)
        self.senders.add(families, (r["account_id"] for r in rows))
        batch = _requests(rows, families, digests)
        # crc32 rather than hash(): the same account in the same bucket in every process.
        buckets = np.fromiter((zlib.crc32(r["account_id"].encode()) % self._buckets for r in rows), np.int64,
                              len(rows))
        order = np.argsort(buckets, kind="stable")
        sorted_buckets = buckets[order]
        batch = batch.take(pa.array(order))
        bounds = np.flatnonzero(np.diff(sorted_buckets)) + 1
        for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), len(rows)], strict=True):
            self._writers[int(sorted_buckets[start])].write_batch(batch.slice(start, stop - start))
        self.spooled += len(rows)

    def buckets(self) -> Iterator[list[dict[str, Any]]]:
        """Each bucket's requests, in the order they were added."""
        self._finish()
        for path in self._paths:
            with pa.memory_map(str(path)) as source:
                rows = pa.ipc.open_stream(source).read_all().to_pylist()
            if rows:
                yield rows

    def _finish(self) -> None:
        if self._open:
            self._open = False
            for writer, sink in zip(self._writers, self._sinks, strict=True):
                writer.close()
                sink.close()

    def close(self) -> None:
        self._finish()
        self._directory.cleanup()


def write_requests(
    driver: neo4j.Driver, database: str, index: TemplateIndex, senders: Senders, rows: list[dict[str, Any]]
) -> int:
    """Write spooled requests: their SENT aggregates (PAIRS_PER_WRITE relationships per transaction)
    and IP observations. Returns the requests that were new to the graph."""
    templates = [kept_template(index, senders, row["family"]) for row in rows]
    batch = sent_batch(index, rows, templates, [row["digest"] for row in rows])
    added = 0
    for start in range(0, len(batch.pairs), PAIRS_PER_WRITE):
        part = SentBatch(batch.pairs[start : start + PAIRS_PER_WRITE], batch.requests)
        added += write_sent(driver, database, PendingRequests(part))
    index.mark_stored({pair["fingerprint"] for pair in batch.pairs if pair["fingerprint"] != UNSHARED})
    first_seen: dict[str, int] = {}
    for row in rows:
        if row["model"] is not None:
            first_seen[row["model"]] = min(first_seen.get(row["model"], row["second"]), row["second"])
    write_models(driver, database, first_seen)
    links = ip_observations(rows)
    for start in range(0, len(links), _LINKS_PER_WRITE):
        write_links(driver, database, links[start : start + _LINKS_PER_WRITE])
    return added


def write_template_skeletons(
    driver: neo4j.Driver, database: str, index: TemplateIndex, senders: Senders
) -> int:
    """Keep the skeletons of the kept templates that at least SKELETON_MIN_ACCOUNTS accounts sent in
    this load (then each shown word was written by all of them); the number kept."""
    rows = []
    for fingerprint in senders.families():
        family = index.family(fingerprint)
        skeleton = family.skeleton()
        if family.stored and skeleton and senders.count(fingerprint) >= SKELETON_MIN_ACCOUNTS:
            rows.append({"fingerprint": fingerprint, "skeleton": skeleton})
    written = write_skeletons(driver, database, rows, SKELETON_MIN_ACCOUNTS)
    remember_stored(driver, database, index)
    return written
