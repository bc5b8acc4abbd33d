"""Attribution candidates and their features for many subjects (rings, or single accounts) at once.

A subject is a set of accounts with its coordination log odds; a candidate is a (subject,
organisation) pair some actor evidence points to (the features are those of
:mod:`graph.scoring.attribution`). Each kind of evidence is a relational join over flat arrays,
grouped by the integer key ``subject · W + organisation`` (W = number of organisations):

- known members: the subject's members joined with the (account, organisation) pairs of
  ``known.csv`` (a CSR index by account);
- linked known accounts: the subject's links to cards, devices, phones and mailboxes that a known
  account uses, joined with the (entity, organisation, known account) table, less the known accounts
  that are themselves members; exclusivity ``(members on it + known users of the organisation on it
  - 1) / (degree - 1)`` per (subject, entity, organisation), summed per candidate with
  :func:`~graph.scoring.segments.exact_sum` (``math.fsum``);
- email domains: each member's domain organisation (an array lookup per account);
- networks: the subject's links to IPs an organisation operates where it acts (a self-acting range,
  or one of an organisation the subject's domains already point to: a sorted-key membership test).

Sorting and unique over those keys replace the per-ring sets and dictionaries, so the cost is
a few sorts of the subjects' links, whatever the number of subjects. Nothing is searched per subject
in Python; :func:`explained_candidates` builds each candidate's explanation from CSR slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.links import GROUPS, LinkIndex, SetLinks
from graph.scoring.attribution import COORDINATION_CLIP, LINK_GROUPS, Candidate, OrgIndex
from graph.scoring.attribution_evidence import explain_attribution, prior_item
from graph.scoring.features import ATTRIBUTION_FEATURES
from graph.scoring.model import LogisticModel
from graph.scoring.results import Attribution, ScoringInput
from graph.scoring.segments import exact_sum, expand, group_ptr, run_starts, unique_ints

__all__ = ["Candidates", "Found", "Lists", "explained_candidates", "find_candidates"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Lists:
    """One ascending list of integers per candidate: ``values[ptr[c]:ptr[c + 1]]``."""

    ptr: Ints
    values: Ints

    @staticmethod
    def of(row_keys: Ints, values: Ints, keys: Ints) -> Lists:
        """Group `values` (sorted by `row_keys`, then value) by the candidate `keys` (sorted)."""
        lo = np.searchsorted(row_keys, keys, "left")
        hi = np.searchsorted(row_keys, keys, "right")
        lengths = (hi - lo).astype(np.int64)
        return Lists(np.r_[0, np.cumsum(lengths)].astype(np.int64), values[expand(lo.astype(np.int64), lengths)])

    def counts(self) -> Ints:
        out: Ints = np.diff(self.ptr)
        return out


@dataclass(frozen=True)
class Candidates:
    """Every candidate of every subject, subject-major and by organisation within a subject."""

    subject_ptr: Ints  # candidates of subject s: [subject_ptr[s], subject_ptr[s + 1])
    subject: Ints
    organization: Ints
    features: Floats  # (candidates, len(ATTRIBUTION_FEATURES))
    linked_weight: Floats
    known_inside: Lists
    linked_accounts: Lists
    linked_entities: Lists
    linked_known: Lists
    network_accounts: Lists
    network_entities: Lists
    domain_accounts: Lists
    domains: Lists  # indices into OrgIndex.domain_names


def _unique_pairs(key: Ints, value: Ints, width: int) -> tuple[Ints, Ints]:
    """Distinct (key, value) pairs, sorted by key then value."""
    if key.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    w = max(width, 1)
    if int(key.max()) < (2**62) // w:
        u = unique_ints(key * w + value)
        return u // w, u % w
    order = np.lexsort((value, key))
    k, v = key[order], value[order]
    keep = np.r_[True, (k[1:] != k[:-1]) | (v[1:] != v[:-1])]
    return k[keep], v[keep]


def _in_sorted(sorted_keys: Ints, keys: Ints) -> npt.NDArray[np.bool_]:
    if sorted_keys.shape[0] == 0:
        return np.zeros(keys.shape[0], bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.shape[0] - 1)
    out: npt.NDArray[np.bool_] = sorted_keys[at] == keys
    return out


def find_candidates(index: LinkIndex, orgs: OrgIndex, subjects: SetLinks, coordination: Floats) -> Candidates:
    """The candidates of every subject of `subjects`, given each subject's coordination log odds."""
    n_org = len(orgs.evidence.organizations)
    w = max(n_org, 1)
    n_acc, n_ent = max(index.n_accounts, 1), max(index.n_entities, 1)
    members, member_set = subjects.members, subjects.member_set

    # Known members inside: members x their known organisations.
    per = orgs.known_ptr[members + 1] - orgs.known_ptr[members]
    in_key = np.repeat(member_set, per) * w + orgs.known_list[expand(orgs.known_ptr[members], per)]
    in_key, in_acc = _unique_pairs(in_key, np.repeat(members, per), n_acc)

    # Email domains of the members.
    dorg = orgs.account_domain_org[members]
    on = dorg >= 0
    dom_key, dom_acc = _unique_pairs(member_set[on] * w + dorg[on], members[on], n_acc)
    dkey, dcode = _unique_pairs(member_set[on] * w + dorg[on], orgs.account_domain[members[on]], len(orgs.domain_names))
    dom_keys = unique_ints(dom_key)

    # Networks the organisation acts on.
    link_ent = index.ent[subjects.link_pos]
    link_acc = members[subjects.link_member]
    link_org = orgs.entity_org[link_ent]
    net = np.flatnonzero(link_org >= 0)
    nkey = subjects.link_set[net] * w + link_org[net]
    net = net[orgs.self_acting[link_ent[net]] | _in_sorted(dom_keys, nkey)]
    nkey = subjects.link_set[net] * w + link_org[net]
    net_key, net_acc = _unique_pairs(nkey, link_acc[net], n_acc)
    nekey, net_ent = _unique_pairs(nkey, link_ent[net], n_ent)

    # Cards, devices, phones, mailboxes shared with known accounts outside the subject.
    kptr = orgs.entity_known_ptr
    linkable = np.zeros(len(GROUPS), bool)
    linkable[list(LINK_GROUPS)] = True
    strong = np.flatnonzero(linkable[index.group[link_ent]] & (kptr[link_ent + 1] > kptr[link_ent]))
    se = subjects.link_set[strong] * n_ent + link_ent[strong]
    order = np.lexsort((link_acc[strong], se))
    se, se_acc = se[order], link_acc[strong][order]
    starts = run_starts(se)
    pair_ptr = np.r_[starts, se.shape[0]].astype(np.int64)  # members of each (subject, entity) pair
    pair_set, pair_ent = se[starts] // n_ent, se[starts] % n_ent
    in_ring = np.diff(pair_ptr)
    k = kptr[pair_ent + 1] - kptr[pair_ent]
    rows = expand(kptr[pair_ent], k)
    pair = np.repeat(np.arange(pair_ent.shape[0], dtype=np.int64), k)
    known_acc, known_org = orgs.entity_known_account[rows], orgs.entity_known_org[rows]
    member_keys = member_set * n_acc + members  # ascending: set-major, then account
    outside = ~_in_sorted(member_keys, pair_set[pair] * n_acc + known_acc)
    pair, known_acc, known_org = pair[outside], known_acc[outside], known_org[outside]
    po = pair * w + known_org  # sorted: rows are by pair, then organisation, then account
    po_starts = run_starts(po)
    ks = np.diff(np.r_[po_starts, po.shape[0]])
    t_pair, t_org = pair[po_starts], known_org[po_starts]
    t_ent = pair_ent[t_pair]
    excl = (in_ring[t_pair] + ks - 1) / np.maximum(index.degree[t_ent] - 1, 1)
    t_key = pair_set[t_pair] * w + t_org
    order = np.lexsort((t_ent, t_key))
    t_key, t_ent, t_pair, excl = t_key[order], t_ent[order], t_pair[order], excl[order]
    lk_known_key, lk_known = _unique_pairs(pair_set[pair] * w + known_org, known_acc, n_acc)
    reach = in_ring[t_pair]
    lk_acc_key, lk_acc = _unique_pairs(np.repeat(t_key, reach), se_acc[expand(pair_ptr[t_pair], reach)], n_acc)

    keys = unique_ints(np.concatenate([in_key, t_key, net_key, dom_key]))
    subject, org = keys // w, keys % w
    linked_entities = Lists.of(t_key, t_ent, keys)
    linked_weight = exact_sum(excl[expand(np.searchsorted(t_key, keys, "left"), linked_entities.counts())],
                              linked_entities.ptr)
    known_inside = Lists.of(in_key, in_acc, keys)
    network_accounts = Lists.of(net_key, net_acc, keys)
    domain_accounts = Lists.of(dom_key, dom_acc, keys)

    size = np.maximum(subjects.sizes, 1)[subject].astype(np.float64)
    coord = np.clip(np.asarray(coordination, np.float64), -COORDINATION_CLIP, COORDINATION_CLIP)
    levels, level = np.unique(coord, return_inverse=True)  # one exp per distinct log odds
    operated = np.array([1.0 / (1.0 + math.exp(-c)) for c in levels.tolist()], np.float64)[level.ravel()][subject]
    k_net = network_accounts.counts().astype(np.float64)
    k_dom = domain_accounts.counts().astype(np.float64)
    x = np.zeros((keys.shape[0], len(ATTRIBUTION_FEATURES)), np.float64)
    x[:, 0] = [math.log1p(v) for v in (known_inside.counts() + linked_weight).tolist()]
    reach_net = np.sqrt(k_net / np.maximum(np.maximum(orgs.network_users[org].astype(np.float64), k_net), 1.0))
    x[:, 1] = np.where(k_net > 0, operated * k_net / size * reach_net, 0.0)
    x[:, 2] = np.where(k_dom > 0, operated * k_dom / size, 0.0)
    x[:, 3] = coord[subject]
    return Candidates(
        subject_ptr=group_ptr(subject, subjects.n_sets),
        subject=subject,
        organization=org,
        features=x,
        linked_weight=linked_weight,
        known_inside=known_inside,
        linked_accounts=Lists.of(lk_acc_key, lk_acc, keys),
        linked_entities=linked_entities,
        linked_known=Lists.of(lk_known_key, lk_known, keys),
        network_accounts=network_accounts,
        network_entities=Lists.of(nekey, net_ent, keys),
        domain_accounts=domain_accounts,
        domains=Lists.of(dkey, dcode, keys),
    )


@dataclass(frozen=True)
class Found:
    """The explained attribution of every candidate, in candidate order (subject, then organisation)."""

    candidates: Candidates
    attributions: list[Attribution]
    confidence: Floats

    def ranked(self) -> list[tuple[Attribution, ...]]:
        """Per subject: its attributions most confident first (ties by name, as organisations are sorted)."""
        cands = self.candidates
        order = np.lexsort((cands.organization, -self.confidence, cands.subject)).tolist()
        ranked = [self.attributions[i] for i in order]
        ptr = cands.subject_ptr.tolist()
        return [tuple(ranked[ptr[s] : ptr[s + 1]]) for s in range(len(ptr) - 1)]


_PARTS = (
    "known_inside", "linked_accounts", "linked_entities", "linked_known",
    "network_accounts", "network_entities", "domain_accounts", "domains",
)


def explained_candidates(
    data: ScoringInput, subjects: SetLinks, coordination: Floats, model: LogisticModel, noun: str
) -> Found:
    """Every candidate of every subject as an :class:`Attribution` with its explanation."""
    cands = find_candidates(data.links, data.orgs, subjects, coordination)
    contributions = model.contributions(cands.features).tolist()
    prior = prior_item(model.intercept)
    parts = [(getattr(cands, p).ptr.tolist(), getattr(cands, p).values.tolist()) for p in _PARTS]
    (ki_p, ki), (la_p, la), (le_p, le), (lk_p, lk), (na_p, na), (ne_p, ne), (da_p, da), (dm_p, dm) = parts
    inc, orgs = data.incidence, data.orgs
    kinds = inc.entity_kind[cands.linked_entities.values].tolist()
    domain_names = data.orgs.domain_names
    names = data.org_indicators.organizations
    sizes = subjects.sizes.tolist()
    weights = cands.linked_weight.tolist()
    features = list(cands.features)  # row views
    out = []
    for c, (s, o) in enumerate(zip(cands.subject.tolist(), cands.organization.tolist(), strict=True)):
        e = c + 1
        candidate = Candidate(  # positional, in field order (the keywords cost a third of the call)
            o,
            features[c],
            weights[c],
            tuple(ki[ki_p[c] : ki_p[e]]),
            tuple(la[la_p[c] : la_p[e]]),
            tuple(le[le_p[c] : le_p[e]]),
            tuple(kinds[le_p[c] : le_p[e]]),
            tuple(lk[lk_p[c] : lk_p[e]]),
            tuple(na[na_p[c] : na_p[e]]),
            tuple(ne[ne_p[c] : ne_p[e]]),
            tuple(da[da_p[c] : da_p[e]]),
            tuple([domain_names[d] for d in dm[dm_p[c] : dm_p[e]]]),
        )
        expl = explain_attribution(inc, orgs, candidate, contributions[c], sizes[s], prior, noun)
        out.append(Attribution(o, names[o], candidate.features, expl))
    return Found(cands, out, np.array([a.confidence for a in out], np.float64))
