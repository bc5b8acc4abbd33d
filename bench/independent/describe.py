"""`--describe`: what a written bundle holds, per cohort (accounts, rings, events), read back from
its files, so it describes any bundle of this layout and not the generator's intentions.
"""

from __future__ import annotations

import csv
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["describe"]

_SIZE_BINS = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**9)


def _events_path(directory: Path) -> Path | None:
    for name in ("events.csv.gz", "events.csv"):
        if (directory / name).exists():
            return directory / name
    return None


def describe(directory: Path) -> str:
    with open(directory / "truth.csv", newline="") as handle:
        truth = list(csv.DictReader(handle))
    cohorts = Counter(row["cohort"] for row in truth)
    ring_sizes = Counter(row["ring_id"] for row in truth if row["ring_id"])
    operations: dict[str, set[str]] = {}
    for row in truth:
        if row["ring_id"]:
            operations.setdefault(row["operation_id"], set()).add(row["ring_id"])
    named = {row["ring_id"] for row in truth if row["ring_id"] and row["organization"]}
    lines = [f"bundle {directory}", f"accounts {len(truth):,}", "", "cohort                 accounts      share"]
    for name, count in sorted(cohorts.items(), key=lambda kv: -kv[1]):
        lines.append(f"{name:<22} {count:>8,} {count / len(truth):>9.2%}")
    sizes = np.array(sorted(ring_sizes.values()))
    lines += [
        "",
        f"rings {sizes.size:,} in {len(operations):,} operations "
        f"({sum(len(r) > 1 for r in operations.values())} with several campaigns, "
        f"{sum(len(r) for r in operations.values() if len(r) > 1)} rings in them); "
        f"{len(named)} rings of a named organisation",
    ]
    if sizes.size:
        lines.append(
            f"ring size: min {sizes.min()}, median {np.median(sizes):.0f}, mean {sizes.mean():.1f}, "
            f"p90 {np.percentile(sizes, 90):.0f}, p99 {np.percentile(sizes, 99):.0f}, max {sizes.max()}"
        )
        lines.append("size range        rings   accounts")
        for lo, hi in pairwise(_SIZE_BINS):
            inside = sizes[(sizes >= lo) & (sizes < hi)]
            if inside.size:
                label = f"{lo}-{hi - 1}" if hi < 10**9 else f"{lo}+"
                lines.append(f"{label:<15} {inside.size:>7,} {inside.sum():>10,}")
    path = _events_path(directory)
    if path is not None:
        lines += ["", *_events(path, truth)]
    for name in ("accounts.csv", "links.csv", "known.csv", "ip_ranges.csv", "truth.csv", path.name if path else ""):
        if name and (directory / name).exists():
            lines.append(f"{name:<16} {(directory / name).stat().st_size / 2**20:>10.1f} MiB")
    return "\n".join(lines)


def _events(path: Path, truth: list[dict[str, str]]) -> list[str]:
    ids = pa.array([row["account_id"] for row in truth], pa.string())
    names = sorted({row["cohort"] for row in truth})
    code = np.array([names.index(row["cohort"]) for row in truth])
    rows = np.zeros(len(names), np.int64)
    requests = np.zeros(len(names), np.int64)
    hidden = np.zeros(len(names), np.int64)
    active: list[set[int]] = [set() for _ in names]
    options = pacsv.ConvertOptions(
        include_columns=["account_id", "prompt_fingerprint", "count"],
        column_types={"account_id": pa.string(), "prompt_fingerprint": pa.string(), "count": pa.int64()},
        strings_can_be_null=False,
    )
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 25), convert_options=options)
    for batch in reader:
        where = pc.index_in(batch.column("account_id"), value_set=ids).to_numpy(zero_copy_only=False)
        cohort = code[where.astype(np.int64)]
        rows += np.bincount(cohort, minlength=len(names))
        requests += np.bincount(cohort, weights=batch.column("count").to_numpy(), minlength=len(names)).astype(np.int64)
        fp = pc.not_equal(batch.column("prompt_fingerprint"), "").to_numpy(zero_copy_only=False)
        hidden += np.bincount(cohort[fp], minlength=len(names))
        for c in range(len(names)):
            active[c].update(np.unique(where[cohort == c]).tolist())
    total = rows.sum()
    out = [
        f"events {total:,} rows, {requests.sum():,} requests",
        "",
        "cohort                     rows    share   per active account  fingerprint-only",
    ]
    for c in np.argsort(-rows):
        per = rows[c] / max(1, len(active[c]))
        out.append(
            f"{names[c]:<22} {rows[c]:>10,} {rows[c] / total:>8.2%} {per:>12,.0f} ({len(active[c]):,})"
            f" {hidden[c] / max(rows[c], 1):>10.1%}"
        )
    return out
