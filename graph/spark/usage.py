"""The bundle's usage log on Spark: requests parsed by the loader's rules, templates assigned as a load
assigns them, and what the store would hold after `ringtrace load` of it.

Each row of ``events.*`` goes through the loader's parser (graph/ingest/rows.py ``parse_event``, then
graph/ingest/event_rows.py ``requests_table``) in a ``mapInArrow`` task; a rejected row is counted,
as the other files' are. A prompt is reduced to its content digest (graph/ingest/prompts.py
``content_digest``) in that task and the request goes on without its text.

Templates. `ringtrace load` assigns families with one :class:`~graph.ingest.prompts.TemplateIndex`
in the order prompts first occur in the file (graph/ingest/usage.py ``assign_templates``: each
batch's distinct texts in order of first occurrence, batch after batch), so which prompt founds a
family, and so its fingerprint, depends on that order. Here the same index, on the driver, is fed the
same sequence: a second pass over the file keeps, per task, each text's first occurrence in it, and
``toLocalIterator`` streams the tasks' texts in partition order, which is file order (the same order
``monotonically_increasing_id`` numbers rows by); a text already placed is found by its digest and
changes nothing, so the tasks' overlaps are harmless. The family of each distinct text then goes back
to the requests as a join on the digest. No text is shuffled, cached or written: it lives in a task's
batch and in the driver's stream until its family is found. Driver memory: the index holds one
64-value signature and one digest per family and per distinct text (the loader's own memory in a
load), so it is bounded by distinct prompts, not by requests. One more limit, shared with the load:
past 1,000,000 distinct texts the index clears its text cache, and which family a prompt then
joins depends on where the load's batches fall, which this stream does not reproduce.

What the store holds: a template (family) is kept once two accounts sent it; its senders are the
accounts with SENT to it; its skeleton only when at least ``SKELETON_MIN_ACCOUNTS`` sent it
(DESIGN.md §2), from the family's own mask; each model's first second; each request's IP an ``ip``
observation of its account, one per address and UTC day (graph/ingest/usage.py ``ip_observations``).
The SENT aggregates that activity and evidence read are built for the accounts asked for (ring
members) on the driver by the loader's own :class:`~graph.ingest.usage.BucketUsage`, from all their
requests: those accounts' requests are what the driver holds for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from graph.ingest.event_rows import requests_table
from graph.ingest.observations import observation_digest
from graph.ingest.prompts import TemplateIndex, content_digest, provider_fingerprint
from graph.ingest.rows import RowError, parse_event
from graph.ingest.usage import SKELETON_MIN_ACCOUNTS, BucketUsage, Senders
from graph.ingest.usage_load import PAIRS_PER_WRITE
from graph.spark.components import checkpoint
from graph.spark.files import ddl, fields_of, raw_rows
from graph.store.usage import SENT_PROPERTIES, UNSHARED

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from graph.ingest.readers import BundleFile

__all__ = ["REQUESTS", "Usage", "ip_observations", "read_usage"]

_DAY: Final = 86_400
_ASSIGN_TEXTS: Final = 10_000  # texts per call of the index (any size gives the same families)
#: One request per valid row, as the loader spools it (graph/ingest/usage_load.py) but for its
#: template family, which the driver assigns; `problem` is set (the rest null) for a reject.
REQUESTS: Final = pa.schema([
    ("account_id", pa.string()), ("second", pa.int64()), ("micros", pa.int64()), ("count", pa.int64()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("model", pa.string()),
    ("category", pa.string()), ("ip", pa.string()), ("provider", pa.string()), ("text_digest", pa.int64()),
    ("problem", pa.string()),
])
_TEXTS: Final = pa.schema([("text_digest", pa.int64()), ("prompt", pa.string())])
_SPOOLED: Final = ("account_id", "second", "micros", "count", "input_tokens", "output_tokens", "model", "category",
                   "ip", "family", "text_digest")


@dataclass(frozen=True)
class Usage:
    """A bundle's usage log, as far as detection and scoring read it."""

    requests: DataFrame  # valid requests (REQUESTS but problem) with `family` and `template` (kept or UNSHARED)
    templates: DataFrame  # template, senders, skeleton: every kept template
    index: TemplateIndex  # the families, kept ones marked stored (as after a load)
    releases: dict[str, int]  # model -> first second seen
    n_requests: int  # valid rows
    n_prompts: int  # distinct prompt texts, what the driver's index was fed
    rejected: int

    def sent(self, account_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        """account_id -> its SENT aggregates, as graph/store/usage_reads.py ``read_activity`` reads them."""
        from pyspark.sql import functions as F  # noqa: N812

        if not account_ids:
            return {}
        spark = self.requests.sparkSession
        wanted = spark.createDataFrame([(a,) for a in sorted(account_ids)], "account_id string")
        table = self.requests.join(F.broadcast(wanted), "account_id").select(*_SPOOLED).toArrow()
        if table.num_rows == 0:
            return {}
        # Kept families are marked stored, so each request lands on its template as in the load.
        usage = BucketUsage(self.index, Senders(), table, PAIRS_PER_WRITE)
        sent: dict[str, list[dict[str, Any]]] = {}
        for part in usage.parts():
            plan = part.plan({})
            for account_id, template, *values in plan.rows if plan is not None else ():
                sent.setdefault(account_id, []).append({"template": template,
                                                        **dict(zip(SENT_PROPERTIES, values, strict=True))})
        return sent


def _request_batches(batches: Iterable[pa.RecordBatch], *, json_lines: bool) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        parsed: list[dict[str, Any]] = []
        problems: list[str] = []
        for fields in fields_of(batch, json_lines):
            try:
                parsed.append(parse_event(fields))
            except RowError as error:
                problems.append(str(error))
        requests = requests_table(parsed)
        providers = [provider_fingerprint(p) if p is not None and t is None else None for p, t in zip(
            requests.column("prompt_fingerprint").to_pylist(), requests.column("prompt").to_pylist(), strict=True)]
        digests = [content_digest(t) if t is not None else None for t in requests.column("prompt").to_pylist()]
        columns: dict[str, pa.Array | list[Any]] = {
            **{name: requests.column(name) for name in REQUESTS.names if name in requests.column_names},
            "provider": providers, "text_digest": digests, "problem": [None] * len(parsed)}
        valid = pa.Table.from_pydict({n: columns[n] for n in REQUESTS.names}, schema=REQUESTS)
        rejects = pa.Table.from_pydict({n: problems if n == "problem" else [None] * len(problems)
                                        for n in REQUESTS.names}, schema=REQUESTS)
        yield from pa.concat_tables([valid, rejects]).to_batches()


def _text_batches(batches: Iterable[pa.RecordBatch], *, json_lines: bool) -> Iterator[pa.RecordBatch]:
    """Each distinct prompt of this task's rows at its first occurrence, in row order."""
    seen: set[int] = set()
    for batch in batches:
        digests: list[int] = []
        texts: list[str] = []
        for fields in fields_of(batch, json_lines):
            try:
                prompt = parse_event(fields)["prompt"]
            except RowError:
                continue
            if prompt is None:
                continue
            digest = content_digest(prompt)
            if digest not in seen:
                seen.add(digest)
                digests.append(digest)
                texts.append(prompt)
        yield pa.RecordBatch.from_arrays([pa.array(digests, pa.int64()), pa.array(texts, pa.string())],
                                         schema=_TEXTS)


def _assign_families(frame: DataFrame, json_lines: bool) -> tuple[TemplateIndex, list[tuple[int, str]]]:
    """The load's families of every distinct prompt, assigned on the driver in file order."""
    texts = frame.mapInArrow(partial(_text_batches, json_lines=json_lines), ddl(_TEXTS))
    index = TemplateIndex()
    families: list[tuple[int, str]] = []
    digests: list[int] = []
    pending: list[str] = []

    def assign() -> None:
        families.extend(zip(digests, index.assign_texts(pending, digests), strict=True))
        digests.clear()
        pending.clear()

    for row in texts.toLocalIterator():
        digests.append(int(row["text_digest"]))
        pending.append(str(row["prompt"]))
        if len(pending) >= _ASSIGN_TEXTS:
            assign()
    assign()
    # Repeats across tasks: each text's family once.
    return index, list(dict(families).items())


def read_usage(spark: SparkSession, bundle_file: BundleFile) -> Usage:
    """The usage log in `bundle_file` (an ``events`` file)."""
    import pandas as pd
    from pyspark.sql import functions as F  # noqa: N812

    frame, json_lines = raw_rows(spark, bundle_file)
    parsed = frame.mapInArrow(partial(_request_batches, json_lines=json_lines), ddl(REQUESTS)).cache()
    rejected = parsed.where(F.col("problem").isNotNull()).count()
    index, families = _assign_families(frame, json_lines)
    by_text = spark.createDataFrame(pd.DataFrame({"text_digest": pd.Series([d for d, _ in families], dtype="int64"),
                                                  "text_family": pd.Series([f for _, f in families], dtype=object)}),
                                    "text_digest long, text_family string")
    assigned = (parsed.where(F.col("problem").isNull()).drop("problem").join(by_text, "text_digest", "left")
                .withColumn("family", F.coalesce("text_family", "provider")).drop("text_family"))
    # A provider's template id is its own family, whatever the order (TemplateIndex.assign_provider).
    providers = assigned.where(F.col("provider").isNotNull()).select("provider").distinct()
    for row in providers.toLocalIterator():
        index.assign_provider(str(row["provider"])[len(provider_fingerprint("")):])
    senders = (assigned.where(F.col("family").isNotNull()).groupBy(F.col("family").alias("template"))
               .agg(F.countDistinct("account_id").alias("senders")).where(F.col("senders") >= 2)).cache()
    kept = {str(r["template"]): int(r["senders"]) for r in senders.collect()}
    index.mark_stored(kept)
    # As write_template_skeletons keeps them: a family's skeleton, once enough accounts sent it.
    skeletons = [(t, n, (index.family(t).skeleton() or None) if n >= SKELETON_MIN_ACCOUNTS else None)
                 for t, n in sorted(kept.items())]
    templates = spark.createDataFrame(skeletons, "template string, senders long, skeleton string")
    # Checkpointed: the families joined in came from the driver, and a plan holding them is as large.
    requests = checkpoint(
        assigned.join(F.broadcast(senders.select(F.col("template").alias("family"), F.lit(True).alias("kept"))),
                      "family", "left")
        .withColumn("template", F.when(F.col("kept"), F.col("family")).otherwise(F.lit(UNSHARED))).drop("kept"))
    n_requests = requests.count()
    releases = {str(r[0]): int(r[1]) for r in requests.where(F.col("model").isNotNull()).groupBy("model")
                .agg(F.min("second")).collect()}
    parsed.unpersist()
    senders.unpersist()
    return Usage(requests, templates, index, releases, n_requests, len(families), rejected)


_IP_OBSERVATION: Final = pa.schema([("account_id", pa.string()), ("ip", pa.string()), ("day", pa.int64())])


def _ip_batches(batches: Iterable[pa.RecordBatch], *, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        rows = []
        for account_id, address, day in zip(*(batch.column(n).to_pylist() for n in _IP_OBSERVATION.names),
                                            strict=True):
            start = datetime.fromtimestamp(day * _DAY, UTC)
            digest = observation_digest(account_id, "ip", address, start, start + timedelta(seconds=_DAY - 1), 1)
            rows.append((account_id, "ip", address, day * _DAY, day * _DAY + _DAY - 1, 1, digest, None))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
        yield pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
                                         schema=schema)


def ip_observations(usage: Usage, schema: pa.Schema) -> DataFrame:
    """The requests' `ip` observations (one per account, address and UTC day, the day's bounds as first
    and last seen), as rows of `schema` (graph/spark/bundle.py ``OBSERVATIONS``)."""
    from pyspark.sql import functions as F  # noqa: N812

    days = (usage.requests.where(F.col("ip").isNotNull())
            .select("account_id", "ip", F.floor(F.col("second") / _DAY).cast("long").alias("day")).distinct())
    return days.mapInArrow(partial(_ip_batches, schema=schema), ddl(schema))

