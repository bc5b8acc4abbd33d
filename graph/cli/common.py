"""What every command module of the CLI shares: the console, the error exit, the run to read, and
`literal`, the one way text from data or from the user reaches the console."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape

import neo4j
from graph.errors import RingtraceError
from graph.ingest.card_numbers import mask_card_numbers
from graph.ingest.excerpt import printable

if TYPE_CHECKING:
    from graph.detection import DetectionParams

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


#: The co-action options `ringtrace detect` and `ringtrace spark detect` share, so both runs can be
#: given the same co-action (None: the default in graph/behaviour/coaction.py).
CoactionWindow = Annotated[
    int | None, typer.Option(min=1, help="Co-action: minutes within which two accounts' requests meet (10).")]
CoactionDays = Annotated[
    int | None, typer.Option(min=1, help="Co-action: distinct days a pair must meet on to count (3).")]


def with_coaction(params: DetectionParams, window: int | None, days: int | None) -> DetectionParams:
    """`params` with the co-action options given on the command line."""
    return replace(params, coaction=replace(
        params.coaction, window_minutes=window or params.coaction.window_minutes,
        min_days=days or params.coaction.min_days))
