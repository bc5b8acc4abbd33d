"""The GDS detection backend beside the in-process path on the same data: rings, quality against the
ground truth, agreement of the two, and time. Not a test; prints a table.

    python bench/gds.py                                   # 100k accounts, 10 events per account
    python bench/gds.py --accounts 20000 --events-per-account 100 --rounds 1

A generated population (cached under --cache) is imported (`ringtrace import`; the usage log online)
into a fresh Neo4j of its own with the Graph Data Science plugin (port 7716, data in a temporary
directory, heap and page cache 2 GiB each). Then, for each method GDS runs (leiden-cpm, the default,
and leiden-modularity), a full `ringtrace detect` in process and one with `--backend gds`, same seed,
each a completed run: its rings are read back and scored against truth.csv. "agreement" is the ARI
between the two backends' rings over the accounts either put in a ring (others as singletons).
Times: the run's wall seconds, its detect and stabilise stages (the community step and its four
stability reruns) and, for GDS, the seconds inside them spent projecting the graph into the GDS
catalog, in WCC and in Leiden (all reruns). The runs go --rounds times (default 2): the first round
pays for what a fresh server and process load once (GDS's classes, Python's imports), the second
does not.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from graph import local_server
from graph.detection import GDS_METHODS, DetectionParams
from graph.evaluation.rings import adjusted_rand_index, evaluate_rings
from graph.evaluation.truth import read_truth
from graph.generator import generate_population
from graph.ingest.first_load import import_bundle
from graph.pipeline.detect import run_detection
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.results import read_scored_rings

_PORT = 7716


def _server(home: Path) -> Settings:
    return Settings(NEO4J_URI=f"bolt://127.0.0.1:{_PORT}", RINGTRACE_NEO4J_BOLT_PORT=_PORT,
                    RINGTRACE_NEO4J_HTTP_PORT=_PORT + 1, RINGTRACE_NEO4J_HOME=home,
                    RINGTRACE_NEO4J_HEAP="2g", RINGTRACE_NEO4J_PAGECACHE="2g", RINGTRACE_NEO4J_GDS="1")


def agreement(first: Sequence[Collection[str]], second: Sequence[Collection[str]]) -> float:
    """ARI of two sets of rings over the accounts either holds; an account in no ring is its own."""
    accounts = sorted({a for ring in (*first, *second) for a in ring})
    index = {a: i for i, a in enumerate(accounts)}

    def labels(rings: Sequence[Collection[str]]) -> np.ndarray:
        out = -1 - np.arange(len(accounts))  # singletons, apart from ring numbers
        for k, ring in enumerate(rings):
            out[[index[a] for a in ring]] = k
        return out

    return adjusted_rand_index(labels(first), labels(second))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--events-per-account", type=float, default=10.0)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ringtrace-bench")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    bundle = args.cache / f"pop-{args.accounts}-{args.seed}-{args.events_per_account:g}"
    if not (bundle / "truth.csv").exists():
        generate_population(bundle, args.accounts, args.seed, events_per_account=args.events_per_account)
    truth = read_truth(bundle / "truth.csv")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ringtrace-gds-bench-") as scratch:
        settings = _server(Path(scratch))
        try:
            started = time.perf_counter()
            import_bundle(settings, bundle, rejects_path=Path(scratch) / "rejects.csv")
            load_seconds = time.perf_counter() - started
            with create_driver(settings) as driver:
                db = settings.neo4j_database
                for round_, method in ((r, m) for r in range(1, args.rounds + 1) for m in GDS_METHODS):
                    found: dict[str, list[frozenset[str]]] = {}
                    for backend in ("in-process", "gds"):
                        params = DetectionParams.for_method(method, seed=args.seed, backend=backend)
                        started = time.perf_counter()
                        summary = run_detection(driver, db, params)
                        wall = time.perf_counter() - started
                        scored = read_scored_rings(driver, db, summary.run_id)
                        found[backend] = [r.members for r in scored]
                        every = evaluate_rings(found[backend], truth.ring, truth.cohort,
                                               actors_outside_rings=truth.actors_outside_rings)
                        reported = evaluate_rings([r.members for r in scored if r.score >= 0.5], truth.ring,
                                                  truth.cohort, actors_outside_rings=truth.actors_outside_rings)
                        edges = summary.counts["edges"]
                        rows.append({"round": round_, "method": method, "backend": backend, "rings": len(scored),
                                     "recall": every.ring_recall, "ari": every.ari, "f1": reported.ring_f1,
                                     "wall": wall, **summary.timings})
                    rows[-1]["agreement"] = agreement(found["in-process"], found["gds"])
        finally:
            local_server.stop(settings)
    print(f"\n{args.accounts:,} accounts, {args.events_per_account:g} events per account (seed {args.seed}); "
          f"imported in {load_seconds:.0f} s; {edges:,} account pairs; {os.cpu_count()} cores")
    print("| round | method | backend | rings | ring recall | ARI vs truth | F1 (coordinated) | agreement | run s "
          "| detect s | stabilise s | GDS project / WCC / Leiden s |")
    print("|---" * 12 + "|")
    for r in rows:
        gds = (f"{r['gds_project']:.2f} / {r['gds_wcc']:.2f} / {r['gds_leiden']:.2f}"
               if r["backend"] == "gds" else "-")
        agree = f"{r['agreement']:.3f}" if "agreement" in r else "-"
        print(f"| {r['round']} | {r['method']} | {r['backend']} | {r['rings']:,} | {r['recall']:.3f} | "
              f"{r['ari']:.3f} | {r['f1']:.3f} | {agree} | {r['wall']:.1f} | {r['detect']:.2f} | "
              f"{r['stabilise']:.2f} | {gds} |")


if __name__ == "__main__":
    main()
