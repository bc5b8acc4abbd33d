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

Nothing here loops over rings or accounts to search: features and candidates come from flat
arrays for all rings (or all accounts) at once (:func:`graph.links.set_links`,
:mod:`.coordination`, :mod:`.candidates`), and the (account, organisation) pairs to combine are a
sorted-key merge of the own and the via-ring candidates, their probabilities one array expression.
What remains per ring, per candidate and per combined pair is building the result objects and
their sentences from slices of those arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from graph.collector import collector_paused
from graph.links import LinkIndex, set_links, shared_links
from graph.scoring.accounts import combine_accounts
from graph.scoring.attribution import build_org_index
from graph.scoring.behaviour import Behaviour, behaviour_features
from graph.scoring.behaviour_evidence import explain_behaviour
from graph.scoring.candidates import explained_candidates
from graph.scoring.coordination import RingCoordination, coordination_features
from graph.scoring.coordination_evidence import explain_coordination
from graph.scoring.features import BEHAVIOUR_FEATURES, COORDINATION_FEATURES
from graph.scoring.indicators import OrgIndicators
from graph.scoring.model import ScoringModel, default_model
from graph.scoring.results import AccountAttribution, Attribution, RingScore, ScoringInput

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
_BEHAVIOUR_COLUMNS = [COORDINATION_FEATURES.index(f) for f in BEHAVIOUR_FEATURES]


def prepare(
    links: LinkIndex, org_indicators: OrgIndicators, account_created: Floats, behaviour: Behaviour | None = None
) -> ScoringInput:
    """Index `org_indicators` over the run's `links`; `account_created` is epoch seconds per account
    (NaN unknown); `behaviour` is what the usage log says, if the run has one."""
    incidence = links.incidence
    created = np.asarray(account_created, np.float64)
    if created.shape[0] != incidence.account_ids.shape[0]:
        raise ValueError("account_created needs one value per account")
    if org_indicators.entity_org.shape[0] != incidence.entity_keys.shape[0]:
        raise ValueError("OrgIndicators.entity_org needs one value per entity")
    if org_indicators.account_email_domain.shape[0] != incidence.account_ids.shape[0]:
        raise ValueError("OrgIndicators.account_email_domain needs one value per account")
    return ScoringInput(links, created, org_indicators, build_org_index(links, org_indicators), behaviour)


def score_rings(
    data: ScoringInput,
    rings: Sequence[npt.NDArray[np.integer]],
    model: ScoringModel | None = None,
) -> list[RingScore]:
    """Coordination score and attributions of each ring (arrays of account indices), in input order."""
    m = model or default_model(usage_log=data.behaviour is not None)
    subjects = set_links(data.links, rings)
    shared = shared_links(data.links, subjects)
    x = coordination_features(data.links, subjects, shared, data.account_created)
    behaviour, activity, coaction = behaviour_features(data.behaviour, subjects, data.links.n_accounts)
    x[:, _BEHAVIOUR_COLUMNS] = behaviour
    with collector_paused():
        explained = explain_coordination(data.incidence, data.links, subjects, shared, x, m.coordination)
        explained = [explain_behaviour(e, data.behaviour, x[r], m.coordination, activity[r], coaction[r],
                                       subjects.sizes[r]) for r, e in enumerate(explained)]
        log_odds = np.array([e.log_odds for e in explained], np.float64)
        found = explained_candidates(data, subjects, log_odds, m.attribution, "ring")
        ranked = found.ranked()
        ptr = subjects.set_ptr.tolist()
        return [
            RingScore(r, RingCoordination(subjects.members[ptr[r] : ptr[r + 1]], x[r], explained[r]), ranked[r],
                      activity[r])
            for r in range(subjects.n_sets)
        ]


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
    with collector_paused():
        chosen = model or default_model(usage_log=data.behaviour is not None)
        return combine_accounts(data, rings, ring_scores, membership, chosen, accounts)
