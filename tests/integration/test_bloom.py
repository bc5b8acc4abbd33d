"""The Bloom perspective: exported-perspective structure, in step with the schema, every phrase runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import neo4j
from graph.analyst.bloom import PERSPECTIVE_PATH, SEARCH_PHRASES, perspective
from graph.analyst.queries import load_queries
from graph.settings import Settings
from graph.store.library import sample_parameters
from graph.vocabulary import ENTITY_KINDS
from tests.integration.test_queries import load_two_runs

_TOP_LEVEL = {
    "name": str, "id": str, "version": str, "categories": list, "labels": dict, "relationshipTypes": list,
    "palette": dict, "templates": list, "sceneActions": list, "hiddenRelationshipTypes": list,
    "hiddenCategories": list, "hideUncategorisedData": bool, "metadata": dict, "createdAt": int,
    "lastEditedAt": int,
}
_CATEGORY = {"id": int, "name": str, "labels": list, "properties": list, "color": str, "icon": str,
             "size": (int, float), "captionKeys": list, "styleRules": list}
_TEMPLATE = {"id": str, "name": str, "text": str, "cypher": str, "params": list}
_PARAM = {"name": str, "dataType": str, "suggestionLabel": (str, type(None)), "suggestionProp": (str, type(None))}
# Optional input columns the generated population leaves empty; the loader stores them when a bundle has them.
_NOT_GENERATED = {("PaymentMethod", "country"), ("Organization", "domain")}


def _shape(item: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    for key, kind in spec.items():
        assert key in item, f"{where}: no {key!r}"
        assert isinstance(item[key], kind), f"{where}.{key} is {type(item[key]).__name__}"


@pytest.fixture(scope="module")
def loaded(driver: neo4j.Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return load_two_runs(driver, settings.neo4j_database, tmp_path_factory.mktemp("bloom"))


@pytest.fixture(scope="module")
def checked_in() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PERSPECTIVE_PATH.read_text())
    return data


def test_checked_in_perspective_is_what_the_generator_writes(checked_in: dict[str, Any]) -> None:
    assert checked_in == perspective(), "cypher/bloom/ringtrace.json is stale: run `ringtrace bloom export`"


def test_cli_export_writes_the_perspective(tmp_path: Path) -> None:
    from graph.cli import app

    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["bloom", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == perspective()


def test_perspective_has_the_exported_structure(checked_in: dict[str, Any]) -> None:
    _shape(checked_in, _TOP_LEVEL, "perspective")
    for category in checked_in["categories"]:
        _shape(category, _CATEGORY, f"category {category.get('name')}")
        assert re.fullmatch(r"#[0-9A-F]{6}", category["color"])
        names = {p["name"] for p in category["properties"]}
        assert set(category["captionKeys"]) <= names
        for rule in category["styleRules"]:
            assert rule["basedOn"] in names and rule["applyColor"] and re.fullmatch(r"#[0-9A-F]{6}", rule["styleColor"])
    ids = [c["id"] for c in checked_in["categories"]]
    assert len(set(ids)) == len(ids)
    for rel in checked_in["relationshipTypes"]:
        _shape(rel, {"id": str, "name": str, "color": str, "properties": list}, f"relationship {rel.get('name')}")
    for template in checked_in["templates"]:
        _shape(template, _TEMPLATE, f"template {template.get('text')}")
        declared = [p["name"] for p in template["params"]]
        assert sorted(declared) == sorted(set(re.findall(r"\$\w+", template["text"])))
        assert set(re.findall(r"\$\w+", template["cypher"])) == set(declared)
        for param in template["params"]:
            _shape(param, _PARAM, f"template {template['text']} {param.get('name')}")
    for action in checked_in["sceneActions"]:
        _shape(action, {"id": str, "name": str, "cypher": str}, f"scene action {action.get('name')}")
    assert {a["name"] for a in checked_in["sceneActions"]} >= {"Expand evidence", "Show ring", "Show operation"}


def test_styles_cover_score_bands_and_network_classes(checked_in: dict[str, Any]) -> None:
    by_name = {c["name"]: c for c in checked_in["categories"]}
    assert {r["basedOn"] for r in by_name["Ring"]["styleRules"]} == {"score"}
    assert len(by_name["Ring"]["styleRules"]) >= 3
    from graph.vocabulary import NETWORK_CLASSES

    assert {r["conditionValue"] for r in by_name["IP"]["styleRules"]} == set(NETWORK_CLASSES)


def test_every_query_of_the_library_has_a_search_phrase() -> None:
    assert set(load_queries()) <= {phrase.query for phrase in SEARCH_PHRASES}


def test_labels_and_relationship_types_exist_in_the_schema(
    checked_in: dict[str, Any], driver: neo4j.Driver, settings: Settings, loaded: tuple[str, str]
) -> None:
    database = settings.neo4j_database
    constraints, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties RETURN labelsOrTypes[0] AS label, properties[0] AS key",
        database_=database)
    keys = {r["label"]: r["key"] for r in constraints}
    types = {r["t"] for r in driver.execute_query(
        "CALL db.relationshipTypes() YIELD relationshipType AS t RETURN t", database_=database)[0]}
    model_types = {kind.relationship for kind in ENTITY_KINDS.values()}
    for category in checked_in["categories"]:
        for label in category["labels"]:
            assert label in keys, f"category label {label} has no constraint in cypher/schema"
            assert keys[label] in category["captionKeys"], f"{label} is not captioned by its key {keys[label]}"
    for label in checked_in["labels"]:
        assert label in keys
    for rel in checked_in["relationshipTypes"]:
        assert rel["name"] in types, f"relationship type {rel['name']} is not in the loaded database"
    assert model_types <= {rel["name"] for rel in checked_in["relationshipTypes"]}
    for segment in checked_in["metadata"]["pathSegments"]:
        records, _, _ = driver.execute_query(
            # Labels and type come from the perspective, just checked against the schema above.
            f"MATCH (:{segment['source']})-[r:{segment['relationshipType']}]->(:{segment['target']}) "
            "RETURN count(r) > 0 AS present", database_=database)
        assert records[0]["present"], f"no {segment} in a loaded, detected database"


def test_every_property_the_perspective_shows_or_hides_is_stored(
    checked_in: dict[str, Any], driver: neo4j.Driver, settings: Settings, loaded: tuple[str, str]
) -> None:
    """Result properties are checked against the records (tests/unit/test_records.py); this also
    catches input properties (observations, the usage log's templates and SENT) the loader renamed."""
    database = settings.neo4j_database
    nodes, _, _ = driver.execute_query(
        "CALL db.schema.nodeTypeProperties() YIELD nodeLabels, propertyName "
        "UNWIND nodeLabels AS label RETURN DISTINCT label AS owner, propertyName AS prop", database_=database)
    rels, _, _ = driver.execute_query(
        "CALL db.schema.relTypeProperties() YIELD relType, propertyName "
        "RETURN DISTINCT relType AS owner, propertyName AS prop", database_=database)
    stored = {(r["owner"], r["prop"]) for r in nodes} | {(r["owner"].strip(":`"), r["prop"]) for r in rels}
    named = {(label, p["name"]) for c in checked_in["categories"] for label in c["labels"] for p in c["properties"]}
    named |= {(rel["name"], p["propertyKey"]) for rel in checked_in["relationshipTypes"] for p in rel["properties"]}
    assert ("PromptTemplate", "signature") in named and ("SENT", "count") in named
    assert not named - stored - _NOT_GENERATED, f"not in a loaded, detected database: {sorted(named - stored)}"


def test_every_search_phrase_and_scene_action_runs(
    checked_in: dict[str, Any], driver: neo4j.Driver, settings: Settings, loaded: tuple[str, str]
) -> None:
    database = settings.neo4j_database
    samples = sample_parameters(driver, database)
    for template in checked_in["templates"]:
        parameters = {p["name"].lstrip("$"): samples[p["name"].lstrip("$")] for p in template["params"]}
        driver.execute_query("EXPLAIN " + template["cypher"], parameters, database_=database)
        records, _, _ = driver.execute_query(template["cypher"], parameters, database_=database,
                                             routing_=neo4j.RoutingControl.READ)
        assert records, f"search phrase {template['text']!r} returned nothing with {parameters}"
        graph_values = [v for r in records for v in r.values()
                        if isinstance(v, neo4j.graph.Node | neo4j.graph.Relationship | neo4j.graph.Path)]
        assert graph_values, f"search phrase {template['text']!r} returns no graph elements for Bloom to draw"
    members, _, _ = driver.execute_query(
        "MATCH (a:Account {account_id: $a}) RETURN elementId(a) AS id", a=samples["account_a"], database_=database)
    for action in checked_in["sceneActions"]:
        records, _, _ = driver.execute_query(action["cypher"], {"nodes": [members[0]["id"]], "relationships": []},
                                             database_=database, routing_=neo4j.RoutingControl.READ)
        assert records, f"scene action {action['name']!r} returned nothing for a ring member"


def test_operations_have_a_category_a_relationship_type_and_a_phrase_that_shows_their_campaigns(
    checked_in: dict[str, Any], driver: neo4j.Driver, settings: Settings, loaded: tuple[str, str]
) -> None:
    by_name = {c["name"]: c for c in checked_in["categories"]}
    operation = by_name["Operation"]
    assert operation["captionKeys"] == ["operation_id"]
    assert {r["basedOn"] for r in operation["styleRules"]} == {"campaigns"}  # sized by campaigns
    assert any(r["applySize"] for r in operation["styleRules"])
    hidden = {p["name"] for p in operation["properties"] if p["exclude"]}
    assert hidden == {"ties"}  # the JSON evidence: the phrase draws it as the graph instead
    assert {"operation_id", "active_from", "active_to"} <= {p["name"] for p in by_name["Ring"]["properties"]}
    assert "PART_OF" in {rel["name"] for rel in checked_in["relationshipTypes"]}
    assert {"source": "Ring", "relationshipType": "PART_OF", "target": "Operation"} in (
        checked_in["metadata"]["pathSegments"])

    database = settings.neo4j_database
    samples = sample_parameters(driver, database)
    phrase = next(t for t in checked_in["templates"] if t["text"] == "Operation $operation_id")
    assert phrase["params"][0]["suggestionLabel"] == "Operation"
    records, _, _ = driver.execute_query(phrase["cypher"], operation_id=samples["operation_id"], database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    nodes = {n.element_id: n for r in records for n in r.values() if isinstance(n, neo4j.graph.Node)}
    rels = [v for r in records for v in r.values() if isinstance(v, neo4j.graph.Relationship)]
    rings = {n["ring_id"] for n in nodes.values() if "Ring" in n.labels}
    members = {n["account_id"] for n in nodes.values() if "Account" in n.labels}
    expected, _, _ = driver.execute_query(
        "MATCH (op:Operation {operation_id: $op})-[found:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "OPTIONAL MATCH (a:Account)-[:MEMBER_OF {run_id: $run}]->(ring:Ring)-[:PART_OF {run_id: $run}]->(op) "
        "RETURN found.ring_ids AS rings, collect(DISTINCT a.account_id) AS members",
        op=samples["operation_id"], run=samples["run_id"], database_=database)
    assert len(expected[0]["rings"]) >= 2
    assert rings == set(expected[0]["rings"]) and members == set(expected[0]["members"])
    assert {n["operation_id"] for n in nodes.values() if "Operation" in n.labels} == {samples["operation_id"]}
    assert {r.type for r in rels} >= {"PART_OF", "MEMBER_OF"}
    # what ties the campaigns: an asset or an organisation members of two of them share
    assert {r.type for r in rels} - {"PART_OF", "MEMBER_OF"}, "no tie between campaigns is drawn"

    ring = next(iter(expected[0]["rings"]))
    ids, _, _ = driver.execute_query("MATCH (r:Ring {ring_id: $ring}) RETURN elementId(r) AS id", ring=ring,
                                     database_=database)
    action = next(a for a in checked_in["sceneActions"] if a["name"] == "Show operation")
    shown, _, _ = driver.execute_query(action["cypher"], {"nodes": [ids[0]["id"]], "relationships": []},
                                       database_=database, routing_=neo4j.RoutingControl.READ)
    shown_rings = {n["ring_id"] for r in shown for n in r["p"].nodes if "Ring" in n.labels}
    assert shown_rings == set(expected[0]["rings"])
