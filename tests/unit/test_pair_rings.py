"""Rings of two accounts: kept when their tie stands on its own, dropped when it is weak or busy
co-action that the two accounts' habits explain (graph/detection/rings.py ``_pairs_kept``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from graph.detection import DetectionParams, detect_rings
from graph.projection import AccountGraph, Coacting
from tests.unit.test_detection import as_lists, clique, graph_from_edges

PAIRS = DetectionParams(min_size=2, resolution=0.05, seed=1)


def _with_coaction(graph: AccountGraph, pairs: list[tuple[int, int, float, float]]) -> AccountGraph:
    """`graph` with each (src, dst, observed, expected) co-acting on three distinct days."""
    return replace(graph, coacting=Coacting(
        src=np.array([p[0] for p in pairs], np.int32), dst=np.array([p[1] for p in pairs], np.int32),
        observed=np.array([p[2] for p in pairs], np.float64), expected=np.array([p[3] for p in pairs], np.float64),
        days=np.tile(np.array([20_000, 20_001, 20_002], np.int64), len(pairs)),
        day_offsets=np.arange(0, 3 * len(pairs) + 1, 3, dtype=np.int64)))


def test_a_pair_sharing_a_rare_device_is_a_ring_and_a_weak_tie_is_not() -> None:
    graph = graph_from_edges(6, [(0, 1, 1.0), (2, 3, 0.2), (4, 5, 0.5)])
    assert as_lists(detect_rings(graph, PAIRS)) == [[0, 1], [4, 5]]
    assert as_lists(detect_rings(graph, replace(PAIRS, min_size=3))) == []
    assert as_lists(detect_rings(graph, replace(PAIRS, pair_excess=None))) == [[0, 1], [2, 3], [4, 5]]


def test_busy_coaction_that_habits_explain_rules_a_pair_out_whatever_it_shares() -> None:
    # 0-1: a shared card and co-action at 2x chance (two always-on pipelines); 2-3: the same card
    # weight with co-action at 8x chance; 4-5: co-action alone, strong and far beyond chance.
    graph = _with_coaction(graph_from_edges(6, [(0, 1, 1.2), (2, 3, 1.2), (4, 5, 0.8)]),
                           [(0, 1, 400.0, 200.0), (2, 3, 40.0, 5.0), (4, 5, 30.0, 0.5)])
    assert as_lists(detect_rings(graph, PAIRS)) == [[2, 3], [4, 5]]
    assert as_lists(detect_rings(graph, replace(PAIRS, pair_excess=1.5))) == [[0, 1], [2, 3], [4, 5]]


def test_the_rule_leaves_larger_rings_alone() -> None:
    # A 3-clique whose members co-act only at chance is not a pair: the rule does not apply.
    graph = _with_coaction(graph_from_edges(5, [*clique(range(3), 1.0), (3, 4, 1.0)]),
                           [(0, 1, 10.0, 9.0), (0, 2, 10.0, 9.0), (3, 4, 10.0, 9.0)])
    assert as_lists(detect_rings(graph, PAIRS)) == [[0, 1, 2]]


def test_a_pair_left_by_a_campaign_cut_is_judged_like_any_other() -> None:
    # Two accounts active months after the other three: cut off as their own campaign, then kept
    # only because their own edge is strong.
    day = 86_400.0
    edges = [*clique(range(3), 1.0), (2, 3, 0.6), (3, 4, 1.0)]
    active = np.array([0.0, 1.0, 2.0, 200.0, 201.0]) * day + 1.7e9
    graph = replace(graph_from_edges(5, edges), active_at=active)
    assert as_lists(detect_rings(graph, replace(PAIRS, resolution=0.3))) == [[0, 1, 2], [3, 4]]
    weak = replace(graph_from_edges(5, [*clique(range(3), 1.0), (2, 3, 0.6), (3, 4, 0.3)]), active_at=active)
    assert as_lists(detect_rings(weak, replace(PAIRS, resolution=0.3))) == [[0, 1, 2]]


def test_pair_excess_below_chance_is_refused() -> None:
    with pytest.raises(ValueError, match="pair_excess"):
        DetectionParams(pair_excess=0.5)
