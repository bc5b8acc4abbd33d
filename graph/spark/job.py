"""The detection job on Spark: bundle → aggregated links → projection → components → rings → Parquet.

The stages are the in-process run's first ones (graph/pipeline/detect.py: read, project, detect,
stabilise, ids), each materialised and timed so a run reports where its time went. It writes to `out`:

- ``memberships.parquet``: ``account_id, ring_id, membership_confidence``;
- ``rings.parquet``: ``ring_id, size``;
- ``run.json``: parameters, code version, counts, stage timings, rejected rows per file.

Ring ids are those a first run gives (derived from the members, graph/detection/ring_ids.py); carrying
over an earlier run's ids needs that run's rings and is left to the write-back. Not computed yet:
co-action (a bundle with a usage log is refused), scores, attributions, evidence and operations.

For spark-submit: ``spark-submit graph/spark/job.py detect --bundle DIR --out DIR`` (the package
installed on the executors' Python too).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from graph.detection import DetectionParams
from graph.detection.ring_ids import assign_ring_ids
from graph.pipeline.version import code_version
from graph.spark.bundle import read_bundle_links
from graph.spark.communities import RingPlacement, ring_members
from graph.spark.projection import account_activity, account_pairs, read_links

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

__all__ = ["MEMBERSHIPS_FILE", "RINGS_FILE", "RUN_FILE", "JobSummary", "run_job"]

MEMBERSHIPS_FILE: Final = "memberships.parquet"
RINGS_FILE: Final = "rings.parquet"
RUN_FILE: Final = "run.json"

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class JobSummary:
    counts: dict[str, int]
    timings: dict[str, float]
    rejected: dict[str, int]
    ring_ids: tuple[str, ...]
    ring_sizes: tuple[int, ...]


@contextmanager
def _stage(spark: SparkSession, timings: dict[str, float], name: str, progress: Progress | None) -> Iterator[None]:
    # The job description names the stage's Spark jobs in an event log, for measuring shuffles per stage.
    spark.sparkContext.setJobDescription(name)
    if progress is not None:
        progress(name, 0.0)
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)
    if progress is not None:
        progress(name, 1.0)


def _rings(members: pd.DataFrame) -> list[tuple[list[str], list[float]]]:
    """Rings as (sorted members, their confidences), ordered as detect_rings orders them: largest
    first, then by smallest member (account ids sort as the in-process account index)."""
    rings = []
    for _, group in members.groupby(["bin", "ring"], sort=False):
        ordered = group.sort_values("account_id")
        rings.append((ordered["account_id"].tolist(), ordered["confidence"].tolist()))
    rings.sort(key=lambda r: (-len(r[0]), r[0][0]))
    return rings


def run_job(
    spark: SparkSession,
    bundle: Path,
    out: Path,
    params: DetectionParams,
    placement: RingPlacement | None = None,
    progress: Progress | None = None,
) -> JobSummary:
    """Detect rings in the bundle at `bundle` and write them to `out` (created) as the module says."""
    if params.projection.rarity != "fraudar":
        raise ValueError("the Spark job weighs rarity as FRAUDAR does; the idf rarity is not implemented in it")
    placement = placement or RingPlacement()
    buckets = 4 * int(spark.conf.get("spark.sql.shuffle.partitions") or 8)
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    with _stage(spark, timings, "read", progress):
        bundle_links = read_bundle_links(spark, bundle)
        links = bundle_links.links.cache()
        counts["links"] = links.count()
    with _stage(spark, timings, "project", progress):
        read = read_links(links).cache()
        counts["read_links"] = read.count()
        activity = account_activity(read).cache()
        pairs = account_pairs(read, params.projection, buckets).cache()
        counts["edges"] = pairs.count()
    with _stage(spark, timings, "detect", progress):
        members, detected = ring_members(pairs, activity, params, placement)
        counts.update(detected)
    with _stage(spark, timings, "ids", progress):
        rings = _rings(members)
        ids = assign_ring_ids({}, [frozenset(accounts) for accounts, _ in rings]).ids
    with _stage(spark, timings, "write", progress):
        out.mkdir(parents=True, exist_ok=True)
        ring_of = [ring_id for ring_id, (accounts, _) in zip(ids, rings, strict=True) for _ in accounts]
        pq.write_table(pa.table({
            "account_id": pa.array([a for accounts, _ in rings for a in accounts], pa.string()),
            "ring_id": pa.array(ring_of, pa.string()),
            "membership_confidence": pa.array([c for _, conf in rings for c in conf], pa.float64()),
        }), out / MEMBERSHIPS_FILE)
        pq.write_table(pa.table({"ring_id": pa.array(list(ids), pa.string()),
                                 "size": pa.array([len(a) for a, _ in rings], pa.int32())}), out / RINGS_FILE)
    counts["rings"] = len(rings)
    counts["ring_accounts"] = len(ring_of)
    record: dict[str, Any] = {
        "params": params.as_dict(), "code_version": code_version(), "bundle_files": list(bundle_links.files),
        "counts": counts, "timings": timings, "rejected": bundle_links.rejected,
        "spark": {"master": spark.sparkContext.master, "version": spark.version, "buckets": buckets,
                  "bin_accounts": placement.bin_accounts, "giant_size": placement.giant_size},
    }
    (out / RUN_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return JobSummary(counts, timings, bundle_links.rejected, tuple(ids), tuple(len(a) for a, _ in rings))


if __name__ == "__main__":
    from graph.cli.spark import main

    main()
