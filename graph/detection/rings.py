"""Rings from the account graph: connected components, then community detection inside each.

Components are found with ``scipy.sparse.csgraph.connected_components``; a component smaller than
``min_size`` cannot hold a ring and is dropped before any community detection runs. Each remaining
component is partitioned on its own, with nodes and edges in ascending order and a fresh RNG seeded
with `seed`: its rings then depend only on that component and the seed, so data added elsewhere in
the graph cannot reshuffle a ring that did not change (stable ring ids need this; one call over all
components would not give it, since the RNG stream would be shared). A small, dense component (at
most ``_DENSE_MAX_SIZE`` accounts, at least half of all pairs linked) is kept whole without a call.

The community step is a :class:`Communities`: :func:`in_process` (above) by default; the Graph Data
Science backend (`graph.pipeline.gds_communities`) runs components and Leiden in Neo4j instead, and
plans its components with the same :func:`plan_components`. The rules after it (merge of strongly
linked communities and of communities that co-act as a group, campaign cut, ``min_size``) are the
same whichever backend labelled the accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats
from scipy.sparse import csgraph

from graph.behaviour.coaction import CoactionParams
from graph.detection.leiden import leiden_cpm_partition
from graph.detection.params import DetectionParams
from graph.detection.partition import Partition, partition_for
from graph.projection import AccountGraph, Coacting, ragged_indices

__all__ = [
    "Communities",
    "ComponentPlan",
    "detect_rings",
    "in_process",
    "plan_components",
    "ring_labels",
    "ring_order",
    "split_campaigns",
]

_DAY: Final = 86_400.0
_DENSE_MAX_SIZE: Final = 10
_DENSE_MIN_DENSITY: Final = 0.5
# Odds of e^10 (about 22,000 to 1) that two groups' pairs met unusually often more than chance has
# them do. Measured (ARI, binomial llr 20 | 10 | 6): the independent bench population 20k seed 2
# 0.673 | 0.974 | 0.984 (at 20 a 500-account ring's fragments of 14-27 accounts never joined, and
# so never grew), generated 20k seed 106 0.989 | 0.991 | 0.991, 10k seed 102 0.979 at all three.
_GROUP_LLR: Final = 10.0


class Communities(Protocol):
    """A community label per account of `graph`; -1 for accounts in components smaller than `min_size`.

    Labels are arbitrary integers; a community never spans two connected components.
    """

    def __call__(
        self, graph: AccountGraph, *, resolution: float, min_size: int, seed: int
    ) -> npt.NDArray[np.int64]: ...


def detect_rings(
    graph: AccountGraph, params: DetectionParams, communities: Communities | None = None
) -> list[npt.NDArray[np.int32]]:
    """Rings of at least ``params.min_size`` accounts, as sorted account-index arrays.

    `communities` labels the accounts (default: :func:`in_process` with ``params.method``).

    Rings are ordered by size (largest first), then by their smallest account index. The method's
    resolution means what its objective makes of it (CPM: minimum weighted density; modularity:
    gamma). Communities joined by an edge of at least ``params.merge_weight`` (two accounts sharing
    a rare device, card or number) are one ring: an investigator links two cells of an operation
    that share a device, however sparse the rest of their sharing; None keeps the partition as the
    objective left it. Communities whose members co-act as a group are one ring too
    (:func:`_merge_coacting`, ``params.group_coaction``). Last, a ring is one campaign: where its members' activity
    (:attr:`AccountGraph.active_at`) has a gap of more than ``params.campaign_gap_days``, with at
    least ``min_size`` members on either side, it is cut there (:func:`split_campaigns`). With
    ``min_size`` 2, a ring of two must stand on its own (:func:`_pairs_kept`, ``params.pair_excess``).
    """
    label = communities if communities is not None else in_process(params.method)
    labels = label(graph, resolution=params.resolution, min_size=params.min_size, seed=params.seed)
    if params.merge_weight is not None:
        labels = _merge_strongly_linked(graph, labels, params.merge_weight)
    if params.group_coaction is not None:
        labels = _merge_coacting(graph, labels, params.group_coaction, params.coaction, params.seed)
    if params.campaign_gap_days is not None and graph.active_at.shape[0] == graph.n_accounts:
        labels = split_campaigns(labels, graph.active_at, params.campaign_gap_days * _DAY, params.min_size)
    if params.min_size <= 2 and params.pair_excess is not None:
        labels = _pairs_kept(graph, labels, params.merge_weight, params.pair_excess)
    return _rings_from_labels(labels, params.min_size)


def split_campaigns(
    labels: npt.NDArray[np.int64], active_at: npt.NDArray[np.float64], gap: float, min_size: int
) -> npt.NDArray[np.int64]:
    """`labels` with each community cut where its members' activity times leave a gap over `gap`.

    An investigator's rule: accounts active months after the rest of a group are the operator's next
    campaign, not more of this one, however much they share. A cut is made only where both sides keep
    at least `min_size` members (cuts are taken in time order), so a straggler stays with its ring;
    members of unknown time stay with the community's earliest part.
    """
    placed = np.flatnonzero((labels >= 0) & ~np.isnan(active_at))
    if placed.shape[0] < 2 * min_size:
        return labels
    order = placed[np.lexsort((placed, active_at[placed], labels[placed]))]
    lab, t = labels[order], active_at[order]
    same = lab[1:] == lab[:-1]
    candidates = np.flatnonzero(same & (np.diff(t) > gap)) + 1  # a cut before position i
    if candidates.shape[0] == 0:
        return labels
    result = labels.copy()
    next_label = int(labels.max()) + 1
    for community in np.unique(lab[candidates]).tolist():
        begin = int(np.searchsorted(lab, community, side="left"))  # `lab` is sorted
        end = int(np.searchsorted(lab, community, side="right"))
        last_cut = begin
        for cut in candidates[(candidates > begin) & (candidates < end)].tolist():
            if cut - last_cut >= min_size and end - cut >= min_size:
                result[order[cut:end]] = next_label
                next_label += 1
                last_cut = cut
    return result


def _pairs_kept(
    graph: AccountGraph, labels: npt.NDArray[np.int64], strong: float | None, excess: float
) -> npt.NDArray[np.int64]:
    """`labels` without the communities of two accounts that do not stand as a ring on their own.

    An investigator's rule for a pair, which has no group around it to corroborate it: the two are
    a ring when what ties them would join two communities by itself (their edge at least `strong`,
    the merge weight: a rare device or card, or firm co-action), and their co-action, if they
    co-acted beyond chance, is at least `excess` times what their own habits give by chance. Two
    always-on accounts meet in every window; sharing a company card and server besides, they are a
    team's staging and production, not an operated pair. None for `strong`: no strength rule.
    """
    placed = np.flatnonzero(labels >= 0)
    _, community, size = np.unique(labels[placed], return_inverse=True, return_counts=True)
    two = placed[size[community] == 2]
    if two.shape[0] == 0:
        return labels
    two = two[np.lexsort((two, labels[two]))]
    a, b = two[0::2].astype(np.int64), two[1::2].astype(np.int64)  # a < b within each community
    n = np.int64(graph.n_accounts)
    keys = a * n + b
    weight = _looked_up(graph.src.astype(np.int64) * n + graph.dst, graph.weight, keys, 0.0)
    kept = weight > 0.0 if strong is None else weight >= strong
    coacting = graph.coacting
    if coacting is not None and coacting.src.shape[0]:
        with np.errstate(divide="ignore"):
            ratio = coacting.observed / coacting.expected
        kept &= _looked_up(coacting.src.astype(np.int64) * n + coacting.dst, ratio, keys, np.inf) >= excess
    result = labels.copy()
    result[a[~kept]] = -1
    result[b[~kept]] = -1
    return result


def _looked_up(
    keys: npt.NDArray[np.int64], values: npt.NDArray[np.float64], wanted: npt.NDArray[np.int64], missing: float
) -> npt.NDArray[np.float64]:
    """``values`` at each of `wanted` in `keys` (distinct), `missing` where absent."""
    result = np.full(wanted.shape[0], missing, np.float64)
    if keys.shape[0] == 0:
        return result
    order = np.argsort(keys)
    ordered = keys[order]
    at = np.minimum(np.searchsorted(ordered, wanted), keys.shape[0] - 1)
    found = ordered[at] == wanted
    result[found] = values[order[at[found]]]
    return result


def _merge_strongly_linked(
    graph: AccountGraph, labels: npt.NDArray[np.int64], merge_weight: float
) -> npt.NDArray[np.int64]:
    """Labels with communities joined by an edge of weight >= `merge_weight` unioned (transitively)."""
    src_label, dst_label = labels[graph.src], labels[graph.dst]
    strong = (src_label >= 0) & (dst_label >= 0) & (src_label != dst_label) & (graph.weight >= merge_weight)
    if not strong.any():
        return labels
    n_labels = int(labels.max()) + 1
    joins = sparse.coo_matrix(
        (np.ones(int(strong.sum())), (src_label[strong], dst_label[strong])), shape=(n_labels, n_labels)
    )
    _, merged = csgraph.connected_components(joins, directed=False)
    return np.where(labels >= 0, merged[np.maximum(labels, 0)], -1).astype(np.int64)


def _merge_coacting(
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
    _, group = np.unique(labels, return_inverse=True)
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
    values = np.unique(labels)
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


@dataclass(frozen=True)
class ComponentPlan:
    """Which connected components need community detection.

    labels
        Per account: its component's id where the component is small and dense (kept whole), else -1.
    partition
        Ids of the components to partition (at least ``min_size`` accounts, not kept whole), ascending.
    node_order, node_start
        Accounts grouped by component, ascending within a group: component ``c``'s accounts are
        ``node_order[node_start[c]:node_start[c + 1]]``.
    edge_order, edge_start
        Edges (indices into the graph's arrays) grouped likewise, by the component of their ends.
    """

    labels: npt.NDArray[np.int64]
    partition: npt.NDArray[np.int64]
    node_order: npt.NDArray[np.int64]
    node_start: npt.NDArray[np.int64]
    edge_order: npt.NDArray[np.int64]
    edge_start: npt.NDArray[np.int64]

    def nodes(self, c: int) -> npt.NDArray[np.int64]:
        return self.node_order[self.node_start[c] : self.node_start[c + 1]]

    def edges(self, c: int) -> npt.NDArray[np.int64]:
        return self.edge_order[self.edge_start[c] : self.edge_start[c + 1]]


def plan_components(graph: AccountGraph, component: npt.NDArray[np.int64], min_size: int) -> ComponentPlan:
    """The plan for `component` (a component id per account, ids ``0 .. k-1``): small components dropped,
    small dense ones kept whole, the rest to partition."""
    n_comp = int(component.max()) + 1 if component.shape[0] else 0
    size = np.bincount(component, minlength=n_comp)
    edge_comp = component[graph.src]
    edges_per = np.bincount(edge_comp, minlength=n_comp)
    kept = size >= min_size
    pairs = size * (size - 1) / 2
    dense = kept & (size <= _DENSE_MAX_SIZE) & (edges_per >= _DENSE_MIN_DENSITY * pairs)
    labels = np.where(dense[component], component, -1).astype(np.int64)
    return ComponentPlan(
        labels=labels,
        partition=np.flatnonzero(kept & ~dense).astype(np.int64),
        node_order=np.argsort(component, kind="stable").astype(np.int64),
        node_start=np.r_[0, np.cumsum(size)].astype(np.int64),
        edge_order=np.argsort(edge_comp, kind="stable").astype(np.int64),
        edge_start=np.r_[0, np.cumsum(edges_per)].astype(np.int64),
    )


def in_process(method: str) -> Communities:
    """Connected components with scipy, then `method`'s partition (:mod:`.partition`) per component."""
    partition = partition_for(method)

    def communities(
        graph: AccountGraph, *, resolution: float, min_size: int, seed: int
    ) -> npt.NDArray[np.int64]:
        n = graph.n_accounts
        if graph.n_edges == 0:
            return np.full(n, -1, np.int64)
        adjacency = sparse.coo_matrix((graph.weight, (graph.src, graph.dst)), shape=(n, n)).tocsr()
        n_comp, component = csgraph.connected_components(adjacency, directed=False)
        plan = plan_components(graph, component.astype(np.int64), min_size)
        labels = plan.labels
        next_label = n_comp
        for c in plan.partition.tolist():
            next_label = _run(graph, partition, plan.nodes(c), plan.edges(c), resolution, seed, labels, next_label)
        return labels

    return communities


def _run(
    graph: AccountGraph,
    partition: Partition,
    nodes: npt.NDArray[np.int64],
    edges: npt.NDArray[np.int64],
    resolution: float,
    seed: int,
    labels: npt.NDArray[np.int64],
    next_label: int,
) -> int:
    """Partition the subgraph on ascending `nodes` / `edges`, writing labels from `next_label` on."""
    if nodes.shape[0] == 0:
        return next_label
    src = np.searchsorted(nodes, graph.src[edges]).astype(np.int32)
    dst = np.searchsorted(nodes, graph.dst[edges]).astype(np.int32)
    sub = partition(int(nodes.shape[0]), src, dst, graph.weight[edges], resolution=resolution, seed=seed)
    labels[nodes] = sub + next_label
    return next_label + int(sub.max()) + 1


def _rings_from_labels(labels: npt.NDArray[np.int64], min_size: int) -> list[npt.NDArray[np.int32]]:
    accounts = np.flatnonzero(labels >= 0)
    if accounts.shape[0] == 0:
        return []
    order = np.lexsort((accounts, labels[accounts]))
    accounts = accounts[order]
    lab = labels[accounts]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    rings = [r.astype(np.int32) for r in np.split(accounts, starts[1:]) if r.shape[0] >= min_size]
    return [rings[i] for i in ring_order(rings)]


def ring_order(rings: list[npt.NDArray[np.int32]]) -> list[int]:
    """Positions of `rings` (sorted account-index arrays) in the order a run gives them: largest
    first, then by smallest account index."""
    return sorted(range(len(rings)), key=lambda i: (-rings[i].shape[0], int(rings[i][0])))


def ring_labels(rings: list[npt.NDArray[np.int32]], n_accounts: int) -> npt.NDArray[np.int64]:
    """Index of each account's ring in `rings`, -1 for accounts in none."""
    labels = np.full(n_accounts, -1, np.int64)
    for i, ring in enumerate(rings):
        labels[ring] = i
    return labels

