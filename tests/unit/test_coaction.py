"""Co-action on hand-made timelines: repeated co-action counts, one burst and chance do not."""

from __future__ import annotations

import numpy as np

from graph.behaviour.coaction import Coaction, CoactionParams, coaction
from graph.behaviour.usage import usage_index

DAY_MINUTES = 1440
START = 20_139 * 1440  # an epoch minute at midnight UTC (2025-02-21)
ACCOUNTS = np.array(["a", "b", "c", "d", "e", "f"], dtype=np.str_)
PARAMS = CoactionParams(window_minutes=10, min_days=3, max_senders=50)


def _index(account: str) -> int:
    return int(ACCOUNTS.tolist().index(account))


def _pair(result: Coaction, first: str, second: str) -> int:
    i, j = sorted((_index(first), _index(second)))
    found = np.flatnonzero((result.src == i) & (result.dst == j))
    assert found.shape[0] == 1, f"no pair {first}-{second}"
    return int(found[0])


def _minutes(days: range, at: int) -> list[int]:
    return [START + d * DAY_MINUTES + at for d in days]


def _jobs(days: range, offset: int) -> list[int]:
    """One request a day, at another hour each day (an operator's jobs), `offset` minutes in."""
    return [START + d * DAY_MINUTES + ((7 * d) % 24) * 60 + offset for d in days]


def test_the_same_template_minutes_apart_on_many_days_is_coaction() -> None:
    templates = [("t1", 2, None, [("a", _jobs(range(6), 5)), ("b", _jobs(range(6), 8))])]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    at = _pair(result, "a", "b")
    assert result.days[at] == 6
    assert result.observed[at] > result.expected[at]
    assert result.llr[at] > 10


def test_one_shared_burst_is_not_repeated_coaction() -> None:
    burst = [START + 600 + k for k in range(0, 120, 3)]  # two hours of requests, one day
    templates = [("t1", 2, None, [("a", burst), ("b", [m + 1 for m in burst])])]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    at = _pair(result, "a", "b")
    assert result.days[at] == 1 and result.llr[at] == 0.0


def test_a_shared_habit_of_hour_explains_meeting_in_it() -> None:
    # A class in its lab session: the same hour every week, each student at their own minute in it.
    lab = [START + week * 7 * DAY_MINUTES + 14 * 60 for week in range(8)]
    templates = [("t1", 2, None, [("a", [m + k for m in lab for k in (0, 20, 40)]),
                                  ("b", [m + k for m in lab for k in (5, 30, 55)])])]
    habit = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    jobs = [("t1", 2, None, [("a", [m + k for m in _jobs(range(8), 0) for k in (0, 20, 40)]),
                             ("b", [m + k for m in _jobs(range(8), 0) for k in (5, 30, 55)])])]
    anytime = coaction(usage_index(jobs, ACCOUNTS), len(ACCOUNTS), PARAMS)
    at, other = _pair(habit, "a", "b"), _pair(anytime, "a", "b")
    assert habit.observed[at] == anytime.observed[other]
    assert habit.expected[at] > 5 * anytime.expected[other]
    assert habit.llr[at] < anytime.llr[other]


def test_always_on_accounts_meet_by_chance_and_prove_nothing() -> None:
    # Two pipelines sending every 10 minutes all day for a week: they meet in every window, as
    # independent always-on accounts would.
    always = [START + d * DAY_MINUTES + k for d in range(7) for k in range(0, DAY_MINUTES, 10)]
    templates = [("t1", 2, None, [("a", always), ("b", [m + 4 for m in always])])]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    at = _pair(result, "a", "b")
    assert result.days[at] == 7
    assert result.observed[at] <= result.expected[at] * 1.05
    assert result.llr[at] < 5


def test_accounts_far_apart_in_time_do_not_coact() -> None:
    templates = [("t1", 2, None, [("a", _minutes(range(6), 60)), ("b", _minutes(range(6), 900))])]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    assert result.n_pairs == 0


def test_a_popular_template_links_nobody() -> None:
    senders = [(str(a), _minutes(range(6), 600)) for a in ACCOUNTS]
    result = coaction(usage_index([("t1", 5000, None, senders)], ACCOUNTS), len(ACCOUNTS), PARAMS)
    assert result.n_pairs == 0


def test_days_count_across_templates_and_the_top_template_is_the_busiest() -> None:
    templates = [
        ("t1", 2, None, [("c", _minutes(range(0, 2), 300)), ("d", _minutes(range(0, 2), 302))]),
        ("t2", 2, None, [("c", _minutes(range(2, 6), 300)), ("d", _minutes(range(2, 6), 301))]),
    ]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    at = _pair(result, "c", "d")
    assert result.days[at] == 6 and result.templates[at] == 2
    assert result.top_template[at] == 1 and result.top_days[at] == 4  # t2: the second template, 4 days
    assert result.llr[at] > 0


def test_the_result_does_not_depend_on_the_order_templates_are_read_in() -> None:
    templates = [
        ("t2", 3, None, [("e", _minutes(range(5), 100)), ("a", _minutes(range(5), 101)),
                         ("f", _minutes(range(5), 99))]),
        ("t1", 2, None, [("b", _minutes(range(4), 700)), ("c", _minutes(range(4), 702))]),
    ]
    one = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    two = coaction(usage_index(templates[::-1], ACCOUNTS), len(ACCOUNTS), PARAMS)
    for name in ("src", "dst", "observed", "days", "top_template", "llr"):
        assert np.array_equal(getattr(one, name), getattr(two, name))


def test_edge_weight_is_capped() -> None:
    templates = [("t1", 2, None, [("a", _jobs(range(30), 0)), ("b", _jobs(range(30), 1))])]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    assert result.llr.max() > PARAMS.strong_llr and np.all(result.edge_weight(PARAMS) <= PARAMS.weight)


def test_a_crowded_window_pairs_each_sender_with_its_neighbours_and_repeats_day_after_day() -> None:
    # 40 accounts sending one job in the same minutes each day, over a per-window cap of 8: each sender
    # is paired with its 4 successors (cyclically), 160 pairs instead of 780, and those pairs repeat.
    crowd = np.array([f"m{k:02d}" for k in range(40)], dtype=np.str_)
    params = CoactionParams(window_minutes=10, min_days=3, max_senders=50, max_window_senders=8)
    templates = [("t1", 40, None, [(str(a), _jobs(range(5), 2)) for a in crowd])]
    result = coaction(usage_index(templates, crowd), len(crowd), params)
    assert result.n_pairs == 40 * 4
    assert np.all(result.src < result.dst)
    neighbours = (result.dst - result.src) % 40
    assert set(np.minimum(neighbours, 40 - neighbours).tolist()) == {1, 2, 3, 4}
    assert np.all(result.days == 5) and np.all(result.llr > 0)


def test_each_pair_keeps_its_distinct_days() -> None:
    templates = [("t1", 2, None, [("a", _minutes(range(0, 4), 300)), ("b", _minutes(range(0, 4), 302))]),
                 ("t2", 2, None, [("a", _minutes(range(2, 6), 500)), ("b", _minutes(range(2, 6), 501))])]
    result = coaction(usage_index(templates, ACCOUNTS), len(ACCOUNTS), PARAMS)
    at = _pair(result, "a", "b")
    days = result.pair_days[result.day_offsets[at]:result.day_offsets[at + 1]]
    assert days.tolist() == [START // DAY_MINUTES + d for d in range(6)]
    assert result.day_offsets[-1] == result.pair_days.shape[0]
