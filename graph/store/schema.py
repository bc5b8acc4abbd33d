"""Apply `cypher/schema/*.cypher` (constraints and indexes); idempotent and reports what changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import neo4j
from graph.errors import RingtraceError
from graph.resources import resource_dir

__all__ = [
    "LOAD_REQUIRES",
    "SCHEMA_DIR",
    "SchemaNotAppliedError",
    "SchemaReport",
    "apply_schema",
    "missing_schema",
    "require_schema",
    "schema_statements",
]

SCHEMA_DIR = resource_dir("cypher") / "schema"
_NAME = re.compile(r"CREATE\s+(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)

#: What loading relies on. Without a key's uniqueness constraint two concurrent MERGEs can create the
#: same node twice, splitting one identifier's observations (and the counts their digests guard)
#: between two nodes; without `ip_ranges_version`, finding IPs that still need enrichment scans all.
LOAD_REQUIRES: Final[tuple[str, ...]] = (
    "account_id", "ip_address", "device_fingerprint", "payment_fingerprint", "email_address", "phone_number",
    "prompt_template_fingerprint", "model_name", "organization_name", "ip_range_cidr", "ip_range_table_name",
    "ip_ranges_version",
)


class SchemaNotAppliedError(RingtraceError):
    """The database lacks constraints or indexes that writing to it relies on."""


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


def missing_schema(driver: neo4j.Driver, database: str, names: tuple[str, ...] = LOAD_REQUIRES) -> list[str]:
    """Which of `names` (constraints or indexes) the database lacks or has not finished building."""
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, state", database_=database, routing_=neo4j.RoutingControl.READ
    )
    # A uniqueness constraint is served by an index of its name; an index still POPULATING or FAILED
    # does not yet make MERGE safe or fast.
    online = {str(r["name"]) for r in records if r["state"] == "ONLINE"}
    return [name for name in names if name not in online]


def require_schema(driver: neo4j.Driver, database: str) -> None:
    """Return if the database has what loading relies on; SchemaNotAppliedError, naming what is missing."""
    missing = missing_schema(driver, database)
    if missing:
        raise SchemaNotAppliedError(
            f"database {database!r} lacks {', '.join(missing)} (constraints and indexes that loading "
            "relies on); run `ringtrace schema apply` first"
        )


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
