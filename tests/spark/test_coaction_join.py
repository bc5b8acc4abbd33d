"""Co-action as a Spark join (graph/spark/coaction.py) against graph/behaviour/coaction.py on small
hand-made timelines: the same pairs with the same figures, to the bit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.behaviour.coaction import CoactionParams, coaction
from graph.behaviour.usage import usage_index
from graph.pipeline.graph import Templates

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DAY_MINUTES = 1440
START = 20_139 * DAY_MINUTES  # an epoch minute at midnight UTC
PARAMS = CoactionParams(window_minutes=10, min_days=2, max_senders=4, max_window_senders=3)

# template -> account -> minutes it sent in
Timeline = dict[str, dict[str, list[int]]]


def _in_process(timeline: Timeline, params: CoactionParams) -> list[tuple[Any, ...]]:
    accounts = np.array(sorted({a for sent in timeline.values() for a in sent}), dtype=np.str_)
    templates: Templates = [(t, len(sent), None, list(sent.items())) for t, sent in timeline.items()]
    usage = usage_index(templates, accounts)
    found = coaction(usage, int(accounts.shape[0]), params)
    keys = usage.template_keys
    return sorted(
        (str(accounts[found.src[i]]), str(accounts[found.dst[i]]), int(found.observed[i]), float(found.expected[i]),
         int(found.days[i]), int(found.templates[i]), str(keys[found.top_template[i]]), int(found.top_days[i]),
         float(found.llr[i]), [int(h) for h in found.hours[i]], float(found.edge_weight(params)[i]),
         found.pair_days[found.day_offsets[i]:found.day_offsets[i + 1]].tolist())
        for i in range(found.n_pairs))


def _on_spark(spark: SparkSession, timeline: Timeline, params: CoactionParams) -> list[tuple[Any, ...]]:
    from graph.spark.coaction import coaction_pairs, sent_minutes

    # Requests at some second of each minute, a minute twice: SENT keeps distinct minutes.
    requests = spark.createDataFrame(
        [(t, a, m * 60 + k) for t, sent in timeline.items() for a, minutes in sent.items() for m in minutes
         for k in (7, 41)], "template string, account_id string, second long")
    templates = spark.createDataFrame([(t, len(sent)) for t, sent in timeline.items()],
                                      "template string, senders long")
    pairs = coaction_pairs(sent_minutes(requests, templates, params), params, buckets=3).collect()
    return sorted((r["src"], r["dst"], r["observed"], r["expected"], r["days"], r["templates"], r["top_template"],
                   r["top_days"], r["llr"], list(r["hours"]), r["weight"], list(r["day_list"])) for r in pairs)


def _jobs(days: range, offset: int) -> list[int]:
    """One request a day at another hour each day (an operator's jobs), `offset` minutes in."""
    return [START + d * DAY_MINUTES + ((7 * d) % 24) * 60 + offset for d in days]


def test_the_join_gives_coaction_py_figures_on_a_hand_made_timeline(spark: SparkSession) -> None:
    timeline: Timeline = {
        # a, b and c co-act on t1 for days; d joins them in some windows: a group above the cap pairs
        # each account with the next one only (cyclically).
        "t1": {"a": _jobs(range(5), 5), "b": _jobs(range(5), 8), "c": _jobs(range(5), 13),
               "d": _jobs(range(0, 5, 2), 9)},
        # a and b again on another template, at a window boundary (9 and 10 minutes in).
        "t2": {"a": _jobs(range(3), 29), "b": _jobs(range(3), 30)},
        # Five senders: above max_senders, public, so it links nobody.
        "t3": {x: _jobs(range(4), 1) for x in "abcde"},
    }
    expected = _in_process(timeline, PARAMS)
    assert expected and any(row[8] > 0 for row in expected)
    assert _on_spark(spark, timeline, PARAMS) == expected


_minute = st.integers(min_value=0, max_value=4 * DAY_MINUTES).map(lambda m: START + m)
_timelines = st.dictionaries(
    st.sampled_from(["t1", "t2", "t3"]),
    st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.lists(_minute, min_size=1, max_size=12),
                    min_size=1, max_size=5),
    min_size=1, max_size=3)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timeline=_timelines, window=st.sampled_from([5, 10, 60]))
def test_the_join_gives_coaction_py_figures_on_any_timeline(spark: SparkSession, timeline: Timeline,
                                                            window: int) -> None:
    params = CoactionParams(window_minutes=window, min_days=2, max_senders=4, max_window_senders=3)
    assert _on_spark(spark, timeline, params) == _in_process(timeline, params)


def test_the_jobs_activity_time_is_sent_active_at(spark: SparkSession) -> None:
    """graph/spark/projection.py ``sent_activity`` against graph/behaviour/usage.py ``sent_active_at``
    joined as graph/pipeline/graph.py joins it: sent minutes where there are any, else the links'."""
    from graph.behaviour.usage import sent_active_at
    from graph.spark.coaction import sent_minutes
    from graph.spark.projection import sent_activity

    timeline: Timeline = {
        "t1": {"a": [START + 10, START + 20, START + 30], "b": [START + 5, START + 6]},
        "t2": {"a": [START + 30, START + 40], "b": [START + 6]},  # a minute on two templates counts twice
        "t3": {x: [START + 1] for x in "abcde"},  # above max_senders: public, read by neither
    }
    links = {"a": 1.0e9, "c": 2.0e9}  # c sent nothing co-action reads
    accounts = np.array(["a", "b", "c"], dtype=np.str_)
    read: Templates = [(t, len(sent), None, list(sent.items())) for t, sent in timeline.items()
                       if len(sent) <= PARAMS.max_senders]
    sent = sent_active_at(usage_index(read, accounts), 3)
    link_at = np.array([links.get(str(a), np.nan) for a in accounts])
    expected = dict(zip(accounts.tolist(), np.where(np.isnan(sent), link_at, sent).tolist(), strict=True))
    assert expected == {"a": (START + 20) * 60.0, "b": (START + 5) * 60.0, "c": 2.0e9}

    requests = spark.createDataFrame(
        [(t, a, m * 60 + k) for t, s in timeline.items() for a, minutes in s.items() for m in minutes for k in (7, 41)],
        "template string, account_id string, second long")
    templates = spark.createDataFrame([(t, len(s)) for t, s in timeline.items()], "template string, senders long")
    activity = spark.createDataFrame(list(links.items()), "account_id string, active_at double")
    found = {r["account_id"]: r["active_at"] for r in sent_activity(activity, sent_minutes(requests, templates, PARAMS))
             .collect()}
    assert found == expected
