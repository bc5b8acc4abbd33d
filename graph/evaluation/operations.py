"""Quality of operations (rings grouped by operator) against ground truth with an ``operation_id``.

A detected ring stands for the true ring (campaign) it holds most of, when it holds at least half
of its own members from that ring (so a ring of benign accounts stands for nothing). Then:

- a true operation of two or more campaigns is **grouped** when at least two of its campaigns are
  found and all its found campaigns sit in one detected operation; ``found`` counts those with two or
  more campaigns found, the denominator of the grouping rate;
- a detected operation of two or more rings **mixes operators** when its rings stand for campaigns of
  two or more operators, an operator being the named organisation behind an operation or, for an
  anonymous one, the operation itself; ``same_org`` counts the detected operations that group
  separate true operations of one organisation (one actor: a known member or the organisation's
  own network ties them, as it should);
- ``with_benign`` counts detected operations of two or more rings where a ring that stands for no
  true ring (benign accounts, mostly) sits beside one that stands for an operator's campaign;
- a detected ring **fuses** campaigns when two or more campaigns of one operation each put at least
  two members in it: the error a campaign-blind merge makes;
- a detected ring **mixes operators** when campaigns of two or more operators each put at least two
  members in it: a suspension list that holds two actors, the worse error (an operator as above).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["OperationEvaluation", "evaluate_operations"]


@dataclass(frozen=True)
class OperationEvaluation:
    true_operations: int  # true operations of two or more campaigns
    found: int  # of those, with two or more campaigns found as rings
    grouped: int  # of those found, all found campaigns in one detected operation
    operations: int  # detected operations of two or more rings
    mixed: int
    same_org: int
    with_benign: int
    fused_rings: int
    mixing_rings: int

    @property
    def grouped_rate(self) -> float:
        return self.grouped / self.found if self.found else 0.0

    @property
    def mixed_rate(self) -> float:
        return self.mixed / self.operations if self.operations else 0.0

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("true operations of 2+ campaigns", str(self.true_operations)),
            ("  with 2+ campaigns found", str(self.found)),
            ("  grouped under one operation", f"{self.grouped} ({self.grouped_rate:.3f})"),
            ("found operations of 2+ rings", str(self.operations)),
            ("  mixing operators", f"{self.mixed} ({self.mixed_rate:.3f})"),
            ("  grouping one organisation's operations", str(self.same_org)),
            ("  holding a benign ring beside a campaign", str(self.with_benign)),
            ("rings fusing campaigns of one operator", str(self.fused_rings)),
            ("rings mixing operators", str(self.mixing_rings)),
        ]


def evaluate_operations(
    rings: Sequence[Sequence[str]],
    operation_of_ring: Sequence[str],
    truth_ring: Mapping[str, str | None],
    truth_operation: Mapping[str, str | None],
    truth_organization: Mapping[str, str | None],
) -> OperationEvaluation:
    """Score detected `rings` (member ids) grouped by `operation_of_ring` against the truth maps
    (account -> true ring, -> true operation, -> organisation)."""
    ring_operation: dict[str, str] = {}
    ring_org: dict[str, str | None] = {}
    for account, ring in truth_ring.items():
        operation = truth_operation.get(account)
        if ring and operation:
            ring_operation[ring] = operation
            ring_org.setdefault(ring, truth_organization.get(account))
    campaigns: dict[str, set[str]] = defaultdict(set)
    for ring, operation in ring_operation.items():
        campaigns[operation].add(ring)

    stands_for: list[str | None] = []
    fused = mixing = 0
    for members in rings:
        counts = Counter(truth_ring.get(a) for a in members if truth_ring.get(a))
        top = min(counts.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        stands_for.append(top[0] if top is not None and 2 * top[1] >= len(members) else None)
        held = [r for r, n in counts.items() if n >= 2 and r in ring_operation]
        fused += any(n >= 2 for n in Counter(ring_operation[r] for r in held).values())
        mixing += len({ring_org[r] or ring_operation[r] for r in held}) >= 2

    found_in: dict[str, set[str]] = defaultdict(set)  # true operation -> detected operations of its campaigns
    found_campaigns: dict[str, set[str]] = defaultdict(set)
    detected: dict[str, set[str]] = defaultdict(set)  # detected operation -> true rings its rings stand for
    benign: set[str] = set()  # detected operations holding a ring that stands for no campaign
    for true_ring, operation in zip(stands_for, operation_of_ring, strict=True):
        if true_ring is None or true_ring not in ring_operation:
            benign.add(operation)
            continue
        found_in[ring_operation[true_ring]].add(operation)
        found_campaigns[ring_operation[true_ring]].add(true_ring)
        detected[operation].add(true_ring)

    multi = [o for o, rs in campaigns.items() if len(rs) >= 2]
    found = [o for o in multi if len(found_campaigns[o]) >= 2]
    grouped = sum(1 for o in found if len(found_in[o]) == 1)
    sizes = Counter(operation_of_ring)
    mixed = same_org = 0
    for operation, count in sizes.items():
        if count < 2:
            continue
        true_rings = detected.get(operation, set())
        operators = {ring_org[r] or ring_operation[r] for r in true_rings}
        mixed += len(operators) >= 2
        same_org += len(operators) == 1 and len({ring_operation[r] for r in true_rings}) >= 2
    return OperationEvaluation(
        true_operations=len(multi),
        found=len(found),
        grouped=grouped,
        operations=sum(1 for c in sizes.values() if c >= 2),
        mixed=mixed,
        same_org=same_org,
        with_benign=sum(1 for o in benign if sizes[o] >= 2 and detected.get(o)),
        fused_rings=fused,
        mixing_rings=mixing,
    )
