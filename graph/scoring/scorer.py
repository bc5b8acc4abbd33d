"""Scores for detected rings and their accounts (DESIGN.md §3 step 4): the public entry points.

:func:`prepare` indexes the observations once; :func:`score_rings` gives each ring its coordination
score (:mod:`graph.scoring.coordination`) and its attributions (:mod:`graph.scoring.attribution`);
:func:`attribute_accounts` gives accounts theirs. An account in a ring with membership confidence
``c`` is attributed to organisation O with

    P(a -> O) = c · P(ring -> O) + (1 - c) · P_own(a -> O)

where ``P_own`` scores the account's own links with the same model as a ring of one whose
coordination log odds are the floor (-8): a lone account shows no operation, so its employer's
network or domain does not attribute it, while a card or device shared with a known account does.
Its explanation is the own-links items plus one ``ring_membership`` item whose llr is
``logit P(a -> O) - logit P_own(a -> O)``, so the items still add up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.links import Incidence, LinkIndex
from graph.scoring.attribution import (
    COORDINATION_CLIP,
    OrgIndex,
    attribution_candidates,
    build_org_index,
    explain_attribution,
)
from graph.scoring.coordination import RingCoordination, score_one
from graph.scoring.evidence import EvidenceItem, Explanation, logit
from graph.scoring.features import ATTRIBUTION_FEATURES
from graph.scoring.indicators import OrgIndicators
from graph.scoring.model import ScoringModel, default_model

__all__ = [
    "AccountAttribution",
    "Attribution",
    "RingScore",
    "ScoringInput",
    "attribute_accounts",
    "prepare",
    "score_rings",
]

Floats = npt.NDArray[np.float64]
_PROB_FLOOR = 1e-9


@dataclass(frozen=True)
class ScoringInput:
    """The observations scoring reads, indexed once (build it with :func:`prepare`)."""

    links: LinkIndex
    account_created: Floats
    org_indicators: OrgIndicators
    orgs: OrgIndex

    @property
    def incidence(self) -> Incidence:
        return self.links.incidence


@dataclass(frozen=True)
class Attribution:
    """One organisation a ring or account is attributed to, with the explained confidence."""

    organization: int
    name: str
    features: Floats
    explanation: Explanation

    @property
    def confidence(self) -> float:
        return self.explanation.probability


@dataclass(frozen=True)
class RingScore:
    """A ring's coordination score and its attributions, most confident first."""

    ring: int  # position in the rings given to score_rings
    coordination: RingCoordination
    attributions: tuple[Attribution, ...]

    @property
    def score(self) -> float:
        return self.coordination.probability

    @property
    def top(self) -> Attribution | None:
        return self.attributions[0] if self.attributions else None


@dataclass(frozen=True)
class AccountAttribution:
    """An account's attributions, most confident first; ``ring`` is -1 for an account in no ring."""

    account: int
    ring: int
    membership_confidence: float
    attributions: tuple[Attribution, ...]


def prepare(links: LinkIndex, org_indicators: OrgIndicators, account_created: Floats) -> ScoringInput:
    """Index `org_indicators` over the run's `links`; `account_created` is epoch seconds per account (NaN unknown)."""
    incidence = links.incidence
    created = np.asarray(account_created, np.float64)
    if created.shape[0] != incidence.account_ids.shape[0]:
        raise ValueError("account_created needs one value per account")
    if org_indicators.entity_org.shape[0] != incidence.entity_keys.shape[0]:
        raise ValueError("OrgIndicators.entity_org needs one value per entity")
    if org_indicators.account_email_domain.shape[0] != incidence.account_ids.shape[0]:
        raise ValueError("OrgIndicators.account_email_domain needs one value per account")
    return ScoringInput(links, created, org_indicators, build_org_index(incidence, org_indicators))


def score_rings(
    data: ScoringInput,
    rings: Sequence[npt.NDArray[np.integer]],
    model: ScoringModel | None = None,
) -> list[RingScore]:
    """Coordination score and attributions of each ring (arrays of account indices), in input order."""
    m = model or default_model()
    out = []
    for r, members in enumerate(rings):
        coord = score_one(data.incidence, data.links, members, data.account_created, m.coordination)
        attributions = _attributions(data, coord.members, coord.explanation.log_odds, m, "ring")
        out.append(RingScore(r, coord, attributions))
    return out


def _attributions(
    data: ScoringInput, members: npt.NDArray[np.int64], coordination: float, m: ScoringModel, noun: str
) -> tuple[Attribution, ...]:
    found = []
    for cand in attribution_candidates(data.links, data.orgs, members, coordination):
        expl = explain_attribution(data.incidence, data.orgs, cand, int(members.shape[0]), m.attribution, noun)
        name = data.org_indicators.organizations[cand.organization]
        found.append(Attribution(cand.organization, name, cand.features, expl))
    found.sort(key=lambda a: (-a.confidence, a.name))
    return tuple(found)


def attribute_accounts(
    data: ScoringInput,
    rings: Sequence[npt.NDArray[np.integer]],
    ring_scores: Sequence[RingScore],
    membership: Sequence[Floats] | None = None,
    model: ScoringModel | None = None,
    accounts: Sequence[int] | None = None,
) -> dict[int, AccountAttribution]:
    """Attributions of ring members and of any account whose own links point to an organisation.

    `membership` holds per ring, per member (in the ring's order) a confidence in [0, 1] (e.g.
    :func:`graph.detection.membership_stability`); default 1. `accounts` limits the accounts
    considered outside rings (default: every account with own evidence). Accounts with no
    attribution are left out.
    """
    m = model or default_model()
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


def _with_own_evidence(data: ScoringInput) -> set[int]:
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
    data: ScoringInput,
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

