"""Project account x entity observations onto a weighted account-account graph (DESIGN.md §3 step 2).

Two accounts are linked when they share an entity (IP, device, payment instrument, email, phone).
How much a shared entity proves is its weight ``w_e``; the account-account weight is

    A = B · diag(w) · Bᵀ          (upper triangle, no diagonal, pruned below ``min_weight``)

with B the sparse account x entity incidence. ``w_e`` multiplies four factors:

kind
    A payment instrument or device fingerprint shared by two accounts says far more than an IP
    (payment, device ≫ phone, email > ip).
network class (IPs only)
    A mobile-carrier NAT, VPN exit or Tor relay is shared by strangers all the time and says little;
    a residential or unknown address is moderate; a hosting or corporate address shared by a handful
    of accounts is strong -- "when rare" is the rarity factor's job.
rarity
    An entity shared by 3 accounts is strong evidence, one shared by 30,000 is noise. Following
    FRAUDAR (Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016), an
    entity of degree ``d`` is weighted by ``1 / log(d + c)``, which keeps fraudsters from hiding
    behind popular columns; the alternative is inverse document frequency (Spärck Jones, "A
    statistical interpretation of term specificity", J. Documentation 1972), ``log(N / d)``. Both are
    normalised so an entity shared by exactly two accounts has rarity 1. Above a per-kind degree cap
    an entity is not used as an edge at all -- BotGraph (Zhao et al., "BotGraph: Large Scale Spamming
    Botnet Detection", NSDI 2009) likewise thresholds shared-IP counts before building its user
    graph -- but is kept in :attr:`AccountGraph.weak_entities` as annotated weak evidence. Without
    the cap the projection has an order of magnitude more edges and no method finds rings.
time overlap (per link)
    Accounts registered in a burst on the same entity are more likely one operator than accounts
    that touched it months apart. Each link gets a burst share ``s_l``: the fraction of the entity's
    other (timed) links first seen within ``time_window`` of it, and a factor
    ``g_l = time_floor + (1 - time_floor) · s_l``. Instead of a per-pair loop the factor goes into
    the incidence, ``B[a, e] = sqrt(w_e · g_l)``, so a pair sharing ``e`` gets
    ``w_e · sqrt(g_a · g_b)``: a late-comer on a ring's IP is linked to the ring only weakly. A link
    with unknown ``first_seen`` is given ``time_unknown`` (absence of evidence is not spread).

It reads the run's :class:`~graph.links.LinkIndex`, where duplicate (account, entity) rows are
already merged (earliest first_seen), so the result does not depend on the order links are given in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from graph.links import LinkIndex
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

__all__ = [
    "AccountGraph",
    "Coacting",
    "ProjectionParams",
    "WeakEntities",
    "active_at",
    "burst_factor",
    "entity_weight",
    "project",
    "ragged_indices",
    "with_pairs",
]

_DAY = 86_400.0


def _default_kind_weight() -> dict[str, float]:
    return {"ip": 0.3, "device": 1.0, "payment": 1.0, "email": 0.6, "phone": 0.6}


def _default_network_weight() -> dict[str, float]:
    return {
        "residential": 0.5,
        "mobile": 0.05,
        "hosting": 1.0,
        "vpn": 0.05,
        "tor": 0.02,
        "corporate": 1.0,
        "unknown": 0.5,
    }


def _default_degree_cap() -> dict[str, int]:
    # An address shared by more than a household's worth of accounts (5) is a NAT, a proxy exit or an
    # office: evidence only with something else. Measured with the usage log (bench/behaviour_eval.py,
    # ring recall / ARI at any score): on the independent bench population 0.29 / 0.33 at 50, 0.44 /
    # 0.49 at 20, 0.55 / 0.50 at 10, 0.665 / 0.515 at 5 or 6 (0.653 at 3 and 4); at 10 one rotating
    # residential proxy network's exits glued 18 operators' rings into one of 154 accounts. Generated
    # 10k seeds 101-103 and 20k seeds 104-106 gave the same rings at 10 and at 5.
    return {"ip": 5, "device": 20, "payment": 20, "email": 10, "phone": 20}


@dataclass(frozen=True)
class ProjectionParams:
    """Knobs of :func:`project`; the defaults were chosen on generated populations (bench/offline_eval.py).

    kind_weight
        Weight per entity kind (keys of ``ENTITY_KINDS``).
    network_weight
        Multiplier per IP network class; applied to IPs only.
    degree_cap
        Per kind: entities linked to more accounts than this are weak evidence, not edges.
    rarity
        ``"fraudar"``: ``log(2 + c) / log(d + c)``; ``"idf"``: ``log(N / d) / log(N / 2)``.
    rarity_c
        The FRAUDAR constant ``c``.
    time_window
        Seconds within which two links' ``first_seen`` count as the same burst.
    time_floor
        Time factor of a link that shares no burst with any other link of its entity.
    time_unknown
        Time factor of a link with unknown ``first_seen`` (or whose entity has no other timed link).
    min_weight
        Account pairs whose summed weight is below this are not edges.
    """

    kind_weight: dict[str, float] = field(default_factory=_default_kind_weight)
    network_weight: dict[str, float] = field(default_factory=_default_network_weight)
    degree_cap: dict[str, int] = field(default_factory=_default_degree_cap)
    rarity: Literal["fraudar", "idf"] = "fraudar"
    rarity_c: float = 5.0
    time_window: float = 3 * _DAY
    time_floor: float = 0.25
    time_unknown: float = 1.0
    min_weight: float = 0.1


@dataclass(frozen=True)
class WeakEntities:
    """Entities above their kind's degree cap: evidence too common to be an edge, kept for annotation."""

    entity: npt.NDArray[np.int32]  # index into Incidence.entity_keys
    kind: npt.NDArray[np.int8]  # index into KIND_ORDER
    degree: npt.NDArray[np.int32]  # distinct accounts linked


@dataclass(frozen=True)
class Coacting:
    """Account pairs (``src < dst``) that co-acted more often than their habits explain, on however few
    days: too little to link two accounts, yet what a large, careful ring shows as a group (each job
    touches a few members, so each pair meets rarely while most pairs meet).
    graph/detection/coacting_groups.py weighs them a group at a time. Pair i's distinct days are
    ``days[day_offsets[i]:day_offsets[i + 1]]``."""

    src: npt.NDArray[np.int32]
    dst: npt.NDArray[np.int32]
    observed: npt.NDArray[np.float64]
    expected: npt.NDArray[np.float64]
    days: npt.NDArray[np.int64]
    day_offsets: npt.NDArray[np.int64]


def ragged_indices(offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The positions ``offsets[r]:offsets[r + 1]`` of every row r of `rows`, concatenated in order."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    return np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(int(lengths.sum()))


@dataclass(frozen=True)
class AccountGraph:
    """Weighted undirected account-account graph as a sorted edge list (``src < dst``)."""

    n_accounts: int
    src: npt.NDArray[np.int32]
    dst: npt.NDArray[np.int32]
    weight: npt.NDArray[np.float64]
    shared: npt.NDArray[np.int32]  # number of entities (below their cap) the pair shares
    entity_weight: npt.NDArray[np.float64]  # w_e per entity; 0 for weak entities
    entity_degree: npt.NDArray[np.int32]  # distinct accounts per entity
    weak_entities: WeakEntities
    # Per account: when it was active (epoch seconds, NaN when unknown), for telling an operator's
    # campaigns apart: the median first_seen of its links, or with a usage log, when it sent
    # (graph/pipeline/graph.py joined_graph). Empty: unknown for every account.
    active_at: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0, np.float64))
    coacting: Coacting | None = None  # from the usage log (graph/behaviour/coaction.py); None without one

    @property
    def n_edges(self) -> int:
        return int(self.src.shape[0])


def project(links: LinkIndex, params: ProjectionParams) -> AccountGraph:
    """The account-account graph ``B · diag(w) · Bᵀ`` of `links`, weighted as the module explains."""
    incidence = links.incidence
    n_acc = links.n_accounts
    n_ent = links.n_entities
    acc, ent, first = links.acc, links.ent, links.first

    degree = links.degree.astype(np.int32)
    kind = incidence.entity_kind.astype(np.intp)
    cap = np.array([params.degree_cap.get(k, np.iinfo(np.int32).max) for k in KIND_ORDER], np.int64)
    weak = degree > cap[kind]
    weights = entity_weight(incidence.entity_kind, incidence.entity_network, degree, n_acc, params)
    weights[weak] = 0.0
    weak_idx = np.flatnonzero(weak).astype(np.int32)
    weak_entities = WeakEntities(
        entity=weak_idx, kind=incidence.entity_kind[weak_idx].astype(np.int8), degree=degree[weak_idx]
    )

    # Only entities that can link two accounts enter the product.
    usable = (degree >= 2) & ~weak & (weights > 0)
    keep = usable[ent]
    acc, ent, first = acc[keep], ent[keep], first[keep]
    link_factor = burst_factor(ent, first, params)

    src, dst, weight, shared = _weighted_pairs(
        acc, ent, weights[ent] * link_factor, n_acc, n_ent, params.min_weight
    )
    return AccountGraph(
        n_accounts=n_acc,
        src=src,
        dst=dst,
        weight=weight,
        shared=shared,
        entity_weight=weights,
        entity_degree=degree,
        weak_entities=weak_entities,
        active_at=active_at(links),
    )


def active_at(links: LinkIndex) -> npt.NDArray[np.float64]:
    """Per account, the median ``first_seen`` of its timed links (NaN for an account with none).

    The median, not the earliest: a bought account's first owner left a few old links, but most of
    what it is observed with comes from the campaign it now serves.
    """
    result = np.full(links.n_accounts, np.nan, np.float64)
    timed = ~np.isnan(links.first)
    acc, first = links.acc[timed], links.first[timed]
    if acc.shape[0] == 0:
        return result
    order = np.lexsort((first, acc))
    acc, first = acc[order], first[order]
    starts = np.flatnonzero(np.r_[True, acc[1:] != acc[:-1]])
    counts = np.diff(np.r_[starts, acc.shape[0]])
    low = starts + (counts - 1) // 2
    high = starts + counts // 2
    result[acc[starts]] = (first[low] + first[high]) / 2.0
    return result


def with_pairs(
    graph: AccountGraph,
    src: npt.NDArray[np.int32],
    dst: npt.NDArray[np.int32],
    weight: npt.NDArray[np.float64],
    min_weight: float,
) -> AccountGraph:
    """`graph` with the account pairs ``src < dst`` (behaviour's co-action) added to its edges: a pair
    in both gets the sum of both weights (infrastructure and behaviour are independent evidence), one
    more evidence item in `shared`; added pairs below `min_weight` are left out."""
    keep = weight >= min_weight
    src, dst, weight = src[keep], dst[keep], weight[keep]
    if src.shape[0] == 0:
        return graph
    n = np.int64(graph.n_accounts)
    keys = np.concatenate([graph.src.astype(np.int64) * n + graph.dst, src.astype(np.int64) * n + dst])
    weights = np.concatenate([graph.weight, weight])
    counts = np.concatenate([graph.shared, np.ones(src.shape[0], np.int32)])
    unique, inverse = np.unique(keys, return_inverse=True)
    return replace(
        graph,
        src=(unique // n).astype(np.int32),
        dst=(unique % n).astype(np.int32),
        weight=np.bincount(inverse, weights=weights, minlength=unique.shape[0]).astype(np.float64),
        shared=np.bincount(inverse, weights=counts, minlength=unique.shape[0]).astype(np.int32),
    )


def entity_weight(
    entity_kind: npt.NDArray[np.int8],
    entity_network: npt.NDArray[np.int8],
    degree: npt.NDArray[np.int32],
    n_acc: int,
    params: ProjectionParams,
) -> npt.NDArray[np.float64]:
    """``w_e`` per entity from its kind, network class and degree, before the cap (the module's first
    three factors); the Spark job (graph/spark/projection.py) calls it too, for the same floats."""
    kind_w = np.array([params.kind_weight.get(k, 0.0) for k in KIND_ORDER], np.float64)
    net_w = np.array([params.network_weight.get(n, 1.0) for n in NETWORK_CLASSES], np.float64)
    kind = entity_kind.astype(np.intp)
    w = kind_w[kind]
    is_ip = kind == KIND_ORDER.index("ip")
    w[is_ip] *= net_w[entity_network.astype(np.intp)[is_ip]]

    d = np.maximum(degree.astype(np.float64), 2.0)
    if params.rarity == "fraudar":
        c = params.rarity_c
        w *= math.log(2.0 + c) / np.log(d + c)
    else:
        n = max(float(n_acc), 3.0)
        w *= np.log(n / np.minimum(d, n - 1.0)) / math.log(n / 2.0)
    return w


def burst_factor(
    ent: npt.NDArray[np.int64], first: npt.NDArray[np.float64], params: ProjectionParams
) -> npt.NDArray[np.float64]:
    """Per link: time_floor + (1 - time_floor) x share of the entity's other timed links in its burst.

    `ent` may hold any subset of whole entities (the Spark job passes a bucket of them at a time)."""
    factor = np.full(ent.shape[0], params.time_unknown, np.float64)
    timed = np.flatnonzero(~np.isnan(first))
    if timed.shape[0] == 0:
        return factor
    t = first[timed]
    t_int = np.floor(t - t.min()).astype(np.int64)
    window = math.ceil(params.time_window)
    # Entity and time packed in one int64 so one searchsorted finds each link's burst.
    scale = int(t_int.max()) + 2 * window + 2
    e = ent[timed]
    key = e * scale + t_int
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    close = np.empty(key.shape[0], np.float64)
    # Sorted queries keep searchsorted cache-friendly.
    close[order] = (
        np.searchsorted(key_sorted, key_sorted + window, side="right")
        - np.searchsorted(key_sorted, key_sorted - window, side="left")
        - 1
    )
    timed_per_entity = np.bincount(e, minlength=int(ent.max()) + 1)[e].astype(np.float64)
    others = timed_per_entity - 1.0
    share = np.divide(close, others, out=np.zeros_like(close), where=others > 0)
    computed = params.time_floor + (1.0 - params.time_floor) * share
    factor[timed] = np.where(others > 0, computed, params.time_unknown)
    return factor


def _weighted_pairs(
    acc: npt.NDArray[np.int64],
    ent: npt.NDArray[np.int64],
    link_weight: npt.NDArray[np.float64],
    n_acc: int,
    n_ent: int,
    min_weight: float,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    if acc.shape[0] == 0:
        return (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64), np.zeros(0, np.int32))
    shape = (n_acc, n_ent)
    b = sparse.csr_matrix((np.sqrt(link_weight), (acc, ent)), shape=shape)
    b_bin = sparse.csr_matrix((np.ones(acc.shape[0], np.float64), (acc, ent)), shape=shape)
    product = (b @ b.T).tocsr()
    counts = (b_bin @ b_bin.T).tocsr()
    # Canonical CSR (sorted, summed) makes both patterns line up entry by entry, since every weight
    # is positive, and yields edges already ordered by (src, dst).
    for m in (product, counts):
        m.sum_duplicates()
        m.sort_indices()
    if product.nnz != counts.nnz:
        raise AssertionError("projection patterns differ")
    row = np.repeat(np.arange(n_acc, dtype=np.int32), np.diff(product.indptr))
    col = product.indices
    upper = (col > row) & (product.data >= min_weight)
    src = row[upper]
    dst = col[upper].astype(np.int32)
    weight = np.asarray(product.data[upper], np.float64)
    shared = np.rint(counts.data[upper]).astype(np.int32)
    return src, dst, weight, shared
