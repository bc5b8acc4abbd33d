"""`ringtrace`: the command line (DESIGN.md §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import neo4j
from graph import local_server
from graph.db import create_driver
from graph.errors import RingtraceError
from graph.settings import get_settings

__all__ = ["app", "main"]

console = Console()
app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Find and attribute rings of coordinated accounts in Neo4j.",
)
neo4j_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The local development Neo4j server.")
schema_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Constraints and indexes.")
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(schema_app, name="schema")

EXIT_REJECTED_ROWS = 3


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[bold red]error:[/] {error}")
    return typer.Exit(1)


@neo4j_app.command("start")
def neo4j_start(timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt.")] = 180.0) -> None:
    """Start the local Neo4j (fetching it from Maven Central on first use) and wait until Bolt answers."""
    settings = get_settings()
    was = local_server.status(settings)
    try:
        with console.status("starting Neo4j (the first start fetches it with Maven)..."):
            now = local_server.start(settings, timeout=timeout)
    except RingtraceError as error:
        raise _fail(error) from error
    verb = "already running" if was.running and was.bolt_answers else "started"
    console.print(f"Neo4j {verb}: pid {now.pid}, {now.bolt_uri}, data in {now.home}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j; no process is left behind."""
    stopped = local_server.stop(get_settings())
    console.print("Neo4j stopped" if stopped else "Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs and answers on Bolt."""
    now = local_server.status(get_settings())
    if not now.running:
        console.print("Neo4j is not running")
        raise typer.Exit(1)
    rss = f", {now.rss_mib:.0f} MiB resident" if now.rss_mib is not None else ""
    answers = "answers" if now.bolt_answers else "does not answer"
    console.print(f"Neo4j runs: pid {now.pid}{rss}; Bolt at {now.bolt_uri} {answers}")
    if not now.bolt_answers:
        raise typer.Exit(1)


@schema_app.command("apply")
def schema_apply() -> None:
    """Create the constraints and indexes that are missing (idempotent)."""
    from graph.schema import apply_schema

    settings = get_settings()
    with create_driver(settings) as driver:
        report = apply_schema(driver, settings.neo4j_database)
    console.print(
        f"schema: {len(report.created)} created, {len(report.existing)} already present"
        + (f" (created: {', '.join(report.created)})" if report.created else "")
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Directory to write the bundle and truth.csv to.")],
    accounts: Annotated[int, typer.Option(min=50, help="Number of accounts.")] = 20000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
) -> None:
    """Write a synthetic population (bundle + truth.csv) with rings, camouflage and legitimate sharing."""
    from graph.console import stage_progress
    from graph.generator import generate_population

    with stage_progress(console, "generating") as progress:
        summary = generate_population(out, accounts, seed, progress=progress)
    table = Table(title=f"population in {out} (seed {seed})")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.files.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    cohorts = ", ".join(f"{name} {count:,}" for name, count in sorted(summary.cohorts.items()))
    console.print(
        f"{summary.accounts:,} accounts, {summary.links:,} links, {summary.rings} rings "
        f"({summary.ring_accounts:,} ring accounts), {summary.organizations} organisations; cohorts: {cohorts}"
    )


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Bundle directory (accounts, links, known, ip_ranges).")],
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows are written (default DIR/rejects.csv).")
    ] = None,
) -> None:
    """Load an input bundle; idempotent. Exit code 3 when some rows were rejected."""
    from graph.console import load_progress, print_load_report
    from graph.ingest.loader import load_bundle

    settings = get_settings()
    try:
        with create_driver(settings) as driver, load_progress(console) as progress:
            report = load_bundle(
                driver, settings.neo4j_database, directory, rejects_path=rejects, progress=progress
            )
    except RingtraceError as error:
        raise _fail(error) from error
    print_load_report(console, report)
    if not report.ok:
        raise typer.Exit(1)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_ROWS)


def main() -> None:
    """Console entry point: errors a user can act on are printed as one line, not a traceback."""
    try:
        app()
    except neo4j.exceptions.ServiceUnavailable as error:
        settings = get_settings()
        console.print(
            f"[bold red]error:[/] cannot reach Neo4j at {settings.neo4j_uri} ({error}). "
            "Start the local server with `ringtrace neo4j start`, or set NEO4J_URI."
        )
        raise SystemExit(1) from None
    except neo4j.exceptions.AuthError:
        console.print("[bold red]error:[/] Neo4j refused the credentials; check NEO4J_USER and NEO4J_PASSWORD.")
        raise SystemExit(1) from None
    except RingtraceError as error:
        console.print(f"[bold red]error:[/] {error}")
        raise SystemExit(1) from None
