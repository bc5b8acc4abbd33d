"""Fitting, storing and checking the calibration of scoring models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graph.evaluation.reliability import expected_calibration_error, reliability_table
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    LogisticModel,
    ScoringModel,
    fit,
    load_model,
    save_model,
)


def test_fit_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40_000, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, 3.0]
    beta = np.array([1.5, -0.8, 0.6])
    p = 1.0 / (1.0 + np.exp(-(-0.5 + x @ beta)))
    y = rng.random(p.shape[0]) < p
    model = fit(x, y, ("a", "b", "c"), l2=1e-3)
    assert np.allclose(model.coefficients, beta, atol=0.06)
    assert model.intercept == pytest.approx(-0.5, abs=0.15)


def test_nonnegative_coefficients_stay_nonnegative() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5_000, 2))
    y = rng.random(5_000) < 1.0 / (1.0 + np.exp(x[:, 0]))  # feature "a" lowers the odds
    model = fit(x, y, ("a", "b"), nonnegative=("a",))
    assert model.coefficients[0] == 0.0


def test_an_unweighted_feature_gets_no_weight_however_telling_and_the_others_take_it_up() -> None:
    rng = np.random.default_rng(5)
    signal = rng.normal(size=5_000)
    x = np.c_[signal + rng.normal(scale=0.3, size=5_000), signal]  # "b" is the signal, "a" a noisy copy
    y = rng.random(5_000) < 1.0 / (1.0 + np.exp(-2.0 * signal))
    weighed = fit(x, y, ("a", "b"), nonnegative=("a", "b"))
    assert weighed.coefficients[1] > 1.0
    model = fit(x, y, ("a", "b"), nonnegative=("a", "b"), unweighted=("b",))
    assert model.coefficients[1] == 0.0
    assert model.coefficients[0] > 1.0


@pytest.mark.parametrize("usage_log", [True, False])
def test_the_shipped_models_weigh_no_unweighted_coordination_feature(usage_log: bool) -> None:
    from graph.scoring import UNWEIGHTED_COORDINATION, default_model

    coordination = default_model(usage_log=usage_log).coordination
    weights = dict(zip(coordination.features, coordination.coefficients, strict=True))
    assert all(weights[f] == 0.0 for f in UNWEIGHTED_COORDINATION)


def test_fit_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2_000, 2))
    y = rng.random(2_000) < 0.3
    assert fit(x, y, ("a", "b")) == fit(x, y, ("a", "b"))


def test_ece_of_a_calibrated_predictor_is_about_zero() -> None:
    rng = np.random.default_rng(11)
    p = rng.random(400_000)
    y = rng.random(p.shape[0]) < p
    assert expected_calibration_error(p, y) < 0.005
    # exactly calibrated bins: 0.25 predicted, one in four happens
    exact_p = np.full(8, 0.25)
    exact_y = np.array([1, 0, 0, 0, 1, 0, 0, 0], bool)
    assert expected_calibration_error(exact_p, exact_y) == pytest.approx(0.0)


def test_ece_of_an_overconfident_predictor_is_large() -> None:
    p = np.full(1_000, 0.9)
    y = np.arange(1_000) % 2 == 0
    assert expected_calibration_error(p, y) == pytest.approx(0.4)


def test_reliability_table_bins() -> None:
    p = np.array([0.05, 0.07, 0.55, 1.0])
    y = np.array([False, True, True, True])
    bins = reliability_table(p, y, n_bins=10)
    assert [b.count for b in bins] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert bins[0].mean_predicted == pytest.approx(0.06)
    assert bins[0].observed_rate == pytest.approx(0.5)


def test_model_round_trips_through_json(tmp_path: Path) -> None:
    model = ScoringModel(
        "v-test",
        "unit test",
        LogisticModel(COORDINATION_FEATURES, -2.0, tuple(float(i) for i in range(len(COORDINATION_FEATURES)))),
        LogisticModel(ATTRIBUTION_FEATURES, -1.0, tuple(0.5 for _ in ATTRIBUTION_FEATURES)),
        {"rows": 3},
    )
    path = tmp_path / "model.json"
    save_model(model, path)
    assert load_model(path) == model
    first = path.read_bytes()
    save_model(load_model(path), path)
    assert path.read_bytes() == first
