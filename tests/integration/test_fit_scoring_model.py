"""Fitting both scores on what the test database holds, and fitting coordination alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import neo4j
from graph.detection import DetectionParams
from graph.evaluation.truth import read_truth
from graph.generator import generate_population
from graph.pipeline.calibrate import database_population, fit_scoring_model
from graph.scoring import ATTRIBUTION_FEATURES, LogisticModel
from graph.settings import Settings

PARAMS = DetectionParams()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    generate_population(out, 2000, seed=8)
    return out


def test_a_kept_attribution_model_is_kept_and_coordination_is_fitted_as_in_a_whole_fit(
    loaded: neo4j.Driver, settings: Settings, population: Path
) -> None:
    labelled = database_population(loaded, settings.neo4j_database, read_truth(population / "truth.csv"), PARAMS)
    whole = fit_scoring_model([labelled], PARAMS, version="whole")
    kept = replace(whole, version="team-0", fitted_on="last year's cases", notes={"l2": 4.0},
                   attribution=LogisticModel(ATTRIBUTION_FEATURES, -3.0, (1.0, 2.0, 3.0, 0.5)))
    coordination_only = fit_scoring_model([labelled], PARAMS, version="coordination", keep_attribution_of=kept)
    assert coordination_only.attribution == kept.attribution != whole.attribution
    assert coordination_only.coordination == whole.coordination
    assert "attribution kept from team-0" in coordination_only.fitted_on
    assert coordination_only.notes["attribution_kept_from"] == {
        "version": "team-0", "fitted_on": "last year's cases", "notes": {"l2": 4.0}}
    assert "candidate attributions" in whole.fitted_on and "attribution_kept_from" not in whole.notes
