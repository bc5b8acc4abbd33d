"""The commands that run servers: the local Neo4j (`neo4j start|stop|status`), `schema apply`, `serve`."""

from __future__ import annotations

from typing import Annotated

import typer

from graph import local_server
from graph.cli.common import console, fail, literal
from graph.errors import RingtraceError
from graph.settings import get_settings
from graph.store.driver import create_driver

__all__ = ["neo4j_app", "schema_app", "serve"]

neo4j_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The local development Neo4j server.")
schema_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Constraints and indexes.")


@neo4j_app.command("start")
def neo4j_start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt.")] = 180.0,
    with_gds: Annotated[bool, typer.Option(
        "--with-gds", help="Also run the Graph Data Science plugin (for `detect --backend gds`), fetched on first "
                           "use; as RINGTRACE_NEO4J_GDS=1.")] = False,
) -> None:
    """Start the local Neo4j (fetching it from Maven Central on first use) and wait until Bolt answers."""
    settings = get_settings()
    if with_gds:
        settings = settings.model_copy(update={"neo4j_gds": True})
    was = local_server.status(settings)
    try:
        with console.status("starting Neo4j (the first start fetches it with Maven)..."):
            now = local_server.start(settings, timeout=timeout)
    except RingtraceError as error:
        raise fail(error) from error
    verb = "already running" if was.running and was.bolt_answers else "started"
    plugin = " with GDS" if now.gds else ""
    console.print(f"Neo4j {verb}{plugin}: pid {now.pid}, {literal(now.bolt_uri)}, data in {literal(now.home)}")


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
    plugin = " with GDS" if now.gds else ""
    console.print(f"Neo4j runs{plugin}: pid {now.pid}{rss}; Bolt at {now.bolt_uri} {answers}")
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
