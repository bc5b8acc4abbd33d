"""Ground truth (`truth.csv`: account_id, ring_id, organization, cohort, and optionally operation_id), as
labelled data for eval."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from graph.errors import BundleError

__all__ = ["Truth", "read_truth"]

_COLUMNS = ("account_id", "ring_id", "organization", "cohort")


@dataclass(frozen=True)
class Truth:
    ring: dict[str, str | None]  # account -> true ring id, None if in no ring
    organization: dict[str, str | None]  # account -> organisation that operates it, None if none
    cohort: dict[str, str]
    # account -> the operation (one operator's campaigns) its ring belongs to; empty without the column
    operation: dict[str, str | None] = field(default_factory=dict)

    @property
    def ring_members(self) -> set[str]:
        """Accounts that belong to a true ring."""
        return {a for a, ring in self.ring.items() if ring}

    @property
    def actors_outside_rings(self) -> set[str]:
        """Accounts an organisation operates that belong to none of its rings (earlier cases)."""
        return {a for a, org in self.organization.items() if org and not self.ring.get(a)}

    def ring_organization(self) -> dict[str, str | None]:
        """True ring id -> the organisation it belongs to (None for rings of no known organisation)."""
        result: dict[str, str | None] = {}
        for account, ring in self.ring.items():
            if ring:
                result.setdefault(ring, self.organization.get(account))
        return result


def read_truth(path: Path) -> Truth:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BundleError(f"{path}: line 1: header lacks required field(s) {', '.join(missing)}")
        has_operation = "operation_id" in (reader.fieldnames or [])
        ring: dict[str, str | None] = {}
        organization: dict[str, str | None] = {}
        cohort: dict[str, str] = {}
        operation: dict[str, str | None] = {}
        for row in reader:
            account = row["account_id"].strip()
            ring[account] = row["ring_id"].strip() or None
            organization[account] = row["organization"].strip() or None
            cohort[account] = row["cohort"].strip()
            if has_operation:
                operation[account] = (row["operation_id"] or "").strip() or None
    return Truth(ring=ring, organization=organization, cohort=cohort, operation=operation)
