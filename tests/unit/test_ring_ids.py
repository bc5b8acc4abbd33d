"""Stable ring ids: matching by Jaccard, content-derived new ids, merge and split lineage.

New ids are pinned as literals (``printf 'a\\nb' | sha1sum`` gives fcd127ffa1...), not recomputed with the
formula under test: a change to how ids are derived would rename every ring analysts have on file.
"""

from __future__ import annotations

from graph.detection.ring_ids import LineageEvent, assign_ring_ids, content_ring_id

ID_AB = "ring-fcd127ffa1"  # members a, b
ID_CD = "ring-51e00cce84"
ID_XYZ = "ring-a831791a08"
ID_ABXY = "ring-bb12348754"
ID_GHIJ = "ring-223a1cc426"


def fs(*members: str) -> frozenset[str]:
    return frozenset(members)


def test_continuing_ring_keeps_its_id_and_new_ring_gets_content_id() -> None:
    previous = {"ring-old": fs("a", "b", "c", "d")}
    result = assign_ring_ids(previous, [["a", "b", "c", "e"], ["x", "y", "z"]])
    assert result.ids == ("ring-old", ID_XYZ)
    assert result.jaccard == (3 / 5, 0.0)
    assert result.matched == {"ring-old": "ring-old"}
    assert result.events == ()


def test_content_id_is_order_free_and_fixed() -> None:
    assert content_ring_id(["a", "b"]) == ID_AB
    assert content_ring_id(["b", "a"]) == ID_AB
    assert content_ring_id(frozenset({"x", "z", "y"})) == ID_XYZ
    assert content_ring_id(["a", "b"], digits=12) == "ring-fcd127ffa101"


def test_a_content_id_already_in_use_takes_more_digits() -> None:
    previous = {ID_AB: fs("q", "r", "s")}  # an old ring that happens to hold the id a, b would get
    result = assign_ring_ids(previous, [["a", "b"]])
    assert result.ids == ("ring-fcd127ffa101",)


def test_below_threshold_is_a_new_ring() -> None:
    previous = {"r1": fs("a", "b", "c", "d")}
    result = assign_ring_ids(previous, [["a", "b", "x", "y"]])  # Jaccard 2/6
    assert result.ids == (ID_ABXY,)
    assert result.events == (LineageEvent("dissolved", "", ("r1",), 0.0),)


def test_one_to_one_highest_jaccard_wins_ties_by_position() -> None:
    previous = {"r1": fs("a", "b", "c", "d")}
    # Both new rings have Jaccard 0.5 with r1; the first given keeps the id.
    result = assign_ring_ids(previous, [["a", "b"], ["c", "d"]])
    assert result.ids[0] == "r1"
    assert result.ids[1] == ID_CD
    split = [e for e in result.events if e.kind == "split"]
    assert split == [
        LineageEvent("split", "r1", ("r1",), 0.5),
        LineageEvent("split", ID_CD, ("r1",), 0.5),
    ]


def test_merge_of_two_old_rings() -> None:
    previous = {"r1": fs("a", "b", "c"), "r2": fs("d", "e", "f", "g", "h", "i")}
    new = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    result = assign_ring_ids(previous, [new])
    assert result.ids == ("r2",)  # Jaccard 6/9 beats 3/9
    assert result.events == (
        LineageEvent("merge", "r2", ("r1", "r2"), 1.0),
        LineageEvent("dissolved", "", ("r1",), 0.0),
    )


def test_split_into_two() -> None:
    previous = {"r1": fs(*"abcdefghij")}
    result = assign_ring_ids(previous, [list("abcdef"), list("ghij")])
    assert result.ids == ("r1", ID_GHIJ)
    assert [(e.kind, e.new_id, e.old_ids) for e in result.events] == [
        ("split", "r1", ("r1",)),
        ("split", ID_GHIJ, ("r1",)),
    ]
    assert result.events[1].jaccard == 0.4


def test_deterministic_whatever_the_iteration_order() -> None:
    previous = {"r2": fs("d", "e", "f"), "r1": fs("a", "b", "c")}
    new = [["f", "e", "d", "q"], ["c", "a", "b"]]
    first = assign_ring_ids(previous, new)
    second = assign_ring_ids(dict(reversed(list(previous.items()))), [list(reversed(r)) for r in new])
    assert first == second
    assert first.ids == ("r2", "r1")
