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
    organisation with known members, a corporate network it runs itself, a hosting block reassigned
    to it (:func:`~graph.scoring.indicators.own_hosting`: it is named on customer-sized hosting
    blocks only, not on a provider's space), or a range of the organisation whose own email domain
    members of the same ring use. A hosting, VPN or ISP range of a provider that is none of these is
    not evidence (the provider hosts, it does not act).
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

This module holds the organisation index (:func:`build_org_index`, built once per run as flat
per-account and per-entity arrays) and the candidate type; :mod:`.candidates` finds the candidates
and their features for every ring (or account) at once, :mod:`.attribution_evidence` explains them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from graph.links import GROUPS, LinkIndex
from graph.scoring.indicators import OrgIndicators
from graph.scoring.segments import expand, group_ptr, unique_ints
from graph.vocabulary import NETWORK_CLASSES

__all__ = ["COORDINATION_CLIP", "FREE_MAIL", "LINK_GROUPS", "Candidate", "OrgIndex", "build_org_index"]

#: Attribution reads a ring's coordination log odds clipped to this (``coordination`` feature).
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
LINK_GROUPS: tuple[int, ...] = tuple(GROUPS.index(g) for g in ("payment", "device", "phone", "email"))

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class OrgIndex:
    """Organisation evidence rearranged for lookups, per account and per entity, as flat arrays."""

    evidence: OrgIndicators
    known_orgs: dict[int, tuple[int, ...]]  # account -> orgs that name it
    has_known: npt.NDArray[np.bool_]  # per org
    network_users: npt.NDArray[np.int64]  # per org: distinct accounts on IPs it operates
    entity_org: npt.NDArray[np.int64]  # per entity: operating org, -1 none
    self_acting: npt.NDArray[np.bool_]  # per entity: its org acts there whatever the ring
    domain_org: dict[str, int]  # email domain -> org
    known_ptr: Ints  # orgs naming account a: known_list[known_ptr[a]:known_ptr[a + 1]], ascending
    known_list: Ints
    entity_known_ptr: Ints  # known (org, account) pairs on entity e: [entity_known_ptr[e], ...[e + 1])
    entity_known_org: Ints  # sorted by entity, then org, then account
    entity_known_account: Ints
    account_domain: Ints  # per account: index into domain_names
    domain_names: tuple[str, ...]  # the distinct email domains, ascending ("" included when present)
    account_domain_org: Ints  # per account: the org its email domain belongs to, -1 none


@dataclass(frozen=True, slots=True)
class Candidate:
    """Attribution features of one (ring, organisation) pair and what backs each of them."""

    organization: int
    features: npt.NDArray[np.float64]
    linked_weight: float = 0.0  # Σ exclusivity of the entities shared with outside known accounts
    known_inside: tuple[int, ...] = ()
    linked_accounts: tuple[int, ...] = ()  # ring members and known accounts joined by the entities
    linked_entities: tuple[int, ...] = ()
    linked_kinds: tuple[int, ...] = ()  # per linked entity: its kind (index into KIND_ORDER)
    linked_known: tuple[int, ...] = ()
    network_accounts: tuple[int, ...] = ()
    network_entities: tuple[int, ...] = ()
    domain_accounts: tuple[int, ...] = ()
    domains: tuple[str, ...] = field(default=())


def build_org_index(links: LinkIndex, org: OrgIndicators) -> OrgIndex:
    """Who is known to whom, which IPs an organisation acts on, which domains are its own."""
    inc = links.incidence
    n_acc, n_ent = links.n_accounts, links.n_entities
    n_org = len(org.organizations)
    width = max(n_org, 1)
    pairs = unique_ints(org.known_account.astype(np.int64) * width + org.known_org.astype(np.int64))
    known_acc, known_list = pairs // width, pairs % width
    known_ptr = group_ptr(known_acc, n_acc)
    known: dict[int, tuple[int, ...]] = defaultdict(tuple)
    for a, o in zip(known_acc.tolist(), known_list.tolist(), strict=True):
        known[a] += (o,)
    has_known = np.zeros(width, bool)  # one spare slot so -1 lookups stay in range
    has_known[known_list] = True
    entity_org = org.entity_org.astype(np.int64)
    network = inc.entity_network.astype(np.int64)
    corporate = network == NETWORK_CLASSES.index("corporate")
    own = np.zeros(width, bool)
    own[np.array(sorted(org.own_hosting), np.int64)] = True
    own_block = (network == NETWORK_CLASSES.index("hosting")) & own[np.maximum(entity_org, 0)]
    self_acting = (entity_org >= 0) & (corporate | own_block | has_known[np.maximum(entity_org, 0)])

    names, code, counts = _factorize(org.account_email_domain)
    population = org.population
    count_of = dict(population.domain_accounts) if population else dict(zip(names, counts.tolist(), strict=True))
    free_limit = max(200, (population.accounts if population else n_acc) // 100)
    claimed: dict[str, set[int]] = defaultdict(set)
    for a, orgs in known.items():
        d = names[int(code[a])]
        if d:
            claimed[d] |= set(orgs)
    for d, o in org.domain_org.items():
        claimed[d].add(int(o))
    domain_org = {d: next(iter(o)) for d, o in claimed.items() if len(o) == 1 and count_of.get(d, 0) <= free_limit}
    code_org = np.array([domain_org.get(d, -1) if d else -1 for d in names], np.int64)

    users = np.zeros(n_org, np.int64)
    if population is not None and population.network_users is not None:
        users = np.array([population.network_users.get(name, 0) for name in org.organizations], np.int64)
    elif n_org:
        on = entity_org[inc.link_entity.astype(np.int64)]
        keys = unique_ints((on * n_acc + inc.link_account.astype(np.int64))[on >= 0])
        users = np.bincount(keys // max(n_acc, 1), minlength=n_org).astype(np.int64)

    # (entity, org, account) for every link of a known account, once per organisation naming it
    per = np.diff(known_ptr)
    at = np.flatnonzero(per[links.acc] > 0)
    acc, ent = links.acc[at], links.ent[at]
    k = per[acc]
    rows = expand(known_ptr[acc], k)
    ek_ent, ek_acc, ek_org = np.repeat(ent, k), np.repeat(acc, k), known_list[rows]
    order = np.lexsort((ek_acc, ek_org, ek_ent))
    return OrgIndex(
        evidence=org,
        known_orgs=dict(known),
        has_known=has_known[:n_org],
        network_users=users,
        entity_org=entity_org,
        self_acting=self_acting,
        domain_org=domain_org,
        known_ptr=known_ptr,
        known_list=known_list,
        entity_known_ptr=group_ptr(ek_ent[order], n_ent),
        entity_known_org=ek_org[order],
        entity_known_account=ek_acc[order],
        account_domain=code.astype(np.int64).ravel(),
        domain_names=names,
        account_domain_org=code_org[code].ravel(),
    )


def _factorize(text: npt.NDArray[np.str_]) -> tuple[tuple[str, ...], Ints, Ints]:
    """``np.unique(text, return_inverse=True, return_counts=True)``, grouping the raw bytes first (faster)."""
    flat = np.ascontiguousarray(text).ravel()
    if flat.shape[0] == 0:
        return (), np.zeros(0, np.int64), np.zeros(0, np.int64)
    raw, code = np.unique(flat.view(f"V{flat.dtype.itemsize}"), return_inverse=True)
    names = [str(s) for s in raw.view(flat.dtype).tolist()]
    rank = np.argsort(np.array(names, dtype=flat.dtype), kind="stable")  # code point order, as np.unique
    new = np.empty(rank.shape[0], np.int64)
    new[rank] = np.arange(rank.shape[0])
    code = new[code.ravel()]
    return tuple(names[i] for i in rank.tolist()), code, np.bincount(code, minlength=rank.shape[0]).astype(np.int64)
