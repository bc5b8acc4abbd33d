"""Terminal presentation shared by the CLI commands: progress bars and summary tables.

Everything that comes from data (account and ring ids, organisation names, rejected values, file
paths, error messages) is printed through `literal`: rich markup in it is shown, not obeyed, and
control characters are spelled out. Lines made only of data are printed with markup off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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

from graph.cli.common import literal
from graph.evaluation.reliability import ReliabilityBin
from graph.evaluation.rings import COORDINATED, CohortFalsePositives, RingClassRecall
from graph.ingest.excerpt import printable
from graph.ingest.loader import LoadReport
from graph.records import (
    AccountAttributionView,
    Evidence,
    EvidencePath,
    OperationRecord,
    RingDetail,
    RingSummary,
)

__all__ = [
    "format_path",
    "load_progress",
    "print_account",
    "print_cohort_false_positives",
    "print_load_report",
    "print_metrics",
    "print_recall_by_device_sharing",
    "print_reliability",
    "print_ring",
    "stage_progress",
]

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
            literal(file.name), f"{file.read:,}", f"{file.loaded:,}", f"{file.skipped:,}",
            f"[red]{file.rejected:,}[/]" if file.rejected else "0", f"{rate:,.0f}",
        )
    console.print(table)
    console.print(f"IP addresses enriched from ranges: {report.enriched_ips:,}; took {report.seconds:.1f} s")
    for file in report.files:
        if file.error:
            console.print(f"[bold red]{literal(file.path)}: not loaded:[/] {literal(file.error)}")
    rejects = [r for f in report.files for r in f.rejects]
    for reject in rejects[:_MAX_REJECTS_SHOWN]:
        console.print(f"[yellow]rejected[/] {literal(reject)}")
    if len(rejects) > _MAX_REJECTS_SHOWN:
        console.print(f"... and {len(rejects) - _MAX_REJECTS_SHOWN:,} more")
    if report.rejects_path:
        console.print(f"every rejected row, with its reason: {literal(report.rejects_path)}")


def format_path(path: EvidencePath) -> str:
    """A path as Cypher-like text an analyst can read and turn into a MATCH."""
    def node(index: int) -> str:
        n = path.nodes[index]
        return f"({n.label} {n.value})"

    parts = [node(0)]
    position = 0
    for rel in path.relationships:
        seen = ""
        if rel.first_seen:
            seen = f" {rel.first_seen[:16]}" + (f"..{rel.last_seen[:16]}" if rel.last_seen else "")
            seen += f" x{rel.count}" if rel.count else ""
        label = f"[:{rel.type}{seen}]"
        if rel.start == position:
            parts.append(f"-{label}->")
            position = rel.end
        else:
            parts.append(f"<-{label}-")
            position = rel.start
        parts.append(node(position))
    return "".join(parts)


def _evidence_lines(items: tuple[Evidence, ...], top: int) -> list[str]:
    lines = []
    for item in items[:top]:
        sign = "+" if item.llr >= 0 else "-"
        bar = "█" * max(1, round(item.share * 20))
        lines.append(f"  {sign}{abs(item.llr):5.2f} {bar:<20} {item.sentence}")
        lines.extend(f"         path: {format_path(p)}" for p in item.paths[:2])
    return [printable(line) for line in lines]  # printed with markup off


def print_ring(console: Console, rank: int, detail: RingDetail, evidence: int) -> None:
    summary = detail.summary
    organization = literal(summary.organization)
    who = (
        f"attributed to [bold]{organization}[/] ({summary.attribution_confidence:.2f})"
        if summary.organization and (summary.attribution_confidence or 0.0) >= 0.5
        else (f"best candidate {organization} ({summary.attribution_confidence:.2f})"
              if summary.organization else "no organisation in evidence")
    )
    console.print(
        f"[bold]#{rank} {literal(summary.ring_id)}[/]  {summary.size} accounts  "
        f"coordination [bold]{summary.score:.3f}[/]  {who}"
    )
    if summary.activity:
        console.print(f"  activity: {literal(summary.activity)}", highlight=False)
    if summary.operation_id:
        console.print(f"  {_window(summary.active_from, summary.active_to)}operation {literal(summary.operation_id)}",
                      highlight=False)
    for line in _evidence_lines(detail.coordination_evidence, evidence):
        console.print(line, highlight=False, markup=False)
    if detail.attributions and evidence:
        top = detail.attributions[0]
        console.print(f"  why {literal(top.organization)}:", highlight=False)
        for line in _evidence_lines(top.evidence, evidence):
            console.print(line, highlight=False, markup=False)


def _window(start: str | None, end: str | None) -> str:
    return f"active {start[:10]} .. {end[:10]}, " if start and end else ""


def print_operation(console: Console, rank: int, operation: OperationRecord, rings: Sequence[RingSummary],
                    ties: int) -> None:
    """An operation: its campaigns in the order they ran, and the ties that group them."""
    confidence = operation.attribution_confidence
    who = (f"best attribution [bold]{literal(operation.organization)}[/] ({confidence:.2f})"
           if operation.organization and confidence is not None else "no organisation in evidence")
    console.print(
        f"[bold]#{rank} {literal(operation.operation_id)}[/]  {operation.campaigns} campaign"
        f"{'s' if operation.campaigns != 1 else ''}, {operation.size} accounts  "
        f"highest coordination [bold]{operation.score:.3f}[/]  {who}"
    )
    by_id = {r.ring_id: r for r in rings}
    for ring_id in operation.ring_ids:
        ring = by_id.get(ring_id)
        if ring is not None:
            window = _window(ring.active_from, ring.active_to)
            console.print(f"  {window}{literal(ring.ring_id)}: {ring.size} accounts, coordination {ring.score:.3f}",
                          highlight=False)
    for tie in operation.ties[:ties]:
        console.print(printable(f"  tie ({tie.kind}): {tie.sentence}"), highlight=False, markup=False)
        for path in tie.paths[:1]:
            console.print(printable(f"         path: {format_path(path)}"), highlight=False, markup=False)


def print_account(console: Console, view: AccountAttributionView, ring: RingDetail | None, evidence: int) -> None:
    console.rule(f"account {literal(view.account_id)}")
    if view.run_id is None:
        console.print("no detection run yet: run `ringtrace detect`")
        return
    if view.ring is not None:
        console.print(
            f"member of [bold]{literal(view.ring.ring_id)}[/] ({view.ring.size} accounts, coordination "
            f"{view.ring.score:.3f}) with membership confidence {view.membership_confidence:.2f} "
            f"in {literal(view.run_id)}"
        )
    else:
        console.print(f"in no ring of {literal(view.run_id)}")
    if not view.attributions:
        console.print("not attributed to any organisation")
    for attribution in view.attributions:
        console.print(
            f"[bold]{literal(attribution.organization)}[/]: confidence {attribution.confidence:.3f} "
            f"(prior log-odds {attribution.prior_llr:+.2f}, evidence below adds up to the rest)"
        )
        for line in _evidence_lines(attribution.evidence, evidence):
            console.print(line, highlight=False, markup=False)
    if ring is not None:
        console.print(
            f"why {literal(ring.summary.ring_id)} looks operated together (score {ring.summary.score:.3f}):"
        )
        if ring.summary.activity:
            console.print(f"  activity: {literal(ring.summary.activity)}", highlight=False)
        for line in _evidence_lines(ring.coordination_evidence, evidence):
            console.print(line, highlight=False, markup=False)


def print_metrics(
    console: Console, title: str, rows: Sequence[tuple[str, ...]], columns: Sequence[str] = ("value",)
) -> None:
    table = Table(title=literal(title))  # titles name runs and files
    table.add_column("metric")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(literal(cell) for cell in row))
    console.print(table)


def print_reliability(console: Console, title: str, bins: list[ReliabilityBin]) -> None:
    table = Table(title=literal(title))  # titles name runs and files
    for column in ("predicted", "count", "mean predicted", "observed rate"):
        table.add_column(column, justify="right")
    for b in bins:
        if b.count:
            table.add_row(f"{b.lower:.1f}-{b.upper:.1f}", f"{b.count:,}", f"{b.mean_predicted:.3f}",
                          f"{b.observed_rate:.3f}")
    console.print(table)


def print_recall_by_device_sharing(console: Console, classes: Sequence[RingClassRecall]) -> None:
    """A row per class of true ring: whose members share a device or card, and whose share neither."""
    table = Table(
        title="recall of true rings, by whether their members share a device or card",
        caption="share: one device or card is linked to two or more members (as observed in Neo4j); "
                "recovered: some detected ring has Jaccard >= 0.5 with the true ring",
    )
    table.add_column("members share", no_wrap=True)  # the numbers' headers wrap instead
    for column in ("true rings", "recovered", "recall", f"recovered (scored >= {COORDINATED})",
                   f"recall (scored >= {COORDINATED})"):
        table.add_column(column, justify="right")
    for c in classes:
        # An empty class has no recall; 0.000 would read as every ring missed.
        recall, coordinated = (f"{c.recall:.3f}", f"{c.recall_coordinated:.3f}") if c.true_rings else ("-", "-")
        table.add_row(
            "a device or card" if c.shares_device_or_card else "no device or card",
            f"{c.true_rings:,}", f"{c.recovered:,}", recall, f"{c.recovered_coordinated:,}", coordinated,
        )
    console.print(table)


def print_cohort_false_positives(console: Console, cohorts: Sequence[CohortFalsePositives]) -> None:
    """A row per cohort of accounts in no true ring: how many detection placed in any ring, and in a
    ring scored coordinated (the cohort's false-positive rate)."""
    table = Table(
        title="false positives per cohort (accounts in no true ring)",
        caption=f"FP rate: share of the cohort in a ring scored >= {COORDINATED}; "
                "operators' accounts outside their rings are left out",
    )
    table.add_column("cohort", no_wrap=True)
    for column in ("accounts", "placed in any ring", "share", f"in a ring scored >= {COORDINATED}", "FP rate"):
        table.add_column(column, justify="right")
    for c in cohorts:
        table.add_row(
            literal(c.cohort) if c.cohort else "(no cohort)", f"{c.accounts:,}",
            f"{c.placed:,}", f"{c.placed_rate:.2%}", f"{c.placed_coordinated:,}", f"{c.false_positive_rate:.2%}",
        )
    console.print(table)
