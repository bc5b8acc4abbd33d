"""Rings per connected component: the package's own detection, run where each component fits.

Components come from large-star / small-star (graph/spark/components.py). Those of fewer than
``min_size`` accounts cannot hold a ring and go no further. The rest are packed into bins of about
``bin_accounts`` accounts and each bin is one ``applyInPandas`` task calling
:func:`graph.detection.detect_rings` and :func:`graph.detection.membership_stability` on the bin's
graph. That is exact, not an approximation: detection partitions every component on its own, nodes
and edges in ascending order with its own seeded RNG (graph/detection/rings.py), so a component's
rings are the same whichever other components share its call; the local indices follow account id
order, as the in-process indices do. A component above ``giant_size`` accounts is collected to the
driver and detected there, by the same function, so no executor must hold it.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.detection.stability import membership_confidence
from graph.projection import AccountGraph, Coacting, WeakEntities
from graph.spark.components import checkpoint, connected_components

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

__all__ = ["MEMBERS", "RingPlacement", "detect_group", "ring_members"]

#: A pair that co-acted beyond chance (graph/spark/coaction.py ``PAIRS`` with observed > expected), by bin.
COACTING: Final = "bin long, src string, dst string, observed long, expected double, day_list array<long>"
#: What each bin's task returns: one row per ring member.
MEMBERS: Final = "bin long, ring int, account_id string, confidence double"
_EDGE_COLUMNS: Final = ("bin", "src", "dst", "weight", "shared", "src_active", "dst_active")


class RingPlacement:
    """How components are spread: bins of about `bin_accounts` accounts; above `giant_size`, the driver."""

    def __init__(self, bin_accounts: int = 50_000, giant_size: int = 1_000_000) -> None:
        if bin_accounts < 1 or giant_size < 1:
            raise ValueError("bin_accounts and giant_size must be positive")
        self.bin_accounts = bin_accounts
        self.giant_size = giant_size


def _coacting(coacting: pd.DataFrame, accounts: npt.NDArray[np.str_]) -> Coacting:
    """The bin's :class:`Coacting` from `coacting` rows (:data:`COACTING` columns) between two of `accounts`."""
    src_ids = coacting["src"].to_numpy().astype(np.str_)
    dst_ids = coacting["dst"].to_numpy().astype(np.str_)
    src, dst = np.searchsorted(accounts, src_ids), np.searchsorted(accounts, dst_ids)
    held = ((src < accounts.shape[0]) & (dst < accounts.shape[0])
            & (accounts[np.minimum(src, accounts.shape[0] - 1)] == src_ids)
            & (accounts[np.minimum(dst, accounts.shape[0] - 1)] == dst_ids)) if accounts.shape[0] else src < 0
    at = np.flatnonzero(held)
    at = at[np.lexsort((dst[at], src[at]))]  # (src, dst) order, as graph/behaviour/coaction.py gives pairs
    days = [np.asarray(coacting["day_list"].iloc[i], np.int64) for i in at.tolist()]
    return Coacting(
        src=src[at].astype(np.int32), dst=dst[at].astype(np.int32),
        observed=coacting["observed"].to_numpy(np.float64)[at], expected=coacting["expected"].to_numpy(np.float64)[at],
        days=np.concatenate(days or [np.zeros(0, np.int64)]),
        day_offsets=np.concatenate([[0], np.cumsum([d.shape[0] for d in days])]).astype(np.int64))


def detect_group(edges: pd.DataFrame, coacting: pd.DataFrame | None, *, params: DetectionParams) -> pd.DataFrame:
    """Rings of the graph `edges` holds (columns of :data:`_EDGE_COLUMNS`, one bin), as :data:`MEMBERS`
    rows; `coacting` (:data:`COACTING` columns) are the bin's pairs that co-acted beyond chance."""
    import pandas as pd

    if edges.empty:
        return pd.DataFrame({"bin": [], "ring": [], "account_id": [], "confidence": []})
    src_ids = edges["src"].to_numpy().astype(np.str_)
    dst_ids = edges["dst"].to_numpy().astype(np.str_)
    accounts = np.unique(np.concatenate([src_ids, dst_ids]))  # sorted as the in-process account index
    src = np.searchsorted(accounts, src_ids).astype(np.int32)
    dst = np.searchsorted(accounts, dst_ids).astype(np.int32)
    active = np.full(accounts.shape[0], np.nan, np.float64)
    active[src] = edges["src_active"].to_numpy(dtype=np.float64, na_value=np.nan)
    active[dst] = edges["dst_active"].to_numpy(dtype=np.float64, na_value=np.nan)
    order = np.lexsort((dst, src))  # edges ascending by (src, dst), as graph/projection.py leaves them
    graph = AccountGraph(
        n_accounts=int(accounts.shape[0]), src=src[order], dst=dst[order],
        weight=edges["weight"].to_numpy(np.float64)[order], shared=edges["shared"].to_numpy(np.int32)[order],
        entity_weight=np.zeros(0, np.float64), entity_degree=np.zeros(0, np.int32),
        weak_entities=WeakEntities(np.zeros(0, np.int32), np.zeros(0, np.int8), np.zeros(0, np.int32)),
        active_at=active,
        coacting=_coacting(coacting, accounts) if coacting is not None and not coacting.empty else None,
    )
    rings = detect_rings(graph, params)
    confidence = membership_confidence(membership_stability(graph, rings, params))
    ring_of = np.concatenate([np.full(r.shape[0], i, np.int32) for i, r in enumerate(rings)] or [np.zeros(0, np.int32)])
    members = np.concatenate(rings or [np.zeros(0, np.int32)])
    return pd.DataFrame({
        "bin": np.full(members.shape[0], int(edges["bin"].iloc[0]), np.int64), "ring": ring_of,
        "account_id": accounts[members].astype(object),
        "confidence": np.concatenate(confidence or [np.zeros(0, np.float64)]),
    })


def ring_members(
    pairs: DataFrame, activity: DataFrame, params: DetectionParams, placement: RingPlacement,
    coaction: DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every ring member of the account graph `pairs` (``src, dst, weight, shared``; `activity`:
    ``account_id, active_at``) as :data:`MEMBERS` rows, rings told apart by (bin, ring); and counts.
    `coaction` (graph/spark/coaction.py ``PAIRS``) gives each bin its pairs that co-acted beyond
    chance, for co-action as a group (both ends of such a pair that matters share a component, so a bin)."""
    import pandas as pd
    from pyspark.sql import functions as F  # noqa: N812

    accounts = pairs.select(F.col("src").alias("account_id")).union(pairs.select(F.col("dst").alias("account_id")))
    # Integer node ids for the components: unique, not consecutive. Checkpointed, since the ids of a
    # recomputed monotonically_increasing_id need not be the same and every join below must agree.
    numbered = checkpoint(accounts.distinct().select("account_id", F.monotonically_increasing_id().alias("node")))
    edges = (pairs.join(numbered.withColumnRenamed("account_id", "src").withColumnRenamed("node", "u"), "src")
             .join(numbered.withColumnRenamed("account_id", "dst").withColumnRenamed("node", "v"), "dst"))
    labelled, rounds = connected_components(edges.select(F.col("u").alias("src"), F.col("v").alias("dst")))
    sizes = labelled.groupBy("component").agg(F.count("*").alias("size"))
    kept = sizes.where(F.col("size") >= params.min_size)
    placed = (labelled.join(kept, "component").join(numbered, "node")
              .select("account_id", "component", "size")).cache()
    n_kept = placed.count()
    bins = max(1, math.ceil(n_kept / placement.bin_accounts))
    target = F.when(F.col("size") > placement.giant_size, -1 - F.col("component")).otherwise(
        F.pmod(F.xxhash64("component"), F.lit(bins)))
    binned = placed.select("account_id", target.alias("bin"))
    activity_of = activity.withColumnRenamed("account_id", "src").withColumnRenamed("active_at", "src_active")
    grouped = (pairs.join(binned.withColumnRenamed("account_id", "src"), "src")
               .join(activity_of, "src", "left")
               .join(activity.withColumnRenamed("account_id", "dst").withColumnRenamed("active_at", "dst_active"),
                     "dst", "left")
               .select(*_EDGE_COLUMNS)).cache()
    detect = partial(detect_group, params=params)

    def alone(edges: pd.DataFrame) -> pd.DataFrame:
        # One argument: pyspark passes a two-argument function the group's key first.
        return detect(edges, None)

    giants = [int(r["bin"]) for r in grouped.where(F.col("bin") < 0).select("bin").distinct().collect()]
    if coaction is None:
        found = grouped.where(F.col("bin") >= 0).groupBy("bin").applyInPandas(alone, MEMBERS).toPandas()
        # Each giant component on the driver, one at a time, by the same function.
        parts = [found] + [alone(grouped.where(F.col("bin") == b).toPandas()) for b in sorted(giants)]
    else:
        beyond = (coaction.where(F.col("observed") > F.col("expected"))
                  .join(binned.select(F.col("account_id").alias("src"), "bin"), "src")
                  .join(binned.select(F.col("account_id").alias("dst"), "bin"), ["dst", "bin"])
                  # A new column, not `binned`'s: grouping both sides of the cogroup by one
                  # column of one lineage would be ambiguous.
                  .select((F.col("bin") + F.lit(0)).alias("bin"),
                          *(c.split()[0] for c in COACTING.split(", ")[1:]))).cache()
        found = (grouped.where(F.col("bin") >= 0).groupBy("bin")
                 .cogroup(beyond.where(F.col("bin") >= 0).groupBy("bin"))
                 .applyInPandas(detect, MEMBERS).toPandas())
        parts = [found] + [detect(grouped.where(F.col("bin") == b).toPandas(),
                                  beyond.where(F.col("bin") == b).toPandas()) for b in sorted(giants)]
        beyond.unpersist()
    counts = {"graph_accounts": int(numbered.count()), "component_rounds": rounds, "ring_component_accounts": n_kept,
              "bins": bins, "giant_components": len(giants)}
    # The members are on the driver now: a cached frame's plan stays in the session until unpersisted.
    placed.unpersist()
    grouped.unpersist()
    return pd.concat(parts, ignore_index=True), counts
