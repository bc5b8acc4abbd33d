"""The Neo4j Bloom perspective, generated from the graph model so it never drifts from it.

`perspective()` builds the exported-perspective JSON that Bloom's "Import perspective" reads:
one category per label (caption property, icon, colour, rule-based styles such as ring score bands
and the IP network class), the relationship types, search phrases that mirror the analyst query
library (`cypher/queries/`) with parameter suggestions, and scene actions ("Expand evidence",
"Show ring", "Show operation", "Show shared templates"). Labels and relationship types come from `graph.vocabulary`
and the fixed structural vocabulary below; the output is deterministic (fixed ids and timestamps),
so the checked-in `cypher/bloom/ringtrace.json` only changes when the model does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graph.resources import resource_dir
from graph.store.usage import UNSHARED
from graph.vocabulary import ENTITY_KINDS, NETWORK_CLASSES

__all__ = [
    "LABELS",
    "PERSPECTIVE_PATH",
    "RELATIONSHIPS",
    "SCENE_ACTIONS",
    "SEARCH_PHRASES",
    "LabelStyle",
    "Relationship",
    "SceneAction",
    "SearchPhrase",
    "perspective",
    "write_perspective",
]

PERSPECTIVE_PATH: Final = resource_dir("cypher") / "bloom" / "ringtrace.json"
_BLOOM_VERSION: Final = "2.3.0"  # the perspective format version Bloom 2.x writes on export
_STAMP: Final = 1767225600000  # fixed createdAt/lastEditedAt (2026-01-01T00:00:00Z) keeps the file stable
_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://ringtrace/bloom")


@dataclass(frozen=True)
class LabelStyle:
    label: str
    key: str  # the unique key, also the caption
    color: str
    icon: str  # a Bloom built-in icon name
    size: float
    properties: tuple[tuple[str, str], ...]  # (name, Bloom data type) besides the key
    hidden: tuple[tuple[str, str], ...] = ()  # stored, but internal: kept out of the inspector


@dataclass(frozen=True)
class Relationship:
    type: str
    source: str
    target: str
    color: str
    properties: tuple[tuple[str, str], ...] = ()


_LINK_PROPS: Final = (("first_seen", "DateTime"), ("last_seen", "DateTime"), ("count", "integer"))

#: label -> (colour, icon, size, extra properties); keys come from graph.vocabulary where the model has them
_ENTITY_LOOK: Final[dict[str, tuple[str, str, float, tuple[tuple[str, str], ...]]]] = {
    "IP": ("#57C7E3", "router", 1.0, (("asn", "integer"), ("org", "string"), ("network", "string"),
                                      ("range", "string"))),
    "Device": ("#F79767", "smartphone", 1.0, ()),
    "PaymentMethod": ("#FFC454", "credit_card", 1.0, (("brand", "string"), ("bin", "string"),
                                                      ("last4", "string"), ("country", "string"))),
    "Email": ("#8DCC93", "email", 0.75, ()),
    "Phone": ("#D9C8AE", "phone", 0.75, ()),
}

LABELS: Final[tuple[LabelStyle, ...]] = (
    LabelStyle("Account", "account_id", "#4C8EDA", "person", 1.0,
               (("created_at", "DateTime"), ("email_domain", "string"), ("country", "string"),
                ("status", "string"))),
    *(LabelStyle(kind.label, kind.key, *_ENTITY_LOOK[kind.label]) for kind in ENTITY_KINDS.values()),
    LabelStyle("Organization", "name", "#C990C0", "business", 2.0, (("domain", "string"),)),
    LabelStyle("IPRange", "cidr", "#A5ABB6", "lan", 1.0,
               (("asn", "integer"), ("organization", "string"), ("network", "string"))),
    # Templates and models come from the usage log; a template's signature is the near-duplicate
    # matcher's internal state, meaningless to a reader.
    LabelStyle("PromptTemplate", "fingerprint", "#569480", "article", 1.25,
               (("skeleton", "string"), ("accounts", "integer"), ("requests", "integer"), ("source", "string")),
               (("signature", "array"),)),
    LabelStyle("Model", "name", "#ECB5C9", "memory", 1.25, (("first_seen", "integer"),)),
    LabelStyle("Ring", "ring_id", "#F16667", "group_work", 2.5,
               (("size", "integer"), ("score", "number"), ("organization", "string"),
                ("attribution_confidence", "number"), ("run_id", "string"), ("requests", "integer"),
                ("output_tokens", "integer"), ("activity", "string"), ("operation_id", "string"),
                ("active_from", "string"), ("active_to", "string"))),
    # An operation: the campaigns (rings) of one operator. Its ties are JSON evidence (sentences and
    # paths) that the dossier and the API read; the perspective draws them as the graph itself.
    LabelStyle("Operation", "operation_id", "#8E44AD", "account_tree", 3.0,
               (("campaigns", "integer"), ("size", "integer"), ("score", "number"), ("organization", "string"),
                ("attribution_confidence", "number"), ("active_from", "string"), ("active_to", "string"),
                ("ring_ids", "array"), ("run_id", "string")),
               (("ties", "string"),)),
    LabelStyle("DetectionRun", "run_id", "#D9D9D9", "history", 1.5,
               (("status", "string"), ("started_at", "DateTime"), ("finished_at", "DateTime"),
                ("version", "string"), ("previous_run_id", "string"))),
)

RELATIONSHIPS: Final[tuple[Relationship, ...]] = (
    *(Relationship(kind.relationship, "Account", kind.label, _ENTITY_LOOK[kind.label][0], _LINK_PROPS)
      for kind in ENTITY_KINDS.values()),
    # SENT also carries the co-action lists (minutes, hours, event digests): internal, so not shown.
    Relationship("SENT", "Account", "PromptTemplate", "#569480", _LINK_PROPS),
    Relationship("KNOWN_MEMBER_OF", "Account", "Organization", "#C990C0", (("source", "string"),
                                                                          ("since", "DateTime"))),
    Relationship("OPERATED_BY", "IP", "Organization", "#A5ABB6"),
    Relationship("OPERATED_BY", "IPRange", "Organization", "#A5ABB6"),
    Relationship("MEMBER_OF", "Account", "Ring", "#F16667", (("run_id", "string"), ("confidence", "number"))),
    Relationship("ATTRIBUTED_TO", "Ring", "Organization", "#DA7194", (("run_id", "string"),
                                                                      ("confidence", "number"))),
    Relationship("ATTRIBUTED_TO", "Account", "Organization", "#DA7194", (("run_id", "string"),
                                                                         ("confidence", "number"))),
    Relationship("FOUND_IN", "Ring", "DetectionRun", "#D9D9D9", (("size", "integer"), ("score", "number"))),
    Relationship("FOUND_IN", "Operation", "DetectionRun", "#D9D9D9", (("size", "integer"), ("score", "number"))),
    Relationship("PART_OF", "Ring", "Operation", "#8E44AD", (("run_id", "string"),)),
    Relationship("FOLLOWS", "DetectionRun", "DetectionRun", "#D9D9D9"),
)

_LINKS: Final = "|".join(kind.relationship for kind in ENTITY_KINDS.values())
_LATEST_RUN: Final = """CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}"""
# The bucket of prompts no other account sent is stored as a template but is none: a ring's members
# all "share" it.
_REAL_TEMPLATE: Final = f"t.fingerprint <> '{UNSHARED}'"


@dataclass(frozen=True)
class SearchPhrase:
    """A Bloom search phrase: the text typed, the library query it mirrors, graph-returning Cypher."""

    text: str
    query: str  # the cypher/queries/ file it is the graph view of
    cypher: str
    params: tuple[tuple[str, str, str | None, str | None], ...]  # (name, Bloom type, label, property)


_RING = ("ring_id", "String", "Ring", "ring_id")
_TEMPLATE = ("fingerprint", "String", "PromptTemplate", "fingerprint")
_ORG = ("organization", "String", "Organization", "name")
_RUN = ("run_id", "String", "DetectionRun", "run_id")
_OPERATION = ("operation_id", "String", "Operation", "operation_id")
# What ties campaigns of one operation in the drawing: an asset members of two of them used (an address
# ties only through its organisation, as the tie evidence says: a proxy exit carries anyone's traffic).
_ASSETS: Final = "|".join(kind.relationship for kind in ENTITY_KINDS.values() if kind.label != "IP")

SEARCH_PHRASES: Final[tuple[SearchPhrase, ...]] = (
    SearchPhrase("Show ring $ring_id", "ring_members", f"""MATCH (ring:Ring {{ring_id: $ring_id}})
CALL (ring) {{
  MATCH (ring)-[:FOUND_IN]->(run:DetectionRun {{status: 'completed'}})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}}
MATCH (a:Account)-[m:MEMBER_OF {{run_id: run.run_id}}]->(ring)
OPTIONAL MATCH (a)-[l:{_LINKS}]->(e)<-[:{_LINKS}]-(b:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring)
WHERE b <> a
RETURN ring, m, a, l, e""", (_RING,)),
    SearchPhrase("Evidence between $account_a and $account_b", "evidence_paths_between",
                 f"""MATCH (a:Account {{account_id: $account_a}}), (b:Account {{account_id: $account_b}})
MATCH p = ALL SHORTEST (a)-[:{_LINKS}|KNOWN_MEMBER_OF|OPERATED_BY]-{{1,6}}(b)
RETURN p LIMIT 100""",
                 (("account_a", "String", "Account", "account_id"), ("account_b", "String", "Account", "account_id"))),
    SearchPhrase("Accounts within $max_hops hops of $organization", "accounts_near_organization",
                 f"""MATCH (o:Organization {{name: $organization}})
MATCH p = ANY SHORTEST (o)-[:KNOWN_MEMBER_OF|OPERATED_BY|{_LINKS}]-{{1,6}}(a:Account)
WHERE length(p) <= $max_hops
RETURN p ORDER BY length(p) LIMIT 300""", (("max_hops", "Integer", None, None), _ORG)),
    SearchPhrase("Rings attributed to $organization above $min_confidence", "rings_attributed_to",
                 f"""{_LATEST_RUN}
MATCH (ring:Ring)-[:FOUND_IN]->(run)
MATCH (ring)-[t:ATTRIBUTED_TO {{run_id: run.run_id}}]->(o:Organization {{name: $organization}})
WHERE t.confidence >= $min_confidence
RETURN ring, t, o""", (_ORG, ("min_confidence", "Float", None, None))),
    SearchPhrase("Infrastructure shared by $min_rings rings", "shared_infrastructure", f"""{_LATEST_RUN}
MATCH (ring:Ring)-[:FOUND_IN]->(run)
MATCH (a:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring)
MATCH (a)-[:{_LINKS}]->(e)
WITH run, e, count(DISTINCT ring) AS rings
WHERE rings >= $min_rings
WITH run, e ORDER BY rings DESC LIMIT 10
MATCH (ring:Ring)<-[m:MEMBER_OF {{run_id: run.run_id}}]-(a:Account)-[l:{_LINKS}]->(e)
RETURN e, l, a, m, ring""", (("min_rings", "Integer", None, None),)),
    SearchPhrase("Joined a ring since run $since_run_id", "ring_joiners", f"""{_LATEST_RUN}
MATCH (a:Account)-[m:MEMBER_OF {{run_id: run.run_id}}]->(ring:Ring)
WHERE NOT EXISTS {{ (a)-[:MEMBER_OF {{run_id: $since_run_id}}]->(ring) }}
RETURN a, m, ring""", (("since_run_id", "String", "DetectionRun", "run_id"),)),
    SearchPhrase("Rings grown since run $from_run_id", "ring_growth", f"""{_LATEST_RUN}
MATCH (earlier:DetectionRun {{run_id: $from_run_id}})<-[before:FOUND_IN]-(ring:Ring)-[after:FOUND_IN]->(run)
WHERE after.size > before.size
MATCH (a:Account)-[m:MEMBER_OF {{run_id: run.run_id}}]->(ring)
WHERE NOT EXISTS {{ (a)-[:MEMBER_OF {{run_id: earlier.run_id}}]->(ring) }}
RETURN ring, m, a""", (("from_run_id", "String", "DetectionRun", "run_id"),)),
    SearchPhrase("Timeline of ring $ring_id", "ring_timeline", f"""MATCH (ring:Ring {{ring_id: $ring_id}})
CALL (ring) {{
  MATCH (ring)-[:FOUND_IN]->(run:DetectionRun {{status: 'completed'}})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}}
MATCH (a:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring)
MATCH (a)-[l:{_LINKS}]->(e)<-[:{_LINKS}]-(b:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring)
WHERE b <> a AND l.first_seen IS NOT NULL
RETURN a, l, e ORDER BY l.first_seen LIMIT 500""", (_RING,)),
    SearchPhrase("Attribution of ring $ring_id", "rings_attributed_to", f"""MATCH (ring:Ring {{ring_id: $ring_id}})
CALL (ring) {{
  MATCH (ring)-[:FOUND_IN]->(run:DetectionRun {{status: 'completed'}})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}}
MATCH (ring)-[t:ATTRIBUTED_TO {{run_id: run.run_id}}]->(o:Organization)
OPTIONAL MATCH (a:Account)-[m:MEMBER_OF {{run_id: run.run_id}}]->(ring)
OPTIONAL MATCH (a)-[l:{_LINKS}]->(e)-[op:OPERATED_BY]->(o)
OPTIONAL MATCH (a)-[l2:{_LINKS}]->(e2)<-[l3:{_LINKS}]-(k:Account)-[km:KNOWN_MEMBER_OF]->(o)
RETURN ring, t, o, a, m, l, e, op, l2, e2, l3, k, km""", (_RING,)),
    SearchPhrase("Templates of ring $ring_id", "ring_templates", f"""MATCH (ring:Ring {{ring_id: $ring_id}})
CALL (ring) {{
  MATCH (ring)-[:FOUND_IN]->(run:DetectionRun {{status: 'completed'}})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}}
MATCH (ring)<-[:MEMBER_OF {{run_id: run.run_id}}]-(a:Account)-[:SENT]->(t:PromptTemplate)
WHERE {_REAL_TEMPLATE}
WITH ring, run, t, count(a) AS members
WHERE members >= 2
WITH ring, run, t ORDER BY members DESC, t.accounts, t.fingerprint LIMIT 25
MATCH (ring)<-[m:MEMBER_OF {{run_id: run.run_id}}]-(a:Account)-[s:SENT]->(t)
RETURN ring, m, a, s, t""", (_RING,)),
    SearchPhrase("Accounts that sent template $fingerprint", "ring_templates", f"""{_LATEST_RUN}
MATCH (t:PromptTemplate {{fingerprint: $fingerprint}})<-[s:SENT]-(a:Account)
WITH run, t, s, a ORDER BY s.count DESC, a.account_id LIMIT 300
OPTIONAL MATCH (a)-[m:MEMBER_OF {{run_id: run.run_id}}]->(ring:Ring)
RETURN t, s, a, m, ring""", (_TEMPLATE,)),
    SearchPhrase("Rings sharing rare templates, sent by at most $max_senders accounts", "ring_templates",
                 f"""{_LATEST_RUN}
MATCH (ring:Ring)-[:FOUND_IN]->(run)
MATCH (ring)<-[:MEMBER_OF {{run_id: run.run_id}}]-(a:Account)-[:SENT]->(t:PromptTemplate)
WHERE t.accounts <= $max_senders AND {_REAL_TEMPLATE}
WITH run, ring, t, count(a) AS members
WHERE members >= 2
WITH run, ring, t ORDER BY members DESC, t.accounts, ring.ring_id, t.fingerprint LIMIT 50
MATCH p = (ring)<-[:MEMBER_OF {{run_id: run.run_id}}]-(:Account)-[:SENT]->(t)
RETURN p""", (("max_senders", "Integer", None, None),)),
    SearchPhrase("Operation $operation_id", "operation_campaigns",
                 f"""MATCH (op:Operation {{operation_id: $operation_id}})
CALL (op) {{
  MATCH (op)-[:FOUND_IN]->(run:DetectionRun {{status: 'completed'}})
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}}
MATCH (ring:Ring)-[p:PART_OF {{run_id: run.run_id}}]->(op)
MATCH (a:Account)-[m:MEMBER_OF {{run_id: run.run_id}}]->(ring)
CALL (run, op, ring, a) {{
  OPTIONAL MATCH (a)-[l:{_ASSETS}|KNOWN_MEMBER_OF]->(e)<-[:{_ASSETS}|KNOWN_MEMBER_OF]-(:Account)
                 -[:MEMBER_OF {{run_id: run.run_id}}]->(other:Ring)-[:PART_OF {{run_id: run.run_id}}]->(op)
  WHERE other <> ring
  RETURN DISTINCT l, e
}}
RETURN op, p, ring, m, a, l, e""", (_OPERATION,)),
    SearchPhrase("Detection run $run_id", "ring_growth", """MATCH (run:DetectionRun {run_id: $run_id})
OPTIONAL MATCH (run)-[f:FOLLOWS]->(previous:DetectionRun)
OPTIONAL MATCH (ring:Ring)-[found:FOUND_IN]->(run)
RETURN run, f, previous, ring, found""", (_RUN,)),
)


@dataclass(frozen=True)
class SceneAction:
    """A right-click action on selected nodes: `$nodes` holds their ids (element ids or legacy ids)."""

    name: str
    cypher: str


_SELECTED: Final = "(elementId(a) IN $nodes OR id(a) IN $nodes)"

SCENE_ACTIONS: Final[tuple[SceneAction, ...]] = (
    SceneAction("Expand evidence", f"""MATCH (a:Account) WHERE {_SELECTED}
MATCH p = (a)-[:{_LINKS}]->(e)<-[:{_LINKS}]-(b:Account)
WHERE b <> a AND COUNT {{ (e)<-[:{_LINKS}]-(:Account) }} <= 50
RETURN p LIMIT 500
UNION
MATCH (a:Account) WHERE {_SELECTED}
MATCH p = (a)-[:{_LINKS}]->(:IP)-[:OPERATED_BY]->(:Organization)
RETURN p LIMIT 200
UNION
MATCH (a:Account) WHERE {_SELECTED}
MATCH p = (a)-[:KNOWN_MEMBER_OF]->(:Organization)
RETURN p"""),
    SceneAction("Show ring", f"""{_LATEST_RUN}
MATCH (a:Account) WHERE {_SELECTED}
MATCH (a)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring:Ring)
MATCH p = (:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring)
RETURN p"""),
    SceneAction("Show attribution", f"""{_LATEST_RUN}
MATCH (a:Account) WHERE {_SELECTED}
MATCH (a)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring:Ring)
MATCH p = (ring)-[:ATTRIBUTED_TO {{run_id: run.run_id}}]->(:Organization)
RETURN p"""),
    # On selected rings, or the rings of selected accounts: the operation they are campaigns of, and its rings.
    SceneAction("Show operation", f"""{_LATEST_RUN}
MATCH (a:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring:Ring)
WHERE {_SELECTED} OR elementId(ring) IN $nodes OR id(ring) IN $nodes
MATCH (ring)-[:PART_OF {{run_id: run.run_id}}]->(op:Operation)
WITH DISTINCT run, op
MATCH p = (:Ring)-[:PART_OF {{run_id: run.run_id}}]->(op)
RETURN p"""),
    # On selected rings, or the rings of selected accounts: the templates most of their members sent.
    SceneAction("Show shared templates", f"""{_LATEST_RUN}
MATCH (a:Account)-[:MEMBER_OF {{run_id: run.run_id}}]->(ring:Ring)
WHERE {_SELECTED} OR elementId(ring) IN $nodes OR id(ring) IN $nodes
WITH DISTINCT run, ring
MATCH (ring)<-[:MEMBER_OF {{run_id: run.run_id}}]-(a:Account)-[:SENT]->(t:PromptTemplate)
WHERE {_REAL_TEMPLATE}
WITH run, ring, t, count(a) AS members
WHERE members >= 2
WITH run, ring, t ORDER BY members DESC, t.accounts, t.fingerprint LIMIT 20
MATCH p = (ring)<-[:MEMBER_OF {{run_id: run.run_id}}]-(:Account)-[:SENT]->(t)
RETURN p"""),
)


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _rule(based_on: str, data_type: str, condition: str, value: Any, color: str, size: float | None = None,
          upper: Any = None) -> dict[str, Any]:
    """One rule-based style: colour (and optionally size) for elements whose property matches."""
    return {
        "type": "single",
        "basedOn": based_on,
        "dataType": data_type,
        "condition": condition,
        "conditionValue": value,
        "conditionValueUpper": upper,
        "applyColor": True,
        "styleColor": color,
        "applySize": size is not None,
        "styleSize": size if size is not None else 1,
        "applyCaption": False,
        "captions": [],
        "disabled": False,
    }


_NETWORK_COLORS: Final = {
    "residential": "#8DCC93", "mobile": "#57C7E3", "hosting": "#F79767", "vpn": "#DA7194",
    "tor": "#F16667", "corporate": "#C990C0", "unknown": "#A5ABB6",
}


def _style_rules(label: str) -> list[dict[str, Any]]:
    if label == "Ring":  # coordination score bands
        return [
            _rule("score", "number", "greater-or-equal", 0.9, "#D62728", 3.0),
            _rule("score", "number", "between", 0.5, "#FF7F0E", 2.0, upper=0.9),
            _rule("score", "number", "less", 0.5, "#A5ABB6", 1.0),
        ]
    if label == "IP":  # network class: a hosting IP says more than a carrier NAT or a VPN exit
        return [_rule("network", "string", "equals", network, _NETWORK_COLORS[network])
                for network in NETWORK_CLASSES]
    if label == "Account":
        return [_rule("status", "string", "equals", "suspended", "#7F7F7F")]
    if label == "Operation":  # sized by campaigns: one campaign is a ring on its own, many a standing operator
        return [
            _rule("campaigns", "number", "greater-or-equal", 5, "#5B2C6F", 4.5),
            _rule("campaigns", "number", "between", 2, "#8E44AD", 3.5, upper=4),
            _rule("campaigns", "number", "less", 2, "#C39BD3", 1.5),
        ]
    return []


def _category(index: int, style: LabelStyle) -> dict[str, Any]:
    shown = ((style.key, "string"), *style.properties)
    return {
        "id": index,
        "name": style.label,
        "labels": [style.label],
        "properties": [
            *({"name": name, "exclude": False, "isCaption": name == style.key, "dataType": kind}
              for name, kind in shown),
            *({"name": name, "exclude": True, "isCaption": False, "dataType": kind} for name, kind in style.hidden),
        ],
        "createdAt": _STAMP,
        "lastEditedAt": _STAMP,
        "color": style.color,
        "icon": style.icon,
        "size": style.size,
        "textSize": 1,
        "textAlign": "top",
        "caption": [style.key],
        "captionKeys": [style.key],
        "captions": [{"key": style.key, "type": "property", "isCaption": True, "inTooltip": True, "styles": []}],
        "styleRules": _style_rules(style.label),
    }


def _relationship_types() -> list[dict[str, Any]]:
    seen: dict[str, Relationship] = {}
    for rel in RELATIONSHIPS:
        seen.setdefault(rel.type, rel)
    rules = {
        "ATTRIBUTED_TO": [_rule("confidence", "number", "greater-or-equal", 0.9, "#D62728", 3.0)],
        "MEMBER_OF": [_rule("confidence", "number", "less", 0.5, "#A5ABB6", 0.5)],
    }
    return [
        {
            "id": rel.type,
            "name": rel.type,
            "color": rel.color,
            "size": 1,
            "textSize": 1,
            "textAlign": "top",
            "properties": [{"propertyKey": name, "type": rel.type, "dataType": kind} for name, kind in rel.properties],
            "captionKeys": ["0_REL_TYPE_CAPTION_KEY"],
            "captions": [{"key": rel.type, "type": "relationship", "isCaption": True, "inTooltip": True,
                          "styles": []}],
            "styleRules": rules.get(rel.type, []),
        }
        for rel in seen.values()
    ]


def _template(index: int, phrase: SearchPhrase) -> dict[str, Any]:
    return {
        "id": _id("template", phrase.text),
        "name": phrase.text.split(" $")[0],
        "text": phrase.text,
        "cypher": phrase.cypher,
        "createdAt": _STAMP + index,
        "isUpdateQuery": None,
        "hasCypherErrors": False,
        "params": [
            {"name": f"${name}", "dataType": kind, "collapsed": False, "suggestionLabel": label,
             "suggestionProp": prop, "suggestionBoolean": False, "cypher": None}
            for name, kind, label, prop in phrase.params
        ],
    }


def perspective() -> dict[str, Any]:
    """The perspective, as Bloom exports it."""
    categories = [_category(i, style) for i, style in enumerate(LABELS, start=1)]
    return {
        "name": "ringtrace",
        "id": _id("perspective", "ringtrace"),
        "version": _BLOOM_VERSION,
        "type": "STANDARD_PERSPECTIVE",
        "createdAt": _STAMP,
        "lastEditedAt": _STAMP,
        "categories": categories,
        "labels": {
            style.label: [{"propertyKey": name, "type": style.label, "dataType": kind}
                          for name, kind in ((style.key, "string"), *style.properties, *style.hidden)]
            for style in LABELS
        },
        "relationshipTypes": _relationship_types(),
        "palette": {"colors": [style.color for style in LABELS], "currentIndex": len(LABELS)},
        "templates": [_template(i, phrase) for i, phrase in enumerate(SEARCH_PHRASES)],
        "sceneActions": [
            {"id": _id("scene-action", action.name), "name": action.name, "cypher": action.cypher,
             "isUpdateQuery": None, "hasCypherErrors": False, "availableToAll": True, "enabled": True,
             "createdAt": _STAMP + i}
            for i, action in enumerate(SCENE_ACTIONS)
        ],
        "hiddenRelationshipTypes": [],
        "hiddenCategories": [],
        "hideUncategorisedData": False,
        "parentPerspectiveId": None,
        "metadata": {
            "pathSegments": [{"source": r.source, "relationshipType": r.type, "target": r.target}
                             for r in RELATIONSHIPS],
            "indexes": [{"label": style.label, "type": "native",
                         "propertyKeys": [{"key": style.key, "metadataProp": False}]} for style in LABELS],
            "stats": {"labels": {}, "relationshipTypes": {}},
        },
    }


def write_perspective(path: Path = PERSPECTIVE_PATH) -> dict[str, Any]:
    """Write the perspective JSON (stable formatting, trailing newline) and return it."""
    data = perspective()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return data
