"""The weighted account graph of graph/projection.py as DataFrame joins on entity, in the same floats.

The steps are the in-process ones, on the links detection reads (:func:`read_links`):

- ``w_e`` per entity and the per-kind degree cap: the package's own ``entity_weight`` in a
  ``mapInArrow`` task over the distinct entities;
- each link's time factor: the package's own ``burst_factor`` in ``applyInPandas`` over buckets of
  whole entities (an entity's burst share needs all its links);
- pairs: a self-join of the usable links on entity, each shared entity giving ``b_a · b_b`` with
  ``b = sqrt(w_e · g_l)``, summed per pair in ascending entity order, as scipy's ``B · Bᵀ`` adds them, so
  each weight is the in-process float to the bit (a sum in Spark's arbitrary order would differ in the
  last bits, and a community can turn on them).

Hubs need no salting here: an entity above its kind's cap (at most 20 accounts by default) is weak
evidence and never reaches the self-join, so no task holds more than cap² / 2 pairs of one entity; the
hubs' degrees are counted by an aggregation, which Spark combines map-side.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa

from graph.projection import ProjectionParams, burst_factor, entity_weight
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

__all__ = ["account_activity", "account_pairs", "read_links", "sent_activity"]

_ACTOR_NETWORKS: Final = ("corporate", "hosting")
_WEIGHTED: Final = pa.schema([("kind", pa.int32()), ("value", pa.string()), ("weight", pa.float64())])


def read_links(links: DataFrame) -> DataFrame:
    """The links detection reads from the store (graph/store/observation_reads.py): those of entities used
    by two or more accounts, and of IPs on a named organisation's corporate or hosting range; with
    each entity's ``degree``."""
    from pyspark.sql import functions as F  # noqa: N812

    degree = links.groupBy("kind", "value").agg(F.count("*").cast("int").alias("degree"))
    actor_ip = ((F.col("kind") == KIND_ORDER.index("ip")) & F.col("org").isNotNull()
                & F.col("network").isin(*_ACTOR_NETWORKS))
    return links.join(degree, ["kind", "value"]).where((F.col("degree") > 1) | actor_ip)


def account_activity(read: DataFrame) -> DataFrame:
    """``(account_id, active_at)``: the median first_seen of each account's timed links, as
    graph/projection.py ``active_at`` computes it (mean of the two middle values of an even count)."""
    from pyspark.sql import functions as F  # noqa: N812

    timed = read.where(F.col("first_seen").isNotNull()).groupBy("account_id").agg(
        F.array_sort(F.collect_list(F.col("first_seen").cast("double"))).alias("t"))
    low = F.element_at("t", (F.floor((F.size("t") - 1) / 2) + 1).cast("int"))
    high = F.element_at("t", (F.floor(F.size("t") / 2) + 1).cast("int"))
    return timed.select("account_id", ((low + high) / 2.0).alias("active_at"))


def sent_activity(activity: DataFrame, minutes: DataFrame) -> DataFrame:
    """`activity` with each account that sent a template of `minutes` (graph/spark/coaction.py
    ``sent_minutes``) active from when it sent them: the first quartile of its sent minutes, in epoch
    seconds, as graph/behaviour/usage.py ``sent_active_at`` computes it."""
    from pyspark.sql import functions as F  # noqa: N812

    sent = minutes.groupBy("account_id").agg(
        F.array_sort(F.collect_list((F.col("minute") * 60).cast("double"))).alias("m"))
    quartile = sent.select("account_id", F.element_at("m", (F.floor((F.size("m") - 1) / 4) + 1).cast("int"))
                           .alias("sent_at"))
    return activity.join(quartile, "account_id", "full").select(
        "account_id", F.coalesce(F.col("sent_at"), F.col("active_at")).alias("active_at"))


def _weights(batches: Iterable[pa.RecordBatch], *, params: ProjectionParams) -> Iterator[pa.RecordBatch]:
    network_code = {name: code for code, name in enumerate(NETWORK_CLASSES)}
    cap = np.array([params.degree_cap.get(k, np.iinfo(np.int32).max) for k in KIND_ORDER], np.int64)
    for batch in batches:
        kind = np.asarray(batch.column("kind").to_numpy(), np.int8)
        network = np.array([network_code.get(n, network_code["unknown"]) for n in batch.column("network").to_pylist()],
                           np.int8)
        degree = np.asarray(batch.column("degree").to_numpy(), np.int32)
        # n_acc only matters to the idf rarity, which the job refuses (graph/spark/job.py).
        weight = entity_weight(kind, network, degree, 0, params)
        weight[degree > cap[kind.astype(np.intp)]] = 0.0
        yield pa.RecordBatch.from_arrays([batch.column("kind"), batch.column("value"), pa.array(weight)],
                                         schema=_WEIGHTED)


def _link_factors(links: pd.DataFrame, *, params: ProjectionParams) -> pd.DataFrame:
    import pandas as pd

    _, entity = np.unique(np.char.add(links["kind"].astype(str).to_numpy().astype(np.str_),
                                      ("\x00" + links["value"]).to_numpy().astype(np.str_)), return_inverse=True)
    first = links["first_seen"].to_numpy(dtype=np.float64, na_value=np.nan)
    factor = burst_factor(entity.astype(np.int64), first, params)
    # The in-process incidence holds sqrt(w_e · g_l) (graph/projection.py _weighted_pairs).
    root = np.sqrt(links["weight"].to_numpy(np.float64) * factor)
    return pd.DataFrame({"account_id": links["account_id"], "kind": links["kind"], "value": links["value"],
                         "root": root})


def account_pairs(read: DataFrame, params: ProjectionParams, buckets: int) -> DataFrame:
    """``(src, dst, weight, shared)`` account-id pairs, ``src < dst``, weight at least ``min_weight``."""
    from pyspark.sql import functions as F  # noqa: N812

    entities = read.where(F.col("degree") >= 2).select("kind", "value", "network", "degree").distinct()
    weights = entities.mapInArrow(partial(_weights, params=params), "kind int, value string, weight double")
    usable = (read.join(weights.where(F.col("weight") > 0), ["kind", "value"])
              .select("account_id", "kind", "value", "first_seen", "weight"))
    rooted = (usable.groupBy(F.pmod(F.xxhash64("kind", "value"), F.lit(buckets)).alias("bucket"))
              .applyInPandas(partial(_link_factors, params=params),
                             "account_id string, kind int, value string, root double"))
    a, b = rooted.alias("a"), rooted.alias("b")
    joined = a.join(b, (F.col("a.kind") == F.col("b.kind")) & (F.col("a.value") == F.col("b.value"))
                    & (F.col("a.account_id") < F.col("b.account_id")))
    entry = F.struct(F.col("a.kind").alias("kind"), F.col("a.value").alias("value"),
                     (F.col("a.root") * F.col("b.root")).alias("term"))
    grouped = joined.groupBy(F.col("a.account_id").alias("src"), F.col("b.account_id").alias("dst")).agg(
        F.array_sort(F.collect_list(entry)).alias("entries"))
    summed = grouped.select(
        "src", "dst", F.aggregate("entries", F.lit(0.0), lambda total, e: total + e["term"]).alias("weight"),
        F.size("entries").alias("shared"))
    return summed.where(F.col("weight") >= params.min_weight)
