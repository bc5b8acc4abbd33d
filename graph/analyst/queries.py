"""The analyst query library: the parameterised `.cypher` files in `cypher/queries/`, read and run.

Each file starts with a header comment that says what it is for, its parameters (name, type, meaning,
an example) and the columns it returns (name, type, meaning). The header is the contract: the CLI turns
`--param k=v` text into values of the declared type, and the integration tests check every query
returns rows of the declared shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Final

import neo4j
from graph.resources import resource_dir

__all__ = [
    "QUERY_DIR",
    "TYPES",
    "Column",
    "Parameter",
    "Query",
    "bind_parameters",
    "conforms",
    "display",
    "load_queries",
    "parse_value",
    "read_query",
]

QUERY_DIR: Final = resource_dir("cypher") / "queries"

#: the types a header may declare; a trailing `?` means the value may be null
TYPES: Final = ("STRING", "INTEGER", "FLOAT", "BOOLEAN", "DATETIME", "LIST", "MAP", "PATH", "NODE")

_PARAM = re.compile(r"^//\s+\$(\w+)\s+([A-Z]+\??)\s+(.*?)\s+e\.g\.\s+(.+?)\s*$")
_COLUMN = re.compile(r"^//\s+(\w+)\s+([A-Z]+\??)\s+(.*?)\s*$")
_TITLE = re.compile(r"^//\s*(\w+):\s*(.+?)\s*$")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # one of TYPES
    nullable: bool
    description: str
    example: Any  # the header's example, parsed as JSON where it is JSON (null, numbers, "strings")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str


@dataclass(frozen=True)
class Query:
    name: str  # the file's stem
    purpose: str  # the title line
    description: str  # the paragraph after it
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...]
    text: str  # the whole file, header included (comments are valid Cypher)
    path: Path

    @property
    def cypher(self) -> str:
        """The statement without its trailing semicolon."""
        return self.text.strip().removesuffix(";")


def _type(declared: str, where: str) -> tuple[str, bool]:
    base = declared.rstrip("?")
    if base not in TYPES:
        raise ValueError(f"{where}: unknown type {declared!r}; use one of {', '.join(TYPES)}")
    return base, declared.endswith("?")


def _example(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_query(path: Path) -> Query:
    """Parse one query file's header; ValueError when the header is missing or malformed."""
    text = path.read_text()
    lines = text.splitlines()
    header = [line for line in _leading_comments(lines)]
    if not header or not (title := _TITLE.match(header[0])) or title.group(1) != path.stem:
        raise ValueError(f"{path}: the first line must be '// {path.stem}: <purpose>'")
    section = "description"
    description: list[str] = []
    parameters: list[Parameter] = []
    columns: list[Column] = []
    for line in header[1:]:
        body = line.removeprefix("//").strip()
        if body in ("Parameters:", "Returns:"):
            section = body.rstrip(":").lower()
            continue
        if not body:
            continue
        if section == "description":
            description.append(body)
        elif section == "parameters":
            match = _PARAM.match(line)
            if not match:
                raise ValueError(f"{path}: parameter line not '$name TYPE meaning e.g. example': {line!r}")
            kind, nullable = _type(match.group(2), str(path))
            parameters.append(Parameter(match.group(1), kind, nullable, match.group(3), _example(match.group(4))))
        else:
            match = _COLUMN.match(line)
            if not match:
                raise ValueError(f"{path}: column line not 'name TYPE meaning': {line!r}")
            kind, nullable = _type(match.group(2), str(path))
            columns.append(Column(match.group(1), kind, nullable, match.group(3)))
    if not columns:
        raise ValueError(f"{path}: the header lists no returned columns")
    used = set(re.findall(r"\$(\w+)", "\n".join(line for line in lines if not line.lstrip().startswith("//"))))
    declared = {p.name for p in parameters}
    if used != declared:
        raise ValueError(f"{path}: parameters used {sorted(used)} but declared {sorted(declared)}")
    return Query(path.stem, title.group(2), " ".join(description), tuple(parameters), tuple(columns), text, path)


def _leading_comments(lines: list[str]) -> list[str]:
    header: list[str] = []
    for line in lines:
        if not line.lstrip().startswith("//"):
            break
        header.append(line)
    return header


def load_queries(directory: Path = QUERY_DIR) -> dict[str, Query]:
    """Every query of the library, by name, in name order."""
    return {q.name: q for q in (read_query(p) for p in sorted(directory.glob("*.cypher")))}


def parse_value(text: str, kind: str, nullable: bool = True) -> Any:
    """A `--param` value as the declared type: ints, floats, booleans, ISO 8601 dates (UTC when no zone)."""
    if text.strip().lower() in ("null", "none", "") and nullable:
        return None
    if kind == "INTEGER":
        return int(text)
    if kind == "FLOAT":
        return float(text)
    if kind == "BOOLEAN":
        if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise ValueError(f"not a boolean: {text!r}")
        return text.lower() in ("true", "yes", "1")
    if kind == "DATETIME":
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = datetime.combine(date.fromisoformat(text), time())
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind in ("LIST", "MAP"):
        return json.loads(text)
    return text


def bind_parameters(query: Query, given: dict[str, str]) -> dict[str, Any]:
    """`name=text` pairs to typed values; unknown names and missing required ones are ValueErrors."""
    declared = {p.name: p for p in query.parameters}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"{query.name} has no parameter {', '.join(unknown)}; it takes {_signature(query)}")
    values: dict[str, Any] = {}
    for name, parameter in declared.items():
        if name in given:
            try:
                values[name] = parse_value(given[name], parameter.type, parameter.nullable)
            except ValueError as error:
                raise ValueError(f"--param {name}: expected {parameter.type}: {error}") from None
        elif parameter.nullable:
            values[name] = None
        else:
            raise ValueError(f"{query.name} needs --param {name}=... ({parameter.type}, e.g. {parameter.example})")
    return values


def _signature(query: Query) -> str:
    return ", ".join(f"{p.name} ({p.type}{'?' if p.nullable else ''})" for p in query.parameters) or "nothing"


def conforms(value: Any, column: Column) -> bool:
    """Whether a returned value has the column's declared type."""
    if value is None:
        return column.nullable
    checks: dict[str, tuple[type, ...]] = {
        "STRING": (str,),
        "INTEGER": (int,),
        "FLOAT": (float, int),
        "BOOLEAN": (bool,),
        "DATETIME": (neo4j.time.DateTime, datetime),
        "LIST": (list,),
        "MAP": (dict,),
        "PATH": (neo4j.graph.Path,),
        "NODE": (neo4j.graph.Node,),
    }
    if column.type in ("INTEGER", "FLOAT") and isinstance(value, bool):
        return False
    return isinstance(value, checks[column.type])


def display(value: Any) -> str:
    """A returned value as table text: paths as `(:Label key)-[:TYPE]-...`, times in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, neo4j.graph.Path):
        nodes = value.nodes
        text = _node_text(nodes[0])
        for rel, node in zip(value.relationships, nodes[1:], strict=True):
            text += f"-[:{rel.type}]-{_node_text(node)}"
        return text
    if isinstance(value, neo4j.graph.Node):
        return _node_text(value)
    if isinstance(value, neo4j.time.DateTime):
        return value.to_native().isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(display(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


_KEYS: Final = ("account_id", "fingerprint", "address", "number", "name", "cidr", "ring_id", "run_id")


def _node_text(node: neo4j.graph.Node | None) -> str:
    if node is None:
        return "()"
    label = sorted(node.labels)[0] if node.labels else ""
    key = next((str(node[k]) for k in _KEYS if k in node), node.element_id)
    return f"(:{label} {key})"
