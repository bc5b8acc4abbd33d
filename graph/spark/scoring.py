"""Scores, attributions, evidence and operations of the job's rings, by the package's own code, on the driver.

The in-process run's stages after `ids` (graph/pipeline/detect.py: score, explain, operations) in the
same order and with the same functions, over the rings' neighbourhood (graph/spark/neighbourhood.py)
instead of the whole store: every figure they compute for a ring or an account depends only on what
the neighbourhood holds, so the records are the in-process ones. With a usage log, :func:`ring_usage`
gives scoring what graph/pipeline/behaviour.py ``read_behaviour`` reads: the co-action pairs among the
neighbourhood's accounts (graph/spark/coaction.py), the co-action templates with their skeletons,
and the ring members' SENT aggregates and activity (graph/spark/usage.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from graph.behaviour.activity import AccountActivity, account_activity
from graph.behaviour.coaction import Coaction, CoactionParams, join_coaction
from graph.behaviour.usage import usage_index
from graph.detection import DetectionParams
from graph.evidence.paths import domain_accounts
from graph.links import index_links
from graph.pipeline.behaviour import build_behaviour
from graph.pipeline.explain import ExplainedRun, explain_run, explanations
from graph.pipeline.operations import ExplainedOperations, explain_operations, group_operations
from graph.projection import project
from graph.scoring import ScoringModel, attribute_accounts, prepare, score_rings
from graph.scoring.behaviour import Behaviour
from graph.scoring.operation_attribution import attribute_through_operations
from graph.store.observation_reads import Observations

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from graph.spark.usage import Usage

__all__ = ["ScoredRings", "ring_usage", "score_on_driver"]


@dataclass(frozen=True)
class ScoredRings:
    explained: ExplainedRun
    operations: ExplainedOperations
    counts: dict[str, int]


def score_on_driver(
    observations: Observations,
    members: Sequence[Sequence[str]],
    confidence: Sequence[Sequence[float]],
    ring_ids: Sequence[str],
    params: DetectionParams,
    model: ScoringModel,
    emails: Callable[[set[str]], Mapping[str, Sequence[str]]],
    behaviour: Behaviour | None,
) -> ScoredRings:
    """The records of rings `members` (each sorted by account id, with its members' `confidence`)
    named `ring_ids`; `emails` gives accounts' email addresses, for the paths of domain evidence;
    `behaviour` is the usage log's (:func:`ring_usage`, indices of the neighbourhood's accounts)."""
    links = index_links(observations.incidence)
    account_ids = observations.incidence.account_ids
    rings = [np.searchsorted(account_ids, np.array(m, dtype=np.str_)).astype(np.int32) for m in members]
    held: list[npt.NDArray[np.float64]] = [np.array(c, np.float64) for c in confidence]
    # The account graph's pairs inside a ring are exact here: every entity a member uses is held whole.
    account_graph = project(links, params.projection)
    if behaviour is not None:
        account_graph = join_coaction(account_graph, behaviour.coaction, params.coaction, params.projection.min_weight)
    scoring_input = prepare(links, observations.org_indicators, observations.account_created, behaviour)
    ring_scores = score_rings(scoring_input, rings, model)
    grouped = group_operations(links, rings, scoring_input.orgs)
    ring_scores = attribute_through_operations(ring_scores, grouped, tuple(ring_ids),
                                               observations.org_indicators.organizations)
    account_scores = attribute_accounts(scoring_input, rings, ring_scores, membership=held, model=model)
    needed = domain_accounts(links, explanations(ring_scores, account_scores))
    explained = explain_run(links, observations.org_indicators, emails(needed), account_graph, rings, ring_ids,
                            held, ring_scores, account_scores, behaviour.sent if behaviour is not None else None)
    operations = explain_operations(links, scoring_input.orgs, grouped, rings, explained.rings, {})
    counts = {
        "operations": len(operations.operations),
        "multi_campaign_operations": sum(1 for o in operations.operations if o.campaigns > 1),
        "coordinated_rings": sum(1 for r in ring_scores if r.score >= 0.5),
        "attributed_rings": sum(1 for r in ring_scores if r.top is not None and r.top.confidence >= 0.5),
        "attributed_accounts": sum(
            1 for a in account_scores.values() if a.attributions and a.attributions[0].confidence >= 0.5
        ),
        "neighbourhood_accounts": int(account_ids.shape[0]),
        "neighbourhood_links": int(observations.incidence.link_account.shape[0]),
    }
    return ScoredRings(explained, operations, counts)


def ring_usage(
    usage: Usage, templates: DataFrame, coaction: DataFrame, account_ids: npt.NDArray[np.str_], members: Sequence[str],
    params: CoactionParams,
) -> Behaviour | None:
    """Scoring's view of the usage log (graph/pipeline/behaviour.py ``build_behaviour``) over the
    neighbourhood's `account_ids`: co-action's `templates` (``template, senders, skeleton``), the
    pairs of `coaction` (graph/spark/coaction.py ``PAIRS``) among those accounts, and the SENT
    aggregates of the ring `members`."""
    keyed = sorted((str(r["template"]), int(r["senders"]), r["skeleton"]) for r in templates.collect())
    sent = usage.sent(members)
    coaction_keys = {t for t, _, _ in keyed}
    minutes: dict[str, list[tuple[str, list[int]]]] = {}
    activity: dict[str, AccountActivity] = {}
    figures: dict[tuple[str, str], tuple[int | None, int | None, int]] = {}
    for account_id, rows in sent.items():
        activity[account_id] = account_activity(rows)
        for row in rows:
            template = str(row["template"])
            figures[(account_id, template)] = (row["first_seen"], row["last_seen"], int(row["count"]))
            if template in coaction_keys:
                minutes.setdefault(template, []).append((account_id, row["minutes"]))
    index = usage_index([(t, n, skeleton, minutes.get(t, [])) for t, n, skeleton in keyed], account_ids)
    pairs = _local_coaction(coaction, account_ids, index.template_keys)
    return build_behaviour(index, pairs, params, account_ids, activity, figures, usage.releases)


def _local_coaction(coaction: DataFrame, account_ids: npt.NDArray[np.str_],
                    template_keys: npt.NDArray[np.str_]) -> Coaction:
    """The pairs of `coaction` between two of `account_ids`, by their indices, in (src, dst) order
    as graph/behaviour/coaction.py gives them; the top template as an index of `template_keys`."""
    from pyspark.sql import functions as F  # noqa: N812

    spark = coaction.sparkSession
    held = F.broadcast(spark.createDataFrame([(str(a),) for a in account_ids.tolist()], "account_id string"))
    found: pd.DataFrame = (coaction.join(held.withColumnRenamed("account_id", "src"), "src")
                           .join(held.withColumnRenamed("account_id", "dst"), "dst").toPandas())
    src = np.searchsorted(account_ids, found["src"].to_numpy().astype(np.str_)).astype(np.int32)
    dst = np.searchsorted(account_ids, found["dst"].to_numpy().astype(np.str_)).astype(np.int32)
    order = np.lexsort((dst, src))
    top = np.searchsorted(template_keys, found["top_template"].to_numpy().astype(np.str_)).astype(np.int32)
    hours = np.array(found["hours"].tolist(), dtype=np.int32).reshape(-1, 24)
    day_lists = [found["day_list"].iloc[i] for i in order.tolist()]
    return Coaction(
        src=src[order], dst=dst[order], observed=found["observed"].to_numpy(np.int64)[order],
        expected=found["expected"].to_numpy(np.float64)[order], days=found["days"].to_numpy(np.int64)[order],
        templates=found["templates"].to_numpy(np.int64)[order],
        top_template=top[order],
        top_days=found["top_days"].to_numpy(np.int64)[order], llr=found["llr"].to_numpy(np.float64)[order],
        hours=hours[order],
        pair_days=np.concatenate([np.asarray(d, np.int64) for d in day_lists] or [np.zeros(0, np.int64)]),
        day_offsets=np.concatenate([[0], np.cumsum([len(d) for d in day_lists])]).astype(np.int64),
    )
