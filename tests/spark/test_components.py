"""Large-star / small-star components against scipy's, on random graphs and on the worst shapes."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse import csgraph

from graph.spark.components import ComponentsNotConvergedError, connected_components

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _spark_labels(spark: SparkSession, edges: list[tuple[int, int]]) -> tuple[dict[int, int], int]:
    frame = spark.createDataFrame(edges, "src long, dst long")
    labelled, rounds = connected_components(frame)
    return {int(r["node"]): int(r["component"]) for r in labelled.collect()}, rounds


def _scipy_labels(edges: list[tuple[int, int]]) -> dict[int, int]:
    """node -> least node of its component, over the nodes that appear in `edges`."""
    nodes = sorted({n for e in edges for n in e})
    index = {n: i for i, n in enumerate(nodes)}
    src = [index[a] for a, _ in edges]
    dst = [index[b] for _, b in edges]
    graph = sparse.coo_matrix((np.ones(len(edges)), (src, dst)), shape=(len(nodes), len(nodes)))
    _, component = csgraph.connected_components(graph, directed=False)
    least: dict[int, int] = {}
    for node, c in zip(nodes, component.tolist(), strict=True):
        least.setdefault(c, node)  # nodes ascend: the first seen is the least
    return {node: least[c] for node, c in zip(nodes, component.tolist(), strict=True)}


@st.composite
def _graphs(draw: st.DrawFn) -> list[tuple[int, int]]:
    n = draw(st.integers(1, 40))
    # Sparse ids far apart, as account surrogates of a big run would be; either direction, repeats allowed.
    ids = draw(st.lists(st.integers(0, 2**40), min_size=n, max_size=n, unique=True))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=3 * n))
    return [(ids[a], ids[b]) for a, b in pairs]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=_graphs())
def test_components_match_scipy_on_random_graphs(spark: SparkSession, edges: list[tuple[int, int]]) -> None:
    found, _ = _spark_labels(spark, edges)
    assert found == _scipy_labels(edges)


def test_a_long_path_converges_in_few_rounds(spark: SparkSession) -> None:
    # A path of 512 nodes with shuffled ids: label propagation needs ~512 rounds, the stars a handful.
    order = np.random.default_rng(3).permutation(512).tolist()
    edges = list(itertools.pairwise(order))
    found, rounds = _spark_labels(spark, edges)
    assert found == dict.fromkeys(range(512), 0)
    assert rounds <= 2 * 9  # 2 log2(n): what the paper measures is about log n


def test_self_loops_and_isolated_nodes_are_their_own_component(spark: SparkSession) -> None:
    found, _ = _spark_labels(spark, [(7, 7), (3, 5), (5, 3), (9, 9)])
    assert found == {3: 3, 5: 3, 7: 7, 9: 9}


def test_a_round_limit_too_small_is_an_error(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(i, i + 1) for i in range(64)], "src long, dst long")
    with pytest.raises(ComponentsNotConvergedError):
        connected_components(frame, max_rounds=1)
