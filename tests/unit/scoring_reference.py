"""The per-ring scoring code before it was vectorised: the specification tests/unit/test_scoring_vectorised.py
holds the vectorised code to.

This is graph/scoring at commit 5e0eb4d (one pass per ring and per account, with NumPy searches
inside), verbatim apart from names, kept only as that specification.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.links import Incidence, LinkIndex, ring_links
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    AccountAttribution,
    Attribution,
    EvidenceItem,
    Explanation,
    OrgIndicators,
    RingCoordination,
    RingScore,
    ScoringModel,
    logit,
)
from tests.unit.scoring_reference_attribution import (
    COORDINATION_CLIP,
    RefOrgIndex,
    attribution_candidates,
    explain_attribution,
)
from tests.unit.scoring_reference_coordination import coordination_features, explain_coordination

Floats = npt.NDArray[np.float64]

_PROB_FLOOR = 1e-9


@dataclass(frozen=True)
class RefInput:
    links: LinkIndex
    account_created: Floats
    org_indicators: OrgIndicators
    orgs: RefOrgIndex

    @property
    def incidence(self) -> Incidence:
        return self.links.incidence



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
