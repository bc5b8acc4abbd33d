"""`ringtrace`: the command line (DESIGN.md §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import neo4j
from graph import local_server
from graph.errors import RingtraceError
from graph.settings import get_settings
from graph.store.driver import create_driver

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
    from graph.store.schema import apply_schema

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
    from graph.cli.render import stage_progress
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
    from graph.cli.render import load_progress, print_load_report
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


@app.command()
def detect(
    seed: Annotated[int, typer.Option(help="Random seed of community detection.")] = 42,
    resolution: Annotated[float | None, typer.Option(help="Resolution (CPM: minimum density).")] = None,
    min_size: Annotated[int, typer.Option(min=2, help="Smallest ring, in accounts.")] = 3,
    method: Annotated[str | None, typer.Option(help="leiden-cpm, leiden-modularity, louvain or plm.")] = None,
    merge_weight: Annotated[
        float | None, typer.Option(help="Communities joined by an edge this strong are one ring (default 0.1).")
    ] = None,
    no_merge: Annotated[bool, typer.Option(help="Keep the communities as the objective left them.")] = False,
) -> None:
    """Detect rings in everything loaded and write them back under a new DetectionRun."""
    from graph.cli.render import stage_progress
    from graph.detection import DetectionParams
    from graph.pipeline.detect import run_detection

    try:
        params = DetectionParams.for_method(
            method, resolution=resolution, merge=not no_merge, merge_weight=merge_weight, seed=seed, min_size=min_size
        )
    except ValueError as error:
        raise _fail(error) from error
    settings = get_settings()
    with create_driver(settings) as driver, stage_progress(console, "detecting") as progress:
        summary = run_detection(driver, settings.neo4j_database, params, progress=progress)
    counts = summary.counts
    console.print(f"run [bold]{summary.run_id}[/]")
    console.print(
        f"{counts['accounts']:,} accounts, {counts['links']:,} links, {counts['entities']:,} entities "
        f"({counts['weak_entities']:,} too widely shared to link accounts), {counts['edges']:,} account pairs"
    )
    console.print(
        f"{counts['rings']:,} rings holding {counts['ring_accounts']:,} accounts; "
        f"{summary.carried_over:,} ring ids carried over from {summary.previous_run_id or 'no earlier run'}; "
        f"{sum(1 for e in summary.lineage if e['kind'] == 'merge')} merges, "
        f"{sum(1 for e in summary.lineage if e['kind'] == 'split')} splits"
    )
    console.print(
        f"{counts['coordinated_rings']:,} rings scored coordinated (>= 0.5), {counts['attributed_rings']:,} "
        f"attributed to an organisation (>= 0.5), {counts['attributed_accounts']:,} accounts attributed"
    )
    console.print("seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.timings.items()))


def _run_or_latest(driver: neo4j.Driver, database: str, run: str | None) -> str:
    from graph.store.runs import latest_run_id

    run_id = run or latest_run_id(driver, database)
    if run_id is None:
        raise _fail(RingtraceError("no completed detection run yet; run `ringtrace detect` first"))
    return run_id


@app.command()
def rings(
    top: Annotated[int, typer.Option(min=1, help="How many rings to show.")] = 10,
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
    evidence: Annotated[int, typer.Option(min=0, help="Evidence items shown per ring.")] = 3,
) -> None:
    """The rings of a run, highest coordination score first, with attribution and top evidence."""
    from graph.cli.render import print_ring
    from graph.store.results import list_rings, ring_detail

    settings = get_settings()
    with create_driver(settings) as driver:
        run_id = _run_or_latest(driver, settings.neo4j_database, run)
        page, _ = list_rings(driver, settings.neo4j_database, run_id=run_id, limit=top)
        details = [ring_detail(driver, settings.neo4j_database, r.ring_id, run_id=run_id) for r in page]
    console.rule(f"top {len(details)} rings of {run_id}")
    for rank, detail in enumerate(details, start=1):
        print_ring(console, rank, detail, evidence)


@app.command()
def explain(
    account_id: Annotated[str, typer.Argument(help="The account to explain.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
    evidence: Annotated[int, typer.Option(min=1, help="Evidence items shown per attribution.")] = 6,
) -> None:
    """Why an account is in its ring and attributed as it is: evidence items with their graph paths."""
    from graph.cli.render import print_account
    from graph.store.results import account_attribution, ring_detail

    settings = get_settings()
    with create_driver(settings) as driver:
        view = account_attribution(driver, settings.neo4j_database, account_id, run_id=run)
        ring = None
        if view.ring is not None:
            ring = ring_detail(driver, settings.neo4j_database, view.ring.ring_id, run_id=view.run_id)
    print_account(console, view, ring, evidence)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Directory for memberships.csv, rings.csv, attributions.csv.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
) -> None:
    """Write a run's memberships, rings and attributions as CSV."""
    from graph.store.export import export_run

    settings = get_settings()
    with create_driver(settings) as driver:
        run_id = _run_or_latest(driver, settings.neo4j_database, run)
        written = export_run(driver, settings.neo4j_database, run_id, out)
    for name, rows in written.items():
        console.print(f"{out / name}: {rows:,} rows")
    console.print(f"exported run {run_id}")


@app.command("eval")
def evaluate(
    truth: Annotated[Path, typer.Option(help="truth.csv: account_id, ring_id, organization, cohort.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
) -> None:
    """Quality of a run against ground truth: ARI, NMI, ring and account precision/recall, false positives."""
    from graph.cli.render import print_metrics, print_reliability
    from graph.evaluation.attribution import evaluate_attribution
    from graph.evaluation.rings import evaluate_rings
    from graph.evaluation.truth import read_truth
    from graph.store.results import read_scored_rings

    labels = read_truth(truth)
    settings = get_settings()
    with create_driver(settings) as driver:
        run_id = _run_or_latest(driver, settings.neo4j_database, run)
        scored = read_scored_rings(driver, settings.neo4j_database, run_id)
    every = [ring.members for ring in scored]
    coordinated = [ring.members for ring in scored if ring.score >= 0.5]
    results = [
        evaluate_rings(rings, labels.ring, labels.cohort, actors_outside_rings=labels.actors_outside_rings)
        for rings in (every, coordinated)
    ]
    print_metrics(
        console, f"ring detection of {run_id} against {truth}",
        [(name, a, b) for (name, a), (_, b) in zip(results[0].rows(), results[1].rows(), strict=True)],
        columns=("all detected rings", "rings scored coordinated (>= 0.5)"),
    )
    attribution = evaluate_attribution(scored, labels)
    print_metrics(console, "coordination and attribution", attribution.rows())
    print_reliability(console, "reliability: coordination score", attribution.coordination_reliability)
    print_reliability(console, "reliability: attribution confidence", attribution.attribution_reliability)


@app.command()
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
            raise _fail(error) from error
    if out is not None:
        save_model(model, out)
    console.print(f"model [bold]{model.version}[/] fitted on {model.fitted_on}; now the active model")
    for name, part in (("coordination", model.coordination), ("attribution", model.attribution)):
        terms = ", ".join(f"{f} {c:+.2f}" for f, c in zip(part.features, part.coefficients, strict=True) if c)
        console.print(f"{name}: intercept {part.intercept:+.2f}; {terms}")
    console.print("run `ringtrace detect` to score with it, then `ringtrace eval` to check calibration")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP API (uvicorn). API keys come from RINGTRACE_API_KEYS."""
    import uvicorn

    # By import string, so each worker builds its own app (and its own Neo4j driver).
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="info")


@app.command("import-dataset")
def import_dataset_command(
    name: Annotated[str, typer.Argument(help="A dataset adapter: paysim, fraud_ecommerce, datastax, ...")],
    source: Annotated[Path, typer.Argument(help="The dataset's folder (e.g. ../shared/datasets/paysim_neo4j_apac).")],
    out: Annotated[Path, typer.Argument(help="Directory for the input bundle and truth.csv.")],
) -> None:
    """Turn a public dataset into an input bundle (+ truth.csv) that `ringtrace load` and `eval` take."""
    from graph.datasets import ADAPTERS, import_dataset

    if name not in ADAPTERS:
        raise _fail(ValueError(f"unknown dataset {name!r}; choose one of {', '.join(sorted(ADAPTERS))}"))
    try:
        summary = import_dataset(name, source, out)
    except (FileNotFoundError, ValueError) as error:
        raise _fail(error) from error
    console.print(summary.describe())


# --- analyst surface: the query library, the Bloom perspective, ring dossiers (issue 6) ---

bloom_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The Neo4j Bloom perspective.")
app.add_typer(bloom_app, name="bloom")


@app.command("query")
def query_command(
    name: Annotated[str | None, typer.Argument(help="A query of cypher/queries/ (see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="NAME=VALUE, repeatable; typed as the query header declares.")] = None,
    list_queries: Annotated[bool, typer.Option("--list", help="List the queries and their parameters.")] = False,
) -> None:
    """Run one analyst query of the Cypher library and print its rows as a table."""
    from graph.analyst.queries import bind_parameters, display, load_queries, run_query

    library = load_queries()
    if list_queries or name is None:
        table = Table(title="cypher/queries")
        for column in ("query", "purpose", "parameters"):
            table.add_column(column)
        for query in library.values():
            table.add_row(query.name, query.purpose, ", ".join(
                f"{p.name}{'?' if p.nullable else ''}: {p.type}" for p in query.parameters))
        console.print(table)
        return
    if name not in library:
        raise _fail(ValueError(f"no query {name!r}; `ringtrace query --list` shows them"))
    query = library[name]
    given: dict[str, str] = {}
    for pair in param or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise _fail(ValueError(f"--param {pair!r}: expected NAME=VALUE"))
        given[key.strip().lstrip("$")] = value
    try:
        values = bind_parameters(query, given)
    except ValueError as error:
        raise _fail(error) from error
    settings = get_settings()
    with create_driver(settings) as driver:
        try:
            columns, rows = run_query(driver, settings.neo4j_database, query, values)
        except neo4j.exceptions.Neo4jError as error:
            raise _fail(RingtraceError(f"{name}: {error.message}")) from error
    table = Table(title=f"{name}: {query.purpose}")
    paths = {c.name for c in query.columns if c.type == "PATH"}  # drawn by Browser and Bloom, not here
    columns = [c for c in columns if c not in paths]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(display(row[c]) for c in columns))
    console.print(table)
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


@bloom_app.command("export")
def bloom_export(
    out: Annotated[Path | None, typer.Option(help="Where to write the perspective JSON.")] = None,
) -> None:
    """Write the Bloom perspective generated from the graph model and the query library."""
    from graph.analyst.bloom import PERSPECTIVE_PATH, write_perspective

    target = out or PERSPECTIVE_PATH
    perspective = write_perspective(target)
    console.print(
        f"wrote {target}: {len(perspective['categories'])} categories, "
        f"{len(perspective['relationshipTypes'])} relationship types, "
        f"{len(perspective['templates'])} search phrases, {len(perspective['sceneActions'])} scene actions"
    )


@app.command("report")
def report_command(
    ring_id: Annotated[str, typer.Argument(help="The ring.")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
) -> None:
    """Write a ring dossier: a self-contained HTML page to attach to a case."""
    from graph.analyst.dossier import ring_dossier

    settings = get_settings()
    with create_driver(settings) as driver:
        html_text = ring_dossier(driver, settings.neo4j_database, ring_id, run_id=run)
    out.write_text(html_text, encoding="utf-8")
    console.print(f"wrote {out} ({len(html_text.encode()):,} bytes)")
