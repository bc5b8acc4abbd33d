"""Terminal presentation shared by the CLI commands: progress bars and summary tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from graph.ingest.loader import LoadReport

__all__ = ["load_progress", "print_load_report", "stage_progress"]

_MAX_REJECTS_SHOWN = 10


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def stage_progress(console: Console, title: str) -> Iterator[Callable[[str, float], None]]:
    """A bar per stage; the callback takes (stage, fraction done)."""
    tasks: dict[str, TaskID] = {}
    with _progress(console) as progress:

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=100)
            progress.update(tasks[stage], completed=round(100 * min(max(fraction, 0.0), 1.0)))

        yield report


@contextmanager
def load_progress(console: Console) -> Iterator[Callable[[str, int, int | None], None]]:
    """A bar per bundle file; the callback takes (file, rows read, rows in total or None)."""
    tasks: dict[str, TaskID] = {}
    with _progress(console) as progress:

        def report(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total if total else None)

        yield report


def print_load_report(console: Console, report: LoadReport) -> None:
    table = Table(title="load summary")
    for column in ("file", "read", "loaded", "skipped (seen before)", "rejected", "rows/s"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for file in report.files:
        rate = file.read / file.seconds if file.seconds > 0 else 0.0
        table.add_row(
            file.name, f"{file.read:,}", f"{file.loaded:,}", f"{file.skipped:,}",
            f"[red]{file.rejected:,}[/]" if file.rejected else "0", f"{rate:,.0f}",
        )
    console.print(table)
    console.print(f"IP addresses enriched from ranges: {report.enriched_ips:,}; took {report.seconds:.1f} s")
    for file in report.files:
        if file.error:
            console.print(f"[bold red]{file.path}: not loaded:[/] {file.error}")
    rejects = [r for f in report.files for r in f.rejects]
    for reject in rejects[:_MAX_REJECTS_SHOWN]:
        console.print(f"[yellow]rejected[/] {reject}")
    if len(rejects) > _MAX_REJECTS_SHOWN:
        console.print(f"... and {len(rejects) - _MAX_REJECTS_SHOWN:,} more")
    if report.rejects_path:
        console.print(f"every rejected row, with its reason: {report.rejects_path}")
