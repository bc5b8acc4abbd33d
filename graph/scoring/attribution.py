"""Attribution per (ring, organisation): P(the ring is operated by this organisation | the evidence).

Candidates come only from evidence that makes an organisation the *actor*, never merely the host
(DESIGN.md §3 step 4):

``known_members``
    ``log(1 + k + Σ_e exclusivity_e)``: k members of the ring attributed to the organisation by an
    earlier case, and the devices, cards, phones and mailboxes the ring shares with the organisation's
    known accounts outside it, with exclusivity ``(users in ring or known - 1) / (degree - 1)`` (a
    family card or a placeholder phone shared by thousands says nothing). One feature, since both say
    "an earlier case's accounts are among or beside these"; its llr is split between the items
    ``known_member_in_ring`` and ``known_member_linked`` in proportion to ``k`` and ``Σ exclusivity``.
``org_network``
    Share of members on IPs the organisation operates, times the square root of the share of all the
    network's users that are in the ring (a hotel's or campus's Wi-Fi serves strangers; an operator's
    own range serves its operation), counted only where the organisation is the actor there: an
    organisation with known members, a corporate network it runs itself, or a range of the
    organisation whose own email domain members of the same ring use. A hosting, VPN or ISP range of
    a provider that is none of these is not evidence (the provider hosts, it does not act).
``org_email_domain``
    Share of members whose email domain belongs to the organisation: a domain its known members use
    or that enrichment assigns to it (:attr:`OrgIndicators.domain_org`), unless it is free mail: a
    well-known provider (:data:`FREE_MAIL`), used by known members of several organisations, or
    used by more than ``max(200, 1%)`` of all accounts.
``coordination``
    The ring's coordination log odds (clipped to ±8): coincidental sharing is not an operation.

``org_network`` and ``org_email_domain`` are multiplied by the ring's coordination probability: a
group of colleagues shares its employer's network and domain by coincidence, which says where they
work, not who operates them (an interaction an additive model cannot learn by itself).

Each (ring, organisation) is scored one-vs-rest by the logistic model; the top organisation and the
runners-up are reported. Every coefficient is constrained to be >= 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from graph.links import GROUPS, Incidence, LinkIndex
from graph.scoring.evidence import EvidenceItem, Explanation
from graph.scoring.features import ATTRIBUTION_FEATURES
from graph.scoring.indicators import OrgIndicators
from graph.scoring.model import LogisticModel
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

__all__ = [
    "FREE_MAIL",
    "OrgIndex",
    "attribution_candidates",
    "build_org_index",
    "explain_attribution",
]

COORDINATION_CLIP = 8.0
#: Consumer mail providers: a known member's address there says nothing about the organisation.
FREE_MAIL: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "zoho.com",
        "tutanota.com",
        "fastmail.com",
        "hey.com",
    }
)
_LINK_GROUPS = tuple(GROUPS.index(g) for g in ("payment", "device", "phone", "email"))

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class OrgIndex:
    """Organisation evidence rearranged for lookups."""

    evidence: OrgIndicators
    known_orgs: dict[int, tuple[int, ...]]  # account -> orgs that name it
    has_known: npt.NDArray[np.bool_]  # per org
    network_users: npt.NDArray[np.int64]  # per org: distinct accounts on IPs it operates
    entity_org: npt.NDArray[np.int64]  # per entity: operating org, -1 none
    self_acting: npt.NDArray[np.bool_]  # per entity: its org acts there whatever the ring
    domain_org: dict[str, int]  # email domain -> org


@dataclass(frozen=True)
class Candidate:
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


def build_org_index(inc: Incidence, org: OrgIndicators) -> OrgIndex:
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
    self_acting = (entity_org >= 0) & (corporate | has_known[np.maximum(entity_org, 0)])

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
    return OrgIndex(
        org,
        {a: tuple(sorted(o)) for a, o in known.items()},
        has_known[:n_org],
        users,
        entity_org,
        self_acting,
        domain_org,
    )


def attribution_candidates(
    index: LinkIndex, orgs: OrgIndex, members: Ints, coordination_log_odds: float
) -> list[Candidate]:
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
            Candidate(
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


def _network_exclusivity(orgs: OrgIndex, org: int, in_ring: int) -> float:
    return math.sqrt(in_ring / max(int(orgs.network_users[org]), in_ring, 1))


def explain_attribution(
    inc: Incidence, orgs: OrgIndex, candidate: Candidate, n_members: int, model: LogisticModel, noun: str = "ring"
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
                f"({'an organisation with known members' if orgs.has_known[o] else 'its own corporate network'}).",
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


def _list(names: npt.NDArray[np.str_], idx: tuple[int, ...], short: bool = False, limit: int = 3) -> str:
    shown = [str(names[i]) for i in idx[:limit]]
    if short:
        shown = [s if len(s) <= 14 else s[:12] + "…" for s in shown]
    more = len(idx) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
