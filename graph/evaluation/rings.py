"""Quality of detected rings against ground truth (``truth.csv`` of a generated population).

Pure functions over account ids; no database. Partition agreement is measured over the accounts that
truly belong to a ring, each detected ring a label and every other account its own singleton:

- adjusted Rand index (Hubert & Arabie, "Comparing partitions", J. Classification 2, 1985);
- normalised mutual information with the arithmetic-mean normalisation (Danon et al., "Comparing
  community structure identification", J. Stat. Mech. 2005; Vinh, Epps & Bailey, JMLR 11, 2010).

Ring level: a true ring is recovered when some detected ring has Jaccard >= ``match_jaccard`` with
it; precision is the share of detected rings that match a true ring. Account level: being in any
detected ring vs truly being in a ring. Contamination: benign members of the detected rings that
match a true ring, as a share of those rings' members. False-positive rate per benign cohort: the
share of that cohort's accounts placed in any detected ring.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["RingEvaluation", "adjusted_rand_index", "evaluate_rings", "normalized_mutual_info"]


@dataclass(frozen=True)
class RingEvaluation:
    """Detected rings scored against ground truth."""

    n_true_rings: int
    n_detected_rings: int
    ring_precision: float
    ring_recall: float
    ring_f1: float
    ari: float
    nmi: float
    account_precision: float
    account_recall: float
    contamination: float
    cohort_fp_rate: Mapping[str, float]
    benign_only_rings: int  # detected rings with no member of any true ring (families, colleagues)
    ring_precision_excluding_benign_groups: float

    def rows(self) -> list[tuple[str, str]]:
        """(metric, formatted value) pairs for printing a table."""
        rows = [
            ("true rings", str(self.n_true_rings)),
            ("detected rings", str(self.n_detected_rings)),
            ("ring precision", f"{self.ring_precision:.3f}"),
            ("ring recall", f"{self.ring_recall:.3f}"),
            ("ring F1", f"{self.ring_f1:.3f}"),
            ("ARI", f"{self.ari:.3f}"),
            ("NMI", f"{self.nmi:.3f}"),
            ("account precision", f"{self.account_precision:.3f}"),
            ("account recall", f"{self.account_recall:.3f}"),
            ("contamination", f"{self.contamination:.4f}"),
            ("benign-only detected rings", str(self.benign_only_rings)),
            ("ring precision w/o benign-only rings", f"{self.ring_precision_excluding_benign_groups:.3f}"),
        ]
        rows += [(f"false-positive rate, {c}", f"{v:.4f}") for c, v in sorted(self.cohort_fp_rate.items())]
        return rows


def evaluate_rings(
    detected: Sequence[Collection[str]],
    truth_ring: Mapping[str, str | None],
    truth_cohort: Mapping[str, str],
    *,
    match_jaccard: float = 0.5,
    actors_outside_rings: Collection[str] = (),
) -> RingEvaluation:
    """Score `detected` rings (sets of account ids) against each account's true ring and cohort.

    Accounts absent from `truth_ring` count as benign, except `actors_outside_rings`: accounts an
    operator controls without being one of its rings' members (earlier cases' accounts), which are
    neither benign nor ring members and so count toward neither contamination nor false positives.
    """
    accounts = sorted(set(truth_ring) | set(truth_cohort) | {a for ring in detected for a in ring})
    index = {a: i for i, a in enumerate(accounts)}
    n = len(accounts)
    true_names = sorted({r for r in truth_ring.values() if r})
    true_index = {r: i for i, r in enumerate(true_names)}
    true_label = np.full(n, -1, np.int64)
    for account, ring in truth_ring.items():
        if ring:
            true_label[index[account]] = true_index[ring]
    det_label = np.full(n, -1, np.int64)
    for k, members in enumerate(detected):
        det_label[[index[a] for a in members]] = k

    in_true = true_label >= 0
    in_det = det_label >= 0
    matched_det, recovered = _ring_matches(
        true_label, det_label, len(true_names), len(detected), match_jaccard
    )

    precision = _ratio(int(matched_det.sum()), len(detected))
    recall = _ratio(int(recovered.sum()), len(true_names))
    in_matched = in_det & np.r_[matched_det, False][det_label]  # det_label -1 -> False
    actor = np.zeros(n, bool)
    actor[[index[a] for a in actors_outside_rings if a in index]] = True
    benign = ~in_true & ~actor
    touched = np.zeros(len(detected), bool)
    touched[det_label[in_det & (in_true | actor)]] = True
    benign_only = int((~touched).sum())
    cohorts = np.array([truth_cohort.get(a, "") for a in accounts], dtype=object)
    fp_rate = {
        str(c): float(in_det[(cohorts == c) & benign].mean())
        for c in sorted({truth_cohort[a] for a in truth_cohort if not truth_ring.get(a)})
        if ((cohorts == c) & benign).any()
    }

    # Accounts outside every detected ring are singletons in the detected partition.
    singleton = len(detected) + np.arange(n)
    pred = np.where(in_det, det_label, singleton)
    return RingEvaluation(
        n_true_rings=len(true_names),
        n_detected_rings=len(detected),
        ring_precision=precision,
        ring_recall=recall,
        ring_f1=_f1(precision, recall),
        ari=adjusted_rand_index(true_label[in_true], pred[in_true]),
        nmi=normalized_mutual_info(true_label[in_true], pred[in_true]),
        account_precision=_ratio(int((in_det & in_true).sum()), int(in_det.sum())),
        account_recall=_ratio(int((in_det & in_true).sum()), int(in_true.sum())),
        contamination=_ratio(int((in_matched & benign).sum()), int(in_matched.sum())),
        cohort_fp_rate=fp_rate,
        benign_only_rings=benign_only,
        ring_precision_excluding_benign_groups=_ratio(int(matched_det.sum()), len(detected) - benign_only),
    )


def adjusted_rand_index(labels_true: npt.ArrayLike, labels_pred: npt.ArrayLike) -> float:
    """Adjusted Rand index of two labelings of the same items (1.0: identical partitions)."""
    cells, a, b, _, _ = _contingency(labels_true, labels_pred)
    n = float(a.sum())
    if n < 2:
        return 1.0
    sum_ij = float(_pairs(cells).sum())
    sum_a, sum_b = float(_pairs(a).sum()), float(_pairs(b).sum())
    expected = sum_a * sum_b / (n * (n - 1) / 2)
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        # Both partitions trivial (all singletons or one block): agreement is all there is.
        return 1.0 if sum_a == sum_b else 0.0
    return (sum_ij - expected) / (maximum - expected)


def normalized_mutual_info(labels_true: npt.ArrayLike, labels_pred: npt.ArrayLike) -> float:
    """Mutual information over the arithmetic mean of the two entropies (1.0: identical partitions)."""
    cells, a, b, row, col = _contingency(labels_true, labels_pred)
    n = float(a.sum())
    if n == 0:
        return 1.0
    h_a, h_b = _entropy(a / n), _entropy(b / n)
    if h_a == 0.0 and h_b == 0.0:
        return 1.0
    p = cells / n
    mi = float((p * np.log(p / ((a[row] / n) * (b[col] / n)))).sum())
    return max(0.0, min(1.0, mi / ((h_a + h_b) / 2)))


def _contingency(labels_true: npt.ArrayLike, labels_pred: npt.ArrayLike) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]:
    """Non-zero contingency cells with their row and column, and the two marginals (sparse)."""
    _, t = np.unique(np.asarray(labels_true), return_inverse=True)
    _, p = np.unique(np.asarray(labels_pred), return_inverse=True)
    t, p = t.ravel().astype(np.int64), p.ravel().astype(np.int64)
    if t.shape != p.shape:
        raise ValueError("labelings differ in length")
    width = int(p.max(initial=0)) + 1
    keys, cells = np.unique(t * width + p, return_counts=True)
    a = np.bincount(t).astype(np.float64)
    b = np.bincount(p).astype(np.float64)
    return cells.astype(np.float64), a, b, keys // width, keys % width


def _ring_matches(
    true_label: npt.NDArray[np.int64],
    det_label: npt.NDArray[np.int64],
    n_true: int,
    n_det: int,
    match_jaccard: float,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(detected ring matches some true ring, true ring is recovered by some detected ring)."""
    both = (true_label >= 0) & (det_label >= 0)
    pair_key = true_label[both] * max(n_det, 1) + det_label[both]
    keys, inter = np.unique(pair_key, return_counts=True)
    t, d = keys // max(n_det, 1), keys % max(n_det, 1)
    size_t = np.bincount(true_label[true_label >= 0], minlength=n_true)
    size_d = np.bincount(det_label[det_label >= 0], minlength=n_det)
    jac = inter / (size_t[t] + size_d[d] - inter)
    hit = jac >= match_jaccard
    matched = np.zeros(n_det, np.bool_)
    matched[d[hit]] = True
    recovered = np.zeros(n_true, np.bool_)
    recovered[t[hit]] = True
    return matched, recovered


def _pairs(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return x * (x - 1) / 2


def _entropy(p: npt.NDArray[np.float64]) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
