"""`ringtrace calibrate`: fit both scores' parameters to a team's labelled data.

Two stages, as the scores depend on each other: with an uninformative model, the coordination
features of every detected ring are fitted against "matches a true ring"; with that coordination
model in place, the attribution features of every (ring, candidate organisation) pair are fitted
against "the ring's true organisation" (fragments of an organisation's ring included). Both are
L2-regularised logistic regressions (:func:`graph.scoring.fit`); evidence coefficients are kept
non-negative, so sharing can count for a ring but never against it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from graph.attribution_eval import label_rings
from graph.detection import detect_rings
from graph.observations import Observations
from graph.pipeline import DetectionParams
from graph.projection import project
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    LogisticModel,
    ScoringModel,
    fit,
    prepare,
    score_rings,
)
from graph.scoring.attribution import NONNEGATIVE_ATTRIBUTION
from graph.scoring.coordination import NONNEGATIVE_COORDINATION
from graph.truth import Truth

__all__ = ["fit_scoring_model"]


def _uninformative(features: tuple[str, ...]) -> LogisticModel:
    return LogisticModel(features, 0.0, tuple(0.0 for _ in features))


def fit_scoring_model(
    observations: Observations,
    truth: Truth,
    params: DetectionParams,
    *,
    version: str | None = None,
    l2: float = 1.0,
) -> ScoringModel:
    """A model fitted on the rings detected in `observations`, labelled by `truth`."""
    account_graph = project(observations.incidence, params.projection)
    rings = detect_rings(account_graph, method=params.method, resolution=params.resolution,
                         min_size=params.min_size, merge_weight=params.merge_weight, seed=params.seed)
    if not rings:
        raise ValueError("no rings detected: nothing to fit on")
    ids = observations.incidence.account_ids
    labels = label_rings([frozenset(ids[r].tolist()) for r in rings], truth)
    if len({lab.coordinated for lab in labels}) < 2:
        raise ValueError("the labelled rings are all coordinated or all not: a fit needs both")
    data = prepare(observations.incidence, observations.org_evidence, observations.account_created)

    stage0 = ScoringModel("unfitted", "", _uninformative(COORDINATION_FEATURES), _uninformative(ATTRIBUTION_FEATURES))
    scores = score_rings(data, rings, stage0)
    x = np.array([s.coordination.features for s in scores]).reshape(-1, len(COORDINATION_FEATURES))
    y = np.array([lab.coordinated for lab in labels], bool)
    coordination = fit(x, y, COORDINATION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_COORDINATION)

    stage1 = replace(stage0, coordination=coordination)
    scores = score_rings(data, rings, stage1)
    rows = [
        (attribution.features, attribution.name == (label.organization or label.fragment_of))
        for score, label in zip(scores, labels, strict=True)
        for attribution in score.attributions
    ]
    if rows and len({target for _, target in rows}) == 2:
        ax = np.array([f for f, _ in rows]).reshape(-1, len(ATTRIBUTION_FEATURES))
        ay = np.array([target for _, target in rows], bool)
        attribution = fit(ax, ay, ATTRIBUTION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_ATTRIBUTION)
    else:
        raise ValueError("the labelled data has no attributable rings of both kinds: cannot fit attribution")
    now = datetime.now(UTC)
    return ScoringModel(
        version=version or f"fitted-{now:%Y%m%dT%H%M%SZ}",
        fitted_on=f"{len(rings)} detected rings, {len(rows)} candidate attributions, labelled {now:%Y-%m-%d}",
        coordination=coordination,
        attribution=attribution,
        notes={"l2": l2, "detection": params.as_dict()},
    )
