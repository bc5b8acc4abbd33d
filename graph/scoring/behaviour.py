"""Behavioural evidence of coordination: co-action, round-the-clock operation, focus, model pivot.

Behaviour says who acts together, not who they are: these features enter the coordination score
only (attribution is unchanged). Each is a ring-level figure an investigator would state:

``coaction_cover``
    Mean over members of ``min(1, llr / strong_llr)`` of the member's strongest co-action with another
    member (graph/behaviour/coaction.py): how much of the ring acts in the same minutes beyond chance.
``coaction_days``
    ``log(1 + mean over members of the distinct days of that strongest co-action)``.
``round_the_clock``
    Normalised entropy of the ring's requests over the 24 UTC hours (1: evenly around the clock).
``category_focus``
    Share of the ring's requests in its largest category (the provider's labels, whatever they are).
``model_pivot``
    Share of members that used a newly released model within a day of its release.

A ring without usage has all five at 0, so a model fitted without a usage log scores it as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.behaviour.activity import AccountActivity, RingActivity, ring_activity
from graph.behaviour.coaction import Coaction, CoactionParams
from graph.links import SetLinks
from graph.scoring.features import BEHAVIOUR_FEATURES

__all__ = ["BEHAVIOUR_FEATURES", "Behaviour", "RingCoaction", "behaviour_features"]

_PAIRS_CITED: Final = 3

Floats = npt.NDArray[np.float64]
# (account index, template fingerprint) -> (first seen, last seen, count) of that SENT relationship
SentFigures = Mapping[tuple[int, str], tuple[int | None, int | None, int]]


@dataclass(frozen=True)
class Behaviour:
    """What the usage log says about a run's accounts, as scoring and evidence need it."""

    coaction: Coaction
    params: CoactionParams
    template_keys: npt.NDArray[np.str_]
    template_skeleton: tuple[str | None, ...]
    activity: Mapping[int, AccountActivity]  # ring members with usage, by account index
    sent: SentFigures
    releases: Mapping[str, int]  # model -> first seen (epoch seconds)

    @property
    def first_release(self) -> int | None:
        return min(self.releases.values(), default=None)


@dataclass(frozen=True)
class RingCoaction:
    """A ring's co-action, for its evidence sentence and paths."""

    members: int  # members with co-action beyond chance with another member
    days: int  # most distinct days of any member pair
    observed: int
    expected: float
    pairs: tuple[tuple[int, int, int], ...]  # (account, account, template index) of the strongest pairs


def _in_ring_pairs(coaction: Coaction, ring_of: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    rs, rd = ring_of[coaction.src], ring_of[coaction.dst]
    return np.flatnonzero((rs >= 0) & (rs == rd) & (coaction.llr > 0))


def behaviour_features(
    behaviour: Behaviour | None, rings: SetLinks, n_accounts: int
) -> tuple[Floats, list[RingActivity], list[RingCoaction]]:
    """The :data:`BEHAVIOUR_FEATURES` of each ring (rows), its activity summary and its co-action."""
    n_rings = rings.n_sets
    x = np.zeros((n_rings, len(BEHAVIOUR_FEATURES)), np.float64)
    if behaviour is None:
        return x, [RingActivity() for _ in range(n_rings)], [RingCoaction(0, 0, 0, 0.0, ()) for _ in range(n_rings)]
    co, params = behaviour.coaction, behaviour.params
    ring_of = np.full(n_accounts, -1, np.int64)
    ring_of[rings.members] = rings.member_set
    row_of = np.full(n_accounts, -1, np.int64)
    row_of[rings.members] = np.arange(rings.members.shape[0])
    inside = _in_ring_pairs(co, ring_of)
    m = rings.members.shape[0]
    best = np.zeros(m, np.float64)
    best_days = np.zeros(m, np.float64)
    strength = np.minimum(1.0, co.llr[inside] / params.strong_llr)
    for end in (co.src[inside], co.dst[inside]):
        rows = row_of[end]
        np.maximum.at(best, rows, strength)
        np.maximum.at(best_days, rows, co.days[inside].astype(np.float64))
    sizes = np.maximum(rings.sizes, 1)
    x[:, 0] = np.bincount(rings.member_set, weights=best, minlength=n_rings) / sizes
    x[:, 1] = np.log1p(np.bincount(rings.member_set, weights=best_days, minlength=n_rings) / sizes)
    # Per ring: its co-acting pairs, strongest first (then by accounts: deterministic).
    ring = ring_of[co.src[inside]]
    order = np.lexsort((co.dst[inside], co.src[inside], -co.llr[inside], ring))
    ordered = inside[order]
    ring_sorted = ring[order]
    starts = np.searchsorted(ring_sorted, np.arange(n_rings + 1))
    coactions = []
    ptr = rings.set_ptr.tolist()
    members = rings.members.tolist()
    pivot_col = BEHAVIOUR_FEATURES.index("model_pivot")
    summaries = []
    for r in range(n_rings):
        at = ordered[starts[r] : starts[r + 1]]
        cited: list[tuple[int, int, int]] = []
        seen_templates: set[int] = set()
        for i in at.tolist():
            template = int(co.top_template[i])
            if template not in seen_templates:
                seen_templates.add(template)
                cited.append((int(co.src[i]), int(co.dst[i]), template))
            if len(cited) >= _PAIRS_CITED:
                break
        ring_best = best[ptr[r] : ptr[r + 1]]
        coactions.append(RingCoaction(
            members=int(np.count_nonzero(ring_best > 0)),
            days=int(co.days[at].max(initial=0)),
            observed=int(co.observed[at].sum()),
            expected=float(co.expected[at].sum()),
            pairs=tuple(cited),
        ))
        activity = ring_activity([behaviour.activity.get(a) for a in members[ptr[r] : ptr[r + 1]]],
                                 behaviour.releases, behaviour.first_release)
        summaries.append(activity)
        x[r, 2] = activity.round_the_clock
        x[r, 3] = activity.category_focus
        x[r, pivot_col] = activity.switch_share
    return x, summaries, coactions
