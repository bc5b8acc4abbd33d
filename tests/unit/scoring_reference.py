"""The per-ring scoring code before it was vectorised: the specification tests/unit/test_scoring_vectorised.py
holds the vectorised code to.

This is graph/scoring at commit 5e0eb4d (one pass per ring and per account, with NumPy searches
inside), verbatim apart from names, kept only as that specification.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse

from graph.links import GROUPS, Incidence, LinkIndex, RingLinks, ring_links
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    AccountAttribution,
    Attribution,
    EvidenceItem,
    Explanation,
    LogisticModel,
    OrgIndicators,
    RingCoordination,
    RingScore,
    ScoringModel,
    logit,
)
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

_DAY = 86_400.0
_DENSE_EXCLUSIVITY = 0.1
_LINK_WINDOW = 6 * 3_600.0
_NAMES = {
    "payment": "payment instrument",
    "device": "device",
    "phone": "phone number",
    "email": "email address",
    "ip": "IP address",
    "common_ip": "mobile/VPN/Tor IP address",
}
_PROB_FLOOR = 1e-9


# ---------------------------------------------------------------------------------------------
# The reference: the per-ring scoring code before vectorisation (verbatim apart from names).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefInput:
    links: LinkIndex
    account_created: Floats
    org_indicators: OrgIndicators
    orgs: _OrgIndex

    @property
    def incidence(self) -> Incidence:
        return self.links.incidence


_COL = {f: i for i, f in enumerate(COORDINATION_FEATURES)}


def coordination_features(index: LinkIndex, links: RingLinks, account_created: Floats) -> Floats:
    """The :data:`COORDINATION_FEATURES` vector of one ring."""
    n = links.members.shape[0]
    x = np.zeros(len(COORDINATION_FEATURES), np.float64)
    group = index.group[links.entities]
    pos = {m: i for i, m in enumerate(links.members.tolist())}
    member_row = np.array([pos[a] for a in links.link_acc.tolist()], np.int64)
    ent_col = np.searchsorted(links.entities, links.link_ent)
    link_excl = links.exclusivity[ent_col]
    for g, name in enumerate(GROUPS):
        sel = group == g
        x[_COL[f"shared_{name}"]] = math.log1p(float(links.exclusivity[sel].sum()))
        if f"cover_{name}" in _COL:
            best = np.zeros(n, np.float64)
            on = group[ent_col] == g
            np.maximum.at(best, member_row[on], link_excl[on])
            x[_COL[f"cover_{name}"]] = float(best.mean()) if n else 0.0
    base = _COL["ring_size"]
    x[base] = math.log(max(n, 1) / 3.0)
    x[base + 1] = _density(links, group, member_row, ent_col, n)
    created = account_created[links.members]
    created = created[np.isfinite(created)]
    if created.shape[0] >= 2:
        spread = float(np.percentile(created, 90) - np.percentile(created, 10))
        x[base + 2] = max(0.0, math.log10(30 * _DAY / max(spread, 60.0)))
    x[base + 3] = _link_burst(links, group, ent_col)
    return x


def _density(
    links: RingLinks, group: npt.NDArray[np.int64], row: npt.NDArray[np.int64], col: npt.NDArray[np.int64], n: int
) -> float:
    if n < 2:
        return 0.0
    strong = (links.exclusivity >= _DENSE_EXCLUSIVITY) & (group != GROUPS.index("common_ip"))
    on = strong[col]
    b = sparse.csr_matrix((np.ones(int(on.sum())), (row[on], col[on])), shape=(n, links.entities.shape[0]))
    pairs = (b @ b.T).tocsr()
    pairs.setdiag(0)
    pairs.eliminate_zeros()
    return float(pairs.nnz) / (n * (n - 1))


def _link_burst(links: RingLinks, group: npt.NDArray[np.int64], col: npt.NDArray[np.int64]) -> float:
    keep = (group[col] != GROUPS.index("common_ip")) & np.isfinite(links.link_first)
    if not keep.any():
        return 0.0
    ent = col[keep]
    t = links.link_first[keep]
    order = np.lexsort((t, ent))
    ent, t = ent[order], t[order]
    same_prev = np.r_[False, ent[1:] == ent[:-1]]
    same_next = np.r_[ent[1:] == ent[:-1], False]
    gap_prev = np.r_[np.inf, np.diff(t)]
    gap_next = np.r_[np.diff(t), np.inf]
    close = (same_prev & (gap_prev <= _LINK_WINDOW)) | (same_next & (gap_next <= _LINK_WINDOW))
    return float(close.mean())


def explain_coordination(
    inc: Incidence, links: RingLinks, features: Floats, model: LogisticModel, index: LinkIndex
) -> Explanation:
    """The coordination score of one ring as a prior plus one item per piece of evidence."""
    contrib = model.contributions(features[None, :])[0]
    by_name = dict(zip(COORDINATION_FEATURES, contrib.tolist(), strict=True))
    value = dict(zip(COORDINATION_FEATURES, features.tolist(), strict=True))
    n = links.members.shape[0]
    members = tuple(int(a) for a in links.members)
    items = [EvidenceItem("prior", model.intercept, "Before any evidence: the base rate of coordinated rings.")]
    group = index.group[links.entities]
    for g, name in enumerate(GROUPS):
        llr = by_name[f"shared_{name}"] + by_name.get(f"cover_{name}", 0.0)
        if value[f"shared_{name}"] == 0.0 and value.get(f"cover_{name}", 0.0) == 0.0:
            continue
        sel = np.flatnonzero(group == g)
        sel = sel[np.lexsort((links.entities[sel], -links.exclusivity[sel]))]
        ents = links.entities[sel]
        on = np.isin(links.link_ent, ents)
        who = tuple(int(a) for a in np.unique(links.link_acc[on]))
        top = int(sel[0])
        key = str(inc.entity_keys[links.entities[top]])
        noun = _NAMES[name]
        sentence = (
            f"{len(who)} of {n} accounts in this ring share {len(ents)} {noun}"
            f"{'es' if noun.endswith('address') and len(ents) != 1 else ('' if len(ents) == 1 else 's')}; "
            f"the most telling, {_short(key)}, is used by {int(links.inside[top])} ring members and "
            f"{int(index.degree[links.entities[top]]) - int(links.inside[top])} other accounts."
        )
        items.append(EvidenceItem(f"shared_{name}", llr, sentence, who, tuple(int(e) for e in ents)))
    items.append(EvidenceItem("ring_size", by_name["ring_size"], f"The ring has {n} accounts.", members))
    if value["density"] > 0:
        items.append(
            EvidenceItem(
                "density",
                by_name["density"],
                f"{value['density']:.0%} of member pairs share a rare identifier.",
                members,
            )
        )
    if value["signup_burst"] > 0:
        spread = 30 * _DAY / 10 ** value["signup_burst"]
        items.append(
            EvidenceItem(
                "signup_burst",
                by_name["signup_burst"],
                f"Most members signed up within {_duration(spread)} of each other.",
                members,
            )
        )
    if value["link_burst"] > 0:
        items.append(
            EvidenceItem(
                "link_burst",
                by_name["link_burst"],
                f"{value['link_burst']:.0%} of the members' links to shared identifiers were first seen "
                "within 6 hours of another member's.",
                members,
            )
        )
    return Explanation.of(items)



def _short(key: str) -> str:
    return key if len(key) <= 14 else key[:12] + "…"


def _duration(seconds: float) -> str:
    if seconds < 2 * 3_600:
        return f"{max(1, round(seconds / 60))} minutes"
    if seconds < 2 * _DAY:
        return f"{round(seconds / 3_600)} hours"
    return f"{round(seconds / _DAY)} days"



COORDINATION_CLIP = 8.0

_LINK_GROUPS = tuple(GROUPS.index(g) for g in ("payment", "device", "phone", "email"))


@dataclass(frozen=True)
class _OrgIndex:
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


def build_org_index(inc: Incidence, org: OrgIndicators) -> _OrgIndex:
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
    return _OrgIndex(
        org,
        {a: tuple(sorted(o)) for a, o in known.items()},
        has_known[:n_org],
        users,
        entity_org,
        self_acting,
        domain_org,
    )


def attribution_candidates(
    index: LinkIndex, orgs: _OrgIndex, members: Ints, coordination_log_odds: float
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


def _network_exclusivity(orgs: _OrgIndex, org: int, in_ring: int) -> float:
    return math.sqrt(in_ring / max(int(orgs.network_users[org]), in_ring, 1))


def explain_attribution(
    inc: Incidence, orgs: _OrgIndex, candidate: _Candidate, n_members: int, model: LogisticModel, noun: str = "ring"
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


def _network_role(orgs: _OrgIndex, inc: Incidence, o: int, entities: tuple[int, ...]) -> str:
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

def reference_score_rings(
    data: RefInput,
    rings: Sequence[npt.NDArray[np.integer]],
    model: ScoringModel,
) -> list[RingScore]:
    """Coordination score and attributions of each ring (arrays of account indices), in input order."""
    m = model
    out = []
    for r, members in enumerate(rings):
        links = ring_links(data.links, np.asarray(members, np.int64))
        x = coordination_features(data.links, links, data.account_created)
        coord = RingCoordination(links.members, x, explain_coordination(data.incidence, links, x, m.coordination,
                                                                        data.links))
        attributions = _attributions(data, coord.members, coord.explanation.log_odds, m, "ring")
        out.append(RingScore(r, coord, attributions))
    return out


def _attributions(
    data: RefInput, members: npt.NDArray[np.int64], coordination: float, m: ScoringModel, noun: str
) -> tuple[Attribution, ...]:
    found = []
    for cand in attribution_candidates(data.links, data.orgs, members, coordination):
        expl = explain_attribution(data.incidence, data.orgs, cand, int(members.shape[0]), m.attribution, noun)
        name = data.org_indicators.organizations[cand.organization]
        found.append(Attribution(cand.organization, name, cand.features, expl))
    found.sort(key=lambda a: (-a.confidence, a.name))
    return tuple(found)


def reference_attribute_accounts(
    data: RefInput,
    rings: Sequence[npt.NDArray[np.integer]],
    ring_scores: Sequence[RingScore],
    membership: Sequence[Floats] | None,
    model: ScoringModel,
    accounts: Sequence[int] | None = None,
) -> dict[int, AccountAttribution]:
    """Attributions of ring members and of any account whose own links point to an organisation.

    `membership` holds per ring, per member (in the ring's order) a confidence in [0, 1] (e.g.
    :func:`graph.detection.membership_stability`); default 1. `accounts` limits the accounts
    considered outside rings (default: every account with own evidence). Accounts with no
    attribution are left out.
    """
    m = model
    ring_of: dict[int, tuple[int, float]] = {}
    for r, members in enumerate(rings):
        conf = membership[r] if membership is not None else np.ones(len(members))
        for a, c in zip(np.asarray(members).tolist(), np.asarray(conf, np.float64).tolist(), strict=True):
            ring_of[int(a)] = (r, float(c))
    with_own = _with_own_evidence(data)
    pool = set(ring_of) | with_own if accounts is None else set(ring_of) | set(accounts)
    result: dict[int, AccountAttribution] = {}
    for a in sorted(pool):
        # Most ring members have no link of their own to any organisation: skip the search then.
        own = {
            att.organization: att
            for att in _attributions(data, np.array([a], np.int64), -COORDINATION_CLIP, m, "account")
        } if a in with_own or accounts is not None else {}
        r, c = ring_of.get(a, (-1, 0.0))
        via_ring = {att.organization: att for att in ring_scores[r].attributions} if r >= 0 else {}
        combined = []
        for o in sorted(set(own) | set(via_ring)):
            combined.append(_combine(data, m, a, o, c, own.get(o), via_ring.get(o)))
        if combined:
            combined.sort(key=lambda x: (-x.confidence, x.name))
            result[a] = AccountAttribution(a, r, c, tuple(combined))
    return result


def _with_own_evidence(data: RefInput) -> set[int]:
    """Accounts outside any ring that could be attributed by their own links."""
    orgs = data.orgs
    out = set(orgs.known_orgs)
    idx = data.links
    known = np.zeros(idx.n_accounts, bool)
    known[list(orgs.known_orgs)] = True
    known_ents = np.unique(idx.ent[known[idx.acc]])
    out |= set(idx.acc[np.isin(idx.ent, known_ents)].tolist())
    # Outside rings only organisations with known members: a company's staff on its own network
    # are not thereby its operation.
    eo = orgs.entity_org[idx.ent]
    acting = (eo >= 0) & orgs.self_acting[idx.ent] & np.r_[orgs.has_known, False][eo]
    out |= set(idx.acc[acting].tolist())
    domains = data.org_indicators.account_email_domain
    out |= {i for i, d in enumerate(domains.tolist()) if d and d in orgs.domain_org}
    return out


def _combine(
    data: RefInput,
    m: ScoringModel,
    account: int,
    org: int,
    c: float,
    own: Attribution | None,
    ring: Attribution | None,
) -> Attribution:
    """``c · P_ring + (1 - c) · P_own`` with the own items plus one ring_membership item."""
    name = data.org_indicators.organizations[org]
    p_own = own.confidence if own is not None else _floor_probability(m)
    p_ring = ring.confidence if ring is not None else 0.0
    p = c * p_ring + (1.0 - c) * p_own if ring is not None else p_own
    p = min(max(p, _PROB_FLOOR), 1.0 - _PROB_FLOOR)
    if own is not None:
        items = list(own.explanation.items)
    else:
        items = [EvidenceItem("prior", logit(p_own), "No own link of this account points to the organisation.")]
    base = math.fsum(i.llr for i in items)
    if ring is not None:
        items.append(
            EvidenceItem(
                "ring_membership",
                logit(p) - base,
                f"The account belongs to a ring attributed to {name} with confidence {p_ring:.2f}, "
                f"with membership confidence {c:.2f}.",
                (account,),
                (),
                org,
            )
        )
    features = own.features if own is not None else np.zeros(len(ATTRIBUTION_FEATURES))
    return Attribution(org, name, features, Explanation.of(items))


def _floor_probability(m: ScoringModel) -> float:
    p = 1.0 / (1.0 + math.exp(-m.attribution.intercept))
    return min(max(p, _PROB_FLOOR), 1.0 - _PROB_FLOOR)
