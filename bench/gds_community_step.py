"""The community step alone, in process and in GDS, on a synthetic account graph larger than a
generated population's: connected components and Leiden (CPM and modularity), seconds and agreement.
Not a test; prints a table.

    python bench/gds_community_step.py                      # 1M accounts
    python bench/gds_community_step.py --accounts 200000

The graph: rings of 3-25 accounts (60% of their pairs linked, weights 0.3-2), chained ten to a
component by weak edges, plus one weak random edge (0.1-0.2) per two accounts, which joins most
rings into one giant component as shared infrastructure does. Each backend labels it twice with the
same seed (the second call is what a stability rerun costs: GDS keeps its projected graph); the GDS
figures split into projecting the graph from parameters, WCC and Leiden. "objective" is the quality
both backends maximise, the same for both: igraph's modularity of the graph as
`graph.detection.gds_objective` rewrites it (for CPM an affine function of CPM), higher is better.
The server is this script's own (port 7718, GDS plugin, heap 4 GiB, a temporary directory).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import igraph as ig
import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from graph import local_server
from graph.detection import GDS_METHODS, NATURAL_RESOLUTION
from graph.detection.gds_objective import leiden_input
from graph.detection.rings import Communities, in_process, plan_components
from graph.evaluation.rings import adjusted_rand_index
from graph.pipeline.gds_communities import gds_communities
from graph.projection import AccountGraph, WeakEntities
from graph.settings import Settings
from graph.store.driver import create_driver

_PORT = 7718


def planted(accounts: int, seed: int) -> AccountGraph:
    """The synthetic account graph of the module's docstring, over about `accounts` accounts."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 26, accounts // 14)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    n = int(sizes.sum())
    src_parts, dst_parts = [], []
    for size in np.unique(sizes).tolist():
        first = starts[sizes == size]
        i, j = np.triu_indices(size, 1)
        keep = rng.random((first.shape[0], i.shape[0])) < 0.6
        src_parts.append((first[:, None] + i[None, :])[keep])
        dst_parts.append((first[:, None] + j[None, :])[keep])
    src, dst = np.concatenate(src_parts), np.concatenate(dst_parts)
    weight = rng.uniform(0.3, 2.0, src.shape[0])
    chained = np.flatnonzero(np.arange(1, starts.shape[0]) % 10)  # ring k joins ring k-1 unless k % 10 == 0
    bridge = (starts[chained + 1] - 1, starts[chained + 1])
    noise = rng.integers(0, n, (2, n // 2))
    noise = noise[:, noise[0] != noise[1]]
    src = np.r_[src, bridge[0], noise.min(axis=0)]
    dst = np.r_[dst, bridge[1], noise.max(axis=0)]
    weight = np.r_[weight, np.full(chained.shape[0], 0.15), rng.uniform(0.1, 0.2, noise.shape[1])]
    pairs, first_of = np.unique(src * n + dst, return_index=True)
    empty = np.zeros(0, np.int32)
    return AccountGraph(
        n_accounts=n, src=(pairs // n).astype(np.int32), dst=(pairs % n).astype(np.int32),
        weight=weight[first_of], shared=np.ones(pairs.shape[0], np.int32), entity_weight=np.zeros(0),
        entity_degree=empty, weak_entities=WeakEntities(empty, np.zeros(0, np.int8), empty),
    )


def objective(graph: AccountGraph, method: str, labels: npt.NDArray[np.int64]) -> float:
    """The method's objective of `labels` over the components left to partition (see the docstring)."""
    n = graph.n_accounts
    adjacency = sparse.coo_matrix((graph.weight, (graph.src, graph.dst)), shape=(n, n))
    component = csgraph.connected_components(adjacency, directed=False)[1].astype(np.int64)
    given = leiden_input(graph, plan_components(graph, component, 3), method)
    rewritten = ig.Graph(n=n, edges=np.c_[given.src, given.dst].tolist())
    # Accounts outside those components have no edge there; each its own community, they add nothing.
    membership = np.where(labels >= 0, labels, labels.max() + 1 + np.arange(n))
    return float(rewritten.modularity(membership.tolist(), weights=given.weight.tolist(),
                                      resolution=given.gamma(NATURAL_RESOLUTION[method])))


def _timed(communities: Communities, graph: AccountGraph, resolution: float) -> tuple[float, npt.NDArray[np.int64]]:
    started = time.perf_counter()
    labels = communities(graph, resolution=resolution, min_size=3, seed=1)
    return time.perf_counter() - started, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    graph = planted(args.accounts, args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ringtrace-gds-step-") as scratch:
        settings = Settings(NEO4J_URI=f"bolt://127.0.0.1:{_PORT}", RINGTRACE_NEO4J_BOLT_PORT=_PORT,
                            RINGTRACE_NEO4J_HTTP_PORT=_PORT + 1, RINGTRACE_NEO4J_HOME=Path(scratch),
                            RINGTRACE_NEO4J_HEAP="4g", RINGTRACE_NEO4J_PAGECACHE="512m", RINGTRACE_NEO4J_GDS="1")
        try:
            local_server.start(settings, timeout=300)
            with create_driver(settings) as driver:
                for method in GDS_METHODS:
                    resolution = NATURAL_RESOLUTION[method]
                    local = in_process(method)
                    first, labels = _timed(local, graph, resolution)
                    again, _ = _timed(local, graph, resolution)
                    rows.append((method, "in-process", first, again, "-", objective(graph, method, labels), "-"))
                    with gds_communities(driver, settings.neo4j_database, method, "bench") as gds:
                        g_first, g_labels = _timed(gds, graph, resolution)
                        g_again, _ = _timed(gds, graph, resolution)
                    placed = (labels >= 0) | (g_labels >= 0)
                    split = f"{gds.timings['gds_project']:.1f} / {gds.timings['gds_wcc']:.1f} / " \
                            f"{gds.timings['gds_leiden']:.1f}"
                    rows.append((method, "gds", g_first, g_again, split, objective(graph, method, g_labels),
                                 f"{adjusted_rand_index(labels[placed], g_labels[placed]):.3f}"))
        finally:
            local_server.stop(settings)
    print(f"\n{graph.n_accounts:,} accounts, {graph.n_edges:,} account pairs (seed {args.seed})")
    print("| method | backend | first call s | second call s | GDS project / WCC / Leiden s (both calls) "
          "| objective | agreement (ARI) |\n|---|---|---|---|---|---|---|")
    for method, backend, first, again, split, quality, agree in rows:
        print(f"| {method} | {backend} | {first:.1f} | {again:.1f} | {split} | {quality:.6f} | {agree} |")


if __name__ == "__main__":
    main()
