"""Quality of coordination scores and attributions against ground truth; labels for calibration.

A detected ring is *coordinated* when it matches a true ring (Jaccard >= 0.5). Its organisation label
is the matched true ring's organisation; an unmatched ring at least half made of one organisation's
ring members is a *fragment* of that organisation's operation and labelled with it too (attributing a
fragment to its operator is right; the strict figure without fragments is reported alongside).

- top-1 accuracy: among rings whose label is an organisation, the share whose most likely
  organisation is that one; and, stricter, the share attributed to it with confidence >= 0.5;
- false attribution rate: among rings whose label is no organisation, the share attributed to one
  with confidence >= 0.5;
- expected calibration error and reliability table of the coordination score (per ring) and of the
  attribution confidence (per ring and candidate organisation).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from graph.evaluation.reliability import ReliabilityBin, expected_calibration_error, reliability_table
from graph.evaluation.truth import Truth
from graph.records import ScoredRing

__all__ = ["AttributionEvaluation", "RingLabel", "evaluate_attribution", "label_rings"]

_MATCH_JACCARD = 0.5
_DECIDE = 0.5


@dataclass(frozen=True)
class RingLabel:
    coordinated: bool
    organization: str | None  # the matched ring's organisation (strict label)
    fragment_of: str | None  # for unmatched rings mostly made of one organisation's ring members


@dataclass(frozen=True)
class AttributionEvaluation:
    rings: int
    rings_with_organization: int
    top1_accuracy: float
    attributed_at_half: float
    rings_without_organization: int
    false_attribution_rate: float
    coordination_ece: float
    attribution_ece: float
    attribution_ece_strict: float
    coordination_reliability: list[ReliabilityBin]
    attribution_reliability: list[ReliabilityBin]

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("scored rings", str(self.rings)),
            ("rings of an organisation", str(self.rings_with_organization)),
            ("attribution top-1 accuracy", f"{self.top1_accuracy:.3f}"),
            ("  of those, attributed at confidence >= 0.5", f"{self.attributed_at_half:.3f}"),
            ("rings of no organisation", str(self.rings_without_organization)),
            ("false attribution rate", f"{self.false_attribution_rate:.4f}"),
            ("coordination ECE", f"{self.coordination_ece:.4f}"),
            ("attribution ECE", f"{self.attribution_ece:.4f}"),
            ("attribution ECE (fragments counted wrong)", f"{self.attribution_ece_strict:.4f}"),
        ]


def label_rings(rings: Sequence[frozenset[str]], truth: Truth) -> list[RingLabel]:
    """Ground-truth labels of detected rings (see the module docstring)."""
    true_members: dict[str, set[str]] = {}
    for account, ring in truth.ring.items():
        if ring:
            true_members.setdefault(ring, set()).add(account)
    ring_org = truth.ring_organization()
    labels = []
    for members in rings:
        votes = Counter(r for a in members if (r := truth.ring.get(a)))
        matched = None
        if votes:
            best = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            true = true_members[best]
            if len(true & members) / len(true | members) >= _MATCH_JACCARD:
                matched = best
        fragment = None
        if matched is None:
            orgs = Counter(o for a in members if truth.ring.get(a) and (o := truth.organization.get(a)))
            if orgs:
                org, count = min(orgs.items(), key=lambda kv: (-kv[1], kv[0]))
                fragment = org if count >= 0.5 * len(members) else None
        labels.append(RingLabel(
            coordinated=matched is not None,
            organization=ring_org.get(matched) if matched else None,
            fragment_of=fragment,
        ))
    return labels


def evaluate_attribution(rings: Sequence[ScoredRing], truth: Truth) -> AttributionEvaluation:
    labels = label_rings([r.members for r in rings], truth)
    with_org = [(r, lab) for r, lab in zip(rings, labels, strict=True) if lab.organization]
    without = [(r, lab) for r, lab in zip(rings, labels, strict=True) if not lab.organization and not lab.fragment_of]

    def decided(ring: ScoredRing) -> str | None:
        if ring.attributions and ring.attributions[0][1] >= _DECIDE:
            return ring.attributions[0][0]
        return None

    top1 = sum(bool(r.attributions) and r.attributions[0][0] == lab.organization for r, lab in with_org)
    at_half = sum(decided(r) == lab.organization for r, lab in with_org)
    false = sum(decided(r) is not None for r, _ in without)
    coord_p = np.array([r.score for r in rings], np.float64)
    coord_y = np.array([lab.coordinated for lab in labels], bool)
    attr_p = np.array([c for r in rings for _, c in r.attributions], np.float64)
    attr_y = np.array(
        [o == (lab.organization or lab.fragment_of) for r, lab in zip(rings, labels, strict=True)
         for o, _ in r.attributions],
        bool,
    )
    attr_y_strict = np.array(
        [o == lab.organization for r, lab in zip(rings, labels, strict=True) for o, _ in r.attributions], bool
    )
    return AttributionEvaluation(
        rings=len(rings),
        rings_with_organization=len(with_org),
        top1_accuracy=top1 / len(with_org) if with_org else float("nan"),
        attributed_at_half=at_half / len(with_org) if with_org else float("nan"),
        rings_without_organization=len(without),
        false_attribution_rate=false / len(without) if without else 0.0,
        coordination_ece=expected_calibration_error(coord_p, coord_y),
        attribution_ece=expected_calibration_error(attr_p, attr_y),
        attribution_ece_strict=expected_calibration_error(attr_p, attr_y_strict),
        coordination_reliability=reliability_table(coord_p, coord_y),
        attribution_reliability=reliability_table(attr_p, attr_y),
    )
