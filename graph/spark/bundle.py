"""The bundle's observations as Spark DataFrames: parsed by the loader's own rules, aggregated as loaded.

Each file is read by Spark (CSV and CSV.GZ as text fields, Parquet as its columns, JSONL as lines) and
every row goes through the loader's parser (graph/ingest/rows.py ``parse_link``, ``parse_account``;
``parse_ip_range`` and ``parse_known`` on the driver, those files being small) in a ``mapInArrow``
task, with the reader's own conversion of values to text, so validation and normalisation are the
package's, not a copy. A rejected row is dropped and counted. One difference: Spark's CSV reader
splits the records, so a damaged record (an unterminated quote, a line of another width) may be
split otherwise than graph/ingest/readers.py splits it, and rejected as other rows.

What detection then reads from Neo4j (graph/store/observation_reads.py) is the loaded store: one link
per (account, kind, value) whose count adds each distinct observation once (its digest,
graph/ingest/observations.py), with the earliest first_seen and the latest last_seen, an account's
email being one more observation; IPs carry the network class and organisation of their most specific
range. :func:`aggregated_links` builds the same from the raw rows, as graph/ingest/bulk_import.py does
with numpy for `ringtrace import`; a usage log's requests add their `ip` observations (one per
account, address and UTC day), as its load does. The usage log itself (templates, co-action's
minutes, activity) is graph/spark/usage.py's; its rejected rows are counted with the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from graph.errors import BundleError
from graph.ingest.ip_enrichment import IPRange, RangeTable
from graph.ingest.normalise import epoch_seconds
from graph.ingest.observations import observation_digest
from graph.ingest.readers import BundleFile, find_bundle_files
from graph.ingest.rows import RowError, parse_account, parse_ip_range, parse_known, parse_link
from graph.scoring import own_hosting
from graph.spark.files import ORDINAL, ddl, fields_of, raw_rows
from graph.spark.usage import Usage, ip_observations, read_usage
from graph.vocabulary import KIND_ORDER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["OBSERVATIONS", "Bundle", "aggregated_links", "read_bundle"]

#: One observation per row, as the loader digests it; `problem` is set (and the rest null) for a reject.
OBSERVATIONS: Final = pa.schema([
    ("account_id", pa.string()), ("kind", pa.string()), ("value", pa.string()),
    ("first_seen", pa.int64()), ("last_seen", pa.int64()), ("count", pa.int64()), ("digest", pa.int64()),
    ("problem", pa.string()),
])
_FACTS: Final = pa.schema([("account_id", pa.string()), ("ordinal", pa.int64()), ("created_at", pa.int64()),
                           ("email_domain", pa.string())])
_ENRICHED: Final = pa.schema([("value", pa.string()), ("network", pa.string()), ("org", pa.string())])


@dataclass(frozen=True)
class Bundle:
    """What detection and scoring read of a bundle, as the store would hold it after `ringtrace load`."""

    # Cached (the job unpersists it): account_id, kind (code into KIND_ORDER), value, network, org,
    # first_seen, last_seen, count.
    links: DataFrame
    accounts: DataFrame  # account_id, created_at (epoch seconds or null), email_domain (or null)
    known: list[tuple[str, str]]  # (account_id, organization), distinct, sorted
    organizations: tuple[str, ...]  # every organisation a range or a known member names, sorted
    own_hosting: frozenset[str]  # organisations acting on their hosting ranges (graph.scoring.own_hosting)
    rejected: dict[str, int]  # rows refused per file (only files with any)
    unreadable: dict[str, str]  # file -> why it could not be read at all (a load reports it and goes on)
    files: tuple[str, ...]  # the files found
    usage: Usage | None  # the usage log, if the bundle has a readable one


def _observation_rows(kind: str, fields: dict[str, str]) -> list[tuple[Any, ...]]:
    """The observations one row makes: a link row one, an account row one if it gives an email."""
    if kind == "links":
        row = parse_link(fields)
        first, last = row["first_seen"], row["last_seen"]
        digest = observation_digest(row["account_id"], row["kind"], row["value"], first, last, row["count"])
        return [(row["account_id"], row["kind"], row["value"], epoch_seconds(first), epoch_seconds(last),
                 row["count"], digest, None)]
    row = parse_account(fields)
    if not row["email"]:
        return []
    created = row["created_at"]
    digest = observation_digest(row["account_id"], "email", row["email"], created, created, 1)
    return [(row["account_id"], "email", row["email"], epoch_seconds(created), epoch_seconds(created), 1, digest,
             None)]


def _parse_batches(batches: Iterable[pa.RecordBatch], *, kind: str, json_lines: bool) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        rows: list[tuple[Any, ...]] = []
        for fields in fields_of(batch, json_lines):
            try:
                rows.extend(_observation_rows(kind, fields))
            except RowError as error:
                rows.append((None, None, None, None, None, None, None, str(error)))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in OBSERVATIONS]
        yield pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, OBSERVATIONS,
                                                                                  strict=True)],
                                         schema=OBSERVATIONS)


def _observations(spark: SparkSession, bundle_file: BundleFile) -> DataFrame:
    frame, json_lines = raw_rows(spark, bundle_file)
    parse: Callable[[Iterable[pa.RecordBatch]], Iterable[pa.RecordBatch]] = partial(
        _parse_batches, kind=bundle_file.name, json_lines=json_lines)
    return frame.mapInArrow(parse, ddl(OBSERVATIONS))


def _fact_batches(batches: Iterable[pa.RecordBatch], *, json_lines: bool) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        ordinals = batch.column(batch.schema.get_field_index(ORDINAL)).to_pylist()
        rows: list[tuple[Any, ...]] = []
        for ordinal, fields in zip(ordinals, fields_of(batch, json_lines), strict=True):
            try:
                row = parse_account(fields)
            except RowError:
                continue
            rows.append((row["account_id"], ordinal, epoch_seconds(row["created_at"]), row["email_domain"]))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in _FACTS]
        yield pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, _FACTS, strict=True)],
                                         schema=_FACTS)


def _account_facts(spark: SparkSession, bundle_file: BundleFile) -> DataFrame:
    """Per account its sign-up time and email domain: of a repeated account, the last row that gives
    each wins (as graph/store/ingest.py keeps a missing date or domain), in file order."""
    from pyspark.sql import functions as F  # noqa: N812

    frame, json_lines = raw_rows(spark, bundle_file)
    # Row order within a file: monotonically_increasing_id grows with the split and the row in it.
    numbered = frame.withColumn(ORDINAL, F.monotonically_increasing_id())
    facts = numbered.mapInArrow(partial(_fact_batches, json_lines=json_lines), ddl(_FACTS))
    last = facts.groupBy("account_id").agg(
        F.max_by("created_at", F.when(F.col("created_at").isNotNull(), F.col("ordinal"))).alias("created_at"),
        F.max_by("email_domain", F.when(F.col("email_domain").isNotNull(), F.col("ordinal"))).alias("email_domain"))
    return last


def _known(spark: SparkSession, bundle_file: BundleFile) -> tuple[list[tuple[str, str]], int]:
    """Known members (few: earlier investigations' findings), parsed on the driver; and the rejects."""
    frame, json_lines = raw_rows(spark, bundle_file)
    known: set[tuple[str, str]] = set()
    rejected = 0
    for batch in frame.toArrow().to_batches():
        for fields in fields_of(batch, json_lines):
            try:
                row = parse_known(fields)
            except RowError:
                rejected += 1
                continue
            known.add((row["account_id"], row["organization"]))
    return sorted(known), rejected


def _ranges(spark: SparkSession, bundle_file: BundleFile) -> tuple[list[IPRange], set[str], int]:
    """The bundle's IP ranges in file order, the last row for a range winning (as `write_ip_ranges`
    leaves it), every organisation a row names (each has its node, even one whose range changed hands
    later), and the number of rejected rows. Ranges are few: they are parsed on the driver."""
    frame, json_lines = raw_rows(spark, bundle_file)
    ranges: dict[str, IPRange] = {}
    organizations: set[str] = set()
    rejected = 0
    for batch in frame.toArrow().to_batches():
        for fields in fields_of(batch, json_lines):
            try:
                row = parse_ip_range(fields)
            except RowError:
                rejected += 1
                continue
            ranges[row["cidr"]] = IPRange(row["cidr"], row["asn"], row["organization"], row["network"])
            if row["organization"]:
                organizations.add(row["organization"])
    return list(ranges.values()), organizations, rejected


def _enrich(batches: Iterable[pa.RecordBatch], *, ranges: list[IPRange]) -> Iterator[pa.RecordBatch]:
    table = RangeTable(ranges)
    for batch in batches:
        addresses = batch.column(0).to_pylist()
        found = table.lookup(addresses)
        yield pa.RecordBatch.from_arrays([
            pa.array(addresses, pa.string()),
            pa.array([r.network if r else "unknown" for r in found], pa.string()),
            pa.array([r.organization if r else None for r in found], pa.string()),
        ], schema=_ENRICHED)


def read_bundle(spark: SparkSession, directory: Path) -> Bundle:
    """The bundle in `directory` as :class:`Bundle` (its links: :func:`aggregated_links`, with the usage
    log's `ip` observations; its usage log: graph/spark/usage.py).

    BundleError for a missing bundle or a file without its required columns.
    """
    from pyspark.sql import functions as F  # noqa: N812

    files = find_bundle_files(directory)
    names = {f.name for f in files}
    rejected: dict[str, int] = {}
    ranges: list[IPRange] = []
    organizations: set[str] = set()
    known: list[tuple[str, str]] = []
    observations: DataFrame | None = None
    accounts = spark.createDataFrame([], "account_id string, created_at long, email_domain string")
    unreadable: dict[str, str] = {}
    usage: Usage | None = None
    for bundle_file in files:
        try:
            if bundle_file.name == "events":
                usage = read_usage(spark, bundle_file)
                rejected["events"] = usage.rejected
            elif bundle_file.name == "ip_ranges":
                ranges, organizations, rejected["ip_ranges"] = _ranges(spark, bundle_file)
            elif bundle_file.name == "known":
                known, rejected["known"] = _known(spark, bundle_file)
            elif bundle_file.name in ("accounts", "links"):
                parsed = _observations(spark, bundle_file).withColumn("file", F.lit(bundle_file.name))
                if bundle_file.name == "accounts":
                    accounts = _account_facts(spark, bundle_file)
                observations = parsed if observations is None else observations.unionByName(parsed)
        except BundleError as error:  # a file that cannot be read at all; the others still count, as in a load
            unreadable[bundle_file.name] = str(error)
    if observations is None:
        raise BundleError(f"{directory}: no readable accounts or links file")
    if usage is not None:
        ips = ip_observations(usage, OBSERVATIONS).withColumn("file", F.lit("events"))
        observations = observations.unionByName(ips)
    observations = observations.cache()
    for row in observations.where(F.col("problem").isNotNull()).groupBy("file").count().collect():
        rejected[str(row["file"])] = int(row["count"])
    organizations |= {organization for _, organization in known}
    # Materialised, the links no longer need the observations cached: the job unpersists them when done.
    links = aggregated_links(observations, ranges).cache()
    links.count()
    observations.unpersist()
    hosting = own_hosting((r.organization, r.cidr, r.network) for r in ranges)
    return Bundle(links, accounts, known, tuple(sorted(organizations)), hosting,
                  {name: count for name, count in rejected.items() if count}, unreadable, tuple(sorted(names)), usage)


def aggregated_links(observations: DataFrame, ranges: list[IPRange]) -> DataFrame:
    """One row per (account, kind, value) of :data:`OBSERVATIONS` rows, as the loader stores the link."""
    from pyspark.sql import functions as F  # noqa: N812

    kept = observations.where(F.col("problem").isNull()).dropDuplicates(["account_id", "kind", "value", "digest"])
    links = kept.groupBy("account_id", "kind", "value").agg(
        F.min("first_seen").alias("first_seen"), F.max("last_seen").alias("last_seen"), F.sum("count").alias("count"))
    ips = links.where(F.col("kind") == "ip").select("value").distinct()
    enriched = ips.mapInArrow(partial(_enrich, ranges=ranges), ddl(_ENRICHED))
    code = F.create_map(*[F.lit(x) for k, kind in enumerate(KIND_ORDER) for x in (kind, k)])
    return (links.join(enriched, "value", "left")
            .select("account_id", code[F.col("kind")].cast("int").alias("kind"), "value",
                    F.coalesce("network", F.lit("unknown")).alias("network"), "org", "first_seen", "last_seen",
                    "count"))

