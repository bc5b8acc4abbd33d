"""The rewritings that let GDS Leiden (modularity over the whole graph) maximise the in-process
objective: checked against igraph's own quality functions on random graphs and partitions."""

from __future__ import annotations

import igraph as ig
import numpy as np
import numpy.typing as npt
import pytest

from graph.detection import GDS_METHODS, DetectionParams
from graph.detection.gds_objective import leiden_input
from graph.detection.rings import plan_components
from graph.projection import AccountGraph
from tests.unit.test_detection import graph_from_edges


def _planted(seed: int) -> tuple[AccountGraph, npt.NDArray[np.int64]]:
    """Three components of different sizes and densities, two isolated accounts, a small dense triangle;
    and each account's component."""
    rng = np.random.default_rng(seed)
    edges: list[tuple[int, int, float]] = []
    component: list[int] = []
    start = 0
    for block, (size, p) in enumerate(((30, 0.3), (18, 0.5), (12, 0.7))):
        nodes = range(start, start + size)
        edges += [(i, j, float(rng.uniform(0.1, 3.0))) for i in nodes for j in nodes if i < j and rng.random() < p]
        # A path through the block keeps it one component.
        edges += [(i, i + 1, 0.2) for i in nodes[:-1] if not any(e[:2] == (i, i + 1) for e in edges)]
        component += [block] * size
        start += size
    edges += [(start, start + 1, 1.0), (start, start + 2, 1.0), (start + 1, start + 2, 1.0)]
    component += [3, 3, 3, 4, 5]
    return graph_from_edges(start + 5, sorted(set(edges))), np.array(component, np.int64)


def _partitions(graph: AccountGraph, rng: np.random.Generator) -> list[npt.NDArray[np.int64]]:
    # Random labels within each component (a community never spans two).
    return [rng.integers(0, k, graph.n_accounts) for k in (1, 2, 3, 5, 8)]


def _cpm(graph: AccountGraph, labels: npt.NDArray[np.int64], nodes: npt.NDArray[np.int64], r: float) -> float:
    inside = labels[graph.src] == labels[graph.dst]
    kept = np.isin(graph.src, nodes)
    sizes = np.bincount(labels[nodes])
    return float(graph.weight[inside & kept].sum() - r * (sizes.astype(np.float64) ** 2).sum() / 2)


def test_cpm_is_modularity_of_the_degree_padded_graph() -> None:
    graph, component = _planted(3)
    plan = plan_components(graph, component, min_size=3)
    assert plan.partition.tolist() == [0, 1, 2] and plan.labels[48 + 12 : 48 + 15].tolist() == [3, 3, 3]
    given = leiden_input(graph, plan, "leiden-cpm")
    nodes = np.flatnonzero(np.isin(component, plan.partition))
    padded = ig.Graph(n=graph.n_accounts, edges=list(zip(given.src.tolist(), given.dst.tolist(), strict=True)))
    strength = np.asarray(padded.strength(weights=given.weight.tolist()))[nodes]
    assert np.allclose(strength, strength.max())  # every degree is the largest one
    total = float(given.weight.sum())
    r = 0.4
    offsets = []
    for labels in _partitions(graph, np.random.default_rng(1)):
        labels = component * 100 + labels
        quality = padded.modularity(labels.tolist(), weights=given.weight.tolist(), resolution=given.gamma(r))
        offsets.append(quality * total - _cpm(graph, labels, nodes, r))
    # Modularity of the padded graph = (CPM + the same constant) / total weight, for every partition.
    assert np.allclose(offsets, offsets[0])


def test_modularity_of_scaled_components_is_the_mean_of_each_components_modularity() -> None:
    graph, component = _planted(4)
    plan = plan_components(graph, component, min_size=3)
    given = leiden_input(graph, plan, "leiden-modularity")
    assert given.gamma_per_resolution == 3.0  # three components to partition
    scaled = ig.Graph(n=graph.n_accounts, edges=list(zip(given.src.tolist(), given.dst.tolist(), strict=True)))
    for labels in _partitions(graph, np.random.default_rng(2)):
        labels = component * 100 + labels
        each = []
        for c in plan.partition.tolist():
            nodes = np.flatnonzero(component == c)
            keep = np.isin(graph.src, nodes)
            one = ig.Graph(n=graph.n_accounts,
                           edges=list(zip(graph.src[keep].tolist(), graph.dst[keep].tolist(), strict=True)))
            each.append(one.modularity(labels.tolist(), weights=graph.weight[keep].tolist(), resolution=1.3))
        whole = scaled.modularity(labels.tolist(), weights=given.weight.tolist(), resolution=given.gamma(1.3))
        assert whole == pytest.approx(float(np.mean(each)))


def test_only_components_left_to_partition_are_given_to_gds() -> None:
    graph, component = _planted(5)
    plan = plan_components(graph, component, min_size=3)
    for method in GDS_METHODS:
        given = leiden_input(graph, plan, method)
        assert set(given.src.tolist()) | set(given.dst.tolist()) == set(range(60))
    with pytest.raises(ValueError, match="leiden-cpm or leiden-modularity"):
        leiden_input(graph, plan, "louvain")


def test_backend_is_a_recorded_parameter_and_gds_runs_leiden_only() -> None:
    assert DetectionParams().as_dict()["backend"] == "in-process"
    assert DetectionParams.for_method("leiden-modularity", backend="gds").as_dict()["backend"] == "gds"
    with pytest.raises(ValueError, match="gds backend runs leiden-cpm or leiden-modularity, not 'louvain'"):
        DetectionParams.for_method("louvain", backend="gds")
    with pytest.raises(ValueError, match="unknown backend 'spark'"):
        DetectionParams(backend="spark")
