"""`ringtrace calibrate`: fit both scores' parameters to a team's labelled data.

Two stages, as the scores depend on each other: with an uninformative model, the coordination
features of every detected ring are fitted against "matches a true ring"; with that coordination
model in place, the attribution features of every (ring, candidate organisation) pair are fitted
against "the ring's true organisation" (fragments of an organisation's ring included). Both are
L2-regularised logistic regressions (:func:`graph.scoring.fit`); evidence coefficients are kept
non-negative, so sharing can count for a ring but never against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

import neo4j
from graph.detection import DetectionParams, detect_rings
from graph.evaluation.attribution import RingLabel, label_rings
from graph.evaluation.truth import Truth
from graph.links import index_links
from graph.projection import project
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    NONNEGATIVE_ATTRIBUTION,
    NONNEGATIVE_COORDINATION,
    LogisticModel,
    ScoringInput,
    ScoringModel,
    fit,
    prepare,
    score_rings,
)
from graph.store.observation_reads import Observations, read_observations
from graph.store.scoring_models import store_model

__all__ = ["calibrate", "fit_scoring_model"]


def _uninformative(features: tuple[str, ...]) -> LogisticModel:
    return LogisticModel(features, 0.0, tuple(0.0 for _ in features))


@dataclass(frozen=True)
class _Labelled:
    data: ScoringInput
    rings: list[npt.NDArray[np.int32]]
    labels: list[RingLabel]


def _labelled(observations: Observations, truth: Truth, params: DetectionParams) -> _Labelled:
    links = index_links(observations.incidence)
    rings = detect_rings(project(links, params.projection), params)
    ids = observations.incidence.account_ids
    labels = label_rings([frozenset(ids[r].tolist()) for r in rings], truth)
    return _Labelled(prepare(links, observations.org_indicators, observations.account_created), rings, labels)


def fit_scoring_model(
    populations: Sequence[tuple[Observations, Truth]],
    params: DetectionParams,
    *,
    version: str | None = None,
    l2: float = 1.0,
    fitted_on: str | None = None,
) -> ScoringModel:
    """A model fitted on the rings detected in each population, labelled by its truth, pooled."""
    pops = [_labelled(observations, truth, params) for observations, truth in populations]
    n_rings = sum(len(p.rings) for p in pops)
    if not n_rings:
        raise ValueError("no rings detected: nothing to fit on")
    if len({lab.coordinated for p in pops for lab in p.labels}) < 2:
        raise ValueError("the labelled rings are all coordinated or all not: a fit needs both")

    stage0 = ScoringModel("unfitted", "", _uninformative(COORDINATION_FEATURES), _uninformative(ATTRIBUTION_FEATURES))
    x = np.array(
        [s.coordination.features for p in pops for s in score_rings(p.data, p.rings, stage0)]
    ).reshape(-1, len(COORDINATION_FEATURES))
    y = np.array([lab.coordinated for p in pops for lab in p.labels], bool)
    coordination = fit(x, y, COORDINATION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_COORDINATION)

    stage1 = replace(stage0, coordination=coordination)
    rows = [
        (attribution.features, attribution.name == (label.organization or label.fragment_of))
        for p in pops
        for score, label in zip(score_rings(p.data, p.rings, stage1), p.labels, strict=True)
        for attribution in score.attributions
    ]
    if not rows or len({target for _, target in rows}) != 2:
        raise ValueError("the labelled data has no attributable rings of both kinds: cannot fit attribution")
    ax = np.array([f for f, _ in rows]).reshape(-1, len(ATTRIBUTION_FEATURES))
    ay = np.array([target for _, target in rows], bool)
    attribution = fit(ax, ay, ATTRIBUTION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_ATTRIBUTION)
    now = datetime.now(UTC)
    described = f"{n_rings} detected rings, {len(rows)} candidate attributions, labelled {now:%Y-%m-%d}"
    return ScoringModel(
        version=version or f"fitted-{now:%Y%m%dT%H%M%SZ}",
        fitted_on=f"{fitted_on}: {described}" if fitted_on else described,
        coordination=coordination,
        attribution=attribution,
        notes={"l2": l2, "detection": params.as_dict()},
    )


def calibrate(
    driver: neo4j.Driver,
    database: str,
    truth: Truth,
    params: DetectionParams,
    *,
    version: str | None = None,
    l2: float = 1.0,
) -> ScoringModel:
    """Fit a model on everything the database holds, labelled by `truth`, and make it the active one."""
    model = fit_scoring_model([(read_observations(driver, database), truth)], params, version=version, l2=l2)
    store_model(driver, database, model)
    return model
