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
from scipy import sparse
from scipy.sparse import csgraph

from graph.detection.coacting_groups import merge_coacting
from graph.detection.params import DetectionParams
from graph.detection.partition import Partition, partition_for
from graph.projection import AccountGraph

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
    (:func:`graph.detection.coacting_groups.merge_coacting`, ``params.group_coaction``). Last,
    a ring is one campaign: where its members' activity
    (:attr:`AccountGraph.active_at`) has a gap of more than ``params.campaign_gap_days``, with at
    least ``min_size`` members on either side, it is cut there (:func:`split_campaigns`). With
    ``min_size`` 2, a ring of two must stand on its own (:func:`_pairs_kept`, ``params.pair_excess``).
    """
    label = communities if communities is not None else in_process(params.method)
    labels = label(graph, resolution=params.resolution, min_size=params.min_size, seed=params.seed)
    if params.merge_weight is not None:
        labels = _merge_strongly_linked(graph, labels, params.merge_weight)
    if params.group_coaction is not None:
        labels = merge_coacting(graph, labels, params.group_coaction, params.coaction, params.seed)
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

