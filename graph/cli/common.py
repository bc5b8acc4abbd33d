"""What every command module of the CLI shares: the console, the error exit, the run to read."""

from __future__ import annotations

from typing import Final

import typer
from rich.console import Console

import neo4j
from graph.errors import RingtraceError

__all__ = ["EXIT_REJECTED_ROWS", "console", "fail", "run_or_latest"]

console = Console()

EXIT_REJECTED_ROWS: Final = 3


def fail(error: Exception) -> typer.Exit:
    """Print `error` as one line; the caller raises the returned exit (code 1)."""
    console.print(f"[bold red]error:[/] {error}")
    return typer.Exit(1)


def run_or_latest(driver: neo4j.Driver, database: str, run: str | None) -> str:
    """The run `--run` names (which must exist), else the latest completed one; exit 1 when there is none."""
    from graph.store.results import resolve_run

    run_id = resolve_run(driver, database, run, cached=False)
    if run_id is None:
        raise fail(RingtraceError("no completed detection run yet; run `ringtrace detect` first"))
    return run_id
