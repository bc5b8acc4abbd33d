"""Attribution through an operation: a campaign whose sibling is attributed inherits, discounted.

An investigator who has attributed one campaign to an organisation (its members are known, it ran
on the organisation's own network) and finds a later campaign tied to it by a reused card says the
later one is the organisation's too, as surely as the first is and the tie holds. So a ring of a
multi-campaign operation gets, for the organisation its most confidently attributed sibling points
to (from that sibling's own evidence, at least :data:`MIN_SIBLING_CONFIDENCE`, and only from a sibling
scored coordinated: a class or a team on its university's or employer's network says where its
members study or work, which is no operation to inherit from),

    P(ring -> O) = max(P_own(ring -> O), P(sibling -> O) x TIE_PRECISION)

where :data:`TIE_PRECISION` is how often the rings grouped into one operation are truly one
operator's, as measured. A ring tied to two organisations' campaigns (``Operations.contested``)
inherits nothing. Each ring keeps its own confidence: a ring whose own evidence is stronger
keeps it, and the inherited part enters as one evidence item, ``operation_sibling``, whose LLR is
what lifts the ring's own log odds to the inherited ones (so the items still add up to the logit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

import numpy as np

from graph.detection.operations import Operations, Tie
from graph.scoring.evidence import EvidenceItem, Explanation, logit
from graph.scoring.results import Attribution, RingScore

__all__ = ["MIN_SIBLING_CONFIDENCE", "TIE_PRECISION", "attribute_through_operations"]

# Share of found operations of two or more rings whose rings are all one operator's (bench/
# operations_eval.py): 1.00 on generated populations (10k seeds 101-103, 20k seeds 104-106: 0 of 13-28
# operations per population mixed operators) and 0.97 on the independent bench population (20k seed 2:
# 1 of 33). 0.95 is below both, so an inherited attribution never claims more than was measured.
TIE_PRECISION: Final = 0.95
#: A sibling passes on only an attribution it would report (>= 0.5) on its own evidence, and only when
#: it is itself scored coordinated (>= 0.5).
MIN_SIBLING_CONFIDENCE: Final = 0.5


def attribute_through_operations(
    ring_scores: Sequence[RingScore],
    operations: Operations,
    ring_ids: Sequence[str],
    organizations: Sequence[str],
) -> list[RingScore]:
    """`ring_scores` with each ring's attributions lifted by its operation's siblings (module docstring)."""
    own = [score.top for score in ring_scores]
    result = list(ring_scores)
    by_operation = operations.by_operation()
    touching = operations.ties_by_ring()
    for i, score in enumerate(ring_scores):
        if i in operations.contested:
            continue
        siblings = [j for j in by_operation[int(operations.of_ring[i])] if j != i]
        passed = [
            (attribution.confidence * TIE_PRECISION, j, attribution)
            for j in siblings
            if (attribution := own[j]) is not None and attribution.confidence >= MIN_SIBLING_CONFIDENCE
            and ring_scores[j].score >= MIN_SIBLING_CONFIDENCE
        ]
        if not passed:
            continue
        inherited, sibling, source = max(passed, key=lambda p: (p[0], -p[1]))
        current = next((a for a in score.attributions if a.organization == source.organization), None)
        if current is not None and current.confidence >= inherited:
            continue
        items = list(current.explanation.items) if current is not None else []
        # The tie to that sibling itself when there is one, else the ring's strongest into the operation;
        # an organisation's tie only when it is the organisation passed on (its path names it).
        usable = [t for t in touching[i] if t.organization in (-1, source.organization)]
        candidates = [t for t in usable if sibling in t.rings] or usable
        tie = candidates[0] if candidates else None
        lift = logit(inherited) - math.fsum(item.llr for item in items)
        items.append(EvidenceItem(
            "operation_sibling",
            lift,
            f"Campaign {ring_ids[sibling]} of the same operation is attributed to {organizations[source.organization]} "
            f"with confidence {source.confidence:.2f}, and rings grouped into one operation were one operator's in "
            f"{TIE_PRECISION:.0%} of measured operations{_by(tie)}.",
            tie.accounts if tie is not None else (),
            tuple(e for e in (tie.entity, tie.other_entity) if e >= 0) if tie is not None else (),
            source.organization,
        ))
        lifted = Attribution(source.organization, source.name,
                             current.features if current is not None else np.zeros_like(source.features),
                             Explanation.of(items))
        others = [a for a in score.attributions if a.organization != source.organization]
        ranked = sorted([lifted, *others], key=lambda a: (-a.confidence, a.name))
        result[i] = replace(score, attributions=tuple(ranked))
    return result


def _by(tie: Tie | None) -> str:
    if tie is None:
        return ""
    return {"known_member": "; tied by known members", "org_network": "; tied by the organisation's own network"}.get(
        tie.kind, f"; tied by a shared {tie.kind}")
