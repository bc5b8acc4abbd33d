"""Re-detecting only the components that hold a changed account gives a whole run's rings.

The claim `graph.pipeline.incremental` rests on, checked on random graphs: change edges only among
some accounts (the seeds: add, drop, reweigh), re-detect the components that hold a seed, carry the
base run's other rings with their confidence, and the result is what detecting everything on the
changed graph gives, rings and confidence alike.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.pipeline.incremental import carry_rings, redetect_touched
from graph.projection import AccountGraph
from tests.unit.test_detection import graph_from_edges

_PARAMS = DetectionParams(seed=3, stability_seeds=1)
Edges = dict[tuple[int, int], float]


def _confidence(stability: list[np.ndarray]) -> list[np.ndarray]:
    return [np.round(0.5 + 0.5 * s, 4) for s in stability]


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[int, Edges, Edges, list[int]]:
    """A graph of dense groups and stray pairs, and the same graph changed among a few seeds."""
    n = draw(st.integers(12, 60))
    edges: Edges = {}
    start = 0
    while start < n:
        size = draw(st.integers(2, 8))
        weight = draw(st.sampled_from([0.3, 0.6, 1.0, 1.5]))
        for i in range(start, min(start + size, n)):
            for j in range(i + 1, min(start + size, n)):
                if draw(st.booleans()) or j == i + 1:
                    edges[(i, j)] = weight
        start += size
    for _ in range(draw(st.integers(0, n // 2))):
        i, j = sorted(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)))
        edges[(i, j)] = draw(st.sampled_from([0.1, 0.2, 0.6]))
    seeds = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=max(1, n // 5))))
    changed = dict(edges)
    for i in seeds:
        for j in seeds:
            if i < j:
                choice = draw(st.sampled_from(["keep", "keep", "drop", "add", "reweigh"]))
                if choice == "drop":
                    changed.pop((i, j), None)
                elif choice in ("add", "reweigh"):
                    changed[(i, j)] = draw(st.sampled_from([0.2, 0.7, 1.2]))
    return n, edges, changed, seeds


def _graph(n: int, edges: Edges) -> AccountGraph:
    return graph_from_edges(n, [(i, j, w) for (i, j), w in edges.items()])


def _whole(graph: AccountGraph) -> set[tuple[tuple[int, ...], tuple[float, ...]]]:
    rings = detect_rings(graph, _PARAMS)
    confidence = _confidence(membership_stability(graph, rings, _PARAMS))
    return {(tuple(r.tolist()), tuple(c.tolist())) for r, c in zip(rings, confidence, strict=True)}


@given(_graphs())
@settings(max_examples=60, deadline=None)
def test_touched_components_redetected_and_the_rest_carried_give_the_whole_run(
    case: tuple[int, Edges, Edges, list[int]],
) -> None:
    n, before, after, seeds = case
    ids = np.array([f"acc_{i:03d}" for i in range(n)], dtype=np.str_)
    base = {
        f"ring-{k}": {str(ids[a]): c for a, c in zip(members, confidence, strict=True)}
        for k, (members, confidence) in enumerate(sorted(_whole(_graph(n, before))))
    }
    changed = _graph(n, after)
    touched = redetect_touched(changed, np.array(seeds, np.int64), _PARAMS, _confidence)
    carried, carried_confidence = carry_rings(base, ids, touched.region)
    found = {(tuple(r.tolist()), tuple(c.tolist()))
             for r, c in zip(touched.rings + carried, touched.confidence + carried_confidence, strict=True)}
    assert found == _whole(changed)
    assert all(touched.region[s] for s in seeds)
