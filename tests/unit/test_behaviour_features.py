"""A ring's co-action features from hand-made co-acting pairs: how sure, and by how much."""

from __future__ import annotations

import math

import numpy as np

from graph.behaviour.coaction import Coaction, CoactionParams, likelihood_ratio
from graph.links import SetLinks
from graph.scoring.behaviour import BEHAVIOUR_FEATURES, Behaviour, RingCoaction, behaviour_features

PARAMS = CoactionParams()
COVER = BEHAVIOUR_FEATURES.index("coaction_cover")
EXCESS = BEHAVIOUR_FEATURES.index("coaction_excess")


def _scored(pairs: list[tuple[int, int, int, float]], rings: list[list[int]]) -> tuple[np.ndarray, list[RingCoaction]]:
    """Features and co-action of `rings` (account indices) whose member pairs (a, b, observed, expected)
    met `observed` times where their habits predict `expected`."""
    n = len(pairs)
    observed = np.array([o for _, _, o, _ in pairs], np.int64)
    expected = np.array([e for _, _, _, e in pairs], np.float64)
    days = np.full(n, 30, np.int64)
    hours = np.zeros((n, 24), np.int32)
    hours[:, :] = 1
    co = Coaction(
        src=np.array([a for a, _, _, _ in pairs], np.int32), dst=np.array([b for _, b, _, _ in pairs], np.int32),
        observed=observed, expected=expected, days=days, templates=np.ones(n, np.int64),
        top_template=np.zeros(n, np.int32), top_days=days, llr=likelihood_ratio(observed, expected, days, PARAMS),
        hours=hours, pair_days=np.zeros(0, np.int64), day_offsets=np.zeros(n + 1, np.int64),
    )
    assert np.all(co.llr > PARAMS.strong_llr), "every pair is sure; only by how much differs"
    behaviour = Behaviour(co, PARAMS, np.array(["t0"], np.str_), (None,), {}, {}, {})
    members = np.array([a for ring in rings for a in ring], np.int64)
    sets = SetLinks(
        set_ptr=np.cumsum([0, *map(len, rings)]).astype(np.int64), members=members,
        member_set=np.repeat(np.arange(len(rings)), list(map(len, rings))).astype(np.int64),
        link_set=np.zeros(0, np.int64), link_member=np.zeros(0, np.int64), link_pos=np.zeros(0, np.int64),
    )
    x, _, coactions = behaviour_features(behaviour, sets, int(members.max()) + 1)
    return x, coactions


def _features(pairs: list[tuple[int, int, int, float]], rings: list[list[int]]) -> np.ndarray:
    return _scored(pairs, rings)[0]


def test_pipelines_meeting_a_little_more_often_than_chance_weigh_less_than_an_operators_jobs() -> None:
    # Two always-on pipelines meet in 400 windows where their habits predict 250 (1.6 times): a large
    # llr, as thousands of windows make any excess certain. An operator's pair meets 40 times for 4.
    x = _features([(0, 1, 400, 250.0), (2, 3, 40, 4.0)], [[0, 1], [2, 3]])
    assert math.isclose(x[0, COVER], math.log(1.6) / math.log(4.0))
    assert x[1, COVER] == 1.0
    assert x[0, EXCESS] < x[1, EXCESS]


def test_meeting_twice_as_often_as_chance_counts_half_and_four_times_in_full() -> None:
    x = _features([(0, 1, 500, 250.0), (2, 3, 1000, 250.0), (4, 5, 5000, 250.0)], [[0, 1], [2, 3], [4, 5]])
    assert math.isclose(x[0, COVER], 0.5)
    assert x[1, COVER] == 1.0
    assert x[2, COVER] == 1.0


def test_a_members_weak_pair_lowers_the_ring_mean_but_not_who_is_covered() -> None:
    # Three members: (0,1) an operator's pair, (1,2) a pair that met 1.6 times as often as chance.
    x = _features([(0, 1, 40, 4.0), (1, 2, 400, 250.0)], [[0, 1, 2]])
    assert math.isclose(x[0, COVER], (1.0 + math.log(1.6) / math.log(4.0)) / 2)


def test_the_pair_cited_first_is_one_that_counts_most_not_the_largest_llr() -> None:
    # (0,1): 1,000 windows where 625 were expected (llr 95, 1.6 times); (1,2): 40 where 4 (llr 56, 10 times).
    pairs = [(0, 1, 1000, 625.0), (1, 2, 40, 4.0)]
    _, coactions = _scored(pairs, [[0, 1, 2]])
    llr = likelihood_ratio(np.array([1000, 40]), np.array([625.0, 4.0]), np.array([30, 30]), PARAMS)
    assert llr[0] > llr[1]
    assert coactions[0].pairs[0][:2] == (1, 2)
