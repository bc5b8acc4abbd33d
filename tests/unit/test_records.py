"""The analyst artefacts read only properties the records write.

The Cypher library (``cypher/queries/*.cypher``), the Bloom perspective (``cypher/bloom/ringtrace.json``:
its categories, relationship types, styles, search phrases and scene actions) and the Browser style
(``cypher/browser/ringtrace.grass``) may name a property of a result node or relationship (Ring,
FOUND_IN, MEMBER_OF, ATTRIBUTED_TO, DetectionRun, Operation, PART_OF) only if :data:`graph.records.STORED_PROPERTIES`
has it, so renaming a record field fails here rather than in an analyst's empty column.

The Cypher is read conservatively: a variable counts as bound to a label or type only where a
pattern says so (``(ring:Ring``, ``[found:FOUND_IN``, ``[:MEMBER_OF {run_id: ...}]``) or a plain
``x AS y`` renames such a variable; every ``var.prop``, ``var {.prop}`` and pattern-map key of a bound
variable is a reference. Property access the parser cannot attribute (``properties(x)``, ``x[key]``)
is not checked.
"""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from graph import records
from graph.records import STORED_PROPERTIES, AttributionRecord, Evidence, OperationRecord, RingRecord, RunRecord

CYPHER = Path(__file__).resolve().parents[2] / "cypher"
QUERIES = sorted((CYPHER / "queries").glob("*.cypher"))
PERSPECTIVE = CYPHER / "bloom" / "ringtrace.json"
GRASS = CYPHER / "browser" / "ringtrace.grass"

Stored = Mapping[str, frozenset[str]]


@dataclass(frozen=True, order=True)
class Reference:
    where: str  # file (and part of it) that names the property
    owner: str  # label or relationship type
    prop: str
    via: str  # how it is named, e.g. "found.score"


# --- Cypher -----------------------------------------------------------------------------------------

_NAME = r"[A-Za-z_]\w*"
_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_STRING_OR_COMMENT = re.compile(rf"{_STRING.pattern}|//[^\n]*")
_UNION = re.compile(r"\bUNION(?:\s+ALL)?\b", re.IGNORECASE)
# (var:Label {map}) and [var:TYPE|TYPE *1..2 {map}]; a pattern without a label or type binds nothing
_NODE = re.compile(
    rf"\(\s*({_NAME})?\s*:\s*({_NAME}(?:\s*[:&|]\s*{_NAME})*)\s*(\{{[^{{}}]*\}})?\s*(?:WHERE\b[^()]*)?\)")
_REL = re.compile(rf"\[\s*({_NAME})?\s*:\s*({_NAME}(?:\s*\|\s*:?\s*{_NAME})*)\s*(?:\*[\d.\s]*)?(\{{[^{{}}]*\}})?\s*\]")
_BARE_NODE = re.compile(rf"\(\s*({_NAME})\s*(\{{[^{{}}]*\}})\s*\)")  # (ring {ring_id: $id}), var bound elsewhere
_ALIAS = re.compile(rf"(?<![\w.$]){_NAME}\s+AS\s+{_NAME}\b", re.IGNORECASE)
_PROPERTY = re.compile(rf"(?<![\w.$])({_NAME})\.({_NAME})")
_PROJECTION = re.compile(rf"(?<![\w.$])({_NAME})\s*(\{{[^{{}}]*\}})")
_MAP_KEY = re.compile(rf"(?:^|,)\s*({_NAME})\s*:")
_MAP_DOT = re.compile(rf"(?:^|,)\s*\.({_NAME})")


def _clean(cypher: str) -> str:
    """Comments removed and strings emptied (they may hold `//`, `:` or `.`), left to right."""
    return _STRING_OR_COMMENT.sub(lambda m: "" if m.group(0).startswith("//") else "''", cypher)


def _names(expression: str) -> frozenset[str]:
    return frozenset(re.findall(_NAME, expression))


def _map_keys(map_text: str | None) -> list[str]:
    return _MAP_KEY.findall(map_text[1:-1]) if map_text else []


def cypher_references(cypher: str, where: str, owners: Iterable[str]) -> Iterator[Reference]:
    """Every property of an `owners` label or type that `cypher` names, part by UNION part."""
    owners = frozenset(owners)
    for n, part in enumerate(_UNION.split(_clean(cypher))):
        at = where if n == 0 else f"{where} (after UNION {n})"
        bound: dict[str, set[frozenset[str]]] = {}
        for pattern in (_NODE, _REL):
            for match in pattern.finditer(part):
                var, labels, props = match.group(1), _names(match.group(2)), match.group(3)
                if var:
                    bound.setdefault(var, set()).add(labels)
                if len(labels) == 1 and labels <= owners:  # a pattern map names its element's properties
                    (owner,) = labels
                    for key in _map_keys(props):
                        yield Reference(at, owner, key, f"{match.group(0).split('{')[0].strip()} {{{key}: ...}}")
        changed = True
        while changed:  # `run AS later`, also in chains
            changed = False
            for alias in _ALIAS.finditer(part):
                source, target = re.split(r"\s+AS\s+", alias.group(0), flags=re.IGNORECASE)
                if source in bound and not bound[source] <= bound.setdefault(target, set()):
                    bound[target] |= bound[source]
                    changed = True
        uses: list[tuple[str, str, str]] = [(m.group(1), m.group(2), m.group(0)) for m in _PROPERTY.finditer(part)]
        for match in _PROJECTION.finditer(part):
            uses += [(match.group(1), key, f"{match.group(1)} {{.{key}}}")
                     for key in _MAP_DOT.findall(match.group(2)[1:-1])]
        for match in _BARE_NODE.finditer(part):
            uses += [(match.group(1), key, f"({match.group(1)} {{{key}: ...}})") for key in _map_keys(match.group(2))]
        for var, prop, via in uses:
            bindings = bound.get(var, set())
            targets = {labels for labels in bindings if labels & owners}
            if not targets:
                continue
            assert len(bindings) == 1 and len(next(iter(bindings))) == 1, (
                f"{at}: `{var}` is bound to {sorted(map(sorted, bindings))}; this check cannot tell whose "
                f"property {via} is: give each variable one label or type")
            (owner,) = next(iter(bindings))
            yield Reference(at, owner, prop, via)


# --- Bloom ------------------------------------------------------------------------------------------

def bloom_references(perspective: dict[str, Any], where: str, owners: Iterable[str]) -> Iterator[Reference]:
    owners = frozenset(owners)

    def styled(owner: str, item: dict[str, Any], at: str) -> Iterator[Reference]:
        for rule in item.get("styleRules", []):
            if rule.get("basedOn"):
                yield Reference(at, owner, rule["basedOn"], "styleRules.basedOn")
        for caption in item.get("captions", []):
            if caption.get("type") == "property":
                yield Reference(at, owner, caption["key"], "captions.key")

    for category in perspective["categories"]:
        for owner in owners.intersection(category["labels"]):
            at = f"{where} categories[{category['name']}]"
            for prop in category["properties"]:
                yield Reference(at, owner, prop["name"], "properties.name")
            for key in (*category.get("caption", []), *category.get("captionKeys", [])):
                yield Reference(at, owner, key, "caption")
            yield from styled(owner, category, at)
    for owner, props in perspective["labels"].items():
        if owner in owners:
            for prop in props:
                yield Reference(f"{where} labels[{owner}]", owner, prop["propertyKey"], "propertyKey")
    for rel in perspective["relationshipTypes"]:
        if rel["name"] in owners:
            at = f"{where} relationshipTypes[{rel['name']}]"
            for prop in rel["properties"]:
                yield Reference(at, rel["name"], prop["propertyKey"], "propertyKey")
            yield from styled(rel["name"], rel, at)
    for index in perspective.get("metadata", {}).get("indexes", []):
        if index["label"] in owners:
            for key in index["propertyKeys"]:
                yield Reference(f"{where} metadata.indexes", index["label"], key["key"], "propertyKeys")
    for kind in ("templates", "sceneActions"):
        for item in perspective[kind]:
            at = f"{where} {kind}[{item['name']}]"
            yield from cypher_references(item["cypher"], at, owners)
            for param in item.get("params", []):
                if param.get("suggestionLabel") in owners and param.get("suggestionProp"):
                    yield Reference(at, param["suggestionLabel"], param["suggestionProp"],
                                    f"{param['name']} suggestion")


# --- Browser ----------------------------------------------------------------------------------------

_GRASS_BLOCK = re.compile(rf"\b(node|relationship)\.({_NAME})\s*\{{((?:{_STRING.pattern}|[^{{}}\"'])*)\}}")
_GRASS_CAPTION = re.compile(rf"\{{({_NAME})\}}")


def grass_references(grass: str, where: str, owners: Iterable[str]) -> Iterator[Reference]:
    owners = frozenset(owners)
    for match in _GRASS_BLOCK.finditer(grass):
        if match.group(2) in owners:
            for value in _STRING.findall(match.group(3)):
                for prop in _GRASS_CAPTION.findall(value):
                    yield Reference(f"{where} {match.group(1)}.{match.group(2)}", match.group(2), prop, value)


# --- the check --------------------------------------------------------------------------------------

def library_references(owners: Iterable[str]) -> list[Reference]:
    owners = frozenset(owners)
    found: list[Reference] = []
    for path in QUERIES:
        found += cypher_references(path.read_text(encoding="utf-8"), f"queries/{path.name}", owners)
    found += bloom_references(json.loads(PERSPECTIVE.read_text(encoding="utf-8")), "bloom/ringtrace.json", owners)
    found += grass_references(GRASS.read_text(encoding="utf-8"), "browser/ringtrace.grass", owners)
    return sorted(set(found))


def undefined(references: Iterable[Reference], stored: Stored) -> list[Reference]:
    return [r for r in references if r.prop not in stored[r.owner]]


def _report(missing: list[Reference]) -> str:
    return "properties no record stores (graph/records.py STORED_PROPERTIES):\n" + "\n".join(
        f"  {r.owner}.{r.prop}  in {r.where}  ({r.via})" for r in missing)


def test_the_library_names_only_stored_properties() -> None:
    missing = undefined(library_references(STORED_PROPERTIES), STORED_PROPERTIES)
    assert not missing, _report(missing)


def test_every_artefact_and_result_element_is_checked() -> None:
    """The parser finds something everywhere, so the check above is not vacuous."""
    references = library_references(STORED_PROPERTIES)
    assert {r.owner for r in references} == set(STORED_PROPERTIES)
    owners = "|".join(STORED_PROPERTIES)
    for path in QUERIES:  # a query that matches a result element names at least one of its properties
        if re.search(rf":\s*(?:{owners})\b", _clean(path.read_text(encoding="utf-8"))):
            assert any(r.where.startswith(f"queries/{path.name}") for r in references), path.name
    assert any(r.where.startswith("bloom/") and " templates[" in r.where for r in references)
    assert any(r.where.startswith("bloom/") and " sceneActions[" in r.where for r in references)
    assert any(r.where.startswith("bloom/") and " categories[" in r.where for r in references)
    assert any(r.where.startswith("browser/") for r in references)


def _stored_with_renamed_field(monkeypatch: pytest.MonkeyPatch, record: str, field: str, new: str) -> Stored:
    """STORED_PROPERTIES of a copy of graph/records.py in which `record.field` is declared as `new`."""
    source = Path(records.__file__).read_text(encoding="utf-8")
    declared = re.search(rf"^class {record}\b", source, flags=re.MULTILINE)
    assert declared, f"no class {record} in graph/records.py"
    start, end = declared.start(), source.index("\n\n\n", declared.start())
    body, count = re.subn(rf"^(    ){field}:", rf"\g<1>{new}:", source[start:end], count=1, flags=re.MULTILINE)
    assert count == 1, f"no field {record}.{field}"
    module = types.ModuleType("renamed_records")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(source[:start] + body + source[end:], "renamed_records.py", "exec"), module.__dict__)
    stored: Stored = module.STORED_PROPERTIES
    return stored


# A run's FOUND_IN carries a ring's record or an operation's, so a field both records have (score,
# organization) stays stored on FOUND_IN when only one of them renames it.
@pytest.mark.parametrize(("record", "field", "expect"), [
    ("RingRecord", "score", {("Ring", "score")}),
    ("RingRecord", "organization", {("Ring", "organization")}),
    ("RingRecord", "operation_id", {("Ring", "operation_id")}),
    ("OperationRecord", "ring_ids", {("FOUND_IN", "ring_ids"), ("Operation", "ring_ids")}),
    ("OperationRecord", "campaigns", {("Operation", "campaigns")}),
    ("OperationRecord", "operation_id", {("Operation", "operation_id")}),
    ("RingRecord", "attribution_confidence", {("Ring", "attribution_confidence")}),
    ("RingRecord", "ring_id", {("Ring", "ring_id")}),
    ("RunRecord", "status", {("DetectionRun", "status")}),
    ("RunRecord", "finished_at", {("DetectionRun", "finished_at")}),
])
def test_renaming_a_record_field_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, record: str, field: str, expect: set[tuple[str, str]]
) -> None:
    stored = _stored_with_renamed_field(monkeypatch, record, field, field + "_renamed")
    assert stored != STORED_PROPERTIES
    missing = {(r.owner, r.prop) for r in undefined(library_references(stored), stored)}
    assert missing == expect, _report(undefined(library_references(stored), stored))


def test_relationship_properties_are_checked_too() -> None:
    for owner, prop in (("MEMBER_OF", "confidence"), ("ATTRIBUTED_TO", "confidence"), ("ATTRIBUTED_TO", "prior_llr"),
                        ("MEMBER_OF", "run_id"), ("PART_OF", "run_id")):
        stored = {**STORED_PROPERTIES, owner: STORED_PROPERTIES[owner] - {prop}}
        assert (owner, prop) in {(r.owner, r.prop) for r in undefined(library_references(stored), stored)}


def test_stored_properties_are_what_write_back_writes() -> None:
    """graph/store/write_back.py stores `properties()` (+ run_id on the Ring, + run_id and confidence on
    ATTRIBUTED_TO); graph/store/runs.py the RunRecord fields and previous_run_id."""
    ring = RingRecord("ring-x", 3, 0.9, "Org", 0.8, 3, 1.0, -1.0, (Evidence("k", 1.0, 1.0, "s", ()),))
    operation = OperationRecord("op-x", 1, 3, ("ring-x",), 0.9, "Org", 0.8, None, None, ())
    assert set(ring.properties()) | set(operation.properties()) == STORED_PROPERTIES["FOUND_IN"]
    assert set(ring.properties()) | {"ring_id", "run_id"} == STORED_PROPERTIES["Ring"]
    assert set(operation.properties()) | {"operation_id", "run_id"} == STORED_PROPERTIES["Operation"]
    attribution = AttributionRecord("ring-x", "Org", 0.8, -1.0, (), ring_id="ring-x")
    assert set(attribution.properties(with_ring=True)) | {"run_id", "confidence"} == STORED_PROPERTIES["ATTRIBUTED_TO"]
    assert {f.name for f in fields(RunRecord)} | {"previous_run_id"} == STORED_PROPERTIES["DetectionRun"]


OWNERS = ("Ring", "FOUND_IN", "MEMBER_OF", "DetectionRun")


@pytest.mark.parametrize(("cypher", "expect"), [
    ("MATCH (ring:Ring)-[found:FOUND_IN]->(run:DetectionRun) RETURN ring.ring_id, found.score, run.status",
     {("Ring", "ring_id"), ("FOUND_IN", "score"), ("DetectionRun", "status")}),
    ("MATCH (a:Account)-[:MEMBER_OF {run_id: $r}]->(:Ring {ring_id: $id}) RETURN a.account_id",
     {("MEMBER_OF", "run_id"), ("Ring", "ring_id")}),
    ("CALL () { MATCH (run:DetectionRun) RETURN run AS later } MATCH (x)-[:FOUND_IN]->(later) RETURN later.version",
     {("DetectionRun", "version")}),
    ("MATCH (ring:Ring) RETURN ring {.size, total: 1}, 'ring.fake' AS s // ring.comment", {("Ring", "size")}),
    ("MATCH (ring:Ring) WITH ring MATCH (ring {score: 0.5}) RETURN 0.5 AS x", {("Ring", "score")}),
    ("MATCH (r:USED_IP) RETURN r.first_seen UNION MATCH ()-[r:MEMBER_OF]->() RETURN r.confidence AS x",
     {("MEMBER_OF", "confidence")}),
    ("MATCH (a)-[m:MEMBER_OF|KNOWN_MEMBER_OF]->(o) RETURN count(DISTINCT m) AS n", set()),
])
def test_the_cypher_parser(cypher: str, expect: set[tuple[str, str]]) -> None:
    assert {(r.owner, r.prop) for r in cypher_references(cypher, "q", OWNERS)} == expect


def test_an_ambiguous_variable_is_refused() -> None:
    with pytest.raises(AssertionError, match="cannot tell"):
        list(cypher_references("MATCH (x:Ring), ()-[x:FOUND_IN]->() RETURN x.score", "q", OWNERS))


def test_the_grass_parser() -> None:
    grass = 'node.Ring { caption: "{ring_id} {size}"; } relationship.MEMBER_OF { caption: "<type>"; }'
    assert {(r.owner, r.prop) for r in grass_references(grass, "g", OWNERS)} == {("Ring", "ring_id"), ("Ring", "size")}
