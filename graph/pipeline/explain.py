"""The explain stage: scores and evidence items become typed records with concrete graph paths.

Pure apart from the email addresses it is handed: everything else comes from the run's own link
index, so every path it writes exists in Neo4j.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.detection import ring_labels
from graph.evidence.paths import PathBuilder, prior_llr
from graph.links import LinkIndex
from graph.projection import AccountGraph
from graph.records import AttributionRecord, MembershipRecord, RingRecord
from graph.scoring import AccountAttribution, Explanation, OrgIndicators, RingScore
from graph.scoring.behaviour import SentFigures

__all__ = ["ExplainedRun", "explain_run", "explanations"]

# Account attributions below this are not written: they would only say "no evidence".
_ACCOUNT_ATTRIBUTION_FLOOR: Final = 0.05


@dataclass(frozen=True)
class ExplainedRun:
    rings: list[RingRecord]
    memberships: list[MembershipRecord]
    ring_attributions: list[AttributionRecord]
    account_attributions: list[AttributionRecord]


def explanations(ring_scores: Sequence[RingScore], accounts: Mapping[int, AccountAttribution]) -> list[Explanation]:
    """Every explanation the run will write (so the caller can fetch what their paths need)."""
    out = [r.coordination.explanation for r in ring_scores]
    out += [a.explanation for r in ring_scores for a in r.attributions]
    out += [t.explanation for a in accounts.values() for t in a.attributions]
    return out


def _ring_edges(graph: AccountGraph, rings: Sequence[npt.NDArray[np.int32]]) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64]
]:
    """Per ring: the number of edges inside it and their summed weight."""
    labels = ring_labels(list(rings), graph.n_accounts)
    src_label = labels[graph.src]
    inside = (src_label >= 0) & (src_label == labels[graph.dst])
    edges = np.bincount(src_label[inside], minlength=len(rings))
    weight = np.bincount(src_label[inside], weights=graph.weight[inside], minlength=len(rings))
    return edges.astype(np.int64), weight.astype(np.float64)


def explain_run(
    links: LinkIndex,
    org_indicators: OrgIndicators,
    account_emails: Mapping[str, Sequence[str]],
    account_graph: AccountGraph,
    rings: Sequence[npt.NDArray[np.int32]],
    ring_ids: Sequence[str],
    confidence: Sequence[npt.NDArray[np.float64]],
    ring_scores: Sequence[RingScore],
    account_scores: Mapping[int, AccountAttribution],
    sent: SentFigures | None = None,
) -> ExplainedRun:
    """The records of a run: one per ring, membership and attribution, with ranked evidence paths
    (`sent`: the SENT relationships behavioural evidence cites, from the run's usage read)."""
    account_ids = links.incidence.account_ids
    paths = PathBuilder(links, org_indicators, account_emails, sent)
    edges, weight = _ring_edges(account_graph, rings)
    result = ExplainedRun([], [], [], [])
    for index, (ring, ring_id, member_confidence) in enumerate(zip(rings, ring_ids, confidence, strict=True)):
        score = ring_scores[index]
        pairs = ring.shape[0] * (ring.shape[0] - 1) / 2
        top = score.top
        coordination = score.coordination.explanation
        result.rings.append(RingRecord(
            ring_id=ring_id,
            size=int(ring.shape[0]),
            score=score.score,  # unrounded: the stored evidence must add up to its logit
            organization=top.name if top is not None else None,
            attribution_confidence=top.confidence if top is not None else None,
            edges=int(edges[index]),
            weighted_density=round(float(weight[index]) / pairs if pairs else 0.0, 6),
            coordination_prior_llr=prior_llr(coordination),
            coordination_evidence=tuple(paths.evidence(coordination, ring_id=ring_id)),
            requests=score.activity.requests,
            output_tokens=score.activity.output_tokens,
            activity=score.activity.sentence(),
            activity_profile=score.activity.profile_json(),
        ))
        result.memberships.extend(
            MembershipRecord(str(account_ids[a]), ring_id, float(c))
            for a, c in zip(ring.tolist(), member_confidence.tolist(), strict=True)
        )
        result.ring_attributions.extend(
            AttributionRecord(
                subject=ring_id,
                organization=attribution.name,
                confidence=attribution.confidence,
                prior_llr=prior_llr(attribution.explanation),
                evidence=tuple(paths.evidence(attribution.explanation, ring_id=ring_id)),
            )
            for attribution in score.attributions
        )
    for account, scored in sorted(account_scores.items()):
        account_ring = ring_ids[scored.ring] if scored.ring >= 0 else None
        result.account_attributions.extend(
            AttributionRecord(
                subject=str(account_ids[account]),
                organization=attribution.name,
                confidence=attribution.confidence,
                prior_llr=prior_llr(attribution.explanation),
                evidence=tuple(paths.evidence(attribution.explanation, ring_id=account_ring)),
                ring_id=account_ring,
            )
            for attribution in scored.attributions
            if attribution.confidence >= _ACCOUNT_ATTRIBUTION_FLOOR
        )
    return result
