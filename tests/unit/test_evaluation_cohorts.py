"""Recall by whether a true ring's members share a device or card, and false positives per cohort."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from rich.console import Console

from graph.cli.render import print_cohort_false_positives, print_recall_by_device_sharing
from graph.evaluation.rings import (
    CohortFalsePositives,
    RingClassRecall,
    cohort_false_positives,
    evaluate_rings,
    recall_by_device_sharing,
    recovered_rings,
    rings_sharing_device_or_card,
)
from graph.evaluation.truth import Truth
from graph.records import ScoredRing


def _truth(rows: Sequence[tuple[str, str | None, str | None, str]]) -> Truth:
    """Truth from (account, ring, organisation, cohort) rows."""
    return Truth(
        ring={a: r for a, r, _, _ in rows},
        organization={a: o for a, _, o, _ in rows},
        cohort={a: c for a, _, _, c in rows},
    )


def _ring(members: str, score: float) -> ScoredRing:
    return ScoredRing(members=frozenset(members.split()), score=score, attributions=())


def test_a_ring_shares_only_what_two_of_its_own_members_used() -> None:
    truth_ring: dict[str, str | None] = {
        "a0": "A", "a1": "A",  # one device between them
        "b0": "B", "b1": "B",  # equal strings, but one is a device and the other a card
        "c0": "C", "c1": "C",  # c0's device is shared with u0, who is in no ring
        "d0": "D", "d1": "D",  # d0's card listed twice is still one member's
        "e0": "E", "e1": "E",  # no device or card observed at all
        "u0": None,
    }
    used = {
        "a0": [("device", "d1")], "a1": [("device", "d1"), ("payment", "p9")],
        "b0": [("device", "x")], "b1": [("payment", "x")],
        "c0": [("device", "c-dev")], "u0": [("device", "c-dev")],
        "d0": [("payment", "p"), ("payment", "p")], "d1": [("payment", "q")],
    }
    assert rings_sharing_device_or_card(truth_ring, used) == {"A"}


def test_recovered_rings_need_jaccard_one_half() -> None:
    truth_ring: dict[str, str | None] = {"a0": "A", "a1": "A", "b0": "B", "b1": "B", "b2": "B", "u": None}
    # {b0, u} against B = {b0, b1, b2}: 1/4 < 0.5; {a0, u} against A: 1/3.
    assert recovered_rings([["a0", "a1", "u"], ["b0", "u"]], truth_ring) == {"A"}
    assert recovered_rings([["a0", "u"]], truth_ring) == frozenset()


def test_recall_is_split_by_whether_the_ring_shares_a_device_or_card() -> None:
    truth = _truth(
        [(f"a{i}", "A", None, "ring") for i in range(3)]
        + [(f"b{i}", "B", None, "ring") for i in range(3)]
        + [(f"c{i}", "C", None, "ring") for i in range(3)]
    )
    rings = [_ring("a0 a1 a2", 0.9), _ring("b0 b1", 0.2)]  # C is missed
    shared, unshared = recall_by_device_sharing(rings, truth, {"A"})
    assert shared == RingClassRecall(True, true_rings=1, recovered=1, recovered_coordinated=1)
    assert unshared == RingClassRecall(False, true_rings=2, recovered=1, recovered_coordinated=0)
    assert (unshared.recall, unshared.recall_coordinated) == (0.5, 0.0)


def test_every_cohort_outside_the_true_rings_is_reported_with_both_rates() -> None:
    truth = _truth(
        [(f"r{i}", "R", "Acme", "operated") for i in range(3)]
        + [("p0", None, "Acme", "earlier_case")]  # an operator's account outside its rings
        + [("h0", None, None, "household"), ("h1", None, None, "household"), ("h2", None, None, "household")]
        + [("k0", None, None, "classroom"), ("k1", None, None, "classroom")]
        + [("z0", None, None, "zzz_nobody_placed")]
    )
    rings = [_ring("r0 r1 r2 h0 p0", 0.9), _ring("h1 k0", 0.3)]
    cohorts = cohort_false_positives(rings, truth)
    assert cohorts == [
        CohortFalsePositives("classroom", accounts=2, placed=1, placed_coordinated=0),
        CohortFalsePositives("household", accounts=3, placed=2, placed_coordinated=1),
        CohortFalsePositives("zzz_nobody_placed", accounts=1, placed=0, placed_coordinated=0),
    ]
    household = cohorts[1]
    assert household.placed_rate == pytest.approx(2 / 3)
    assert household.false_positive_rate == pytest.approx(1 / 3)
    # evaluate_rings' per-cohort figure is the same "placed in any ring" share.
    ev = evaluate_rings([r.members for r in rings], truth.ring, truth.cohort,
                        actors_outside_rings=truth.actors_outside_rings)
    assert ev.cohort_fp_rate == {c.cohort: pytest.approx(c.placed_rate) for c in cohorts}


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=80, color_system=None, force_terminal=False), out


def _body_rows(printed: str) -> dict[str, list[str]]:
    """A printed table's body rows by their first cell."""
    cells = ([cell.strip() for cell in line.strip("│ ").split("│")] for line in printed.splitlines()
             if line.startswith("│"))
    return {row[0]: row[1:] for row in cells}


def test_cohort_table_shows_counts_and_percentages_with_names_printed_literally() -> None:
    console, out = _console()
    print_cohort_false_positives(console, [
        CohortFalsePositives("[bold]x[/]", accounts=1200, placed=30, placed_coordinated=6),
        CohortFalsePositives("", accounts=4, placed=0, placed_coordinated=0),
    ])
    assert _body_rows(out.getvalue()) == {
        "[bold]x[/]": ["1,200", "30", "2.50%", "6", "0.50%"],
        "(no cohort)": ["4", "0", "0.00%", "0", "0.00%"],
    }


def test_an_empty_ring_class_has_no_recall_rather_than_zero() -> None:
    console, out = _console()
    print_recall_by_device_sharing(console, [
        RingClassRecall(True, true_rings=4, recovered=3, recovered_coordinated=2),
        RingClassRecall(False, true_rings=0, recovered=0, recovered_coordinated=0),
    ])
    assert _body_rows(out.getvalue()) == {
        "a device or card": ["4", "3", "0.750", "2", "0.500"],
        "no device or card": ["0", "0", "-", "0", "-"],
    }
