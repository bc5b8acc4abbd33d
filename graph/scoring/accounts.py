"""Account attributions: ``P(a -> O) = c · P(ring -> O) + (1 - c) · P_own(a -> O)``, for all accounts at once.

See :mod:`graph.scoring.scorer` for the model. The accounts whose own links can point to an
organisation are a boolean mask over all accounts (array lookups per link); their own candidates
come from :func:`~graph.scoring.candidates.explained_candidates` with every account a subject of one
member; the (account, organisation) pairs to combine are the sorted union of the own candidates'
keys and the ring members' keys ``account · W + organisation`` of their ring's attributions, and the
combined probabilities one array expression. What remains per pair is the ``ring_membership`` item
and the result objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from graph.links import owned_links
from graph.scoring.attribution import COORDINATION_CLIP
from graph.scoring.candidates import explained_candidates
from graph.scoring.evidence import EvidenceItem, Explanation, logit
from graph.scoring.features import ATTRIBUTION_FEATURES
from graph.scoring.model import ScoringModel
from graph.scoring.results import AccountAttribution, Attribution, RingScore, ScoringInput
from graph.scoring.segments import expand, unique_ints

__all__ = ["PROB_FLOOR", "combine_accounts", "with_own_evidence"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
PROB_FLOOR = 1e-9


def with_own_evidence(data: ScoringInput) -> npt.NDArray[np.bool_]:
    """Per account: could its own links attribute it (known, beside a known account, or an org's own)?"""
    orgs, idx = data.orgs, data.links
    out = np.diff(orgs.known_ptr) > 0
    beside_known = np.diff(orgs.entity_known_ptr) > 0  # entities a known account uses
    out[idx.acc[beside_known[idx.ent]]] = True
    # Outside rings only organisations with known members: a company's staff on its own network
    # are not thereby its operation.
    eo = orgs.entity_org[idx.ent]
    acting = (eo >= 0) & orgs.self_acting[idx.ent] & np.r_[orgs.has_known, False][eo]
    out[idx.acc[acting]] = True
    out |= orgs.account_domain_org >= 0
    return out


def _ring_of(
    rings: Sequence[npt.NDArray[np.integer]], membership: Sequence[Floats] | None
) -> tuple[Ints, Ints, Floats]:
    """Ring members ascending, with their ring and membership confidence (a later ring wins)."""
    sizes = np.array(list(map(len, rings)), np.int64)
    if not sizes.sum():
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    accounts = np.concatenate(rings).astype(np.int64).ravel()
    ring = np.repeat(np.arange(len(rings), dtype=np.int64), sizes)
    if membership is None:
        conf = np.ones(accounts.shape[0], np.float64)
    else:
        if list(map(len, membership[: len(rings)])) != sizes.tolist():
            raise ValueError("membership needs one confidence per ring member")
        conf = np.concatenate(membership[: len(rings)]).astype(np.float64).ravel()
    last = accounts.shape[0] - 1 - np.unique(accounts[::-1], return_index=True)[1]
    return accounts[last], ring[last], conf[last]


def combine_accounts(
    data: ScoringInput,
    rings: Sequence[npt.NDArray[np.integer]],
    ring_scores: Sequence[RingScore],
    membership: Sequence[Floats] | None,
    m: ScoringModel,
    accounts: Sequence[int] | None,
) -> dict[int, AccountAttribution]:
    """:func:`graph.scoring.attribute_accounts` with the model given."""
    ring_acc, ring_r, ring_c = _ring_of(rings, membership)
    own_mask = with_own_evidence(data)
    if accounts is None:
        pool = unique_ints(np.r_[ring_acc, np.flatnonzero(own_mask)])
        own_acc = pool[own_mask[pool]]
    else:
        pool = unique_ints(np.r_[ring_acc, np.asarray(list(accounts), np.int64)])
        own_acc = pool
    subjects = owned_links(data.links, np.arange(own_acc.shape[0]), own_acc, own_acc.shape[0])
    own = explained_candidates(data, subjects, np.full(own_acc.shape[0], -COORDINATION_CLIP), m.attribution, "account")
    width = max(len(data.org_indicators.organizations), 1)
    own_key = own_acc[own.candidates.subject] * width + own.candidates.organization

    # Each ring member x its ring's attributions.
    via = [a for s in ring_scores for a in s.attributions]
    via_ptr = np.r_[0, np.cumsum([len(s.attributions) for s in ring_scores])].astype(np.int64)
    via_org = np.array([a.organization for a in via], np.int64)
    via_conf = np.array([a.confidence for a in via], np.float64)
    n_via = via_ptr[ring_r + 1] - via_ptr[ring_r]
    via_row = expand(via_ptr[ring_r], n_via)
    ring_key = np.repeat(ring_acc, n_via) * width + via_org[via_row]
    by_key = np.argsort(ring_key)  # a ring's attributions come by confidence, not organisation
    ring_key, via_row = ring_key[by_key], via_row[by_key]

    keys = unique_ints(np.r_[own_key, ring_key])
    own_at, has_own = _lookup(own_key, keys)
    ring_at, has_ring = _lookup(ring_key, keys)
    account, org = keys // width, keys % width
    member_at, in_ring = _lookup(ring_acc, account)
    c = _take(ring_c, member_at, in_ring, 0.0)
    floor = _floor_probability(m)
    p_own = _take(own.confidence, own_at, has_own, floor)
    p_ring = _take(via_conf[via_row], ring_at, has_ring, 0.0)
    p = np.where(has_ring, c * p_ring + (1.0 - c) * p_own, p_own)
    p = np.minimum(np.maximum(p, PROB_FLOOR), 1.0 - PROB_FLOOR)

    names = data.org_indicators.organizations
    no_own = EvidenceItem("prior", logit(floor), "No own link of this account points to the organisation.")
    zeros = np.zeros(len(ATTRIBUTION_FEATURES))  # shared by every pair without own features: read-only
    zeros.flags.writeable = False
    combined: list[Attribution] = []
    rows = zip(
        account.tolist(), org.tolist(), has_own.tolist(), own_at.tolist(), has_ring.tolist(),
        p.tolist(), p_ring.tolist(), c.tolist(), strict=True,
    )
    for a, o, mine, at, ringed, pa, pr, ca in rows:
        own_att = own.attributions[at] if mine else None
        if own_att is not None and not ringed:
            combined.append(own_att)  # == Attribution(o, name, own features, Explanation.of(own items))
            continue
        items = list(own_att.explanation.items) if own_att is not None else [no_own]
        base = math.fsum(i.llr for i in items)
        items.append(
            EvidenceItem(
                "ring_membership",
                logit(pa) - base,
                f"The account belongs to a ring attributed to {names[o]} with confidence {pr:.2f}, "
                f"with membership confidence {ca:.2f}.",
                (a,),
                (),
                o,
            )
        )
        features = own_att.features if own_att is not None else zeros
        combined.append(Attribution(o, names[o], features, Explanation.of(items)))

    confidence = np.array([x.confidence for x in combined], np.float64)
    order = np.lexsort((org, -confidence, account)).tolist()
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]]) if account.shape[0] else account
    ptr = np.r_[starts, account.shape[0]].tolist()
    first = account[starts].tolist()
    ring_here = _take(ring_r, member_at, in_ring, -1)[starts].tolist()
    conf_here = c[starts].tolist()
    ranked = [combined[i] for i in order]
    return {
        a: AccountAttribution(a, r, ca, tuple(ranked[ptr[i] : ptr[i + 1]]))
        for i, (a, r, ca) in enumerate(zip(first, ring_here, conf_here, strict=True))
    }


def _lookup(sorted_keys: Ints, keys: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Position of each of `keys` in `sorted_keys` (unique) and whether it is there."""
    if sorted_keys.shape[0] == 0:
        return np.zeros(keys.shape[0], np.int64), np.zeros(keys.shape[0], bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.shape[0] - 1).astype(np.int64)
    return at, sorted_keys[at] == keys


def _take(values: npt.NDArray[Any], at: Ints, ok: npt.NDArray[np.bool_], default: float) -> npt.NDArray[Any]:
    """``values[at]`` where `ok`, else `default` (also when `values` is empty)."""
    if values.shape[0] == 0:
        return np.full(at.shape[0], default, values.dtype)
    out: npt.NDArray[Any] = np.where(ok, values[at], default)
    return out


def _floor_probability(m: ScoringModel) -> float:
    p = 1.0 / (1.0 + math.exp(-m.attribution.intercept))
    return min(max(p, PROB_FLOOR), 1.0 - PROB_FLOOR)

