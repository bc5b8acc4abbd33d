"""The evidence of an operation: each tie between two of its campaigns as a sentence and a real path.

Paths are built from the run's own link index and organisation indicators, like every other evidence
path, so each exists in Neo4j: a shared asset is ``(a1)-[:USED_DEVICE]->(d)<-[:USED_DEVICE]-(a2)``,
a known member ``(a1)-[:KNOWN_MEMBER_OF]->(o)<-[:KNOWN_MEMBER_OF]-(a2)``, an organisation's own
network ``(a1)-[:USED_IP]->(ip1)-[:OPERATED_BY]->(o)<-[:OPERATED_BY]-(ip2)<-[:USED_IP]-(a2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from graph.detection.operations import Tie
from graph.evidence.paths import iso_time
from graph.links import LinkIndex
from graph.records import EvidencePath, OperationTie, PathNode, PathRelationship
from graph.vocabulary import ENTITY_KINDS, KIND_ORDER

__all__ = ["TieExplainer"]

_NOUN = {"payment": "card", "device": "device", "phone": "phone number", "email": "email address", "ip": "address"}


def _day(epoch: float) -> str | None:
    return None if np.isnan(epoch) else datetime.fromtimestamp(float(epoch), UTC).date().isoformat()


class TieExplainer:
    """Turns :class:`~graph.detection.operations.Tie` (indices) into :class:`OperationTie` (ids, paths)."""

    def __init__(self, links: LinkIndex, organizations: Sequence[str], ring_ids: Sequence[str]) -> None:
        self._links = links
        self._inc = links.incidence
        self._orgs = organizations
        self._ring_ids = ring_ids

    def explain(self, tie: Tie) -> OperationTie:
        rings = (self._ring_ids[tie.rings[0]], self._ring_ids[tie.rings[1]])
        a1, a2 = (str(self._inc.account_ids[a]) for a in tie.accounts)
        if tie.kind == "known_member":
            org = self._orgs[tie.organization]
            sentence = (f"Both campaigns hold accounts an earlier case attributed to {org}: {a1} in {rings[0]} "
                        f"and {a2} in {rings[1]}.")
            node = PathNode("Organization", "name", org)
            path = EvidencePath((self._account(tie.accounts[0]), node, self._account(tie.accounts[1])),
                                (PathRelationship("KNOWN_MEMBER_OF", 0, 1), PathRelationship("KNOWN_MEMBER_OF", 2, 1)))
            return OperationTie(tie.kind, rings, sentence, (path,))
        if tie.kind == "org_network":
            org = self._orgs[tie.organization]
            ip1, ip2 = (str(self._inc.entity_keys[e]) for e in (tie.entity, tie.other_entity))
            sentence = (f"Members of both campaigns used addresses {org} operates itself: {a1} of {rings[0]} on "
                        f"{ip1}, {a2} of {rings[1]} on {ip2}.")
            used1 = self._observed(tie.accounts[0], tie.entity, 0, 1, "USED_IP")
            used2 = self._observed(tie.accounts[1], tie.other_entity, 4, 3, "USED_IP")
            nodes = (self._account(tie.accounts[0]), self._entity(tie.entity), PathNode("Organization", "name", org),
                     self._entity(tie.other_entity), self._account(tie.accounts[1]))
            rels = (used1, PathRelationship("OPERATED_BY", 1, 2), PathRelationship("OPERATED_BY", 3, 2), used2)
            return OperationTie(tie.kind, rings, sentence, (EvidencePath(nodes, rels),))
        kind = ENTITY_KINDS[tie.kind]
        first1 = self._first_seen(tie.accounts[0], tie.entity)
        first2 = self._first_seen(tie.accounts[1], tie.entity)
        key = str(self._inc.entity_keys[tie.entity])
        sentence = (f"The same {_NOUN[tie.kind]} {key} was used by {a1} of {rings[0]}"
                    f"{f' (from {first1})' if first1 else ''} and by {a2} of {rings[1]}"
                    f"{f' (from {first2})' if first2 else ''}; {tie.in_rings} of its {tie.users} users are in "
                    "this run's rings.")
        path = EvidencePath(
            (self._account(tie.accounts[0]), self._entity(tie.entity), self._account(tie.accounts[1])),
            (self._observed(tie.accounts[0], tie.entity, 0, 1, kind.relationship),
             self._observed(tie.accounts[1], tie.entity, 2, 1, kind.relationship)),
        )
        return OperationTie(tie.kind, rings, sentence, (path,))

    def _account(self, account: int) -> PathNode:
        return PathNode("Account", "account_id", str(self._inc.account_ids[account]))

    def _entity(self, entity: int) -> PathNode:
        kind = ENTITY_KINDS[KIND_ORDER[int(self._inc.entity_kind[entity])]]
        return PathNode(kind.label, kind.key, str(self._inc.entity_keys[entity]))

    def _first_seen(self, account: int, entity: int) -> str | None:
        at = self._links.find(account, entity)
        return None if at < 0 else _day(float(self._links.first[at]))

    def _observed(self, account: int, entity: int, start: int, end: int, rel: str) -> PathRelationship:
        at = self._links.find(account, entity)
        if at < 0:  # a tie is only ever made from a link the run read
            raise ValueError(f"no link between account {account} and entity {entity}")
        row = int(self._links.row[at])
        return PathRelationship(rel, start, end, iso_time(self._inc.link_first_seen[row]),
                                iso_time(self._inc.link_last_seen[row]), int(self._inc.link_count[row]))
