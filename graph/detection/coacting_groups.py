"""Co-action as a group: communities whose members meet unusually often together are one ring.

:func:`merge_coacting` joins two communities of one connected component when far more of the pairs
across them met unusually often than chance gives, then weighs fragments of a careful ring together
(:func:`_coacting_cores`). graph/detection/rings.py runs it after the merge of strongly linked
communities, whichever backend labelled the accounts.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats
from scipy.sparse import csgraph

from graph.behaviour.coaction import CoactionParams
from graph.detection.leiden import leiden_cpm_partition
from graph.projection import AccountGraph, Coacting, ragged_indices

__all__ = ["merge_coacting"]

# Odds of e^10 (about 22,000 to 1) that two groups' pairs met unusually often more than chance has
# them do. Measured (ARI, binomial llr 20 | 10 | 6): the independent bench population 20k seed 2
# 0.673 | 0.974 | 0.984 (at 20 a 500-account ring's fragments of 14-27 accounts never joined, and
# so never grew), generated 20k seed 106 0.989 | 0.991 | 0.991, 10k seed 102 0.979 at all three.
_GROUP_LLR: Final = 10.0


def merge_coacting(
    graph: AccountGraph, labels: npt.NDArray[np.int64], level: float, params: CoactionParams, seed: int
) -> npt.NDArray[np.int64]:
    """Labels with communities that co-act as a group unioned, until none does.

    An investigator's rule for a large, careful ring, whose jobs each touch a few members, so that a
    pair of members meets on too few days to be an edge while many pairs meet: two communities of one
    connected component are one ring when far more of the account pairs across them met unusually
    often than chance gives. A pair met unusually often when its matches had a chance below `level`
    under its two accounts' own habits (Poisson tail of observed given expected,
    graph/behaviour/coaction.py); by chance a share `level` of all pairs across does. The share
    observed must beat that with a binomial log-likelihood ratio of at least ``_GROUP_LLR``, on at
    least ``params.min_days`` distinct days in all: one shared burst stays one day. Co-action is in
    the same minutes, so this never joins an operator's campaigns months apart.
    Joins are transitive (single linkage), as a shared device's are. Then :func:`_coacting_cores`
    weighs the communities of a component together, for rings in fragments too small for this test.
    """
    unusual = _unusual_pairs(graph, labels, level)
    if unusual is None:
        return labels
    coacting, usable = unusual
    _, group = np.unique(labels, return_inverse=True)  # compact ids; -1, if any, is group 0
    group = group.astype(np.int64)
    accounts = np.bincount(group).astype(np.float64)
    size = accounts.copy()
    src, dst = group[coacting.src[usable]], group[coacting.dst[usable]]
    lengths = coacting.day_offsets[usable + 1] - coacting.day_offsets[usable]
    pair_of_day = np.repeat(np.arange(usable.shape[0]), lengths)
    day = coacting.days[ragged_indices(coacting.day_offsets, usable)]
    last_day = int(day.max(initial=0)) + 1
    m = np.int64(size.shape[0])
    root = np.arange(m)
    while True:
        a, b = root[src], root[dst]
        across = np.flatnonzero(a != b)
        if across.shape[0] == 0:
            break
        low, high = np.minimum(a[across], b[across]), np.maximum(a[across], b[across])
        keys, of_key, met = np.unique(low * m + high, return_inverse=True, return_counts=True)
        pairs = size[keys // m] * size[keys % m]
        candidate = (met > level * pairs) & (_binomial_llr(met, pairs, level) >= _GROUP_LLR)
        key_of_pair = np.full(usable.shape[0], -1, np.int64)
        key_of_pair[across] = of_key
        day_key = key_of_pair[pair_of_day]
        on = day_key >= 0
        on[on] = candidate[day_key[on]]
        days = np.bincount(np.unique(day_key[on] * last_day + day[on]) // last_day, minlength=keys.shape[0])
        joined = np.flatnonzero(candidate & (days >= params.min_days))
        if joined.shape[0] == 0:
            break
        joins = sparse.coo_matrix((np.ones(joined.shape[0]), (keys[joined] // m, keys[joined] % m)), shape=(m, m))
        n_sets, merged = csgraph.connected_components(joins, directed=False)
        smallest = np.full(n_sets, m, np.int64)
        np.minimum.at(smallest, merged, np.arange(m))
        root = smallest[merged[root]]  # every group's set is named by its smallest group id
        size = np.bincount(root, weights=accounts, minlength=int(m)).astype(np.float64)
    pairwise = np.where(labels >= 0, root[group], -1).astype(np.int64)
    return _coacting_cores(pairwise, coacting, usable, level, params, seed)


def _unusual_pairs(
    graph: AccountGraph, labels: npt.NDArray[np.int64], level: float
) -> tuple[Coacting, npt.NDArray[np.int64]] | None:
    """(The graph's co-acting pairs, the indices of those whose matches had a chance below `level`,
    both accounts labelled and in one connected component), or None when there are none."""
    coacting = graph.coacting
    if coacting is None or coacting.src.shape[0] == 0 or not (labels >= 0).any():
        return None
    n = graph.n_accounts
    adjacency = sparse.coo_matrix((np.ones(graph.n_edges), (graph.src, graph.dst)), shape=(n, n))
    _, component = csgraph.connected_components(adjacency, directed=False)
    chance = stats.poisson.sf(coacting.observed - 1, coacting.expected)
    usable = np.flatnonzero((chance < level) & (component[coacting.src] == component[coacting.dst])
                            & (labels[coacting.src] >= 0) & (labels[coacting.dst] >= 0))
    return (coacting, usable) if usable.shape[0] else None


def _coacting_cores(
    labels: npt.NDArray[np.int64],
    coacting: Coacting,
    usable: npt.NDArray[np.int64],
    level: float,
    params: CoactionParams,
    seed: int,
) -> npt.NDArray[np.int64]:
    """`labels` with the groups of communities that co-act together as a whole made one ring each.

    The pairwise rule of :func:`_merge_coacting` needs two groups big enough for the pairs across
    them to beat chance. A very careful ring that the partition cut into fragments of three to five
    accounts never gets there, although its fragments together meet far more often than chance: in
    one measured ring of 471 accounts (bench/independent 20k seed 4), 8.3% of its pairs met
    unusually often against the 5% chance gives, a log-likelihood ratio over 1,000, while any two of
    its fragments stayed near 1. So the communities are grouped where the density of unusual pairs
    between them is above what chance gives: the Constant Potts Model over the communities (an edge
    per two communities weighted by their unusual pairs, a node weighted by its accounts) at
    resolution `level`, which keeps apart two operators' rings whose pairs across never meet and
    leaves out benign accounts, whose pairs meet the ring only by chance. A group of two or more
    communities is one ring when, as a whole, its pairs across communities pass the pairwise rule's
    test (share above `level`, binomial llr at least ``_GROUP_LLR``, at least ``params.min_days``
    distinct days). Measured (ARI, without -> with this step, smallest ring 2, bench/pair_rings.py):
    bench/independent 20k seed 4 0.547 -> 0.947 (its 500-account and 173-account proxy-only rings
    found as 471 and 156 of them), seed 2 0.973 -> 0.990, seed 3 0.966 both; generated 10k seed 102,
    20k seeds 104 and 106 unchanged; no hard-negative cohort's share in coordinated rings changed.
    """
    values, group = np.unique(labels, return_inverse=True)
    group = group.astype(np.int64)
    src, dst = group[coacting.src[usable]], group[coacting.dst[usable]]
    across = np.flatnonzero(src != dst)
    if across.shape[0] == 0:
        return labels
    pairs_across = usable[across]
    low, high = np.minimum(src[across], dst[across]), np.maximum(src[across], dst[across])
    units, compact = np.unique(np.r_[low, high], return_inverse=True)
    a, b = compact[: low.shape[0]], compact[low.shape[0]:]
    size = np.bincount(group)[units].astype(np.float64)
    n_units = np.int64(units.shape[0])
    keys, met = np.unique(a * n_units + b, return_counts=True)
    first_account = np.full(int(group.max()) + 1, labels.shape[0], np.int64)
    np.minimum.at(first_account, group, np.arange(labels.shape[0]))
    cluster = _clusters(keys // n_units, keys % n_units, met.astype(np.float64), size,
                        first_account[units], level, seed)
    inside = cluster[a] == cluster[b]
    n_clusters = int(cluster.max()) + 1
    hits = np.bincount(cluster[a[inside]], minlength=n_clusters)
    accounts = np.bincount(cluster, weights=size, minlength=n_clusters)
    pairs = (accounts**2 - np.bincount(cluster, weights=size**2, minlength=n_clusters)) / 2.0
    lengths = coacting.day_offsets[pairs_across + 1] - coacting.day_offsets[pairs_across]
    day = coacting.days[ragged_indices(coacting.day_offsets, pairs_across)]
    day_cluster = np.repeat(np.where(inside, cluster[a], -1), lengths)
    last_day = int(day.max(initial=0)) + 1
    counted = day_cluster >= 0
    days = np.bincount(np.unique(day_cluster[counted] * last_day + day[counted]) // last_day, minlength=n_clusters)
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = _binomial_llr(hits, np.maximum(pairs, 1.0), level)
    joined = (pairs > 0) & (hits > level * pairs) & (llr >= _GROUP_LLR) & (days >= params.min_days)
    if not joined.any():
        return labels
    first = np.full(n_clusters, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, cluster, units)  # each cluster named by its smallest group
    target = np.arange(int(group.max()) + 1)
    in_joined = joined[cluster]
    target[units[in_joined]] = first[cluster[in_joined]]
    return np.where(labels >= 0, values[target[group]], -1).astype(np.int64)


def _clusters(
    src: npt.NDArray[np.int64],
    dst: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    size: npt.NDArray[np.float64],
    first_account: npt.NDArray[np.int64],
    resolution: float,
    seed: int,
) -> npt.NDArray[np.int64]:
    """A CPM cluster per node of the graph `src`-`dst` (nodes weighted by `size`), each connected
    component partitioned on its own, its nodes in the order of their `first_account` and with a
    fresh seed: as :func:`in_process` does, so that nothing elsewhere in the graph changes a
    component's clusters (incremental runs and the Spark job's bins rely on it). A component of two
    nodes is one cluster; the test after it decides."""
    n = size.shape[0]
    _, component = csgraph.connected_components(
        sparse.coo_matrix((weight, (src, dst)), shape=(n, n)), directed=False)
    order = np.lexsort((first_account, component))
    starts = np.flatnonzero(np.r_[True, component[order][1:] != component[order][:-1]])
    cluster = np.empty(n, np.int64)
    position = np.empty(n, np.int64)  # a node's place in its component
    edge_order = np.argsort(component[src], kind="stable")
    edge_start = np.searchsorted(component[src][edge_order], np.arange(int(component.max()) + 2))
    next_cluster = 0
    for nodes in np.split(order, starts[1:]):
        if nodes.shape[0] <= 2:
            cluster[nodes] = next_cluster
            next_cluster += 1
            continue
        position[nodes] = np.arange(nodes.shape[0])
        c = int(component[nodes[0]])
        edges = edge_order[edge_start[c]:edge_start[c + 1]]
        sub = leiden_cpm_partition(
            int(nodes.shape[0]), position[src[edges]].astype(np.int32), position[dst[edges]].astype(np.int32),
            weight[edges], resolution=resolution, seed=seed, node_weights=size[nodes])
        cluster[nodes] = sub + next_cluster
        next_cluster += int(sub.max()) + 1
    return cluster


def _binomial_llr(k: npt.NDArray[np.int64], n: npt.NDArray[np.float64], rate: float) -> npt.NDArray[np.float64]:
    """Log-likelihood ratio of `k` successes in `n` trials at their own rate against at `rate`."""
    hits = k.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.where(hits < n, (n - hits) * np.log((n - hits) / (n * (1.0 - rate))), 0.0)
    return np.asarray(hits * np.log(hits / (n * rate)) + rest, dtype=np.float64)
