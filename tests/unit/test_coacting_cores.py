"""A careful ring that the partition cut into fragments too small for the pairwise co-action rule is
made whole by weighing its fragments together (graph/detection/coacting_groups.py
``_coacting_cores``), without taking in benign neighbours or fusing two operators' rings."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from graph.detection import DetectionParams, detect_rings
from graph.projection import AccountGraph, Coacting
from tests.unit.test_detection import as_lists, clique, graph_from_edges

FRAGMENTS = 8
PARAMS = DetectionParams(resolution=0.05, seed=5)


def _fragments(extra: int = 0) -> AccountGraph:
    """`FRAGMENTS` triangles (accounts 3k..3k+2) chained by edges too weak to join them, and `extra`
    more accounts in one last triangle chained on the same way."""
    edges = [e for k in range(FRAGMENTS + (extra > 0)) for e in clique(range(3 * k, 3 * k + 3), 1.0)]
    edges += [(3 * k + 2, 3 * k + 3, 0.05) for k in range(FRAGMENTS - 1 + (extra > 0))]
    return graph_from_edges(3 * FRAGMENTS + 3 * (extra > 0), edges)


def _coacting(graph: AccountGraph, groups: list[range], days: int = 5) -> AccountGraph:
    """Three of the nine pairs across every two fragments within each group of fragments met far more
    often than chance (3 matches where 0.1 were expected), on `days` distinct days in turn."""
    pairs = []
    for fragments in groups:
        for i, j in itertools.combinations(fragments, 2):
            pairs += [(3 * i + k, 3 * j + k) for k in range(3)]
    return replace(graph, coacting=Coacting(
        src=np.array([s for s, _ in pairs], np.int32), dst=np.array([d for _, d in pairs], np.int32),
        observed=np.full(len(pairs), 3.0), expected=np.full(len(pairs), 0.1),
        days=np.array([20_000 + k % days for k in range(len(pairs))], np.int64),
        day_offsets=np.arange(len(pairs) + 1, dtype=np.int64)))


def test_fragments_that_coact_together_are_one_ring_and_a_benign_neighbour_stays_out() -> None:
    plain = _fragments(extra=3)
    assert len(detect_rings(plain, PARAMS)) == FRAGMENTS + 1
    ring = detect_rings(_coacting(plain, [range(FRAGMENTS)]), PARAMS)
    assert as_lists(ring) == [list(range(3 * FRAGMENTS)), [24, 25, 26]]


def test_no_two_fragments_pass_the_pairwise_rule_alone() -> None:
    # Two fragments with three of their nine pairs unusual are too few pairs to beat chance.
    two = _coacting(_fragments(), [range(2)])
    assert len(detect_rings(two, PARAMS)) == FRAGMENTS


def test_two_operators_fragments_in_one_component_stay_two_rings() -> None:
    both = _coacting(_fragments(), [range(4), range(4, FRAGMENTS)])
    assert as_lists(detect_rings(both, PARAMS)) == [list(range(12)), list(range(12, 24))]


def test_one_shared_burst_does_not_join_the_fragments() -> None:
    burst = _coacting(_fragments(), [range(FRAGMENTS)], days=1)
    assert len(detect_rings(burst, PARAMS)) == FRAGMENTS


def test_without_group_coaction_the_fragments_stay_apart() -> None:
    joined = _coacting(_fragments(), [range(FRAGMENTS)])
    assert len(detect_rings(joined, replace(PARAMS, group_coaction=None))) == FRAGMENTS
