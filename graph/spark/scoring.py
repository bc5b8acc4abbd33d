"""Scores, attributions, evidence and operations of the job's rings, by the package's own code, on the driver.

The in-process run's stages after `ids` (graph/pipeline/detect.py: score, explain, operations) in the
same order and with the same functions, over the rings' neighbourhood (graph/spark/neighbourhood.py)
instead of the whole store: every figure they compute for a ring or an account depends only on what
the neighbourhood holds, so the records are the in-process ones. A bundle without a usage log has no
behaviour to score (the job refuses one with it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.detection import DetectionParams
from graph.evidence.paths import domain_accounts
from graph.links import index_links
from graph.pipeline.explain import ExplainedRun, explain_run, explanations
from graph.pipeline.operations import ExplainedOperations, explain_operations, group_operations
from graph.projection import project
from graph.scoring import ScoringModel, attribute_accounts, prepare, score_rings
from graph.scoring.operation_attribution import attribute_through_operations
from graph.store.observation_reads import Observations

__all__ = ["ScoredRings", "score_on_driver"]


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
) -> ScoredRings:
    """The records of rings `members` (each sorted by account id, with its members' `confidence`)
    named `ring_ids`; `emails` gives accounts' email addresses, for the paths of domain evidence."""
    links = index_links(observations.incidence)
    account_ids = observations.incidence.account_ids
    rings = [np.searchsorted(account_ids, np.array(m, dtype=np.str_)).astype(np.int32) for m in members]
    held: list[npt.NDArray[np.float64]] = [np.array(c, np.float64) for c in confidence]
    # The account graph's pairs inside a ring are exact here: every entity a member uses is held whole.
    account_graph = project(links, params.projection)
    scoring_input = prepare(links, observations.org_indicators, observations.account_created, None)
    ring_scores = score_rings(scoring_input, rings, model)
    grouped = group_operations(links, rings, scoring_input.orgs)
    ring_scores = attribute_through_operations(ring_scores, grouped, tuple(ring_ids),
                                               observations.org_indicators.organizations)
    account_scores = attribute_accounts(scoring_input, rings, ring_scores, membership=held, model=model)
    needed = domain_accounts(links, explanations(ring_scores, account_scores))
    explained = explain_run(links, observations.org_indicators, emails(needed), account_graph, rings, ring_ids,
                            held, ring_scores, account_scores, None)
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
