"""The usage log on its way in: each request given its template and its digest, then aggregated.

A request's template is the family of its prompt (graph/ingest/prompts.py) or the provider's own
`prompt_fingerprint`; a template is kept (a `PromptTemplate` node) once two distinct accounts sent it
in one load, or if it is stored already. Requests of any other template are aggregated under
`UNSHARED` for their account's activity: a prompt only one account sent is not a template and leaves
no node, so the graph grows with templates, not with prompts.

A request's identity is its digest: 64 bits of BLAKE2b over (account, time, prompt content digest or
provider fingerprint, model, tokens, category, IP, count). It is kept in its account's ledger
(graph/store/usage.py), so the same request counts once whatever carries it and whichever template
it lands on (a prompt unshared in one load may be a template's in the next). Its IP is an
`ip` observation of the account, one per account, address and UTC day: the same day's requests in
any batch or order make the same observation, which counts once (graph/ingest/observations.py).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np

import neo4j
from graph.ingest.observations import distinct_links
from graph.ingest.prompts import TemplateIndex, content_digest
from graph.ingest.rows import MAX_COUNT
from graph.store.usage import UNSHARED, count_templates, read_templates

__all__ = [
    "SKELETON_MIN_ACCOUNTS",
    "PendingRequests",
    "Senders",
    "SentBatch",
    "assign_templates",
    "event_digest",
    "ip_observations",
    "merge_sent",
    "remember_stored",
    "sent_batch",
    "template_index",
]

#: Distinct accounts that must have sent a template before its skeleton may be kept (DESIGN.md §2).
SKELETON_MIN_ACCOUNTS: Final = 5
_PROMOTE_ACCOUNTS: Final = 2
_DAY: Final = 86_400

# One index per database and process: stored templates are read again only when their number changed.
_INDEXES: dict[str, tuple[int, TemplateIndex]] = {}


def template_index(driver: neo4j.Driver, database: str, *, cached: bool = True) -> TemplateIndex:
    """The template index of `database`, with every stored template in it: the process's own while
    the number of stored templates is what it last saw (`cached`), else read anew."""
    stored = count_templates(driver, database)
    found = _INDEXES.get(database)
    if cached and found is not None and found[0] == stored:
        return found[1]
    index = TemplateIndex()
    for fingerprint, signature in read_templates(driver, database):
        index.add_stored(fingerprint, signature)
    _INDEXES[database] = (stored, index)
    return index


def remember_stored(driver: neo4j.Driver, database: str, index: TemplateIndex) -> None:
    """After this process wrote templates: the stored count the cached index now matches."""
    _INDEXES[database] = (count_templates(driver, database), index)


def event_digest(row: dict[str, Any], content: tuple[str, int | str] | None) -> int:
    """A signed 64-bit digest of one parsed request, its prompt given by `content` (never the text)."""
    data = repr((row["account_id"], row["ts"].timestamp(), content, row["model"], row["input_tokens"],
                 row["output_tokens"], row["category"], row["ip"], row["count"])).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def assign_templates(index: TemplateIndex, rows: Sequence[dict[str, Any]]) -> tuple[list[str | None], list[int]]:
    """Each parsed request's template family (None without prompt or fingerprint) and digest."""
    contents: list[tuple[str, int | str] | None] = []
    texts: list[str] = []
    text_digests: list[int] = []
    for row in rows:
        if row["prompt"] is not None:
            digest = content_digest(row["prompt"])
            texts.append(row["prompt"])
            text_digests.append(digest)
            contents.append(("text", digest))
        elif row["prompt_fingerprint"] is not None:
            contents.append(("provider", row["prompt_fingerprint"]))
        else:
            contents.append(None)
    from_text = iter(index.assign_texts(texts, text_digests))
    families: list[str | None] = []
    for content in contents:
        if content is None:
            families.append(None)
        elif content[0] == "text":
            families.append(next(from_text))
        else:
            families.append(index.assign_provider(str(content[1])))
    return families, [event_digest(row, content) for row, content in zip(rows, contents, strict=True)]


class Senders:
    """Distinct senders per template family, counted up to `cap`."""

    def __init__(self, cap: int = SKELETON_MIN_ACCOUNTS) -> None:
        self._cap = cap
        self._accounts: dict[str, set[str]] = defaultdict(set)

    def add(self, families: Iterable[str | None], accounts: Iterable[str]) -> None:
        for family, account in zip(families, accounts, strict=True):
            if family is not None:
                seen = self._accounts[family]
                if len(seen) < self._cap:
                    seen.add(account)

    def count(self, family: str) -> int:
        return len(self._accounts.get(family, ()))

    def families(self) -> list[str]:
        return sorted(self._accounts)


def kept_template(index: TemplateIndex, senders: Senders, family: str | None) -> str:
    """The template a request is stored under: its family if that is a template, else UNSHARED."""
    if family is None:
        return UNSHARED
    if index.family(family).stored or senders.count(family) >= _PROMOTE_ACCOUNTS:
        return family
    return UNSHARED


# One request as aggregation needs it: digest, epoch second, count, input and output tokens, model, category.
Request = tuple[int, int, int, int, int, str | None, str | None]


@dataclass(frozen=True)
class SentBatch:
    """A batch of requests by (account, template): what `graph.store.usage.write_sent` takes."""

    pairs: list[dict[str, Any]]
    requests: dict[int, list[Request]]  # pair key -> its requests


def sent_batch(
    index: TemplateIndex, rows: Sequence[dict[str, Any]], templates: Sequence[str], digests: Sequence[int]
) -> SentBatch:
    """Group spooled requests (each with its kept template and digest) by account and template."""
    keys: dict[tuple[str, str], int] = {}
    pairs: list[dict[str, Any]] = []
    requests: dict[int, list[Request]] = {}
    for row, template, digest in zip(rows, templates, digests, strict=True):
        pair = (row["account_id"], template)
        key = keys.get(pair)
        if key is None:
            key = keys[pair] = len(pairs)
            signature = None if template == UNSHARED else index.family(template).signature
            pairs.append({
                "key": key, "account_id": pair[0], "fingerprint": template,
                "source": "unshared" if template == UNSHARED else ("provider" if signature is None else "text"),
                "signature": None if signature is None else [int(v) for v in signature],
            })
            requests[key] = []
        requests[key].append((digest, row["second"], row["count"], row["input_tokens"],
                              row["output_tokens"], row["model"], row["category"]))
    # Sorted by account then template: fewer lock waits between concurrent writers.
    pairs.sort(key=lambda p: (p["account_id"], p["fingerprint"]))
    return SentBatch(pairs, requests)


def _tallies(names: Sequence[str] | None, counts: Sequence[int] | None) -> dict[str, int]:
    return dict(zip(names or (), counts or (), strict=True))


def _saturated(value: int) -> int:
    # Sums are kept below 2^53: past that they lose precision in JSON, JavaScript and Bloom anyway,
    # and a few hostile rows (count 2^53, a billion tokens) must not overflow Neo4j's 64-bit integers.
    return min(value, MAX_COUNT)


def merge_sent(requests: Sequence[Request], stored: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A SENT relationship's properties after `requests` (new ones, each once; first and last seen in
    epoch seconds, as `stored` has them too), and the requests they count (their `count`s)."""
    seconds = np.fromiter((r[1] for r in requests), np.int64, len(requests))
    counts = [r[2] for r in requests]
    hours = [int(h) for h in (stored.get("hours") or [0] * 24)]
    for second, count in zip(seconds.tolist(), counts, strict=True):
        hours[(second % _DAY) // 3600] += count
    minutes = np.union1d(np.asarray(stored.get("minutes") or [], dtype=np.int64), seconds // 60)
    models = _tallies(stored.get("models"), stored.get("model_counts"))
    model_first = dict(zip(stored.get("models") or (), stored.get("model_first_seen") or (), strict=True))
    categories = _tallies(stored.get("categories"), stored.get("category_counts"))
    for _, second, count, _, _, model, category in requests:
        if model is not None:
            models[model] = models.get(model, 0) + count
            model_first[model] = min(model_first.get(model, second), second)
        if category is not None:
            categories[category] = categories.get(category, 0) + count
    first, last = int(seconds.min()), int(seconds.max())
    stored_first, stored_last = stored.get("first_seen"), stored.get("last_seen")
    requested = sum(counts)
    model_names = sorted(models)
    category_names = sorted(categories)
    properties = {
        "events": len(requests),
        "count": _saturated(int(stored.get("count") or 0) + requested),
        "input_tokens": _saturated(int(stored.get("input_tokens") or 0) + sum(r[3] * r[2] for r in requests)),
        "output_tokens": _saturated(int(stored.get("output_tokens") or 0) + sum(r[4] * r[2] for r in requests)),
        "first_seen": first if stored_first is None else min(first, int(stored_first)),
        "last_seen": last if stored_last is None else max(last, int(stored_last)),
        "minutes": minutes.tolist(),
        "hours": [_saturated(h) for h in hours],
        "models": model_names,
        "model_counts": [_saturated(models[m]) for m in model_names],
        "model_first_seen": [model_first[m] for m in model_names],
        "categories": category_names,
        "category_counts": [_saturated(categories[c]) for c in category_names],
    }
    return properties, _saturated(requested)


class PendingRequests:
    """One batch of requests by (account, template) on its way to Neo4j (graph.store.usage.write_sent):
    which are new is decided against each account's ledger, inside the writing transaction."""

    def __init__(self, batch: SentBatch) -> None:
        self._batch = batch
        self._fresh: dict[int, list[Request]] = {}
        self._ledgers: dict[str, list[int]] = {}

    def accounts(self) -> list[str]:
        return sorted({pair["account_id"] for pair in self._batch.pairs})

    def fresh_pairs(self, ledgers: dict[str, list[int] | None]) -> list[dict[str, Any]]:
        self._fresh, self._ledgers = {}, {}
        known = {account: set(ledger or ()) for account, ledger in ledgers.items()}
        fresh_pairs = []
        for pair in self._batch.pairs:
            account = pair["account_id"]
            seen = known.setdefault(account, set())
            fresh = []
            for request in self._batch.requests[pair["key"]]:
                if request[0] not in seen:
                    seen.add(request[0])
                    fresh.append(request)
            if fresh:
                self._fresh[pair["key"]] = fresh
                ledger = self._ledgers.setdefault(account, list(ledgers.get(account) or ()))
                ledger.extend(r[0] for r in fresh)
                fresh_pairs.append(pair)
        return fresh_pairs

    def merged(self, key: int, stored: dict[str, Any]) -> tuple[dict[str, Any], int]:
        return merge_sent(self._fresh[key], stored)

    def ledger(self, account_id: str) -> list[int]:
        return self._ledgers[account_id]


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def ip_observations(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `ip` observations the requests make, one per account, address and UTC day, as link rows
    with their digests (the day's bounds as first and last seen)."""
    days: set[tuple[str, str, int]] = set()
    for row in rows:
        if row["ip"] is not None:
            days.add((row["account_id"], row["ip"], row["second"] // _DAY))
    links = []
    for account_id, address, day in sorted(days):
        start = _moment(day * _DAY)
        links.append({"account_id": account_id, "kind": "ip", "value": address, "first_seen": start,
                      "last_seen": start + timedelta(seconds=_DAY - 1), "count": 1, "entity": {}})
    return distinct_links(links)


