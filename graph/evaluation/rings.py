"""Quality of detected rings against ground truth (``truth.csv`` of a generated population).

Pure functions over account ids; no database. Partition agreement is measured over the accounts that
truly belong to a ring, each detected ring a label and every other account its own singleton:

- adjusted Rand index (Hubert & Arabie, "Comparing partitions", J. Classification 2, 1985);
- normalised mutual information with the arithmetic-mean normalisation (Danon et al., "Comparing
  community structure identification", J. Stat. Mech. 2005; Vinh, Epps & Bailey, JMLR 11, 2010).

Ring level: a true ring is recovered when some detected ring has Jaccard >= ``match_jaccard`` with
it; precision is the share of detected rings that match a true ring. Account level: being in any
detected ring vs truly being in a ring. Contamination: benign members of the detected rings that
match a true ring, as a share of those rings' members.

Per class of true ring: recall of the rings two or more of whose members used one same device or
card, and separately of the others (rings that share neither are found by behaviour or not at all),
by any detected ring and by a ring scored coordinated (>= ``COORDINATED``). Which rings share is
decided from the observations the run was detected on (`rings_sharing_device_or_card`).

Per cohort of accounts in no true ring (any cohort names the truth file uses): how many detection
placed in any ring, and how many in a ring scored coordinated, which is the cohort's false-positive
rate. Accounts an operator controls outside its rings are no cohort's false positives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.evaluation.truth import Truth
from graph.records import ScoredRing

__all__ = [
    "COORDINATED",
    "CohortFalsePositives",
    "RingClassRecall",
    "RingEvaluation",
    "adjusted_rand_index",
    "cohort_false_positives",
    "evaluate_rings",
    "normalized_mutual_info",
    "recall_by_device_sharing",
    "recovered_rings",
    "rings_sharing_device_or_card",
]

#: The coordination score from which a detected ring is reported as operated together.
COORDINATED: Final = 0.5


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
    # Share of each cohort's accounts placed in any of the rings evaluated, whatever their score.
    cohort_fp_rate: Mapping[str, float]
    benign_only_rings: int  # detected rings with no member of any true ring (families, colleagues)
    ring_precision_excluding_benign_groups: float

    def rows(self) -> list[tuple[str, str]]:
        """(metric, formatted value) pairs for printing a table."""
        return [
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
    true_names, true_label, det_label = _labels(index, truth_ring, detected)

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
    placed = {a for ring in detected for a in ring}
    fp_rate = {
        cohort: len(members & placed) / len(members)
        for cohort, members in _benign_cohorts(truth_ring, truth_cohort, actors_outside_rings).items()
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


@dataclass(frozen=True)
class RingClassRecall:
    """Recall over one class of true rings: those whose members share a device or card, or the others."""

    shares_device_or_card: bool
    true_rings: int
    recovered: int  # matched by some detected ring
    recovered_coordinated: int  # matched by a detected ring scored >= COORDINATED

    @property
    def recall(self) -> float:
        return _ratio(self.recovered, self.true_rings)

    @property
    def recall_coordinated(self) -> float:
        return _ratio(self.recovered_coordinated, self.true_rings)


@dataclass(frozen=True)
class CohortFalsePositives:
    """One cohort's accounts outside every true ring, and how many of them detection put in a ring."""

    cohort: str
    accounts: int
    placed: int  # members of any detected ring, whatever its score
    placed_coordinated: int  # members of a detected ring scored >= COORDINATED

    @property
    def placed_rate(self) -> float:
        return _ratio(self.placed, self.accounts)

    @property
    def false_positive_rate(self) -> float:
        """The share of the cohort in rings reported as operated together."""
        return _ratio(self.placed_coordinated, self.accounts)


def recovered_rings(
    detected: Sequence[Collection[str]], truth_ring: Mapping[str, str | None], *, match_jaccard: float = 0.5
) -> frozenset[str]:
    """The true rings that some detected ring matches with Jaccard >= `match_jaccard`."""
    accounts = sorted({a for a, ring in truth_ring.items() if ring} | {a for ring in detected for a in ring})
    index = {a: i for i, a in enumerate(accounts)}
    true_names, true_label, det_label = _labels(index, truth_ring, detected)
    _, recovered = _ring_matches(true_label, det_label, len(true_names), len(detected), match_jaccard)
    return frozenset(name for name, hit in zip(true_names, recovered, strict=True) if hit)


def rings_sharing_device_or_card(
    truth_ring: Mapping[str, str | None], devices_and_cards: Mapping[str, Collection[tuple[str, str]]]
) -> frozenset[str]:
    """The true rings in which one device or payment method is linked to two or more members.

    `devices_and_cards` maps an account to the (kind, key) of each device and payment method it used,
    as observed in the store the run was detected on; an account missing from it used none. Kind is
    part of the identity: a device and a card that happen to carry the same fingerprint are two things.
    """
    users = Counter(
        (ring, entity)
        for account, ring in truth_ring.items()
        if ring
        for entity in set(devices_and_cards.get(account, ()))
    )
    return frozenset(ring for (ring, _), count in users.items() if count >= 2)


def recall_by_device_sharing(
    rings: Sequence[ScoredRing], truth: Truth, sharing: Collection[str], *, match_jaccard: float = 0.5
) -> tuple[RingClassRecall, RingClassRecall]:
    """Recall of the true rings in `sharing` (those sharing a device or card), then of the others."""
    every = recovered_rings([r.members for r in rings], truth.ring, match_jaccard=match_jaccard)
    coordinated = recovered_rings(
        [r.members for r in rings if r.score >= COORDINATED], truth.ring, match_jaccard=match_jaccard
    )
    names = {ring for ring in truth.ring.values() if ring}
    shared = names & set(sharing)
    unshared = names - shared
    return (
        RingClassRecall(True, len(shared), len(shared & every), len(shared & coordinated)),
        RingClassRecall(False, len(unshared), len(unshared & every), len(unshared & coordinated)),
    )


def cohort_false_positives(rings: Sequence[ScoredRing], truth: Truth) -> list[CohortFalsePositives]:
    """Per cohort (in name order), its accounts in no true ring and how many of them are in a detected
    ring at all, and in one scored >= COORDINATED.

    Every cohort that has such accounts is reported, whatever its name: populations label their
    cohorts differently. Operators' accounts outside their rings (earlier cases) are left out.
    """
    placed = {a for ring in rings for a in ring.members}
    coordinated = {a for ring in rings if ring.score >= COORDINATED for a in ring.members}
    return [
        CohortFalsePositives(cohort, len(members), len(members & placed), len(members & coordinated))
        for cohort, members in _benign_cohorts(truth.ring, truth.cohort, truth.actors_outside_rings).items()
    ]


def _benign_cohorts(
    truth_ring: Mapping[str, str | None], truth_cohort: Mapping[str, str], actors_outside_rings: Collection[str]
) -> dict[str, set[str]]:
    """Cohort -> its accounts in no true ring and not an operator's, in cohort name order."""
    actors = set(actors_outside_rings)
    cohorts: dict[str, set[str]] = {}
    for account, cohort in truth_cohort.items():
        if not truth_ring.get(account) and account not in actors:
            cohorts.setdefault(cohort, set()).add(account)
    return dict(sorted(cohorts.items()))


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


def _labels(
    index: Mapping[str, int], truth_ring: Mapping[str, str | None], detected: Sequence[Collection[str]]
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(true ring names, each indexed account's true ring or -1, its detected ring or -1)."""
    true_names = sorted({r for r in truth_ring.values() if r})
    true_index = {r: i for i, r in enumerate(true_names)}
    true_label = np.full(len(index), -1, np.int64)
    for account, ring in truth_ring.items():
        if ring:
            true_label[index[account]] = true_index[ring]
    det_label = np.full(len(index), -1, np.int64)
    for k, members in enumerate(detected):
        det_label[[index[a] for a in members]] = k
    return true_names, true_label, det_label


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
