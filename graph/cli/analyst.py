"""The analyst's commands (issue 6): the Cypher `query` library, the `bloom export` perspective, ring dossiers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

import neo4j
from graph.cli.common import console, fail, literal
from graph.errors import RingtraceError
from graph.settings import get_settings
from graph.store.driver import create_driver

__all__ = ["bloom_app", "query_command", "report_command"]

bloom_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The Neo4j Bloom perspective.")


def query_command(
    name: Annotated[str | None, typer.Argument(help="A query of cypher/queries/ (see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="NAME=VALUE, repeatable; typed as the query header declares.")] = None,
    list_queries: Annotated[bool, typer.Option("--list", help="List the queries and their parameters.")] = False,
) -> None:
    """Run one analyst query of the Cypher library and print its rows as a table."""
    from graph.analyst.queries import bind_parameters, display, load_queries
    from graph.store.library import run_query

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
        raise fail(ValueError(f"no query {name!r}; `ringtrace query --list` shows them"))
    query = library[name]
    given: dict[str, str] = {}
    for pair in param or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise fail(ValueError(f"--param {pair!r}: expected NAME=VALUE"))
        given[key.strip().lstrip("$")] = value
    try:
        values = bind_parameters(query, given)
    except ValueError as error:
        raise fail(error) from error
    settings = get_settings()
    with create_driver(settings) as driver:
        try:
            columns, rows = run_query(driver, settings.neo4j_database, query.cypher, values)
        except neo4j.exceptions.Neo4jError as error:
            raise fail(RingtraceError(f"{name}: {error.message}")) from error
    table = Table(title=f"{name}: {query.purpose}")
    paths = {c.name for c in query.columns if c.type == "PATH"}  # drawn by Browser and Bloom, not here
    columns = [c for c in columns if c not in paths]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(literal(display(row[c])) for c in columns))
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
        f"wrote {literal(target)}: {len(perspective['categories'])} categories, "
        f"{len(perspective['relationshipTypes'])} relationship types, "
        f"{len(perspective['templates'])} search phrases, {len(perspective['sceneActions'])} scene actions"
    )


def report_command(
    ring_id: Annotated[str, typer.Argument(help="The ring.")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")],
    run: Annotated[str | None, typer.Option(help="Detection run (default: the latest).")] = None,
) -> None:
    """Write a ring dossier: a self-contained HTML page to attach to a case."""
    from graph.analyst.dossier_page import ring_dossier
    from graph.cli.results import run_read_errors

    settings = get_settings()
    with create_driver(settings) as driver, run_read_errors():
        html_text = ring_dossier(driver, settings.neo4j_database, ring_id, run_id=run)
    out.write_text(html_text, encoding="utf-8")
    console.print(f"wrote {literal(out)} ({len(html_text.encode()):,} bytes)")
