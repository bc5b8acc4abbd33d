"""Behavioural evidence of coordination: co-action, round-the-clock operation, focus, model pivot.

Behaviour says who acts together, not who they are: these features enter the coordination score
only (attribution is unchanged). Each is a ring-level figure an investigator would state:

``coaction_cover``
    The share of members that co-act with another member beyond chance (graph/behaviour/coaction.py),
    times the mean strength of the co-acting member pairs: how much of the ring acts in the same
    minutes, and how firmly. A pair's strength is ``min(1, llr / strong_llr)`` (how sure it is that
    they met more often than chance) times ``min(1, log(O / E) / log 4)`` (by how much): always-on
    pipelines meet in thousands of windows, so even meeting 1.5 times as often as their habits predict
    is "sure", but it is not what an operator's jobs look like (4 to 15 times). Meeting twice as often
    as chance counts half, four times or more in full.
``coaction_days``
    ``log(1 + mean over members of the most distinct days of co-action with any other member)``.
``coaction_excess``
    ``log(ΣO / ΣE)`` over the members' co-acting pairs: how many times more often they met than their
    own habits of hour explain (a class whose lab session starts them together: about 2; operators'
    jobs: 4 to 15).
``coaction_spread``
    ``coaction_cover`` times the normalised entropy of the hours of day of the members' co-action with
    each other: co-action at all hours. A class in its weekly lab session or colleagues in office
    hours meet at the same hours of the day; an operator's jobs run at any hour.
``round_the_clock``
    Normalised entropy of the ring's requests over the 24 UTC hours (1: evenly around the clock).
``category_focus``
    Share of the ring's requests in its largest category (the provider's labels, whatever they are).
``model_pivot``
    Share of members that used a newly released model within a day of its release.

A ring without usage has all of them at 0, so a model fitted without a usage log scores it as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.behaviour.activity import AccountActivity, RingActivity, hour_entropy, ring_activity
from graph.behaviour.coaction import Coaction, CoactionParams
from graph.links import SetLinks
from graph.scoring.features import BEHAVIOUR_FEATURES

__all__ = ["BEHAVIOUR_FEATURES", "Behaviour", "RingCoaction", "behaviour_features"]

_PAIRS_CITED: Final = 3
_FULL_EXCESS: Final = 4.0  # O / E at which a pair's co-action counts in full (coaction_cover)
_COL: Final = {f: i for i, f in enumerate(BEHAVIOUR_FEATURES)}

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
    hours: int  # hours of the day the members' co-action came in
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
        return x, [RingActivity() for _ in range(n_rings)], [RingCoaction(0, 0, 0, 0, 0.0, ()) for _ in range(n_rings)]
    co, params = behaviour.coaction, behaviour.params
    ring_of = np.full(n_accounts, -1, np.int64)
    ring_of[rings.members] = rings.member_set
    row_of = np.full(n_accounts, -1, np.int64)
    row_of[rings.members] = np.arange(rings.members.shape[0])
    inside = _in_ring_pairs(co, ring_of)
    m = rings.members.shape[0]
    best = np.zeros(m, np.float64)
    best_days = np.zeros(m, np.float64)
    pair_ring = ring_of[co.src[inside]]
    pair_observed, pair_expected = co.observed[inside].astype(np.float64), co.expected[inside]
    # llr > 0 only where O > E (and E is never below graph/behaviour/coaction.py's floor): log(O / E) > 0.
    strength = np.minimum(1.0, co.llr[inside] / params.strong_llr) * np.minimum(
        1.0, np.log(pair_observed / pair_expected) / np.log(_FULL_EXCESS))
    for end in (co.src[inside], co.dst[inside]):
        rows = row_of[end]
        np.maximum.at(best, rows, strength)
        np.maximum.at(best_days, rows, co.days[inside].astype(np.float64))
    sizes = np.maximum(rings.sizes, 1)
    # Coverage (members with a co-acting partner) times the mean strength of the co-acting pairs: in a
    # big group every member has some strong partner by chance; the typical pair says more.
    covered = np.bincount(rings.member_set, weights=(best > 0).astype(np.float64), minlength=n_rings) / sizes
    pairs_per_ring = np.bincount(pair_ring, minlength=n_rings)
    mean_strength = np.bincount(pair_ring, weights=strength, minlength=n_rings) / np.maximum(pairs_per_ring, 1)
    x[:, _COL["coaction_cover"]] = covered * mean_strength
    x[:, _COL["coaction_days"]] = np.log1p(np.bincount(rings.member_set, weights=best_days, minlength=n_rings) / sizes)
    observed = np.bincount(pair_ring, weights=pair_observed, minlength=n_rings)
    expected = np.bincount(pair_ring, weights=pair_expected, minlength=n_rings)
    x[:, _COL["coaction_excess"]] = np.log(np.maximum(observed, 1.0) / np.maximum(expected, 1e-9)).clip(min=0.0) * (
        observed > 0)
    ring_hours = np.zeros((n_rings, 24), np.int64)
    np.add.at(ring_hours, pair_ring, co.hours[inside])
    x[:, _COL["coaction_spread"]] = x[:, _COL["coaction_cover"]] * np.array([hour_entropy(h) for h in ring_hours])
    # Per ring: its co-acting pairs, strongest first as coaction_cover weighs them (then by llr, then by
    # accounts: deterministic), so the pair the evidence cites first is one that counts most.
    order = np.lexsort((co.dst[inside], co.src[inside], -co.llr[inside], -strength, pair_ring))
    ordered = inside[order]
    ring_sorted = pair_ring[order]
    starts = np.searchsorted(ring_sorted, np.arange(n_rings + 1))
    coactions = []
    ptr = rings.set_ptr.tolist()
    members = rings.members.tolist()
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
            hours=int(np.count_nonzero(ring_hours[r])),
            observed=int(co.observed[at].sum()),
            expected=float(co.expected[at].sum()),
            pairs=tuple(cited),
        ))
        activity = ring_activity([behaviour.activity.get(a) for a in members[ptr[r] : ptr[r + 1]]],
                                 behaviour.releases, behaviour.first_release)
        summaries.append(activity)
        x[r, _COL["round_the_clock"]] = activity.round_the_clock
        x[r, _COL["category_focus"]] = activity.category_focus
        x[r, _COL["model_pivot"]] = activity.switch_share
    return x, summaries, coactions
