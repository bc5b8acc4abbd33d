"""An incremental run after a small load, against a whole run on the same data. Not a test; prints a table.

    python bench/incremental.py --accounts 100000
    python bench/incremental.py --accounts 1000000 --changes 1000

A generated population (reused from --cache, as bench/first_load.py makes it) is split: --changes
links rows drawn at random (seeded) are held back, the rest is bulk-imported (`ringtrace import`)
into a fresh Neo4j on port 7696 (heap and page cache 2 GiB each) and detected in whole (the base
run). Then the held rows are loaded online, and `detect --incremental` and a whole `detect` run on
the same data. The table gives each run's wall seconds, its stages and whether its rings (ids and
members) are the whole run's.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import neo4j
from graph import local_server
from graph.detection import DetectionParams
from graph.generator import generate_population
from graph.ingest.first_load import import_bundle
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import RunSummary, run_detection
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.runs import read_ring_members

_PORT = 7696


def _server(home: Path) -> Settings:
    return Settings(NEO4J_URI=f"bolt://127.0.0.1:{_PORT}", RINGTRACE_NEO4J_BOLT_PORT=_PORT,
                    RINGTRACE_NEO4J_HTTP_PORT=_PORT + 100, RINGTRACE_NEO4J_HOME=home,
                    RINGTRACE_NEO4J_HEAP="2g", RINGTRACE_NEO4J_PAGECACHE="2g")


def _split(bundle: Path, changes: int, seed: int, first: Path, later: Path) -> None:
    """`later`: `changes` links rows of `bundle` drawn at random; `first`: the bundle without them."""
    first.mkdir()
    later.mkdir()
    lines = (bundle / "links.csv").read_bytes().splitlines(keepends=True)
    held = set(random.Random(seed).sample(range(1, len(lines)), changes))
    (first / "links.csv").write_bytes(b"".join(line for i, line in enumerate(lines) if i not in held))
    (later / "links.csv").write_bytes(lines[0] + b"".join(lines[i] for i in sorted(held)))
    for path in bundle.iterdir():
        if path.name != "links.csv" and not path.name.startswith("truth"):
            (first / path.name).symlink_to(path)


def _timed(
    driver: neo4j.Driver, settings: Settings, params: DetectionParams, *, incremental: bool
) -> tuple[RunSummary, float]:
    started = time.perf_counter()
    summary = run_detection(driver, settings.neo4j_database, params, incremental=incremental)
    return summary, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--changes", type=int, default=1000, help="links rows loaded after the base run")
    ap.add_argument("--events-per-account", type=float, default=0.0)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ringtrace-bench")
    args = ap.parse_args()
    bundle = args.cache / f"pop-{args.accounts}-{args.seed}-{args.events_per_account:g}"
    if not (bundle / "links.csv").exists():
        generate_population(bundle, args.accounts, args.seed, events_per_account=args.events_per_account)
    params = DetectionParams(seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="ringtrace-incremental-") as scratch:
        first, later = Path(scratch) / "first", Path(scratch) / "later"
        _split(bundle, args.changes, args.seed, first, later)
        settings = _server(Path(scratch) / "home")
        try:
            import_bundle(settings, first)
            with create_driver(settings) as driver:
                base, base_s = _timed(driver, settings, params, incremental=False)
                started = time.perf_counter()
                report = load_bundle(driver, settings.neo4j_database, later, rejects_path=Path(scratch) / "r.csv")
                load_s = time.perf_counter() - started
                incremental, incremental_s = _timed(driver, settings, params, incremental=True)
                whole, whole_s = _timed(driver, settings, params, incremental=False)
                same = (read_ring_members(driver, settings.neo4j_database, incremental.run_id)
                        == read_ring_members(driver, settings.neo4j_database, whole.run_id))
        finally:
            local_server.stop(settings)
    counts = incremental.counts
    print(f"\n{args.accounts:,} accounts (seed {args.seed}); {args.changes:,} links rows loaded after the base run "
          f"in {load_s:.1f} s ({sum(f.loaded for f in report.files):,} changed the graph); {os.cpu_count()} cores")
    print(f"incremental: {counts.get('changed_accounts', 0):,} accounts touched, "
          f"{counts.get('region_accounts', 0):,} in their components ({counts.get('region_rounds', 0)} rounds), "
          f"{counts.get('redetected_rings', 0):,} rings re-detected, {counts.get('carried_rings', 0):,} carried")
    print("| run | wall s | rings | same rings as the whole run | stages (s) |\n|---|---|---|---|---|")
    for name, summary, seconds, identical in (("base (whole)", base, base_s, "—"),
                                              ("incremental", incremental, incremental_s, "yes" if same else "NO"),
                                              ("whole", whole, whole_s, "—")):
        stages = ", ".join(f"{k} {v:.1f}" for k, v in summary.timings.items())
        print(f"| {name} | {seconds:.1f} | {summary.counts['rings']:,} | {identical} | {stages} |")


if __name__ == "__main__":
    main()
