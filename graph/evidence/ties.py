"""The evidence of an operation: each tie between two of its campaigns as a sentence and a real path.

Paths are built with :class:`~graph.evidence.paths.PathBuilder`'s nodes and relationships from the
run's own link index and organisation indicators, like every other evidence path, so each exists in
Neo4j: a shared asset is ``(a1)-[:USED_DEVICE]->(d)<-[:USED_DEVICE]-(a2)``, a known member
``(a1)-[:KNOWN_MEMBER_OF]->(o)<-[:KNOWN_MEMBER_OF]-(a2)``, an organisation's own network
``(a1)-[:USED_IP]->(ip1)-[:OPERATED_BY]->(o)<-[:OPERATED_BY]-(ip2)<-[:USED_IP]-(a2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from graph.detection.operations import Tie
from graph.evidence.paths import PathBuilder
from graph.links import LinkIndex
from graph.records import EvidencePath, OperationTie, PathRelationship

__all__ = ["TieExplainer"]

_NOUN = {"payment": "card", "device": "device", "phone": "phone number", "email": "email address", "ip": "address"}


class TieExplainer:
    """Turns :class:`~graph.detection.operations.Tie` (indices) into :class:`OperationTie` (ids, paths)."""

    def __init__(self, links: LinkIndex, paths: PathBuilder, ring_ids: Sequence[str]) -> None:
        self._links = links
        self._paths = paths
        self._ring_ids = ring_ids

    def explain(self, tie: Tie) -> OperationTie:
        rings = (self._ring_ids[tie.rings[0]], self._ring_ids[tie.rings[1]])
        first, second = (self._paths.account(a) for a in tie.accounts)
        a1, a2 = first.value, second.value
        if tie.kind == "known_member":
            org = self._paths.org(tie.organization)
            sentence = (f"Both campaigns hold accounts an earlier case attributed to {org.value}: {a1} in {rings[0]} "
                        f"and {a2} in {rings[1]}.")
            path = EvidencePath((first, org, second),
                                (PathRelationship("KNOWN_MEMBER_OF", 0, 1), PathRelationship("KNOWN_MEMBER_OF", 2, 1)))
            return OperationTie(tie.kind, rings, sentence, (path,))
        if tie.kind == "org_network":
            org = self._paths.org(tie.organization)
            (ip1, _), (ip2, _) = self._paths.entity(tie.entity), self._paths.entity(tie.other_entity)
            sentence = (f"Members of both campaigns used addresses {org.value} operates itself: {a1} of {rings[0]} on "
                        f"{ip1.value}, {a2} of {rings[1]} on {ip2.value}.")
            rels = (self._observed(tie.accounts[0], tie.entity, 0, 1, "USED_IP"),
                    PathRelationship("OPERATED_BY", 1, 2), PathRelationship("OPERATED_BY", 3, 2),
                    self._observed(tie.accounts[1], tie.other_entity, 4, 3, "USED_IP"))
            return OperationTie(tie.kind, rings, sentence, (EvidencePath((first, ip1, org, ip2, second), rels),))
        node, relationship = self._paths.entity(tie.entity)
        r1 = self._observed(tie.accounts[0], tie.entity, 0, 1, relationship)
        r2 = self._observed(tie.accounts[1], tie.entity, 2, 1, relationship)
        first1, first2 = (self._first_seen(a, tie.entity) for a in tie.accounts)
        sentence = (f"The same {_NOUN[tie.kind]} {node.value} was used by {a1} of {rings[0]}"
                    f"{f' (from {first1})' if first1 else ''} and by {a2} of {rings[1]}"
                    f"{f' (from {first2})' if first2 else ''}; {tie.in_rings} of its {tie.users} "
                    "users are in this run's rings.")
        return OperationTie(tie.kind, rings, sentence, (EvidencePath((first, node, second), (r1, r2)),))

    def _first_seen(self, account: int, entity: int) -> str | None:
        """The day the account was first seen with the entity, over all its rows."""
        first = float(self._links.first[self._links.find(account, entity)])
        return None if np.isnan(first) else datetime.fromtimestamp(first, UTC).date().isoformat()

    def _observed(self, account: int, entity: int, start: int, end: int, relationship: str) -> PathRelationship:
        observed = self._paths.observed(account, entity, start, end, relationship)
        if observed is None:  # a tie is only ever made from a link the run read
            raise ValueError(f"no link between account {account} and entity {entity}")
        return observed
