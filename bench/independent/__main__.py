"""python -m bench.independent --out DIR --accounts N --seed S [--describe]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .describe import describe
from .generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.independent", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="bundle directory to write (or describe)")
    parser.add_argument("--accounts", type=int, help="population size; omit with --describe to read DIR only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events-per-account", type=float, default=100.0)
    parser.add_argument("--plain-events", action="store_true", help="events.csv instead of events.csv.gz")
    parser.add_argument("--describe", action="store_true", help="print per-cohort counts, ring sizes, events")
    args = parser.parse_args(argv)
    if args.accounts is None and not args.describe:
        parser.error("--accounts is required unless --describe reads an existing bundle")
    if args.accounts is not None:
        summary = generate(args.out, args.accounts, args.seed, args.events_per_account, not args.plain_events)
        print(
            f"wrote {summary.directory}: {summary.accounts:,} accounts, {summary.rings} rings in "
            f"{summary.operations} operations, {summary.event_rows:,} event rows in {summary.seconds:.1f} s"
        )
    if args.describe:
        print(describe(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
