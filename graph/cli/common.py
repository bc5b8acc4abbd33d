"""What every command module of the CLI shares: the console, the error exit, the run to read, and
`literal`, the one way text from data or from the user reaches the console."""

from __future__ import annotations

from typing import Final

import typer
from rich.console import Console
from rich.markup import escape

import neo4j
from graph.errors import RingtraceError
from graph.ingest.card_numbers import mask_card_numbers
from graph.ingest.excerpt import printable

__all__ = ["EXIT_REJECTED_ROWS", "console", "fail", "literal", "run_or_latest"]

# No emoji codes: `:warning:` in an organisation name would print as a sign we did not write.
console = Console(emoji=False)

EXIT_REJECTED_ROWS: Final = 3


def literal(value: object) -> str:
    """`value` as console markup that prints as it is: `[/]` or `[bold]` in an account id, a rejected
    value or an organisation name is shown, never obeyed (or crashing rich), control characters
    (terminal escape sequences) are spelled out, and card numbers (an id typed on the command line)
    are masked."""
    return escape(mask_card_numbers(printable(str(value))))


def fail(error: Exception) -> typer.Exit:
    """Print `error` as one line; the caller raises the returned exit (code 1)."""
    console.print(f"[bold red]error:[/] {literal(error)}")
    return typer.Exit(1)


def run_or_latest(driver: neo4j.Driver, database: str, run: str | None) -> str:
    """The run `--run` names (which must exist), else the latest completed one; exit 1 when there is none."""
    from graph.store.results import resolve_run

    run_id = resolve_run(driver, database, run, cached=False)
    if run_id is None:
        raise fail(RingtraceError("no completed detection run yet; run `ringtrace detect` first"))
    return run_id
