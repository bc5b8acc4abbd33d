"""Louvain modularity maximisation with python-louvain: the reference backend.

Blondel, Guillaume, Lambiotte & Lefebvre, "Fast unfolding of communities in large networks",
J. Stat. Mech. (2008) P10008. python-louvain visits nodes in an order drawn from ``random_state``
over the graph's node insertion order, so the graph is always built in sorted node and edge order.
It is the slowest backend by one to two orders of magnitude and, being modularity-based, merges
small rings into their neighbourhood (the resolution limit); it is kept as the documented reference.
"""

from __future__ import annotations

import community as community_louvain
import networkx as nx
import numpy as np
import numpy.typing as npt

__all__ = ["louvain_partition"]


def louvain_partition(
    n_nodes: int,
    src: npt.NDArray[np.int32],
    dst: npt.NDArray[np.int32],
    weight: npt.NDArray[np.float64],
    *,
    resolution: float,
    seed: int,
) -> npt.NDArray[np.int64]:
    """Community label per node of the graph on ``range(n_nodes)`` with the given sorted edges.

    `resolution` is the modularity resolution gamma (1.0: standard modularity; larger: smaller communities).
    """
    g = nx.Graph()
    g.add_nodes_from(range(n_nodes))
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True))
    part: dict[int, int] = community_louvain.best_partition(
        g, weight="weight", resolution=resolution, random_state=seed
    )
    labels = np.empty(n_nodes, np.int64)
    labels[np.fromiter(part.keys(), np.int64, len(part))] = np.fromiter(part.values(), np.int64, len(part))
    return labels
