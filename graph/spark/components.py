"""Connected components of an edge DataFrame by large-star / small-star.

Kiveris, Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected Components in MapReduce and
Beyond" (SoCC 2014), the algorithm GraphFrames implements. Edges are kept as ``(src, dst)`` with
``src > dst``; each round applies

large-star
    every node ``u`` links each neighbour larger than itself to ``m(u)``, the least of ``u`` and its
    neighbours;
small-star
    every node ``u`` links itself and each neighbour smaller than itself to the least of those;

until a round changes no edge. Both steps keep every component's nodes connected and only move edges
towards smaller ids, so the fixed point is one star per component around its least node: each node's
component is that least id. The paper proves O(log² n) rounds at worst and measures a few more than
log n; naive min-label propagation needs as many rounds as the widest component's diameter (the note
in ../shared/notes/ measured it unconverged after 30 rounds on a sparse 1M-link graph).

Each round's edges are checkpointed (reliably when the context has a checkpoint directory, locally
otherwise): without it the plan of round ``k`` holds every earlier round and planning alone grows
quadratically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from graph.errors import RingtraceError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["ComponentsNotConvergedError", "checkpoint", "connected_components"]

#: Far beyond what the paper's bound gives for any graph that fits in a cluster (log² 10^10 ≈ 1100 is
#: the bound's order, measured rounds stay near log n); reaching it means a bug, not a big graph.
DEFAULT_MAX_ROUNDS: Final = 200


class ComponentsNotConvergedError(RingtraceError):
    """Large-star / small-star still changed edges after the allowed number of rounds."""


def connected_components(edges: DataFrame, *, max_rounds: int = DEFAULT_MAX_ROUNDS) -> tuple[DataFrame, int]:
    """``(node, component)`` for every node of `edges` (columns ``src``, ``dst``: integer ids; either
    direction, duplicates and self-loops allowed), the component being its least node id; and the number
    of rounds it took. Nodes without edges other than self-loops are their own component."""
    from pyspark.sql import functions as F  # noqa: N812  (pyspark's own convention)

    nodes = edges.select(F.col("src").alias("node")).union(edges.select(F.col("dst").alias("node"))).distinct()
    current = checkpoint(_canonical(edges))
    rounds, changed = 0, True
    while changed:
        if rounds == max_rounds:
            raise ComponentsNotConvergedError(f"connected components did not converge in {max_rounds} rounds")
        following = checkpoint(_small_star(_large_star(current)))
        changed = following.count() != current.count() or not following.subtract(current).isEmpty()
        current, rounds = following, rounds + 1
    # At the fixed point every edge is (node, least node of its component); the least nodes themselves
    # and isolated nodes have none.
    parent = current.select(F.col("src").alias("node"), F.col("dst").alias("component"))
    labelled = nodes.join(parent, "node", "left").select(
        "node", F.coalesce(F.col("component"), F.col("node")).alias("component"))
    return labelled, rounds


def _canonical(edges: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: N812

    return (edges.select(F.greatest("src", "dst").alias("src"), F.least("src", "dst").alias("dst"))
            .where(F.col("src") != F.col("dst")).distinct())


def _large_star(edges: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: N812

    both = edges.select(F.col("src").alias("u"), F.col("dst").alias("v")).union(
        edges.select(F.col("dst").alias("u"), F.col("src").alias("v")))
    least = both.groupBy("u").agg(F.min("v").alias("m")).select("u", F.least("u", "m").alias("m"))
    # v > u >= m: every emitted edge points to a smaller id, none is a self-loop.
    return (both.join(least, "u").where(F.col("v") > F.col("u"))
            .select(F.col("v").alias("src"), F.col("m").alias("dst")).distinct())


def _small_star(edges: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: N812

    # Canonical edges (src > dst) already give each node u = src its smaller neighbours v = dst.
    least = edges.groupBy("src").agg(F.min("dst").alias("m"))
    neighbours = (edges.join(least, "src").where(F.col("dst") != F.col("m"))
                  .select(F.col("dst").alias("src"), F.col("m").alias("dst")))
    return neighbours.union(least.select("src", F.col("m").alias("dst"))).distinct()


def checkpoint(frame: DataFrame) -> DataFrame:
    """`frame` materialised with its lineage cut: reliably when the context has a checkpoint directory."""
    reliable = frame.sparkSession.sparkContext.getCheckpointDir() is not None
    return frame.checkpoint(eager=True) if reliable else frame.localCheckpoint(eager=True)
