"""Co-action (graph/behaviour/coaction.py) as a Spark join on (template, widened window), in the same figures.

The rows are coaction.py's (``coaction_rows``): per template of 2..``max_senders`` senders, account
and widened window (each of the account's windows and the next), the day of the account's earliest
window the row stands for. Then, as there:

- a (template, window) group of 2..``max_window_senders`` rows gives every pair of its accounts one
  match, dated by the earlier of their two days; in a larger group each account is matched with the
  ``cap // 2`` that follow it in account order (a row number over the group), cyclically. These joins
  are the stage's shuffle: a group yields at most cap² / 2 matches, or cap / 2 per row in a crowd,
  however popular the template, and the joins grow with the matches, not with senders²;
- per pair, in Spark's integers: observed (matches), distinct days, distinct templates, the top
  template (most matches, then the smallest fingerprint, which is the smallest index in-process) and
  its distinct days, matches per UTC hour of the window, and the distinct days themselves (for
  co-action as a group, graph/detection/coacting_groups.py);
- expected matches and the llr: in ``cogroup().applyInPandas`` over buckets of pairs, each task
  calling the package's own ``expected_matches`` and ``likelihood_ratio`` on the rows of the
  accounts its pairs involve. A pair's expected value depends only on its two accounts' rows and on
  the templates' order (the task numbers templates in fingerprint order, as the in-process usage
  index does), and is summed in the same order, so it is the in-process float to the bit; the task
  pays for each pair the rows of both its accounts.

Pairs come out with the account ids ``src < dst`` and the edge weight of ``coaction_weight``, for
the projection to join (graph/spark/job.py) as ``join_coaction`` joins them in-process.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

import numpy as np

from graph.behaviour.coaction import CoactionParams, coaction_weight, expected_matches, likelihood_ratio
from graph.spark.components import checkpoint

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import Column, DataFrame

__all__ = ["PAIRS", "coaction_pairs", "coaction_windows", "sent_minutes"]

_MINUTES_PER_DAY: Final = 1440
#: A co-acting pair and its figures (graph/behaviour/coaction.py `Coaction`, top template by fingerprint).
PAIRS: Final = ("src string, dst string, observed long, expected double, days long, templates long, "
                "top_template string, top_days long, llr double, hours array<long>, weight double, "
                "day_list array<long>")


def _floor_div(column: Column, divisor: int) -> Column:
    """Python's ``//`` on a long column (floor division, also below zero)."""
    from pyspark.sql import functions as F  # noqa: N812

    return ((column - F.pmod(column, F.lit(divisor))) / divisor).cast("long")


def sent_minutes(requests: DataFrame, templates: DataFrame, params: CoactionParams) -> DataFrame:
    """``(template, account_id, minute)``, distinct: the SENT minutes co-action reads
    (graph/store/usage_reads.py ``read_coaction_templates``: templates of 2..max_senders senders)."""
    from pyspark.sql import functions as F  # noqa: N812

    usable = templates.where((F.col("senders") >= 2) & (F.col("senders") <= params.max_senders)).select("template")
    return (requests.join(F.broadcast(usable), "template")
            .select("template", "account_id", _floor_div(F.col("second"), 60).alias("minute")).distinct())


def coaction_windows(minutes: DataFrame, params: CoactionParams) -> DataFrame:
    """``(template, account_id, window, day)``: coaction.py's ``coaction_rows`` of these minutes."""
    from pyspark.sql import functions as F  # noqa: N812

    own = _floor_div(F.col("minute"), params.window_minutes)
    widened = minutes.select("template", "account_id", own.alias("own")).select(
        "template", "account_id", "own", F.explode(F.array(F.col("own"), F.col("own") + 1)).alias("window"))
    rows = widened.groupBy("template", "account_id", "window").agg(F.min("own").alias("own"))
    return rows.select("template", "account_id", "window",
                       _floor_div(F.col("own") * params.window_minutes, _MINUTES_PER_DAY).alias("day"))


def _matches(rows: DataFrame, params: CoactionParams) -> DataFrame:
    """``(src, dst, template, window, day)``: one per pair of accounts in a group of 2..cap rows, and in
    a larger group one per account and each of the ``cap // 2`` that follow it in account order,
    cyclically (coaction.py's ``_group_pairs``)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    cap = params.max_window_senders
    sizes = rows.groupBy("template", "window").agg(F.count("*").alias("size"))
    sized = rows.join(sizes.where(F.col("size") >= 2), ["template", "window"])
    grouped = sized.where(F.col("size") <= cap).drop("size")
    a, b = grouped.alias("a"), grouped.alias("b")
    joined = a.join(b, (F.col("a.template") == F.col("b.template")) & (F.col("a.window") == F.col("b.window"))
                    & (F.col("a.account_id") < F.col("b.account_id")))
    small = joined.select(F.col("a.account_id").alias("src"), F.col("b.account_id").alias("dst"),
                          F.col("a.template").alias("template"), F.col("a.window").alias("window"),
                          F.least(F.col("a.day"), F.col("b.day")).alias("day"))
    in_order = Window.partitionBy("template", "window").orderBy("account_id")
    crowd = sized.where(F.col("size") > cap).withColumn("position", F.row_number().over(in_order) - 1)
    follows = crowd.select("template", "window", "size", F.col("account_id").alias("a_id"), F.col("day").alias("a_day"),
                           F.explode(F.sequence(F.lit(1), F.lit(cap // 2))).alias("offset"), "position")
    follows = follows.select("template", "window", "a_id", "a_day",
                             F.pmod(F.col("position") + F.col("offset"), F.col("size")).alias("position"))
    crowded = follows.join(crowd.select("template", "window", "position", F.col("account_id").alias("b_id"),
                                        F.col("day").alias("b_day")), ["template", "window", "position"])
    return small.unionByName(crowded.select(
        F.least("a_id", "b_id").alias("src"), F.greatest("a_id", "b_id").alias("dst"), "template", "window",
        F.least("a_day", "b_day").alias("day")))


def _pair_counts(matches: DataFrame, params: CoactionParams) -> DataFrame:
    """The integer figures per pair: observed, days, templates, top template and its days, hours."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    hour = _floor_div(F.pmod(F.col("window") * params.window_minutes, F.lit(_MINUTES_PER_DAY)), 60)
    per_hour = matches.groupBy("src", "dst", hour.alias("hour")).agg(F.count("*").alias("n"))
    hours = per_hour.groupBy("src", "dst").agg(F.map_from_entries(F.collect_list(F.struct("hour", "n"))).alias("h"))
    totals = matches.groupBy("src", "dst").agg(
        F.count("*").alias("observed"), F.countDistinct("day").alias("days"),
        F.countDistinct("template").alias("templates"), F.array_sort(F.collect_set("day")).alias("day_list"))
    per_template = matches.groupBy("src", "dst", "template").agg(
        F.count("*").alias("n"), F.countDistinct("day").alias("top_days"))
    rank = Window.partitionBy("src", "dst").orderBy(F.col("n").desc(), F.col("template").asc())
    top = (per_template.withColumn("rank", F.row_number().over(rank)).where(F.col("rank") == 1)
           .select("src", "dst", F.col("template").alias("top_template"), "top_days"))
    every_hour = F.transform(F.sequence(F.lit(0), F.lit(23)), lambda h: F.coalesce(F.col("h")[h], F.lit(0)))
    return (totals.join(top, ["src", "dst"]).join(hours, ["src", "dst"])
            .select("src", "dst", "observed", "days", "templates", "top_template", "top_days",
                    every_hour.cast("array<long>").alias("hours"), "day_list"))


def _expected_group(pairs: pd.DataFrame, rows: pd.DataFrame, *, params: CoactionParams) -> pd.DataFrame:
    """Expected matches, llr and weight of `pairs`, from `rows` (every coaction row of their accounts)."""
    import pandas as pd

    if pairs.empty:
        return pd.DataFrame({c.split()[0]: [] for c in PAIRS.split(", ")})
    accounts = np.unique(rows["account_id"].to_numpy().astype(np.str_))
    templates = np.unique(rows["template"].to_numpy().astype(np.str_))  # fingerprint order, as usage_index's
    account = np.searchsorted(accounts, rows["account_id"].to_numpy().astype(np.str_)).astype(np.int64)
    template = np.searchsorted(templates, rows["template"].to_numpy().astype(np.str_)).astype(np.int64)
    expected = expected_matches(
        template, account, rows["window"].to_numpy(np.int64), rows["day"].to_numpy(np.int64),
        a_of=np.searchsorted(accounts, pairs["src"].to_numpy().astype(np.str_)).astype(np.int64),
        b_of=np.searchsorted(accounts, pairs["dst"].to_numpy().astype(np.str_)).astype(np.int64),
        n_accounts=int(accounts.shape[0]), params=params)
    llr = likelihood_ratio(pairs["observed"].to_numpy(np.int64), expected, pairs["days"].to_numpy(np.int64), params)
    return pairs.drop(columns=["bucket"]).assign(expected=expected, llr=llr, weight=coaction_weight(llr, params))[
        [c.split()[0] for c in PAIRS.split(", ")]]


def coaction_pairs(minutes: DataFrame, params: CoactionParams, buckets: int) -> DataFrame:
    """Every co-acting pair of the :func:`sent_minutes` `minutes`, as :data:`PAIRS` rows (checkpointed)."""
    from pyspark.sql import functions as F  # noqa: N812

    rows = coaction_windows(minutes, params).cache()
    # The matches feed four aggregations: cached, the self-join runs (and shuffles) once.
    matches = _matches(rows, params).cache()
    counted = _pair_counts(matches, params).cache()
    bucketed = counted.withColumn("bucket", F.pmod(F.xxhash64("src"), F.lit(buckets)))
    # Each bucket's task gets the rows of every account its pairs involve (both ends); the bucket is
    # computed anew here, since a column shared with `bucketed` would be ambiguous in the cogroup.
    needed = (counted.select(F.pmod(F.xxhash64("src"), F.lit(buckets)).alias("bucket"),
                             F.explode(F.array("src", "dst")).alias("account_id")).distinct())
    their_rows = needed.join(rows, "account_id").select("bucket", "template", "account_id", "window", "day")
    pairs = checkpoint(bucketed.groupBy("bucket").cogroup(their_rows.groupBy("bucket"))
                       .applyInPandas(partial(_expected_group, params=params), PAIRS))
    # Checkpointed, the pairs no longer need what they were computed from: a cached frame's plan stays
    # in the session until unpersisted, and a session that runs the job again runs out of driver memory.
    for frame in (rows, matches, counted):
        frame.unpersist()
    return pairs
