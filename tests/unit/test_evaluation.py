"""Evaluation metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from graph.evaluation.rings import adjusted_rand_index, evaluate_rings, normalized_mutual_info


def test_identical_partitions() -> None:
    assert adjusted_rand_index([0, 0, 1, 1, 2], [5, 5, 3, 3, 9]) == 1.0
    assert normalized_mutual_info([0, 0, 1, 1, 2], [5, 5, 3, 3, 9]) == pytest.approx(1.0)


def test_ari_hand_computed() -> None:
    # true {0,1,2},{3,4,5}; pred {0,1},{2,3},{4,5}: sum_ij=2, sum_a=6, sum_b=3, pairs=15
    expected = (2 - 6 * 3 / 15) / ((6 + 3) / 2 - 6 * 3 / 15)
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(expected)


def test_nmi_hand_computed() -> None:
    # true {0,1},{2,3}; pred all together: MI 0, so NMI 0.
    assert normalized_mutual_info([0, 0, 1, 1], [0, 0, 0, 0]) == 0.0
    # true {0,1},{2,3}; pred {0},{1},{2,3}: H(true)=ln2, H(pred)=1.5 ln2, MI=ln2
    assert normalized_mutual_info([0, 0, 1, 1], [0, 1, 2, 2]) == pytest.approx(
        math.log(2) / ((math.log(2) + 1.5 * math.log(2)) / 2)
    )


def test_evaluate_rings() -> None:
    truth_ring: dict[str, str | None] = {
        **{f"a{i}": "A" for i in range(4)},
        **{f"b{i}": "B" for i in range(4)},
        **{f"u{i}": None for i in range(6)},
    }
    cohort = {a: ("ring" if r else ("nat" if a < "u3" else "home")) for a, r in truth_ring.items()}
    detected = [
        ["a0", "a1", "a2", "a3", "u0"],  # matches A (Jaccard 4/5), one benign member
        ["b0", "b1"],  # Jaccard 2/4 with B: matches at exactly 0.5
        ["u4", "u5", "u3"],  # benign only
    ]
    ev = evaluate_rings(detected, truth_ring, cohort)
    assert (ev.n_true_rings, ev.n_detected_rings) == (2, 3)
    assert ev.ring_recall == 1.0
    assert ev.ring_precision == pytest.approx(2 / 3)
    assert ev.ring_f1 == pytest.approx(0.8)
    assert ev.account_precision == pytest.approx(6 / 10)
    assert ev.account_recall == pytest.approx(6 / 8)
    assert ev.contamination == pytest.approx(1 / 7)
    assert ev.cohort_fp_rate == {"home": pytest.approx(1.0), "nat": pytest.approx(1 / 3)}
    # Over true-ring accounts: true A A A A B B B B, pred r0 r0 r0 r0 r1 r1 s s
    assert ev.ari == pytest.approx(adjusted_rand_index([0] * 4 + [1] * 4, [0] * 4 + [1, 1, 2, 3]))
    assert ("ring F1", "0.800") in ev.rows()


def test_nothing_detected() -> None:
    ev = evaluate_rings([], {"a": "A", "b": "A", "c": None}, {"a": "ring", "b": "ring", "c": "home"})
    assert (ev.ring_f1, ev.account_recall, ev.contamination) == (0.0, 0.0, 0.0)
    assert ev.cohort_fp_rate == {"home": 0.0}
