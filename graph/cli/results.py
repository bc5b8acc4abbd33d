"""The commands that read a detection run back: `rings`, `operations`, `explain` an account, `export` CSV, `eval`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from graph.cli.common import console, fail, literal, run_or_latest
from graph.errors import NotFoundError, RunNotCompletedError
from graph.settings import get_settings
from graph.store.driver import create_driver

__all__ = ["evaluate", "explain", "export", "operations", "rings", "run_read_errors"]


@contextmanager
def run_read_errors() -> Iterator[None]:
    """Exit 1 with one line for a `--run` that names no run, or a run that is running or failed.

    Around the run's resolution, before any output is written: a typo must not leave empty export
    files behind with exit code 0, nor a half-written run pass for a result.
    """
    try:
        yield
    except (NotFoundError, RunNotCompletedError) as error:
        raise fail(error) from None


def rings(
    top: Annotated[int, typer.Option(min=1, help="How many rings to show.")] = 10,
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
    evidence: Annotated[int, typer.Option(min=0, help="Evidence items shown per ring.")] = 3,
) -> None:
    """The rings of a run, highest coordination score first, with attribution and top evidence."""
    from graph.cli.render import print_ring
    from graph.store.results import list_rings, ring_detail

    settings = get_settings()
    with create_driver(settings) as driver, run_read_errors():
        run_id = run_or_latest(driver, settings.neo4j_database, run)
        page, _ = list_rings(driver, settings.neo4j_database, run_id=run_id, limit=top)
        details = [ring_detail(driver, settings.neo4j_database, r.ring_id, run_id=run_id) for r in page]
    console.rule(f"top {len(details)} rings of {literal(run_id)}")
    for rank, detail in enumerate(details, start=1):
        print_ring(console, rank, detail, evidence)


def operations(
    operation_id: Annotated[str | None, typer.Argument(help="One operation to show (default: a list).")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many operations to list.")] = 10,
    min_campaigns: Annotated[int, typer.Option(min=1, help="List operations of at least this many campaigns.")] = 2,
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
    ties: Annotated[int, typer.Option(min=0, help="Ties shown per operation.")] = 3,
) -> None:
    """Operations (campaigns of one operator), highest coordination score first: each campaign (ring) in
    the order they ran, and the ties between them (a reused device or card, a known member, a network)."""
    from graph.cli.render import print_operation
    from graph.store.operation_reads import list_operations, operation_detail

    settings = get_settings()
    database = settings.neo4j_database
    with create_driver(settings) as driver, run_read_errors():
        run_id = run_or_latest(driver, database, run)
        if operation_id is not None:
            details = [operation_detail(driver, database, operation_id, run_id=run_id)]
        else:
            _, page, _ = list_operations(driver, database, run_id=run_id, min_campaigns=min_campaigns, limit=top)
            details = [operation_detail(driver, database, o.operation_id, run_id=run_id) for o in page]
    title = f"operation {literal(operation_id)}" if operation_id else (
        f"top {len(details)} operations of {min_campaigns}+ campaigns")
    console.rule(f"{title} of {literal(run_id)}")
    for rank, detail in enumerate(details, start=1):
        print_operation(console, rank, detail.operation, detail.rings, ties)


def explain(
    account_id: Annotated[str, typer.Argument(help="The account to explain.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
    evidence: Annotated[int, typer.Option(min=1, help="Evidence items shown per attribution.")] = 6,
) -> None:
    """Why an account is in its ring and attributed as it is: evidence items with their graph paths."""
    from graph.cli.render import print_account
    from graph.store.results import account_attribution, ring_detail

    settings = get_settings()
    with create_driver(settings) as driver, run_read_errors():
        view = account_attribution(driver, settings.neo4j_database, account_id, run_id=run)
        ring = None
        if view.ring is not None:
            ring = ring_detail(driver, settings.neo4j_database, view.ring.ring_id, run_id=view.run_id)
    print_account(console, view, ring, evidence)


def export(
    out: Annotated[Path, typer.Option(help="Directory for memberships.csv, rings.csv, attributions.csv.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
) -> None:
    """Write a run's memberships, rings and attributions as CSV."""
    from graph.store.export import export_run

    settings = get_settings()
    with create_driver(settings) as driver:
        with run_read_errors():
            run_id = run_or_latest(driver, settings.neo4j_database, run)
        written = export_run(driver, settings.neo4j_database, run_id, out)
    for name, rows in written.items():
        console.print(f"{literal(out / name)}: {rows:,} rows")
    console.print(f"exported run {literal(run_id)}")


def evaluate(
    truth: Annotated[Path, typer.Option(help="truth.csv: account_id, ring_id, organization, cohort.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
) -> None:
    """Quality of a run against ground truth: ARI, NMI, ring and account precision/recall, recall of rings
    that share no device or card, false positives per cohort, attribution, calibration."""
    from graph.cli.render import (
        print_cohort_false_positives,
        print_metrics,
        print_recall_by_device_sharing,
        print_reliability,
    )
    from graph.evaluation.attribution import evaluate_attribution
    from graph.evaluation.rings import (
        COORDINATED,
        cohort_false_positives,
        evaluate_rings,
        recall_by_device_sharing,
        rings_sharing_device_or_card,
    )
    from graph.evaluation.truth import read_truth
    from graph.store.results import read_scored_rings
    from graph.store.truth_reads import read_devices_and_cards

    labels = read_truth(truth)
    settings = get_settings()
    with create_driver(settings) as driver:
        with run_read_errors():
            run_id = run_or_latest(driver, settings.neo4j_database, run)
        scored = read_scored_rings(driver, settings.neo4j_database, run_id)
        devices_and_cards = read_devices_and_cards(driver, settings.neo4j_database, labels.ring_members)
    every = [ring.members for ring in scored]
    coordinated = [ring.members for ring in scored if ring.score >= COORDINATED]
    results = [
        evaluate_rings(found, labels.ring, labels.cohort, actors_outside_rings=labels.actors_outside_rings)
        for found in (every, coordinated)
    ]
    print_metrics(
        console, f"ring detection of {run_id} against {truth}",
        [(name, a, b) for (name, a), (_, b) in zip(results[0].rows(), results[1].rows(), strict=True)],
        columns=("all detected rings", f"rings scored coordinated (>= {COORDINATED})"),
    )
    sharing = rings_sharing_device_or_card(labels.ring, devices_and_cards)
    print_recall_by_device_sharing(console, recall_by_device_sharing(scored, labels, sharing))
    print_cohort_false_positives(console, cohort_false_positives(scored, labels))
    attribution = evaluate_attribution(scored, labels)
    print_metrics(console, "coordination and attribution", attribution.rows())
    if labels.operation:
        from graph.evaluation.operations import evaluate_operations

        # A ring of a run from before operations existed stands alone.
        grouped = evaluate_operations([sorted(r.members) for r in scored],
                                      [r.operation_id or f"ring {i}" for i, r in enumerate(scored)],
                                      labels.ring, labels.operation, labels.organization)
        print_metrics(console, "operations (campaigns of one operator)", grouped.rows())
    print_reliability(console, "reliability: coordination score", attribution.coordination_reliability)
    print_reliability(console, "reliability: attribution confidence", attribution.attribution_reliability)
