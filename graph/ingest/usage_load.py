"""Loading the usage log: a file in two passes, an API batch in one.

A template is kept once two accounts sent it in one load (graph/ingest/usage.py), which is only known
after the whole file: the first pass parses, validates, fingerprints and spools each request to
temporary Arrow files, one per bucket of accounts; the second reads one bucket at a time and writes
(SENT aggregates, IP observations), then the skeletons. A usage log is in time order, so a batch of
it holds few requests per (account, template): written batch by batch, each account's SENT lists
would be rewritten in every batch. A bucket holds all requests of its accounts, so each SENT
relationship is written once per load.

In the second pass a bucket is written while the next is prepared (digests, sorting, aggregation),
by two threads: one writes a bucket's SENT aggregates, then the other its IP observations and model
releases while the first goes on with the next bucket (other accounts, so neither waits for the
other's locks). IP observations are written here, not while the first pass parses (when Neo4j
waits): a bucket holds all the days an account used an address, so their relationship is written
once per load, not once per batch with its list of observations rewritten each time (that took
twice Neo4j's time). Memory holds two or three buckets (~BUCKET_REQUESTS requests each), the
template index and the senders per family.
"""

from __future__ import annotations

import contextlib
import tempfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import neo4j
from graph.ingest.prompts import TemplateIndex
from graph.ingest.usage import (
    SKELETON_MIN_ACCOUNTS,
    BucketUsage,
    PendingPart,
    Senders,
    assign_templates,
    ip_observations,
    model_releases,
    remember_stored,
)
from graph.store.ingest import write_links
from graph.store.usage import write_models, write_sent, write_skeletons

__all__ = [
    "BUCKET_REQUESTS",
    "PAIRS_PER_WRITE",
    "EventSpool",
    "bucket_count",
    "write_buckets",
    "write_template_skeletons",
]

#: Requests a spool bucket is meant to hold (the bucket count follows from the file's size).
BUCKET_REQUESTS: Final = 50_000
_MAX_BUCKETS: Final = 1024
#: SENT relationships per write transaction, at least (a transaction holds whole accounts).
PAIRS_PER_WRITE: Final = 10_000
_LINKS_PER_WRITE: Final = 10_000
_SPOOL: Final = pa.schema([
    ("account_id", pa.string()), ("second", pa.int64()), ("micros", pa.int64()), ("count", pa.int64()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("model", pa.string()),
    ("category", pa.string()), ("ip", pa.string()), ("family", pa.string()), ("text_digest", pa.int64()),
])


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
            self._writers.append(pa.ipc.new_stream(self._sinks[-1], _SPOOL))
        self._open = True

    def add(self, requests: pa.Table) -> None:
        """Parsed requests (graph.ingest.event_rows.REQUESTS), templates assigned in their order."""
        families, text_digests = assign_templates(self.index, requests)
        accounts = requests.column("account_id").combine_chunks()
        self.senders.add(families, accounts)
        columns = {**{name: requests.column(name) for name in requests.column_names},
                   "family": families, "text_digest": text_digests}
        batch = pa.Table.from_arrays([columns[name] for name in _SPOOL.names], schema=_SPOOL)
        # crc32 rather than hash(): the same account in the same bucket in every process.
        encoded = pc.dictionary_encode(accounts)
        of_account = np.fromiter((zlib.crc32(a.encode()) % self._buckets for a in encoded.dictionary.to_pylist()),
                                 np.int64, len(encoded.dictionary))
        buckets = of_account[np.asarray(encoded.indices.to_numpy(), dtype=np.int64)]
        order = np.argsort(buckets, kind="stable")
        sorted_buckets = buckets[order]
        batch = batch.take(pa.array(order))
        bounds = (np.flatnonzero(np.diff(sorted_buckets)) + 1).tolist()
        for start, stop in zip([0, *bounds], [*bounds, len(order)], strict=True):
            if stop > start:
                self._writers[int(sorted_buckets[start])].write_table(batch.slice(start, stop - start))
        self.spooled += requests.num_rows

    def buckets(self) -> Iterator[pa.Table]:
        """Each bucket's requests, in the order they were added."""
        self._finish()
        for path in self._paths:
            with pa.OSFile(str(path)) as source:  # read into memory: the table outlives the file
                requests = pa.ipc.open_stream(source).read_all()
            if requests.num_rows:
                yield requests

    def _finish(self) -> None:
        if self._open:
            self._open = False
            for writer, sink in zip(self._writers, self._sinks, strict=True):
                writer.close()
                sink.close()

    def close(self) -> None:
        self._finish()
        self._directory.cleanup()


Written = Callable[[int, int], None]  # (requests new to the graph, requests written) of one bucket


def write_buckets(driver: neo4j.Driver, database: str, spool: EventSpool, written: Written | None = None) -> int:
    """The second pass: each bucket's SENT aggregates (transactions of whole accounts, at least
    PAIRS_PER_WRITE relationships each), IP observations and model releases, one bucket written while
    the next is prepared. Returns the requests that were new to the graph; `written` hears of each bucket."""
    added = 0
    sending: tuple[Future[int], BucketUsage, pa.Table] | None = None
    observing: Future[None] | None = None

    def settle(observer: ThreadPoolExecutor) -> None:
        # The bucket whose SENT aggregates are in flight is done: its observations follow, written
        # while the next bucket's aggregates are (other accounts: no lock waits between the two).
        nonlocal added, sending, observing
        if sending is not None:
            future, usage, requests = sending
            sending = None
            applied = future.result()
            spool.index.mark_stored(usage.kept_templates())
            added += applied
            if written is not None:
                written(applied, usage.rows)
            if observing is not None:
                observing.result()
            observing = observer.submit(
                _write_observations, driver, database, ip_observations(requests), model_releases(requests))

    with ThreadPoolExecutor(max_workers=1) as sender, ThreadPoolExecutor(max_workers=1) as observer:
        try:
            for requests in spool.buckets():
                usage = BucketUsage(spool.index, spool.senders, requests, PAIRS_PER_WRITE)
                parts = usage.parts()
                settle(observer)
                sending = sender.submit(_write_parts, driver, database, parts), usage, requests
            settle(observer)
            if observing is not None:
                observing.result()
        finally:
            # Reading or preparing failed: the bucket in flight still counts if it committed.
            with contextlib.suppress(neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError):
                settle(observer)
    return added


def _write_parts(driver: neo4j.Driver, database: str, parts: list[PendingPart]) -> int:
    return sum(write_sent(driver, database, part) for part in parts)


def _write_observations(
    driver: neo4j.Driver, database: str, links: list[dict[str, Any]], releases: dict[str, int]
) -> None:
    write_models(driver, database, releases)
    for start in range(0, len(links), _LINKS_PER_WRITE):
        write_links(driver, database, links[start : start + _LINKS_PER_WRITE])


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
