"""`ringtrace`: the command line (DESIGN.md §4).

This module builds the typer `app` from the command modules and holds `main()`, the console entry
point. The commands live by what they do: `server` (the local Neo4j, the schema, the HTTP API), `data`
(generate, load, import), `detection` (detect, calibrate), `results` (read a run back), `analyst`
(queries, Bloom, dossiers); `common` has what they share, `render` the rich output. Each command
imports its heavy modules when it runs, so `ringtrace --help` starts fast.
"""

from __future__ import annotations

import typer

import neo4j
from graph.cli import analyst, data, detection, results, server, spark
from graph.cli.common import console, literal
from graph.errors import RingtraceError
from graph.settings import get_settings

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Find and attribute rings of coordinated accounts in Neo4j.",
)

# `ringtrace --help` lists the commands in this order, then the groups.
app.add_typer(server.neo4j_app, name="neo4j")
app.add_typer(server.schema_app, name="schema")
app.command("generate")(data.generate)
app.command("load")(data.load)
app.command("import")(data.import_command)
app.command("detect")(detection.detect)
app.command("rings")(results.rings)
app.command("operations")(results.operations)
app.command("explain")(results.explain)
app.command("export")(results.export)
app.command("eval")(results.evaluate)
app.command("calibrate")(detection.calibrate)
app.command("serve")(server.serve)
app.command("import-dataset")(data.import_dataset_command)
app.add_typer(analyst.bloom_app, name="bloom")
app.command("query")(analyst.query_command)
app.command("report")(analyst.report_command)
app.add_typer(spark.spark_app, name="spark")


def main() -> None:
    """Console entry point: errors a user can act on are printed as one line, not a traceback."""
    try:
        app()
    except neo4j.exceptions.ServiceUnavailable as error:
        settings = get_settings()
        console.print(
            f"[bold red]error:[/] cannot reach Neo4j at {literal(settings.neo4j_uri)} ({literal(error)}). "
            "Start the local server with `ringtrace neo4j start`, or set NEO4J_URI."
        )
        raise SystemExit(1) from None
    except neo4j.exceptions.AuthError:
        console.print("[bold red]error:[/] Neo4j refused the credentials; check NEO4J_USER and NEO4J_PASSWORD.")
        raise SystemExit(1) from None
    except RingtraceError as error:
        console.print(f"[bold red]error:[/] {literal(error)}")
        raise SystemExit(1) from None
