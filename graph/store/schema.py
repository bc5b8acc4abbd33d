"""Apply `cypher/schema/*.cypher` (constraints and indexes); idempotent and reports what changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import neo4j
from graph.resources import resource_dir

__all__ = ["SCHEMA_DIR", "SchemaReport", "apply_schema", "schema_statements"]

SCHEMA_DIR = resource_dir("cypher") / "schema"
_NAME = re.compile(r"CREATE\s+(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class SchemaReport:
    created: tuple[str, ...]
    existing: tuple[str, ...]


def schema_statements(directory: Path = SCHEMA_DIR) -> list[str]:
    """Statements of every `.cypher` file in `directory`, in file order, comments removed."""
    statements: list[str] = []
    for path in sorted(directory.glob("*.cypher")):
        text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("//"))
        statements.extend(part.strip() for part in text.split(";") if part.strip())
    return statements


def _existing_names(driver: neo4j.Driver, database: str) -> set[str]:
    names: set[str] = set()
    for query in ("SHOW CONSTRAINTS YIELD name", "SHOW INDEXES YIELD name"):
        records, _, _ = driver.execute_query(query, database_=database, routing_=neo4j.RoutingControl.READ)
        names.update(str(r["name"]) for r in records)
    return names


def apply_schema(driver: neo4j.Driver, database: str) -> SchemaReport:
    """Create every constraint and index that is missing; leave the others as they are."""
    before = _existing_names(driver, database)
    created: list[str] = []
    existing: list[str] = []
    for statement in schema_statements():
        match = _NAME.search(statement)
        name = match.group(1) if match else statement[:40]
        driver.execute_query(statement, database_=database)
        (existing if name in before else created).append(name)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    return SchemaReport(created=tuple(created), existing=tuple(existing))
