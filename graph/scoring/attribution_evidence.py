"""Explanations of attributions: per (ring or account, organisation), a prior plus one item per piece of evidence.

Built per candidate from the tuples :func:`graph.scoring.candidates.explained_candidates` slices out
of the flat candidate arrays, with the model's contributions computed for all candidates at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from graph.links import Incidence
from graph.scoring.attribution import Candidate, OrgIndex
from graph.scoring.evidence import EvidenceItem, Explanation
from graph.scoring.features import ATTRIBUTION_FEATURES
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

__all__ = ["explain_attribution", "prior_item"]


def explain_attribution(
    inc: Incidence,
    orgs: OrgIndex,
    candidate: Candidate,
    contributions: Sequence[float],
    n_members: int,
    prior: EvidenceItem,
    noun: str = "ring",
) -> Explanation:
    """The attribution of one (ring, organisation) as a prior plus one item per piece of evidence.

    `contributions` are the model's ``β x`` for the candidate's features (computed for all candidates
    at once), `prior` the model's intercept as an item.
    """
    o = candidate.organization
    name = orgs.evidence.organizations[o]
    c_known, c_network, c_domain, c_coordination = contributions  # in ATTRIBUTION_FEATURES order
    ids = inc.account_ids
    k_in = float(len(candidate.known_inside))
    known_total = k_in + candidate.linked_weight
    share_in = k_in / known_total if known_total > 0 else 0.0
    items = [prior]
    if candidate.known_inside:
        k = candidate.known_inside
        items.append(
            EvidenceItem(
                "known_member_in_ring",
                c_known * share_in,
                f"{len(k)} account{'s' if len(k) > 1 else ''} of this {noun} ({_list(ids, k)}) "
                f"{'were' if len(k) > 1 else 'was'} attributed to {name} by an earlier investigation.",
                k,
                (),
                o,
            )
        )
    if candidate.linked_entities and candidate.linked_weight > 0:
        ents = candidate.linked_entities
        kinds = sorted({_KIND_NOUN[KIND_ORDER[k]] for k in candidate.linked_kinds})
        items.append(
            EvidenceItem(
                "known_member_linked",
                c_known - c_known * share_in,
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
                c_network,
                f"{len(candidate.network_accounts)} of {n_members} accounts in this {noun} used IP addresses "
                f"{_list(inc.entity_keys, candidate.network_entities)} operated by {name} "
                f"({network_role(orgs, inc, o, candidate.network_entities)}).",
                candidate.network_accounts,
                candidate.network_entities,
                o,
            )
        )
    if candidate.domain_accounts:
        items.append(
            EvidenceItem(
                "org_email_domain",
                c_domain,
                f"{len(candidate.domain_accounts)} of {n_members} accounts in this {noun} signed up with "
                f"email domain {', '.join(candidate.domains)}, which {name}'s known members use.",
                candidate.domain_accounts,
                (),
                o,
            )
        )
    coord = float(candidate.features[_COORDINATION])
    items.append(
        EvidenceItem(
            "coordination",
            c_coordination,
            f"The {noun}'s coordination log odds are {coord:+.1f}: "
            + ("its members look operated together." if coord > 0 else "its sharing may be coincidental."),
            (),
            (),
            o,
        )
    )
    return Explanation.of(items)


_COORDINATION = ATTRIBUTION_FEATURES.index("coordination")
_KIND_NOUN = {"payment": "card", "device": "device", "phone": "phone", "email": "mailbox", "ip": "IP"}


def network_role(orgs: OrgIndex, inc: Incidence, organization: int, entities: Sequence[int]) -> str:
    """Why an organisation's addresses say it acts there, not that it hosts (``org_network``)."""
    if orgs.has_known[organization]:
        return "an organisation with known members"
    network = inc.entity_network[np.asarray(entities, np.int64)]
    corporate = network == NETWORK_CLASSES.index("corporate")
    own = (network == NETWORK_CLASSES.index("hosting")) & (organization in orgs.evidence.own_hosting)
    reasons = [reason for reason, holds in (
        ("its own corporate network", corporate.any()),
        ("a hosting block reassigned to it, not a provider's space", own.any()),
        ("its range, and members of this ring sign up on its email domain", (~corporate & ~own).any()),
    ) if holds]
    return "; ".join(reasons)


def prior_item(intercept: float) -> EvidenceItem:
    """The attribution model's intercept as the first item of every attribution."""
    return EvidenceItem("prior", intercept, "Before any evidence: the base rate of attributions.")


def _list(names: npt.NDArray[np.str_], idx: tuple[int, ...], short: bool = False, limit: int = 3) -> str:
    shown = [str(names[i]) for i in idx[:limit]]
    if short:
        shown = [s if len(s) <= 14 else s[:12] + "…" for s in shown]
    more = len(idx) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
