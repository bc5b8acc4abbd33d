"""The usage log on its way in: requests as columns, each given its template and its digest, then
aggregated by account and template.

A batch of requests is an Arrow table (`graph.ingest.event_rows.REQUESTS`), never a dict per request.

A request's template is the family of its prompt (graph/ingest/prompts.py) or the provider's own
`prompt_fingerprint`; a template is kept (a `PromptTemplate` node) once two distinct accounts sent it
in one load, or if it is stored already. Requests of any other template are aggregated under
`UNSHARED` for their account's activity: a prompt only one account sent is not a template and leaves
no node, so the graph grows with templates, not with prompts.

A request's identity is its digest: 64 bits of BLAKE2b over the `repr` of the tuple (account, epoch
seconds as a float, `("text", content digest)` or `("provider", fingerprint)` or None, model, input
tokens, output tokens, category, IP, count). It is kept in its account's ledger (graph/store/usage.py),
so the same request counts once whatever carries it and whichever template it lands on (a prompt
unshared in one load may be a template's in the next). Its IP is an `ip` observation of the account,
one per account, address and UTC day: the same day's requests in any batch or order make the same
observation, which counts once (graph/ingest/observations.py).

A bucket of requests (graph/ingest/usage_load.py) is aggregated in numpy, sorted by account and
template: sums saturate at `MAX_COUNT` exactly as Python integers would, and only the parameters
Neo4j receives become Python objects, one list per (account, template).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

import neo4j
from graph.collector import collector_paused
from graph.ingest.observations import distinct_links
from graph.ingest.prompts import TemplateIndex, content_digest
from graph.ingest.rows import (
    MAX_COUNT,
)
from graph.store.usage import UNSHARED, SentPlan, count_templates, read_templates

__all__ = [
    "SKELETON_MIN_ACCOUNTS",
    "BucketUsage",
    "PendingPart",
    "Senders",
    "assign_templates",
    "ip_observations",
    "kept_template",
    "model_releases",
    "remember_stored",
    "request_digests",
    "template_index",
]

#: Distinct accounts that must have sent a template before its skeleton may be kept (DESIGN.md §2).
SKELETON_MIN_ACCOUNTS: Final = 5
_PROMOTE_ACCOUNTS: Final = 2
_DAY: Final = 86_400
_NO_TEXT: Final = pa.scalar(None, pa.string())
_NO_INDEX: Final = pa.scalar(-1, pa.int32())
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


def assign_templates(index: TemplateIndex, requests: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Each request's template family (null without prompt or fingerprint) and its prompt's content
    digest (null without prompt), templates assigned in the order prompts first occur."""
    prompt = requests.column("prompt").combine_chunks()
    prompts = pc.dictionary_encode(prompt)
    texts = prompts.dictionary.to_pylist()
    digests = [content_digest(text) for text in texts]
    with collector_paused():
        assigned = index.assign_texts(texts, digests)
    families = pa.array(assigned, pa.string()).take(prompts.indices)
    text_digests = pa.array(np.array(digests, dtype=np.int64)).take(prompts.indices)
    provider = pc.if_else(pc.is_null(prompt), requests.column("prompt_fingerprint").combine_chunks(), _NO_TEXT)
    provided = pc.dictionary_encode(provider)
    from_provider = pa.array([index.assign_provider(v) for v in provided.dictionary.to_pylist()],
                             pa.string()).take(provided.indices)
    return pc.coalesce(families, from_provider), text_digests


def request_digests(requests: pa.Table) -> npt.NDArray[np.int64]:
    """Each spooled request's digest (see the module docstring; the text of `repr` of the tuple)."""
    columns = [requests.column(name).to_pylist() for name in (
        "account_id", "micros", "text_digest", "family", "model", "input_tokens", "output_tokens", "category", "ip",
        "count")]
    result = np.empty(requests.num_rows, dtype=np.int64)
    blake2b = hashlib.blake2b
    for at, (account, micros, text, family, model, tokens_in, tokens_out, category, ip, count) in enumerate(
            zip(*columns, strict=True)):
        if text is not None:
            content = f"('text', {text})"
        elif family is not None:
            content = f"('provider', {family[2:]!r})"
        else:
            content = "None"
        data = (f"({account!r}, {micros / 1_000_000!r}, {content}, {model!r}, {tokens_in!r}, {tokens_out!r}, "
                f"{category!r}, {ip!r}, {count!r})").encode()
        result[at] = int.from_bytes(blake2b(data, digest_size=8).digest(), "big", signed=True)
    return result


class Senders:
    """Distinct senders per template family, counted up to `cap`."""

    def __init__(self, cap: int = SKELETON_MIN_ACCOUNTS) -> None:
        self._cap = cap
        self._accounts: dict[str, set[str]] = defaultdict(set)

    def add(self, families: pa.Array, accounts: pa.Array) -> None:
        sent = pa.Table.from_arrays([families, accounts], names=["family", "account"]).filter(pc.is_valid(families))
        distinct = sent.group_by(["family", "account"]).aggregate([])
        for family, account in zip(distinct.column("family").to_pylist(), distinct.column("account").to_pylist(),
                                   strict=True):
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


def _ranked(values: pa.ChunkedArray) -> tuple[list[Any], npt.NDArray[np.int64]]:
    """The distinct values in ascending order (as Python sorts str), and each row's rank among them
    (-1 for null)."""
    encoded = pc.dictionary_encode(values.combine_chunks())
    order = np.asarray(pc.sort_indices(encoded.dictionary).to_numpy(), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    indices = np.asarray(encoded.indices.fill_null(_NO_INDEX).to_numpy(), dtype=np.int64)
    ranks = np.where(indices >= 0, rank[np.maximum(indices, 0)], -1) if len(order) else np.full(len(indices), -1)
    return encoded.dictionary.take(pa.array(order)).to_pylist(), ranks


def _starts(*keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Where each run of equal keys starts, in rows sorted by them."""
    change = np.zeros(len(keys[0]), dtype=bool)
    change[:1] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


_EXACT_BELOW: Final = 2.0**62  # a float sum or product below it is far from int64 overflow


def _saturated_sums(values: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Sums of runs of values in [0, MAX_COUNT], saturated at MAX_COUNT: Python's `min(sum, MAX_COUNT)`.
    Where a float sum shows the int64 sum may have wrapped, the true sum is far above MAX_COUNT."""
    exact = np.add.reduceat(values, starts)
    rough = np.add.reduceat(values.astype(np.float64), starts)
    return np.where(rough >= _EXACT_BELOW, MAX_COUNT, np.minimum(exact, MAX_COUNT))


def _saturated_products(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    rough = a.astype(np.float64) * b.astype(np.float64)
    return np.where(rough >= _EXACT_BELOW, MAX_COUNT, np.minimum(a * b, MAX_COUNT))


@dataclass(frozen=True)
class _Tally:
    """Per pair, its distinct values of one column in ascending order, with their requests and the
    first second each was sent: flat lists, pair p's entries from offsets[p] to offsets[p + 1]."""

    offsets: list[int]
    names: list[str]
    counts: list[int]
    first: list[int]


def _tally(pairs: int, pair: npt.NDArray[np.int64], rank: npt.NDArray[np.int64], names: list[str],
           count: npt.NDArray[np.int64], second: npt.NDArray[np.int64]) -> _Tally:
    present = rank >= 0
    pair, rank, count, second = pair[present], rank[present], count[present], second[present]
    order = np.lexsort((rank, pair))
    pair, rank, count, second = pair[order], rank[order], count[order], second[order]
    starts = _starts(pair, rank)
    offsets = np.zeros(pairs + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair[starts], minlength=pairs), out=offsets[1:])
    return _Tally(offsets.tolist(), [names[r] for r in rank[starts].tolist()],
                  _saturated_sums(count, starts).tolist() if len(starts) else [],
                  np.minimum.reduceat(second, starts).tolist() if len(starts) else [])


class BucketUsage:
    """One bucket of spooled requests by (account, template), sorted by account then template, on its
    way to Neo4j (graph.store.usage.write_sent) in parts of whole accounts. Which requests are new is
    decided against each account's ledger inside the writing transaction; each part is aggregated
    beforehand as if all were new, which they are in a first load."""

    def __init__(self, index: TemplateIndex, senders: Senders, requests: pa.Table, pairs_per_part: int) -> None:
        families, family = _ranked(requests.column("family"))
        kept = [kept_template(index, senders, name) for name in families]
        self._templates = sorted({*kept, UNSHARED})
        position = {name: at for at, name in enumerate(self._templates)}
        # A request without a family (rank -1) takes the last entry: UNSHARED.
        template = np.asarray([*(position[k] for k in kept), position[UNSHARED]], dtype=np.int64)[family]
        self._accounts, account = _ranked(requests.column("account_id"))
        self._account_rank = {name: at for at, name in enumerate(self._accounts)}
        self._models, model = _ranked(requests.column("model"))
        self._categories, category = _ranked(requests.column("category"))
        self._sources: dict[str, tuple[str, list[int] | None]] = {}
        for name in self._templates:
            signature = None if name == UNSHARED else index.family(name).signature
            source = "unshared" if name == UNSHARED else ("provider" if signature is None else "text")
            self._sources[name] = (source, None if signature is None else signature.tolist())
        digest = request_digests(requests)
        order = np.lexsort((np.arange(len(account)), template, account))
        # The same request twice in the bucket counts once: its first occurrence in this order.
        by_digest = np.lexsort((np.arange(len(order)), digest[order], account[order]))
        repeat = np.zeros(len(order), dtype=bool)
        repeat[by_digest[1:]] = (account[order][by_digest[1:]] == account[order][by_digest[:-1]]) & (
            digest[order][by_digest[1:]] == digest[order][by_digest[:-1]])
        order = order[~repeat]
        self.rows = requests.num_rows
        self._columns = {
            "account": account[order], "template": template[order], "digest": digest[order],
            "model": model[order], "category": category[order],
            **{name: np.asarray(requests.column(name).to_numpy(), dtype=np.int64)[order]
               for name in ("second", "count", "input_tokens", "output_tokens")},
        }
        # Parts end where an account does, after at least pairs_per_part pairs.
        pair_starts = _starts(self._columns["account"], self._columns["template"])
        pair_accounts = self._columns["account"][pair_starts]
        self._parts: list[tuple[int, int]] = []
        low = 0
        while low < len(pair_starts):
            high = min(low + pairs_per_part, len(pair_starts))
            while high < len(pair_starts) and pair_accounts[high] == pair_accounts[high - 1]:
                high += 1
            end = int(pair_starts[high]) if high < len(pair_starts) else len(order)
            self._parts.append((int(pair_starts[low]), end))
            low = high

    def parts(self) -> list[PendingPart]:
        return [PendingPart(self, low, high) for low, high in self._parts]

    def kept_templates(self) -> set[str]:
        """The templates this bucket writes (stored once it is written)."""
        return {self._templates[t] for t in np.unique(self._columns["template"]).tolist()} - {UNSHARED}

    def _accounts_of(self, low: int, high: int) -> list[str]:
        return [self._accounts[a] for a in np.unique(self._columns["account"][low:high]).tolist()]

    def _plan(self, low: int, high: int, known: Mapping[str, Sequence[int]]) -> SentPlan | None:
        """The writes of rows [low, high) but those whose digest is in their account's `known` ledger."""
        column = {name: values[low:high] for name, values in self._columns.items()}
        if known:
            ledgers = {self._account_rank[a]: set(ledger) for a, ledger in known.items() if a in self._account_rank}
            nothing: set[int] = set()
            seen = np.fromiter((d in ledgers.get(a, nothing) for a, d in zip(
                column["account"].tolist(), column["digest"].tolist(), strict=True)), bool, high - low)
            column = {name: values[~seen] for name, values in column.items()}
        if not len(column["account"]):
            return None
        with collector_paused():
            return self._aggregate(column, known)

    def _aggregate(self, column: dict[str, npt.NDArray[np.int64]], known: Mapping[str, Sequence[int]]) -> SentPlan:
        account, template, count, second = column["account"], column["template"], column["count"], column["second"]
        starts = _starts(account, template)
        pairs = len(starts)
        pair = np.zeros(len(account), dtype=np.int64)
        pair[starts[1:]] = 1
        pair = np.cumsum(pair)
        counts = _saturated_sums(count, starts)
        tokens_in = _saturated_sums(_saturated_products(column["input_tokens"], count), starts)
        tokens_out = _saturated_sums(_saturated_products(column["output_tokens"], count), starts)
        first, last = np.minimum.reduceat(second, starts), np.maximum.reduceat(second, starts)
        minute = second // 60
        order = np.lexsort((minute, pair))
        distinct = _starts(pair[order], minute[order])
        minutes = minute[order][distinct].tolist()
        minute_at = np.zeros(pairs + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair[order][distinct], minlength=pairs), out=minute_at[1:])
        minute_offsets = minute_at.tolist()
        hour_keys = pair * 24 + (second % _DAY) // 3600
        order = np.argsort(hour_keys, kind="stable")
        hour_starts = _starts(hour_keys[order])
        hours = np.zeros(pairs * 24, dtype=np.int64)
        hours[hour_keys[order][hour_starts]] = _saturated_sums(count[order], hour_starts)
        models = _tally(pairs, pair, column["model"], self._models, count, second)
        categories = _tally(pairs, pair, column["category"], self._categories, count, second)

        pair_accounts = [self._accounts[a] for a in account[starts].tolist()]
        pair_templates = [self._templates[t] for t in template[starts].tolist()]
        pair_counts = counts.tolist()
        # Column by column, then zipped: a Python loop over pairs costs four times as much.
        rows: list[Sequence[Any]] = list(zip(
            pair_accounts, pair_templates, pair_counts, tokens_in.tolist(), tokens_out.tolist(),
            _runs(minutes, minute_offsets), hours.reshape(pairs, 24).tolist(),
            _runs(models.names, models.offsets), _runs(models.counts, models.offsets),
            _runs(models.first, models.offsets), _runs(categories.names, categories.offsets),
            _runs(categories.counts, categories.offsets), first.tolist(), last.tolist(), strict=True))
        totals: dict[str, int] = defaultdict(int)
        for fingerprint, requests in zip(pair_templates, pair_counts, strict=True):
            totals[fingerprint] += requests
        account_starts = _starts(account)
        digests = column["digest"].tolist()
        bounds = [*account_starts.tolist(), len(digests)]
        ledgers = []
        for a, low, high in zip(account[account_starts].tolist(), bounds[:-1], bounds[1:], strict=True):
            name = self._accounts[a]
            ledgers.append([name, [*known.get(name, ()), *digests[low:high]]])
        return SentPlan(
            rows=rows,
            ledgers=ledgers,
            templates=[[name, *self._sources[name]] for name in sorted(totals)],
            totals=[[name, totals[name]] for name in sorted(totals)],
            events=len(account),
            to_read=[[row[0], row[1], at] for at, row in enumerate(rows) if row[0] in known] if known else [],
        )


def _runs(values: list[Any], offsets: list[int]) -> list[list[Any]]:
    """`values` cut at `offsets` (one more than there are runs)."""
    return [values[low:high] for low, high in itertools.pairwise(offsets)]


def _merge_stored(row: list[Any], stored: Mapping[str, Any]) -> None:
    """A SENT row of a plan (graph.store.usage.SentPlan, its new requests only) after the properties
    its relationship already has (first and last seen in epoch seconds): as if counted together."""
    row[2] = min(int(stored.get("count") or 0) + row[2], MAX_COUNT)
    row[3] = min(int(stored.get("input_tokens") or 0) + row[3], MAX_COUNT)
    row[4] = min(int(stored.get("output_tokens") or 0) + row[4], MAX_COUNT)
    row[5] = np.union1d(np.asarray(stored.get("minutes") or [], dtype=np.int64),
                        np.asarray(row[5], dtype=np.int64)).tolist()
    hours = [int(h) for h in (stored.get("hours") or [0] * 24)]
    row[6] = [min(h + new, MAX_COUNT) for h, new in zip(hours, row[6], strict=True)]
    models = dict(zip(stored.get("models") or (), stored.get("model_counts") or (), strict=True))
    model_first = dict(zip(stored.get("models") or (), stored.get("model_first_seen") or (), strict=True))
    for model, count, first in zip(row[7], row[8], row[9], strict=True):
        models[model] = int(models.get(model, 0)) + count
        model_first[model] = min(int(model_first.get(model, first)), first)
    row[7] = sorted(models)
    row[8] = [min(int(models[m]), MAX_COUNT) for m in row[7]]
    row[9] = [int(model_first[m]) for m in row[7]]
    categories = dict(zip(stored.get("categories") or (), stored.get("category_counts") or (), strict=True))
    for category, count in zip(row[10], row[11], strict=True):
        categories[category] = int(categories.get(category, 0)) + count
    row[10] = sorted(categories)
    row[11] = [min(int(categories[c]), MAX_COUNT) for c in row[10]]
    stored_first, stored_last = stored.get("first_seen"), stored.get("last_seen")
    row[12] = row[12] if stored_first is None else min(row[12], int(stored_first))
    row[13] = row[13] if stored_last is None else max(row[13], int(stored_last))


class PendingPart:
    """Whole accounts' requests of a bucket, what graph.store.usage.write_sent writes in one
    transaction (graph.store.usage.PendingUsage)."""

    def __init__(self, bucket: BucketUsage, low: int, high: int) -> None:
        self._bucket, self._low, self._high = bucket, low, high
        self._accounts = bucket._accounts_of(low, high)
        self._fresh = bucket._plan(low, high, {})

    def accounts(self) -> list[str]:
        return self._accounts

    def plan(self, ledgers: Mapping[str, Sequence[int] | None]) -> SentPlan | None:
        known = {account: ledger for account, ledger in ledgers.items() if ledger}
        if not known:
            return self._fresh
        return self._bucket._plan(self._low, self._high, known)

    def merge(self, row: list[Any], stored: Mapping[str, Any]) -> None:
        _merge_stored(row, stored)


def model_releases(requests: pa.Table) -> dict[str, int]:
    """The first second each model was seen in these requests."""
    seen = requests.select(["model", "second"]).filter(pc.is_valid(requests.column("model")))
    first = seen.group_by("model").aggregate([("second", "min")])
    return dict(zip(first.column("model").to_pylist(), first.column("second_min").to_pylist(), strict=True))


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def ip_observations(requests: pa.Table) -> list[dict[str, Any]]:
    """The `ip` observations the requests make, one per account, address and UTC day, as link rows
    with their digests (the day's bounds as first and last seen)."""
    sent = requests.select(["account_id", "ip", "second"]).filter(pc.is_valid(requests.column("ip")))
    days = np.asarray(sent.column("second").to_numpy(), dtype=np.int64) // _DAY
    keys = ["account_id", "ip", "day"]
    distinct = pa.Table.from_arrays([sent.column("account_id"), sent.column("ip"), pa.array(days)],
                                    names=keys).group_by(keys).aggregate([])
    links = []
    for account_id, address, day in sorted(zip(distinct.column("account_id").to_pylist(),
                                               distinct.column("ip").to_pylist(),
                                               distinct.column("day").to_pylist(), strict=True)):
        start = _moment(day * _DAY)
        links.append({"account_id": account_id, "kind": "ip", "value": address, "first_seen": start,
                      "last_seen": start + timedelta(seconds=_DAY - 1), "count": 1, "entity": {}})
    return distinct_links(links)
