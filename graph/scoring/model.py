"""Logistic models behind both scores, their fitting, and the versioned JSON they are stored in.

A score is ``sigmoid(b0 + Σ_j β_j x_j)``: in splink's terms (Fellegi & Sunter, "A theory for record
linkage", JASA 1969; splink's match weights) ``b0`` is the prior log odds and each ``β_j x_j`` a
log-likelihood ratio, which is what logistic regression estimates when the features are the evidence
(the discriminative reading of naive Bayes; Ng & Jordan, NIPS 2001). Features are built so that
correlated evidence enters once (see :mod:`graph.scoring.coordination`).

:func:`fit` minimises the L2-penalised negative log-likelihood with L-BFGS-B (scipy) on standardised
features and maps the coefficients back, so the stored ``β`` apply to raw feature values. A feature can
be constrained to a non-negative coefficient: evidence of sharing may count for a ring, never against.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize

from graph.scoring.features import ATTRIBUTION_FEATURES, COORDINATION_FEATURES

__all__ = [
    "DEFAULT_MODEL_PATH",
    "FORMAT_VERSION",
    "INFRA_MODEL_PATH",
    "LogisticModel",
    "ScoringModel",
    "default_model",
    "fit",
    "load_model",
    "model_from_json",
    "model_to_json",
    "save_model",
]

FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = Path(__file__).with_name("default_model.json")
INFRA_MODEL_PATH = Path(__file__).with_name("default_model_infra.json")

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LogisticModel:
    """``P = sigmoid(intercept + Σ coefficients[j] · x[j])`` over the named features."""

    features: tuple[str, ...]
    intercept: float
    coefficients: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.features) != len(self.coefficients):
            raise ValueError("one coefficient per feature")

    def contributions(self, x: Floats) -> Floats:
        """Per row, per feature: ``β_j x_j`` (the log-likelihood ratios)."""
        out: Floats = np.asarray(x, np.float64) * np.asarray(self.coefficients, np.float64)
        return out

    def log_odds(self, x: Floats) -> Floats:
        """Per row: intercept plus the summed contributions."""
        out: Floats = self.intercept + self.contributions(np.atleast_2d(x)).sum(axis=1)
        return out

    def predict(self, x: Floats) -> Floats:
        """Per row: the probability."""
        z = self.log_odds(x)
        out: Floats = 0.5 * (1.0 + np.tanh(0.5 * z))
        return out

    def to_json(self) -> dict[str, Any]:
        """``{"intercept": b0, "coefficients": {feature: β}}``."""
        return {
            "intercept": self.intercept,
            "coefficients": dict(zip(self.features, self.coefficients, strict=True)),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any], features: Sequence[str]) -> LogisticModel:
        """Coefficients by name; a feature missing from `data` gets 0 (it cannot move the score)."""
        coef = data.get("coefficients", {})
        unknown = set(coef) - set(features)
        if unknown:
            raise ValueError(f"model has coefficients for unknown features {sorted(unknown)}")
        return LogisticModel(
            tuple(features), float(data["intercept"]), tuple(float(coef.get(f, 0.0)) for f in features)
        )


def fit(
    features: Floats,
    labels: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | npt.NDArray[np.float64],
    names: Sequence[str],
    *,
    l2: float = 1.0,
    nonnegative: Sequence[str] = (),
    unweighted: Sequence[str] = (),
    weights: Floats | None = None,
) -> LogisticModel:
    """Regularised logistic regression: ``argmin Σ w_i · NLL_i + l2/2 · ||β_std||²``.

    `features` is (rows, len(names)); `labels` 0/1. Coefficients are penalised on the standardised
    scale (the intercept is not), those named in `nonnegative` are kept ``>= 0`` and those named in
    `unweighted` at 0. Deterministic.
    """
    x = np.asarray(features, np.float64)
    y = np.asarray(labels, np.float64)
    if x.ndim != 2 or x.shape[1] != len(names) or x.shape[0] != y.shape[0]:
        raise ValueError(f"features {x.shape} do not match {len(names)} names and {y.shape[0]} labels")
    w = np.ones_like(y) if weights is None else np.asarray(weights, np.float64)
    mean = x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1])
    scale = x.std(axis=0) if x.shape[0] else np.ones(x.shape[1])
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (x - mean) / scale

    def objective(theta: Floats) -> tuple[float, Floats]:
        eta = theta[0] + z @ theta[1:]
        # log(1 + e^eta) - y·eta, stably
        nll = np.logaddexp(0.0, eta) - y * eta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))
        r = w * (p - y)
        grad = np.empty_like(theta)
        grad[0] = r.sum()
        grad[1:] = z.T @ r + l2 * theta[1:]
        return float((w * nll).sum() + 0.5 * l2 * float(theta[1:] @ theta[1:])), grad

    held, floored = set(unweighted), set(nonnegative)
    bounds: list[tuple[float | None, float | None]] = [(None, None)]
    bounds += [(0.0, 0.0) if n in held else (0.0, None) if n in floored else (None, None) for n in names]
    result = optimize.minimize(
        objective,
        np.zeros(len(names) + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "ftol": 1e-12, "gtol": 1e-9},
    )
    theta = np.asarray(result.x, np.float64)
    beta = theta[1:] / scale
    intercept = float(theta[0] - (beta * mean).sum())
    return LogisticModel(tuple(names), intercept, tuple(float(b) for b in beta))


@dataclass(frozen=True)
class ScoringModel:
    """Both scores' parameters, with the version and the data they were fitted on."""

    version: str
    fitted_on: str
    coordination: LogisticModel
    attribution: LogisticModel
    notes: Mapping[str, Any] = field(default_factory=dict)


def model_to_json(model: ScoringModel) -> str:
    """`model` as JSON text (stable key order, so the same model gives the same bytes)."""
    data = {
        "format": FORMAT_VERSION,
        "version": model.version,
        "fitted_on": model.fitted_on,
        "coordination": model.coordination.to_json(),
        "attribution": model.attribution.to_json(),
        "notes": dict(model.notes),
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def model_from_json(text: str, origin: str = "model") -> ScoringModel:
    """Read a model written by :func:`model_to_json`; refuses another format version."""
    data = json.loads(text)
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"{origin}: model format {data.get('format')!r}, expected {FORMAT_VERSION}")
    for part in ("coordination", "attribution"):
        if not math.isfinite(float(data[part]["intercept"])):
            raise ValueError(f"{origin}: {part} intercept is not finite")
    return ScoringModel(
        version=str(data["version"]),
        fitted_on=str(data["fitted_on"]),
        coordination=LogisticModel.from_json(data["coordination"], COORDINATION_FEATURES),
        attribution=LogisticModel.from_json(data["attribution"], ATTRIBUTION_FEATURES),
        notes=dict(data.get("notes", {})),
    )


def save_model(model: ScoringModel, path: Path) -> None:
    path.write_text(model_to_json(model), encoding="utf-8")


def load_model(path: Path) -> ScoringModel:
    return model_from_json(path.read_text(encoding="utf-8"), str(path))


def default_model(*, usage_log: bool = True) -> ScoringModel:
    """The shipped parameters, fitted by bench/offline_scoring.py --fit: ``default_model.json`` on
    populations with a usage log, ``default_model_infra.json`` (2026.11-1) on populations without one.
    Fitted with a usage log, the infrastructure features weigh less (behaviour carries part of the
    evidence), so a store without one is scored by the model fitted for that case."""
    return load_model(DEFAULT_MODEL_PATH if usage_log else INFRA_MODEL_PATH)
