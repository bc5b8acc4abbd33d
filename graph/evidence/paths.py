"""Concrete graph paths behind evidence items, built from the observations the run read from Neo4j.

Every path is made of links (from the run's one :class:`~graph.links.LinkIndex`) and nodes the run
itself read (or, for memberships, wrote), so it exists in the database; the integration tests match
each one back. A shared entity is shown through two of the ring's accounts that used it, an
organisation through the edge that names it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.links import LinkIndex
from graph.records import Evidence, EvidencePath, PathNode, PathRelationship
from graph.scoring import EvidenceItem, Explanation, OrgIndicators
from graph.scoring.behaviour import SentFigures
from graph.vocabulary import ENTITY_KINDS, KIND_ORDER

__all__ = ["PathBuilder", "domain_accounts", "iso_time", "prior_llr"]

_PATHS_PER_ITEM: Final = 3
_ACCOUNTS_PER_ITEM: Final = 25


def iso_time(epoch: float) -> str | None:
    return None if np.isnan(epoch) else datetime.fromtimestamp(float(epoch), UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class _Link:
    first_seen: str | None
    last_seen: str | None
    count: int


class PathBuilder:
    """Turns scoring's evidence items (indices) into :class:`Evidence` with paths (keys).

    `account_emails` holds the addresses of the accounts whose email-domain items need a path
    (:func:`domain_accounts` says which); addresses are not part of the link index, most being used once.
    """

    def __init__(
        self,
        links: LinkIndex,
        org_indicators: OrgIndicators,
        account_emails: Mapping[str, Sequence[str]],
        sent: SentFigures | None = None,
    ) -> None:
        self._links = links
        self._sent = sent or {}
        self._inc = links.incidence
        self._orgs = org_indicators
        self._emails = account_emails
        self._known: dict[int, set[int]] = {}
        for account, org in zip(
            org_indicators.known_account.tolist(), org_indicators.known_org.tolist(), strict=True
        ):
            self._known.setdefault(org, set()).add(account)

    def _link(self, account: int, entity: int) -> _Link | None:
        at = self._links.find(account, entity)
        if at < 0:
            return None
        i = int(self._links.row[at])
        return _Link(iso_time(self._inc.link_first_seen[i]), iso_time(self._inc.link_last_seen[i]),
                     int(self._inc.link_count[i]))

    def _users(self, entity: int) -> npt.NDArray[np.int64]:
        return self._links.accounts_of(entity)

    # The nodes and relationships every path is made of (graph/evidence/ties.py builds with them too).
    def account(self, account: int) -> PathNode:
        return PathNode("Account", "account_id", str(self._inc.account_ids[account]))

    def entity(self, entity: int) -> tuple[PathNode, str]:
        """The entity's node and the relationship type accounts use it by."""
        kind = ENTITY_KINDS[KIND_ORDER[int(self._inc.entity_kind[entity])]]
        return PathNode(kind.label, kind.key, str(self._inc.entity_keys[entity])), kind.relationship

    def org(self, org: int) -> PathNode:
        return PathNode("Organization", "name", self._orgs.organizations[org])

    def observed(self, account: int, entity: int, start: int, end: int, rel: str) -> PathRelationship | None:
        """The account's link to the entity as relationship `rel` between path positions; None without one."""
        link = self._link(account, entity)
        if link is None:
            return None
        return PathRelationship(rel, start, end, link.first_seen, link.last_seen, link.count)

    def _shared(self, entity: int, accounts: Iterable[int], prefer: set[int] | None = None) -> EvidencePath | None:
        users = [a for a in accounts if self._links.find(a, entity) >= 0]
        if prefer:
            users.sort(key=lambda a: (a not in prefer, a))
        if len(users) < 2:
            return None
        node, rel = self.entity(entity)
        a1, a2 = users[0], users[1]
        r1 = self.observed(a1, entity, 0, 1, rel)
        r2 = self.observed(a2, entity, 2, 1, rel)
        if r1 is None or r2 is None:
            return None
        return EvidencePath((self.account(a1), node, self.account(a2)), (r1, r2))

    def _sent_rel(self, account: int, template: str, start: int, end: int) -> PathRelationship | None:
        figures = self._sent.get((account, template))
        if figures is None:
            return None
        first, last, count = figures
        return PathRelationship("SENT", start, end, None if first is None else iso_time(first),
                                None if last is None else iso_time(last), count)

    def _template_path(self, account: int, other: int, template: str) -> EvidencePath | None:
        """(a1)-[:SENT]->(t:PromptTemplate)<-[:SENT]-(a2), or (a)-[:SENT]->(t) without `other`."""
        node = PathNode("PromptTemplate", "fingerprint", template)
        first = self._sent_rel(account, template, 0, 1)
        if first is None:
            return None
        if other < 0:
            return EvidencePath((self.account(account), node), (first,))
        second = self._sent_rel(other, template, 2, 1)
        if second is None:
            return None
        return EvidencePath((self.account(account), node, self.account(other)), (first, second))

    def _paths(self, item: EvidenceItem, ring_id: str | None) -> list[EvidencePath]:
        kind = item.kind
        paths: list[EvidencePath | None] = []
        if item.sent:
            paths = [self._template_path(a, b, t) for a, b, t in item.sent[:_PATHS_PER_ITEM]]
        elif kind.startswith("shared_"):
            paths = [self._shared(e, item.accounts) for e in item.entities[:_PATHS_PER_ITEM]]
        elif kind == "known_member_in_ring" and item.organization >= 0:
            paths = [
                EvidencePath((self.account(a), self.org(item.organization)),
                             (PathRelationship("KNOWN_MEMBER_OF", 0, 1),))
                for a in item.accounts[:_PATHS_PER_ITEM]
            ]
        elif kind == "known_member_linked" and item.organization >= 0:
            paths = [self._linked(e, item) for e in item.entities[:_PATHS_PER_ITEM]]
        elif kind == "org_network" and item.organization >= 0:
            paths = [self._network(e, item) for e in item.entities[:_PATHS_PER_ITEM]]
        elif kind == "operation_sibling":
            paths = self._sibling(item)
        elif kind == "org_email_domain":
            paths = [self._email(a) for a in item.accounts[:_PATHS_PER_ITEM]]
        elif kind == "ring_membership" and ring_id is not None:
            paths = [
                EvidencePath((self.account(a), PathNode("Ring", "ring_id", ring_id)),
                             (PathRelationship("MEMBER_OF", 0, 1),))
                for a in item.accounts[:1]
            ]
        return [p for p in paths if p is not None]

    def _linked(self, entity: int, item: EvidenceItem) -> EvidencePath | None:
        known = self._known.get(item.organization, set())
        involved = set(item.accounts)
        knowns = [a for a in self._users(entity).tolist() if a in known]
        members = [a for a in sorted(involved - known) if self._link(a, entity) is not None]
        if not knowns or not members:
            return None
        node, rel = self.entity(entity)
        k = knowns[0]
        m = members[0]
        r1 = self.observed(m, entity, 0, 1, rel)
        r2 = self.observed(k, entity, 2, 1, rel)
        if r1 is None or r2 is None:
            return None
        return EvidencePath(
            (self.account(m), node, self.account(k), self.org(item.organization)),
            (r1, r2, PathRelationship("KNOWN_MEMBER_OF", 2, 3)),
        )

    def _network(self, entity: int, item: EvidenceItem) -> EvidencePath | None:
        for account in item.accounts:
            used = self.observed(account, entity, 0, 1, "USED_IP")
            if used is not None:
                node, _ = self.entity(entity)
                return EvidencePath(
                    (self.account(account), node, self.org(item.organization)),
                    (used, PathRelationship("OPERATED_BY", 1, 2)),
                )
        return None

    def _sibling(self, item: EvidenceItem) -> list[EvidencePath | None]:
        """The tie that joins the ring to its attributed sibling: the asset both used, each side's known
        membership, or each side's address on the organisation's own network."""
        if not item.entities:
            return [EvidencePath((self.account(a), self.org(item.organization)),
                                 (PathRelationship("KNOWN_MEMBER_OF", 0, 1),)) for a in item.accounts]
        operated = [int(self._orgs.entity_org[e]) == item.organization for e in item.entities]
        if len(item.entities) == 2 and all(operated):
            return [self._network(e, EvidenceItem(item.kind, item.llr, item.sentence, (a,), (e,), item.organization))
                    for a, e in zip(item.accounts, item.entities, strict=True)]
        return [self._shared(item.entities[0], item.accounts)]

    def _email(self, account: int) -> EvidencePath | None:
        account_id = str(self._inc.account_ids[account])
        domain = str(self._orgs.account_email_domain[account])
        for address in self._emails.get(account_id, ()):
            if address.endswith("@" + domain):
                return EvidencePath(
                    (self.account(account), PathNode("Email", "address", address)),
                    (PathRelationship("HAS_EMAIL", 0, 1),),
                )
        return None

    def evidence(self, explanation: Explanation, *, ring_id: str | None = None, top: int = 10) -> list[Evidence]:
        """The explanation's items, ranked by contribution, each with its paths."""
        result = []
        for item, share in explanation.ranked(top):
            result.append(Evidence(
                kind=item.kind,
                llr=item.llr,  # unrounded, like the prior: prior + the items' LLRs is the stored log-odds
                share=round(share, 6),
                sentence=item.sentence,
                paths=tuple(self._paths(item, ring_id)),
                accounts=tuple(str(self._inc.account_ids[a]) for a in item.accounts[:_ACCOUNTS_PER_ITEM]),
            ))
        return result


def domain_accounts(links: LinkIndex, explanations: Sequence[Explanation]) -> set[str]:
    """Accounts whose email addresses the domain items of `explanations` will need for their paths."""
    ids = links.incidence.account_ids
    return {
        str(ids[a])
        for e in explanations for item in e.items if item.kind == "org_email_domain"
        for a in item.accounts[:_PATHS_PER_ITEM]
    }


def prior_llr(explanation: Explanation) -> float:
    return math.fsum(i.llr for i in explanation.items if i.kind == "prior")
