"""The commands that bring data in: `generate` a synthetic population, `load` or `import` a bundle,
`import-dataset`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from graph.cli.common import EXIT_REJECTED_ROWS, console, fail, literal
from graph.errors import RingtraceError
from graph.settings import get_settings
from graph.store.driver import create_driver

__all__ = ["generate", "import_command", "import_dataset_command", "load"]


def generate(
    out: Annotated[Path, typer.Option(help="Directory to write the bundle and truth.csv to.")],
    accounts: Annotated[int, typer.Option(min=50, help="Number of accounts.")] = 20000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    events_per_account: Annotated[
        float, typer.Option(min=0.0, help="Usage-log requests per account on average (0: no events.csv).")
    ] = 100.0,
    compress_events: Annotated[
        bool, typer.Option(help="Write events.csv.gz: 5x smaller, a quarter slower (use it for 10^8 events).")
    ] = False,
) -> None:
    """Write a synthetic population (bundle + truth.csv) with rings, camouflage, legitimate sharing and a usage log."""
    from graph.cli.render import stage_progress
    from graph.generator import generate_population

    with stage_progress(console, "generating") as progress:
        summary = generate_population(
            out,
            accounts,
            seed,
            progress=progress,
            events_per_account=events_per_account,
            compress_events=compress_events,
        )
    table = Table(title=f"population in {literal(out)} (seed {seed})")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.files.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    cohorts = Table(title="cohorts")
    cohorts.add_column("cohort")
    cohorts.add_column("accounts", justify="right")
    cohorts.add_column("kind")
    for name, count in summary.cohorts.items():
        cohorts.add_row(name, f"{count:,}", _COHORT_KINDS.get(name, "benign"))
    console.print(cohorts)
    kinds = ", ".join(f"{name} {count:,}" for name, count in (summary.ring_kinds or {}).items())
    console.print(
        f"{summary.accounts:,} accounts, {summary.links:,} links, {summary.events:,} events; "
        f"{summary.rings} rings ({summary.ring_accounts:,} ring accounts) run by {summary.operations} operations, "
        f"{summary.organizations} organisations; rings: {kinds}"
    )


_COHORT_KINDS = {
    "ring": "operated (in a ring)",
    "prior_case": "operated (an earlier case)",
    "student": "hard negative: a class on one assignment",
    "researcher": "hard negative: public benchmarks",
    "pipeline": "hard negative: an API pipeline",
    "team": "hard negative: a team's assistant",
}


def load(
    directory: Annotated[Path, typer.Argument(help="Bundle directory (accounts, links, known, ip_ranges).")],
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows are written (default DIR/rejects.csv).")
    ] = None,
) -> None:
    """Load an input bundle; idempotent. Exit code 3 when some rows were rejected."""
    from graph.cli.render import load_progress, print_load_report
    from graph.ingest.loader import load_bundle
    from graph.store.schema import require_schema

    settings = get_settings()
    try:
        with create_driver(settings) as driver:
            # Before any write: without the key constraints concurrent MERGEs could split a node in two.
            require_schema(driver, settings.neo4j_database)
            with load_progress(console) as progress:
                report = load_bundle(
                    driver, settings.neo4j_database, directory, rejects_path=rejects, progress=progress
                )
    except RingtraceError as error:
        raise fail(error) from error
    print_load_report(console, report)
    if not report.ok:
        raise typer.Exit(1)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_ROWS)


def import_dataset_command(
    name: Annotated[str, typer.Argument(help="A dataset adapter: paysim, fraud_ecommerce, datastax, ...")],
    source: Annotated[Path, typer.Argument(help="The dataset's folder (e.g. ../shared/datasets/paysim_neo4j_apac).")],
    out: Annotated[Path, typer.Argument(help="Directory for the input bundle and truth.csv.")],
) -> None:
    """Turn a public dataset into an input bundle (+ truth.csv) that `ringtrace load` and `eval` take."""
    from graph.datasets import ADAPTERS, import_dataset

    if name not in ADAPTERS:
        raise fail(ValueError(f"unknown dataset {name!r}; choose one of {', '.join(sorted(ADAPTERS))}"))
    try:
        summary = import_dataset(name, source, out)
    except (FileNotFoundError, ValueError) as error:
        raise fail(error) from error
    console.print(literal(summary.describe()))


def import_command(
    directory: Annotated[Path, typer.Argument(help="Bundle directory, as for `ringtrace load`.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Only write the import files here and print the neo4j-admin command (another host)."),
    ] = None,
    finish: Annotated[
        bool, typer.Option("--finish", help="After that command ran: schema, then the rest of the bundle online.")
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows are written (default DIR/rejects.csv, OUT/rejects.csv).")
    ] = None,
) -> None:
    """First load of a bundle into an empty database with the offline importer (measured 2.4-2.8x `load` at 1M).

    The IP ranges, accounts and links go through `neo4j-admin database import full` (the local server is
    stopped and started again; its database must be empty); known members and the usage log are then
    loaded online. Validation, rejects and counting are those of `load`, so a later `load` counts only
    what is new. Exit code 3 when some rows were rejected.
    """
    from graph.cli.render import load_progress, print_load_report
    from graph.ingest.first_load import finish_import, import_bundle, write_bundle_files

    if out is not None and finish:
        raise fail(ValueError("--out writes the files for another host; --finish runs after their import there"))
    settings = get_settings()
    try:
        with load_progress(console) as progress:
            if out is not None:
                files, reports, command = write_bundle_files(
                    directory, out, settings.neo4j_database, rejects_path=rejects, progress=progress)
            elif finish:
                report = finish_import(settings, directory, rejects_path=rejects, progress=progress)
            else:
                imported = import_bundle(settings, directory, rejects_path=rejects, progress=progress)
                report = imported.load
    except RingtraceError as error:
        raise fail(error) from error
    if out is not None:
        rejected = sum(r.rejected for r in reports)
        console.print(f"import files for {files.accounts:,} accounts, {files.entities:,} entities and "
                      f"{files.links:,} account-entity relationships in {literal(out)}; {rejected:,} rows rejected")
        console.print(f"On the database host: make sure database {literal(settings.neo4j_database)} is empty "
                      "(MATCH (n) RETURN count(n) gives 0), stop the server, then run this; it replaces the "
                      "database's store:")
        console.print(literal(command), markup=False, highlight=False, soft_wrap=True)
        console.print(f"then start the server and run: ringtrace import {literal(directory)} --finish; "
                      f"afterwards delete {literal(out)}: it holds account ids and identifiers")
        if rejected:
            raise typer.Exit(EXIT_REJECTED_ROWS)
        return
    if not finish:
        stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in imported.seconds.items())
        rows = sum(f.read for f in report.files if f.name == "links")
        total = sum(imported.seconds.values())
        console.print(f"imported {imported.files.accounts:,} accounts, {imported.files.entities:,} entities and "
                      f"{imported.files.links:,} account-entity relationships in {total:.0f} s "
                      f"({rows / max(total, 1e-9):,.0f} links rows/s); {stages}")
    print_load_report(console, report)
    if not report.ok:
        raise typer.Exit(1)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_ROWS)
