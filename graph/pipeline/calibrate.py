"""`ringtrace calibrate`: fit both scores' parameters to a team's labelled data.

Two stages, as the scores depend on each other: with an uninformative model, the coordination
features of every detected ring are fitted against "matches a true ring"; with that coordination
model in place, the attribution features of every (ring, candidate organisation) pair are fitted
against "the ring's true organisation" (fragments of an organisation's ring included). Both are
L2-regularised logistic regressions (:func:`graph.scoring.fit`); evidence coefficients are kept
non-negative, so sharing can count for a ring but never against it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

import neo4j
from graph.detection import DetectionParams
from graph.evaluation.attribution import RingLabel, label_rings
from graph.evaluation.truth import Truth
from graph.links import index_links
from graph.pipeline.behaviour import (
    DetectedRings,
    Template,
    UsageLog,
    build_behaviour,
    detect_with_usage,
    read_behaviour,
)
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    NONNEGATIVE_ATTRIBUTION,
    NONNEGATIVE_COORDINATION,
    UNWEIGHTED_COORDINATION,
    LogisticModel,
    ScoringInput,
    ScoringModel,
    fit,
    prepare,
    score_rings,
)
from graph.scoring.behaviour import Behaviour
from graph.store.observation_reads import Observations, read_observations
from graph.store.scoring_models import store_model
from graph.store.usage_reads import read_coaction_templates

__all__ = ["Population", "calibrate", "database_population", "fit_scoring_model"]


def _uninformative(features: tuple[str, ...]) -> LogisticModel:
    return LogisticModel(features, 0.0, tuple(0.0 for _ in features))


@dataclass(frozen=True)
class _Labelled:
    data: ScoringInput
    rings: list[npt.NDArray[np.int32]]
    labels: list[RingLabel]


# What scoring reads of the usage log once a population's rings are found (None: no usage log).
BehaviourOf = Callable[[DetectedRings], Behaviour | None]


@dataclass(frozen=True)
class Population:
    """A labelled population: its observations, its truth, and its usage log (if any)."""

    observations: Observations
    truth: Truth
    templates: list[Template] = field(default_factory=list)  # as co-action reads them
    behaviour_of: BehaviourOf = lambda _: None

    @staticmethod
    def offline(
        observations: Observations, truth: Truth, usage: UsageLog | None, params: DetectionParams
    ) -> Population:
        """A population read from a bundle (bench/offline_usage.py gives its usage log)."""
        if usage is None:
            return Population(observations, truth)
        return Population(
            observations, truth, usage.coaction_templates(params.coaction.max_senders),
            lambda found: build_behaviour(found.usage, found.coaction, params.coaction,
                                          observations.incidence.account_ids, usage.activity, usage.sent,
                                          usage.releases),
        )


def _labelled(population: Population, params: DetectionParams) -> _Labelled:
    observations = population.observations
    links = index_links(observations.incidence)
    found = detect_with_usage(links, population.templates, params)
    ids = observations.incidence.account_ids
    labels = label_rings([frozenset(ids[r].tolist()) for r in found.rings], population.truth)
    data = prepare(links, observations.org_indicators, observations.account_created, population.behaviour_of(found))
    return _Labelled(data, found.rings, labels)


def fit_scoring_model(
    populations: Sequence[Population],
    params: DetectionParams,
    *,
    version: str | None = None,
    l2: float = 1.0,
    fitted_on: str | None = None,
    keep_attribution_of: ScoringModel | None = None,
) -> ScoringModel:
    """A model fitted on the rings detected in each population, labelled by its truth, pooled.

    With `keep_attribution_of`, only coordination is fitted and that model's attribution is kept (and
    named in the notes): for fitting coordination on populations whose organisations are not drawn
    like the ones attribution was fitted on (bench/offline_scoring.py --attribution-from). The kept
    attribution weighs a ring's coordination log-odds as it was fitted against the kept model's
    coordination, so measure it again with the new coordination before shipping the pair.
    """
    pops = [_labelled(population, params) for population in populations]
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
    coordination = fit(x, y, COORDINATION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_COORDINATION,
                       unweighted=UNWEIGHTED_COORDINATION)

    notes: dict[str, object] = {"l2": l2, "detection": params.as_dict()}
    if keep_attribution_of is not None:
        kept = keep_attribution_of
        attribution = kept.attribution
        data = f"{n_rings} detected rings; attribution kept from {kept.version}"
        notes["attribution_kept_from"] = {"version": kept.version, "fitted_on": kept.fitted_on,
                                          "notes": dict(kept.notes)}
    else:
        attribution, n_candidates = _fit_attribution(pops, replace(stage0, coordination=coordination), l2)
        data = f"{n_rings} detected rings, {n_candidates} candidate attributions"
    now = datetime.now(UTC)
    described = f"{data}, labelled {now:%Y-%m-%d}"
    return ScoringModel(
        version=version or f"fitted-{now:%Y%m%dT%H%M%SZ}",
        fitted_on=f"{fitted_on}: {described}" if fitted_on else described,
        coordination=coordination,
        attribution=attribution,
        notes=notes,
    )


def _fit_attribution(pops: Sequence[_Labelled], stage1: ScoringModel, l2: float) -> tuple[LogisticModel, int]:
    """Attribution fitted on every (ring, candidate organisation) pair scored with `stage1`'s coordination."""
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
    return fit(ax, ay, ATTRIBUTION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_ATTRIBUTION), len(rows)


def database_population(driver: neo4j.Driver, database: str, truth: Truth, params: DetectionParams) -> Population:
    """Everything the database holds, labelled by `truth`, as a population to fit on."""
    templates = read_coaction_templates(driver, database, params.coaction.max_senders)
    observations = read_observations(driver, database, {a for t in templates for a, _ in t[3]})
    return Population(
        observations, truth, templates,
        lambda found: read_behaviour(driver, database, found.usage, found.coaction, params.coaction,
                                     observations.incidence.account_ids, found.rings),
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
    model = fit_scoring_model([database_population(driver, database, truth, params)], params, version=version,
                              l2=l2)
    store_model(driver, database, model)
    return model
