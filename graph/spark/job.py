"""The detection job on Spark: bundle → aggregated links → projection → components → rings → scores → Parquet.

The stages are the in-process run's (graph/pipeline/detect.py): read, project, detect (with
stabilise), ids, score (with explain and operations), write, and with a usage log ``coaction`` after
project (in-process, part of project); each is materialised and timed, so a run reports where its
time went. It writes to `out` the records the in-process run writes to Neo4j, as
Parquet (graph/spark/results.py: memberships, rings, attributions, evidence, operations, part_of) and
``run.json`` (parameters with the scoring model's version, code version, counts, seconds per stage,
rejected rows per file), which `ringtrace spark write-back` records as a DetectionRun.

With a usage log (graph/spark/usage.py) the coaction stage adds co-action (graph/spark/coaction.py, a
join on template and widened window) to the projection's pairs, as graph/pipeline/detect.py joins it
(``join_coaction``: a pair in both gets the sum of both weights and one more shared item; co-action
below ``min_weight`` is left out), and scoring gets the behavioural evidence and activity of the
rings' members, with the usage-log model, as the in-process run does.

Ring and operation ids are those of a first run (derived from the members, graph/detection/ring_ids.py):
the job has no earlier run to carry ids over from.

For spark-submit: ``spark-submit graph/spark/job.py detect --bundle DIR --out DIR`` (the package
installed on the executors' Python too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from graph.detection import DetectionParams
from graph.detection.ring_ids import assign_ring_ids
from graph.pipeline.stages import Progress, timed_stage
from graph.pipeline.version import code_version
from graph.scoring import ScoringModel, default_model
from graph.spark.bundle import Bundle, read_bundle
from graph.spark.coaction import coaction_pairs, sent_minutes
from graph.spark.communities import RingPlacement, ring_members
from graph.spark.neighbourhood import account_emails, ring_neighbourhood
from graph.spark.projection import account_activity, account_pairs, read_links, sent_activity
from graph.spark.results import RunResults, write_results_files, write_run_file
from graph.spark.scoring import ring_usage, score_on_driver
from graph.vocabulary import KIND_ORDER

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["JobSummary", "run_job"]



@dataclass(frozen=True)
class JobSummary:
    counts: dict[str, int]
    timings: dict[str, float]
    rejected: dict[str, int]
    unreadable: dict[str, str]
    ring_ids: tuple[str, ...]
    ring_sizes: tuple[int, ...]


@contextmanager
def _stage(spark: SparkSession, timings: dict[str, float], name: str, progress: Progress | None) -> Iterator[None]:
    # The job description names the stage's Spark jobs in an event log, for measuring shuffles per stage.
    spark.sparkContext.setJobDescription(name)
    with timed_stage(timings, name, progress):
        yield


def _rings(members: pd.DataFrame) -> list[tuple[list[str], list[float]]]:
    """Rings as (sorted members, their confidences), ordered as detect_rings orders them: largest
    first, then by smallest member (account ids sort as the in-process account index)."""
    rings = []
    for _, group in members.groupby(["bin", "ring"], sort=False):
        ordered = group.sort_values("account_id")
        rings.append((ordered["account_id"].tolist(), ordered["confidence"].tolist()))
    rings.sort(key=lambda r: (-len(r[0]), r[0][0]))
    return rings


def _store_counts(source: Bundle, read: DataFrame, senders: DataFrame | None,
                  params: DetectionParams) -> dict[str, int]:
    """The input counts the in-process run records: accounts (those of the links it reads, known
    members and co-action's senders), links and entities it reads, weak entities."""
    from pyspark.sql import functions as F  # noqa: N812

    spark = read.sparkSession
    known = spark.createDataFrame([(a,) for a, _ in source.known], "account_id string")
    accounts = read.select("account_id").union(known)
    entities = read.select("kind", "value", "degree").distinct()
    cap = F.element_at(F.array(*[F.lit(params.projection.degree_cap.get(k, 2**31 - 1)) for k in KIND_ORDER]),
                       F.col("kind") + 1)
    return {
        "accounts": (accounts if senders is None else accounts.union(senders)).distinct().count(),
        "links": read.count(),
        "entities": entities.count(),
        "weak_entities": entities.where(F.col("degree") > cap).count(),
    }


def _with_coaction(pairs: DataFrame, coaction: DataFrame, min_weight: float) -> DataFrame:
    """The projection's `pairs` with co-action's added, as graph/projection.py ``with_pairs`` adds them."""
    from pyspark.sql import functions as F  # noqa: N812

    added = coaction.where(F.col("weight") >= min_weight).select("src", "dst", F.col("weight").alias("acted"))
    joined = pairs.join(added, ["src", "dst"], "full_outer")
    return joined.select(
        "src", "dst", (F.coalesce("weight", F.lit(0.0)) + F.coalesce("acted", F.lit(0.0))).alias("weight"),
        (F.coalesce("shared", F.lit(0)) + F.when(F.col("acted").isNotNull(), 1).otherwise(0)).cast("int")
        .alias("shared"))


def run_job(
    spark: SparkSession,
    bundle: Path,
    out: Path,
    params: DetectionParams,
    placement: RingPlacement | None = None,
    progress: Progress | None = None,
    model: ScoringModel | None = None,
) -> JobSummary:
    """Detect rings in the bundle at `bundle` and write them to `out` (created) as the module says;
    `model` scores them (default: the shipped model, for a store with a usage log if the bundle has one)."""
    from pyspark.sql import functions as F  # noqa: N812

    if params.projection.rarity != "fraudar":
        raise ValueError("the Spark job weighs rarity as FRAUDAR does; the idf rarity is not implemented in it")
    placement = placement or RingPlacement()
    buckets = 4 * int(spark.conf.get("spark.sql.shuffle.partitions") or 8)
    timings: dict[str, float] = {}
    cached: list[DataFrame] = []

    def held(frame: DataFrame) -> DataFrame:
        cached.append(frame.cache())
        return cached[-1]

    # Unpersisted when the job ends, however it ends: a cached frame's plan stays in the session until
    # then, and a session that runs the job several times would otherwise run out of driver memory.
    try:
        with _stage(spark, timings, "read", progress):
            source = read_bundle(spark, bundle)
            usage = source.usage
            links = source.links
            cached.append(links)
            read = held(read_links(links))
            minutes = templates = senders = None
            if usage is not None:
                templates = held(usage.templates.where(F.col("senders") <= params.coaction.max_senders))
                minutes = held(sent_minutes(usage.requests, templates, params.coaction))
                senders = minutes.select("account_id").distinct()
            counts = {"bundle_links": links.count(), **_store_counts(source, read, senders, params),
                      "templates": templates.count() if templates is not None else 0}
            if usage is not None:
                counts.update(requests=usage.n_requests, distinct_prompts=usage.n_prompts)
        model = model or default_model(usage_log=usage is not None and usage.n_requests > 0)
        with _stage(spark, timings, "project", progress):
            activity = account_activity(read)
            activity = held(sent_activity(activity, minutes) if minutes is not None else activity)
            pairs = held(account_pairs(read, params.projection, buckets))
            counts["edges"] = pairs.count()
        coaction = None
        counts["coaction_pairs"] = 0
        if minutes is not None:
            # A stage of its own, so that its shuffle (the join on template and window) is measured apart.
            with _stage(spark, timings, "coaction", progress):
                coaction = coaction_pairs(minutes, params.coaction, buckets)
                counts["coaction_pairs"] = coaction.where(F.col("llr") > 0).count()
                pairs = held(_with_coaction(pairs, coaction, params.projection.min_weight))
                counts["edges"] = pairs.count()
        with _stage(spark, timings, "detect", progress):
            members, detected = ring_members(pairs, activity, params, placement, coaction)
        with _stage(spark, timings, "ids", progress):
            rings = _rings(members)
            ids = assign_ring_ids({}, [frozenset(accounts) for accounts, _ in rings]).ids
        with _stage(spark, timings, "score", progress):
            ring_accounts = sorted({a for accounts, _ in rings for a in accounts})
            observations = ring_neighbourhood(source, read, ring_accounts, senders)
            behaviour = (ring_usage(usage, templates, coaction, observations.incidence.account_ids, ring_accounts,
                                    params.coaction)
                         if usage is not None and templates is not None and coaction is not None else None)
            scored = score_on_driver(observations, [a for a, _ in rings], [c for _, c in rings], ids, params, model,
                                     partial(account_emails, source), behaviour)
        counts.update(rings=len(rings), ring_accounts=sum(len(a) for a, _ in rings), **scored.counts, **detected)
        with _stage(spark, timings, "write", progress):
            run = {
                "params": {**params.as_dict(), "scoring_model": model.version}, "code_version": code_version(),
                "bundle_files": list(source.files), "counts": counts, "rejected": source.rejected,
                "unreadable": source.unreadable,
                "spark": {"master": spark.sparkContext.master, "version": spark.version, "buckets": buckets,
                          "bin_accounts": placement.bin_accounts, "giant_size": placement.giant_size},
            }
            explained, operations = scored.explained, scored.operations
            results = RunResults(operations.rings, explained.memberships, explained.ring_attributions,
                                 explained.account_attributions, operations.operations, operations.part_of, run)
            write_results_files(out, results)
    finally:
        for frame in cached:
            frame.unpersist()
    run["timings"] = timings
    write_run_file(out, run)
    return JobSummary(counts, timings, source.rejected, source.unreadable, tuple(ids), tuple(len(a) for a, _ in rings))


if __name__ == "__main__":
    from graph.cli.spark import main

    main()
