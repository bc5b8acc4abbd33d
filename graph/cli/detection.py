"""The commands that compute: `detect` rings into a new DetectionRun, `calibrate` the scoring model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from graph.cli.common import CoactionDays, CoactionWindow, console, fail, literal, with_coaction
from graph.detection import DEFAULT_CAMPAIGN_GAP_DAYS, DEFAULT_MERGE_WEIGHT, DEFAULT_MIN_SIZE
from graph.settings import get_settings
from graph.store.driver import create_driver

__all__ = ["calibrate", "detect"]


def detect(
    seed: Annotated[int, typer.Option(help="Random seed of community detection.")] = 42,
    resolution: Annotated[float | None, typer.Option(help="Resolution (CPM: minimum density).")] = None,
    min_size: Annotated[int, typer.Option(min=2, help="Smallest ring, in accounts.")] = DEFAULT_MIN_SIZE,
    method: Annotated[str | None, typer.Option(help="leiden-cpm, leiden-modularity, louvain or plm.")] = None,
    merge_weight: Annotated[
        float | None,
        typer.Option(help=f"Communities joined by an edge this strong are one ring (default {DEFAULT_MERGE_WEIGHT})."),
    ] = None,
    no_merge: Annotated[bool, typer.Option(
        help="Keep the communities as the objective left them (no join on an edge or on co-action).")] = False,
    coaction_window: CoactionWindow = None,
    coaction_days: CoactionDays = None,
    campaign_gap: Annotated[
        float | None,
        typer.Option(min=1, help=f"Days without activity after which a ring's later members are the operator's "
                                 f"next campaign, another ring ({DEFAULT_CAMPAIGN_GAP_DAYS:g})."),
    ] = None,
    no_campaign_cut: Annotated[bool, typer.Option(help="Never cut a ring at a gap in its members' activity.")] = False,
    backend: Annotated[
        str,
        typer.Option(help="Where components and communities are computed: in-process, or gds (Neo4j's Graph Data "
                          "Science library; leiden-cpm or leiden-modularity; `ringtrace neo4j start --with-gds`)."),
    ] = "in-process",
    incremental: Annotated[bool, typer.Option(
        help="Re-detect only the components changed since the latest completed run (same parameters) and "
             "carry its other rings over: the same rings as a whole run.")] = False,
) -> None:
    """Detect rings in everything loaded (shared identifiers and the usage log's co-action) and write them
    back under a new DetectionRun."""
    from graph.cli.render import stage_progress
    from graph.detection import DetectionParams
    from graph.errors import DetectionRunningError, GdsUnavailableError
    from graph.pipeline.detect import run_detection

    try:
        params = DetectionParams.for_method(
            method, resolution=resolution, merge=not no_merge, merge_weight=merge_weight, seed=seed, min_size=min_size,
            backend=backend,
        )
        params = replace(with_coaction(params, coaction_window, coaction_days),
                         campaign_gap_days=None if no_campaign_cut else (campaign_gap or params.campaign_gap_days))
    except ValueError as error:
        raise fail(error) from error
    settings = get_settings()
    try:
        with create_driver(settings) as driver, stage_progress(console, "detecting") as progress:
            summary = run_detection(driver, settings.neo4j_database, params, progress=progress,
                                    incremental=incremental)
    except (DetectionRunningError, GdsUnavailableError) as error:  # one detection per database; GDS missing
        raise fail(error) from None
    counts = summary.counts
    console.print(f"run [bold]{literal(summary.run_id)}[/]")
    if counts.get("incremental"):
        console.print(
            f"incremental: {counts['changed_accounts']:,} accounts touched by changes, {counts['region_accounts']:,} "
            f"in their components, {counts['redetected_rings']:,} rings re-detected there, "
            f"{counts['carried_rings']:,} carried over unchanged; {counts['accounts']:,} accounts and "
            f"{counts['links']:,} links read, {counts['edges']:,} account pairs"
        )
    else:
        if counts.get("incremental_refused"):
            console.print("incremental: not possible (no completed run with these parameters and this code): "
                          "detected everything")
        console.print(
            f"{counts['accounts']:,} accounts, {counts['links']:,} links, {counts['entities']:,} entities "
            f"({counts['weak_entities']:,} too widely shared to link accounts), {counts['templates']:,} prompt "
            f"templates, {counts['coaction_pairs']:,} co-acting pairs, {counts['edges']:,} account pairs in all"
        )
    console.print(
        f"{counts['rings']:,} rings holding {counts['ring_accounts']:,} accounts; "
        f"{summary.carried_over:,} ring ids carried over from {summary.previous_run_id or 'no earlier run'}; "
        f"{sum(1 for e in summary.lineage if e['kind'] == 'merge' and e['of'] == 'ring')} merges, "
        f"{sum(1 for e in summary.lineage if e['kind'] == 'split' and e['of'] == 'ring')} splits; "
        f"{counts['operations']:,} operations, {counts['multi_campaign_operations']:,} of several campaigns"
    )
    console.print(
        f"{counts['coordinated_rings']:,} rings scored coordinated (>= 0.5), {counts['attributed_rings']:,} "
        f"attributed to an organisation (>= 0.5), {counts['attributed_accounts']:,} accounts attributed"
    )
    console.print("seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.timings.items()))


def calibrate(
    truth: Annotated[Path, typer.Option(help="Labelled accounts: account_id, ring_id, organization, cohort.")],
    version: Annotated[str | None, typer.Option(help="Version name of the fitted model.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the model as JSON here.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the detection the fit is made on.")] = 42,
) -> None:
    """Fit the coordination and attribution parameters to labelled data and make them the active model."""
    from graph.detection import DetectionParams
    from graph.evaluation.truth import read_truth
    from graph.pipeline.calibrate import calibrate as calibrate_model
    from graph.scoring import save_model

    labels = read_truth(truth)
    settings = get_settings()
    with create_driver(settings) as driver, console.status("reading observations and fitting..."):
        try:
            params = DetectionParams(seed=seed)
            model = calibrate_model(driver, settings.neo4j_database, labels, params, version=version)
        except ValueError as error:
            raise fail(error) from error
    if out is not None:
        save_model(model, out)
    console.print(f"model [bold]{literal(model.version)}[/] fitted on {model.fitted_on}; now the active model")
    for name, part in (("coordination", model.coordination), ("attribution", model.attribution)):
        terms = ", ".join(f"{f} {c:+.2f}" for f, c in zip(part.features, part.coefficients, strict=True) if c)
        console.print(f"{name}: intercept {part.intercept:+.2f}; {terms}")
    console.print("run `ringtrace detect` to score with it, then `ringtrace eval` to check calibration")
