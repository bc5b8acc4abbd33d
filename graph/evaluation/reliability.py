"""Reliability of probabilities: the reliability table and expected calibration error.

ECE after Naeini, Cooper & Hauskrecht, "Obtaining well calibrated probabilities using Bayesian
binning", AAAI 2015: predictions are put in equal-width bins and ``ECE = Σ_b (n_b / n) · |mean
predicted_b - observed rate_b|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ReliabilityBin", "expected_calibration_error", "reliability_table"]


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of predictions ``[lower, upper)`` (the last bin includes 1)."""

    lower: float
    upper: float
    count: int
    mean_predicted: float
    observed_rate: float


def reliability_table(
    predicted: npt.NDArray[np.float64], outcome: npt.NDArray[np.bool_], n_bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; empty bins are kept (count 0, NaN means)."""
    p = np.asarray(predicted, np.float64)
    y = np.asarray(outcome, np.float64)
    if p.shape != y.shape:
        raise ValueError("predicted and outcome differ in length")
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise ValueError("predictions must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        sel = which == b
        count = int(sel.sum())
        bins.append(
            ReliabilityBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                count=count,
                mean_predicted=float(p[sel].mean()) if count else float("nan"),
                observed_rate=float(y[sel].mean()) if count else float("nan"),
            )
        )
    return bins


def expected_calibration_error(
    predicted: npt.NDArray[np.float64], outcome: npt.NDArray[np.bool_], n_bins: int = 10
) -> float:
    """Count-weighted mean gap between predicted probability and observed rate over the bins."""
    bins = reliability_table(predicted, outcome, n_bins)
    total = sum(b.count for b in bins)
    if total == 0:
        return 0.0
    return float(sum(b.count * abs(b.mean_predicted - b.observed_rate) for b in bins if b.count) / total)
