"""The attribution half of the reference scorer (tests/unit/scoring_reference.py): the organisation
index, a ring's candidate organisations and their explanation, verbatim from graph/scoring at commit
5e0eb4d.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from graph.links import GROUPS, Incidence, LinkIndex
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    EvidenceItem,
    Explanation,
    LogisticModel,
    OrgIndicators,
)
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

Ints = npt.NDArray[np.int64]


COORDINATION_CLIP = 8.0

_LINK_GROUPS = tuple(GROUPS.index(g) for g in ("payment", "device", "phone", "email"))


@dataclass(frozen=True)
class RefOrgIndex:
    """Organisation evidence rearranged for lookups."""

    evidence: OrgIndicators
    known_orgs: dict[int, tuple[int, ...]]  # account -> orgs that name it
    has_known: npt.NDArray[np.bool_]  # per org
    network_users: npt.NDArray[np.int64]  # per org: distinct accounts on IPs it operates
    entity_org: npt.NDArray[np.int64]  # per entity: operating org, -1 none
    self_acting: npt.NDArray[np.bool_]  # per entity: its org acts there whatever the ring
    domain_org: dict[str, int]  # email domain -> org


@dataclass(frozen=True)
class _Candidate:
    """Attribution features of one (ring, organisation) pair and what backs each of them."""

    organization: int
    features: npt.NDArray[np.float64]
    linked_weight: float = 0.0  # Σ exclusivity of the entities shared with outside known accounts
    known_inside: tuple[int, ...] = ()
    linked_accounts: tuple[int, ...] = ()  # ring members and known accounts joined by the entities
    linked_entities: tuple[int, ...] = ()
    linked_known: tuple[int, ...] = ()
    network_accounts: tuple[int, ...] = ()
    network_entities: tuple[int, ...] = ()
    domain_accounts: tuple[int, ...] = ()
    domains: tuple[str, ...] = field(default=())


def build_org_index(inc: Incidence, org: OrgIndicators) -> RefOrgIndex:
    """Who is known to whom, which IPs an organisation acts on, which domains are its own."""
    n_acc = int(inc.account_ids.shape[0])
    n_org = len(org.organizations)
    known: dict[int, set[int]] = defaultdict(set)
    for a, o in zip(org.known_account.tolist(), org.known_org.tolist(), strict=True):
        known[int(a)].add(int(o))
    has_known = np.zeros(max(n_org, 1), bool)  # one spare slot so -1 lookups stay in range
    has_known[org.known_org.astype(np.int64)] = True
    entity_org = org.entity_org.astype(np.int64)
    corporate = inc.entity_network.astype(np.int64) == NETWORK_CLASSES.index("corporate")
    hosting = inc.entity_network.astype(np.int64) == NETWORK_CLASSES.index("hosting")
    own_block = hosting & np.isin(entity_org, np.array(sorted(org.own_hosting), np.int64))
    self_acting = (entity_org >= 0) & (corporate | own_block | has_known[np.maximum(entity_org, 0)])

    domains = org.account_email_domain
    uniq, counts = np.unique(domains, return_counts=True)
    count_of = dict(zip(uniq.tolist(), counts.tolist(), strict=True))
    free_limit = max(200, n_acc // 100)
    claimed: dict[str, set[int]] = defaultdict(set)
    for a, orgs in known.items():
        d = str(domains[a])
        if d:
            claimed[d] |= orgs
    for d, o in org.domain_org.items():
        claimed[d].add(int(o))
    domain_org = {d: next(iter(o)) for d, o in claimed.items() if len(o) == 1 and count_of.get(d, 0) <= free_limit}
    users = np.zeros(n_org, np.int64)
    if n_org:
        on = entity_org[inc.link_entity.astype(np.int64)]
        pairs = np.unique(np.c_[on, inc.link_account.astype(np.int64)][on >= 0], axis=0)
        users = np.bincount(pairs[:, 0], minlength=n_org).astype(np.int64) if pairs.size else users
    return RefOrgIndex(
        org,
        {a: tuple(sorted(o)) for a, o in known.items()},
        has_known[:n_org],
        users,
        entity_org,
        self_acting,
        domain_org,
    )


def attribution_candidates(
    index: LinkIndex, orgs: RefOrgIndex, members: Ints, coordination_log_odds: float
) -> list[_Candidate]:
    """Every organisation some evidence points to for the ring `members`, by organisation index."""
    members = np.unique(np.asarray(members, np.int64))
    n = max(members.shape[0], 1)
    member_set = set(members.tolist())
    inside: dict[int, list[int]] = defaultdict(list)
    for a in members.tolist():
        for o in orgs.known_orgs.get(a, ()):
            inside[o].append(a)

    pos = index.links_of(members)
    ents, ent_first_member = np.unique(index.ent[pos], return_index=True)
    linked: dict[int, dict[int, tuple[float, set[int], set[int]]]] = defaultdict(dict)
    strong = np.isin(index.group[ents], _LINK_GROUPS)
    for e in ents[strong].tolist():
        users = index.accounts_of(e)
        outside_known = [u for u in users.tolist() if u not in member_set and u in orgs.known_orgs]
        if not outside_known:
            continue
        in_ring = [u for u in users.tolist() if u in member_set]
        degree = users.shape[0]
        by_org: dict[int, list[int]] = defaultdict(list)
        for u in outside_known:
            for o in orgs.known_orgs[u]:
                by_org[o].append(u)
        for o, ks in by_org.items():
            excl = (len(in_ring) + len(ks) - 1) / max(degree - 1, 1)
            linked[o][e] = (excl, set(in_ring), set(ks))
    del ent_first_member

    domain: dict[int, tuple[set[int], set[str]]] = defaultdict(lambda: (set(), set()))
    for a in members.tolist():
        d = str(orgs.evidence.account_email_domain[a])
        o = orgs.domain_org.get(d, -1) if d else -1
        if o >= 0:
            domain[o][0].add(a)
            domain[o][1].add(d)

    network: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    link_ent = index.ent[pos]
    link_org = orgs.entity_org[link_ent]
    acting = orgs.self_acting[link_ent] | np.isin(link_org, np.array(sorted(domain), np.int64))
    for p in np.flatnonzero((link_org >= 0) & acting).tolist():
        who, what = network[int(link_org[p])]
        who.add(int(index.acc[pos[p]]))
        what.add(int(link_ent[p]))

    coord = float(np.clip(coordination_log_odds, -COORDINATION_CLIP, COORDINATION_CLIP))
    operated = 1.0 / (1.0 + math.exp(-coord))
    out = []
    for o in sorted(set(inside) | set(linked) | set(network) | set(domain)):
        lk = linked.get(o, {})
        linked_weight = math.fsum(v[0] for v in lk.values())
        x = np.array(
            [
                math.log1p(len(inside.get(o, ())) + linked_weight),
                operated * len(network[o][0]) / n * _network_exclusivity(orgs, o, len(network[o][0]))
                if o in network
                else 0.0,
                operated * len(domain[o][0]) / n if o in domain else 0.0,
                coord,
            ],
            np.float64,
        )
        ring_side = sorted(set().union(*(v[1] for v in lk.values()))) if lk else []
        known_side = sorted(set().union(*(v[2] for v in lk.values()))) if lk else []
        out.append(
            _Candidate(
                organization=o,
                features=x,
                linked_weight=linked_weight,
                known_inside=tuple(sorted(inside.get(o, ()))),
                linked_accounts=tuple(ring_side),
                linked_entities=tuple(sorted(lk)),
                linked_known=tuple(known_side),
                network_accounts=tuple(sorted(network[o][0])) if o in network else (),
                network_entities=tuple(sorted(network[o][1])) if o in network else (),
                domain_accounts=tuple(sorted(domain[o][0])) if o in domain else (),
                domains=tuple(sorted(domain[o][1])) if o in domain else (),
            )
        )
    return out


def _network_exclusivity(orgs: RefOrgIndex, org: int, in_ring: int) -> float:
    return math.sqrt(in_ring / max(int(orgs.network_users[org]), in_ring, 1))


def explain_attribution(
    inc: Incidence, orgs: RefOrgIndex, candidate: _Candidate, n_members: int, model: LogisticModel, noun: str = "ring"
) -> Explanation:
    """The attribution of one (ring, organisation) as a prior plus one item per piece of evidence."""
    o = candidate.organization
    name = orgs.evidence.organizations[o]
    contrib = dict(zip(ATTRIBUTION_FEATURES, model.contributions(candidate.features[None, :])[0].tolist(), strict=True))
    ids = inc.account_ids
    k_in = float(len(candidate.known_inside))
    known_total = k_in + candidate.linked_weight
    share_in = k_in / known_total if known_total > 0 else 0.0
    items = [EvidenceItem("prior", model.intercept, "Before any evidence: the base rate of attributions.")]
    if candidate.known_inside:
        k = candidate.known_inside
        items.append(
            EvidenceItem(
                "known_member_in_ring",
                contrib["known_members"] * share_in,
                f"{len(k)} account{'s' if len(k) > 1 else ''} of this {noun} ({_list(ids, k)}) "
                f"{'were' if len(k) > 1 else 'was'} attributed to {name} by an earlier investigation.",
                k,
                (),
                o,
            )
        )
    if candidate.linked_entities and candidate.linked_weight > 0:
        ents = candidate.linked_entities
        kinds = sorted({_KIND_NOUN[KIND_ORDER[int(inc.entity_kind[e])]] for e in ents})
        items.append(
            EvidenceItem(
                "known_member_linked",
                contrib["known_members"] - contrib["known_members"] * share_in,
                f"{len(candidate.linked_accounts)} account{'s' if len(candidate.linked_accounts) > 1 else ''} "
                f"in this {noun} used {' / '.join(kinds)} {_list(inc.entity_keys, ents, short=True)}, which "
                f"{_list(ids, candidate.linked_known)}, attributed to {name} by an earlier investigation, "
                "also used.",
                tuple(sorted(set(candidate.linked_accounts) | set(candidate.linked_known))),
                ents,
                o,
            )
        )
    if candidate.network_accounts:
        items.append(
            EvidenceItem(
                "org_network",
                contrib["org_network"],
                f"{len(candidate.network_accounts)} of {n_members} accounts in this {noun} used IP addresses "
                f"{_list(inc.entity_keys, candidate.network_entities)} operated by {name} "
                f"({_network_role(orgs, inc, o, candidate.network_entities)}).",
                candidate.network_accounts,
                candidate.network_entities,
                o,
            )
        )
    if candidate.domain_accounts:
        items.append(
            EvidenceItem(
                "org_email_domain",
                contrib["org_email_domain"],
                f"{len(candidate.domain_accounts)} of {n_members} accounts in this {noun} signed up with "
                f"email domain {', '.join(candidate.domains)}, which {name}'s known members use.",
                candidate.domain_accounts,
                (),
                o,
            )
        )
    coord = float(candidate.features[ATTRIBUTION_FEATURES.index("coordination")])
    items.append(
        EvidenceItem(
            "coordination",
            contrib["coordination"],
            f"The {noun}'s coordination log odds are {coord:+.1f}: "
            + ("its members look operated together." if coord > 0 else "its sharing may be coincidental."),
            (),
            (),
            o,
        )
    )
    return Explanation.of(items)


_KIND_NOUN = {"payment": "card", "device": "device", "phone": "phone", "email": "mailbox", "ip": "IP"}


def _network_role(orgs: RefOrgIndex, inc: Incidence, o: int, entities: tuple[int, ...]) -> str:
    if orgs.has_known[o]:
        return "an organisation with known members"
    reasons = []
    nets = [NETWORK_CLASSES[int(inc.entity_network[e])] for e in entities]
    own = o in orgs.evidence.own_hosting
    if "corporate" in nets:
        reasons.append("its own corporate network")
    if own and "hosting" in nets:
        reasons.append("a hosting block reassigned to it, not a provider's space")
    if any(n != "corporate" and not (own and n == "hosting") for n in nets):
        reasons.append("its range, and members of this ring sign up on its email domain")
    return "; ".join(reasons)


def _list(names: npt.NDArray[np.str_], idx: tuple[int, ...], short: bool = False, limit: int = 3) -> str:
    shown = [str(names[i]) for i in idx[:limit]]
    if short:
        shown = [s if len(s) <= 14 else s[:12] + "…" for s in shown]
    more = len(idx) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
