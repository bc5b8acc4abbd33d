"""`ringtrace spark ...`: the detection job on Apache Spark (extra ``spark``), for data beyond one machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graph.cli.common import CoactionDays, CoactionWindow, console, fail, literal, with_coaction
from graph.detection import DEFAULT_MIN_SIZE
from graph.errors import RingtraceError

__all__ = ["detect", "main", "spark_app", "write_back"]

spark_app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                        help="Detection as an Apache Spark job (pip install 'ringtrace[spark]').")


@spark_app.command("detect")
def detect(
    bundle: Annotated[Path, typer.Option(help="The input bundle's directory (accounts, links, ip_ranges, ...).")],
    out: Annotated[Path, typer.Option(help="Directory to write memberships.parquet, rings.parquet and run.json to.")],
    seed: Annotated[int, typer.Option(help="Random seed of community detection.")] = 42,
    resolution: Annotated[float | None, typer.Option(help="Resolution (CPM: minimum density).")] = None,
    min_size: Annotated[int, typer.Option(min=2, help="Smallest ring, in accounts.")] = DEFAULT_MIN_SIZE,
    method: Annotated[str | None, typer.Option(help="leiden-cpm, leiden-modularity, louvain or plm.")] = None,
    coaction_window: CoactionWindow = None,
    coaction_days: CoactionDays = None,
    master: Annotated[str | None, typer.Option(
        help="Spark master; default: spark-submit's, else local[2].")] = None,
    shuffle_partitions: Annotated[int, typer.Option(min=1, help="spark.sql.shuffle.partitions.")] = 8,
    bin_accounts: Annotated[int, typer.Option(
        min=1, help="Accounts per community-detection task: small components are packed into bins of this size.")
    ] = 50_000,
    giant_size: Annotated[int, typer.Option(
        min=1, help="Components above this many accounts are detected on the driver, not in a task.")
    ] = 1_000_000,
    model: Annotated[Path | None, typer.Option(
        help="Scoring model JSON (default: the shipped model, for data with a usage log if the bundle has one).")
    ] = None,
) -> None:
    """Detect, score and attribute rings in a bundle on Spark, as `ringtrace load` + `ringtrace detect`
    would (shared identifiers and, with a usage log, co-action and behaviour); results as Parquet."""
    from graph.cli.render import stage_progress
    from graph.detection import DetectionParams
    from graph.scoring import load_model
    from graph.spark.communities import RingPlacement
    from graph.spark.session import require_pyspark, spark_session

    try:
        require_pyspark("ringtrace spark detect")
        params = DetectionParams.for_method(method, resolution=resolution, seed=seed, min_size=min_size)
        params = with_coaction(params, coaction_window, coaction_days)
        placement = RingPlacement(bin_accounts=bin_accounts, giant_size=giant_size)
        scoring = load_model(model) if model is not None else None
    except (ValueError, OSError, RingtraceError) as error:
        raise fail(error) from None
    from graph.spark.job import run_job

    spark = spark_session("ringtrace-detect", master, {"spark.sql.shuffle.partitions": str(shuffle_partitions)})
    try:
        with stage_progress(console, "detecting on Spark") as progress:
            summary = run_job(spark, bundle, out, params, placement, progress, scoring)
    except (ValueError, RingtraceError) as error:
        raise fail(error) from None
    finally:
        spark.stop()
    counts = summary.counts
    console.print(f"{counts['accounts']:,} accounts, {counts['links']:,} links, {counts['entities']:,} entities "
                  f"({counts['weak_entities']:,} too widely shared to link accounts), {counts['edges']:,} account "
                  f"pairs; components in {counts['component_rounds']} rounds")
    console.print(f"{counts['rings']:,} rings holding {counts['ring_accounts']:,} accounts; "
                  f"{counts['coordinated_rings']:,} scored coordinated (>= 0.5), {counts['attributed_rings']:,} "
                  f"attributed (>= 0.5); {counts['operations']:,} operations; written to {literal(out)}")
    console.print("record them in Neo4j with `ringtrace spark write-back " + literal(out) + "`")
    for name, rows in sorted(summary.rejected.items()):
        console.print(f"{literal(name)}: {rows:,} rows rejected")
    for name, why in sorted(summary.unreadable.items()):
        console.print(f"[bold red]{literal(name)} not read:[/] {literal(why)}")
    console.print("seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.timings.items()))


@spark_app.command("write-back")
def write_back(
    results: Annotated[Path, typer.Argument(help="The output directory of `ringtrace spark detect`.")],
) -> None:
    """Record a Spark job's results in Neo4j as a completed DetectionRun, served like any run."""
    from graph.errors import DetectionRunningError
    from graph.pipeline.spark_results import record_results_directory
    from graph.settings import get_settings
    from graph.store.driver import create_driver

    settings = get_settings()
    try:
        with create_driver(settings) as driver:
            run_id = record_results_directory(driver, settings.neo4j_database, results)
    except (DetectionRunningError, OSError, ValueError) as error:
        raise fail(error) from None
    console.print(f"run [bold]{literal(run_id)}[/] recorded from {literal(results)}")


def main() -> None:
    """`spark-submit graph/spark/job.py detect ...`: the same command, errors as one line."""
    try:
        spark_app()
    except RingtraceError as error:
        console.print(f"[bold red]error:[/] {literal(error)}")
        raise SystemExit(1) from None
