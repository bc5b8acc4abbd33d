"""A bundle's usage log read offline into what Neo4j would hold after `ringtrace load` (no Neo4j).

The loader's own steps, in its order: rows parsed by `graph.ingest.rows.parse_event`, templates
assigned and spooled by account bucket (`graph.ingest.usage_load.EventSpool`), kept templates chosen
and each request counted once per account, each SENT aggregate built from nothing (one load, the
parts of `graph.ingest.usage.BucketUsage` planned against empty ledgers), skeletons kept by the same
rule. What comes out is a
:class:`graph.pipeline.behaviour.UsageLog` and the `ip` observations the requests make (one per
account, address and UTC day), for the offline bundle's links.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graph.behaviour.activity import AccountActivity, account_activity
from graph.ingest.event_rows import requests_table
from graph.ingest.prompts import TemplateIndex
from graph.ingest.readers import BundleFile, find_bundle_files, read_rows
from graph.ingest.rows import PARSERS, RowError
from graph.ingest.usage import SKELETON_MIN_ACCOUNTS, BucketUsage
from graph.ingest.usage_load import PAIRS_PER_WRITE, EventSpool, bucket_count
from graph.pipeline.behaviour import Template, UsageLog
from graph.store.usage import SENT_PROPERTIES, UNSHARED

__all__ = ["OfflineUsage", "events_file", "read_offline_usage"]

_BATCH: Final = 10_000
_DAY: Final = 86_400


@dataclass(frozen=True)
class OfflineUsage:
    log: UsageLog
    ip_days: set[tuple[str, str, int]]  # (account, address, UTC day) the requests were sent from
    requests: int
    rejected: int


def read_offline_usage(events: BundleFile) -> OfflineUsage:
    """The usage log of one `events` file, as one load of it would store it."""
    parse = PARSERS["events"]
    spool = EventSpool(TemplateIndex(), bucket_count(max(1, events.path.stat().st_size // 100)))
    rejected = 0
    batch: list[dict[str, Any]] = []
    for numbered in read_rows(events):
        try:
            batch.append(parse(numbered.fields))
        except RowError:
            rejected += 1
            continue
        if len(batch) >= _BATCH:
            spool.add(requests_table(batch))
            batch = []
    if batch:
        spool.add(requests_table(batch))
    index, senders = spool.index, spool.senders
    minutes: dict[str, list[tuple[str, list[int]]]] = {}
    sent_rows: dict[str, list[dict[str, Any]]] = {}
    releases: dict[str, int] = {}
    ip_days: set[tuple[str, str, int]] = set()
    try:
        for requests in spool.buckets():
            usage = BucketUsage(index, senders, requests, PAIRS_PER_WRITE)
            for part in usage.parts():
                plan = part.plan({})
                for account_id, fingerprint, *values in plan.rows if plan is not None else ():
                    properties = dict(zip(SENT_PROPERTIES, values, strict=True))
                    sent_rows.setdefault(account_id, []).append({"template": fingerprint, **properties})
                    if fingerprint != UNSHARED:
                        minutes.setdefault(fingerprint, []).append((account_id, properties["minutes"]))
                    for model, first in zip(properties["models"], properties["model_first_seen"], strict=True):
                        releases[model] = min(releases.get(model, first), first)
            columns = (requests.column(name).to_pylist() for name in ("account_id", "ip", "second"))
            for account_id, address, second in zip(*columns, strict=True):
                if address is not None:
                    ip_days.add((account_id, address, second // _DAY))
            index.mark_stored(usage.kept_templates())
    finally:
        spool.close()
    kept: list[Template] = []
    for fingerprint, sent in sorted(minutes.items()):
        family = index.family(fingerprint)
        skeleton = family.skeleton() if senders.count(fingerprint) >= SKELETON_MIN_ACCOUNTS else None
        kept.append((fingerprint, len(sent), skeleton, sent))
    activity: dict[str, AccountActivity] = {a: account_activity(rows) for a, rows in sent_rows.items()}
    figures = {
        (account, row["template"]): (row["first_seen"], row["last_seen"], int(row["count"]))
        for account, rows in sent_rows.items() for row in rows
    }
    requests = sum(a.requests for a in activity.values())
    log = UsageLog(kept, activity, figures, releases)
    return OfflineUsage(log, ip_days, requests, rejected)


def events_file(directory: Path) -> BundleFile | None:
    """The bundle's usage log, if it has one."""
    return next((f for f in find_bundle_files(directory) if f.name == "events"), None)
