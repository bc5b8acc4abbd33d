"""Rings of two accounts, measured offline: the smallest ring 3, 2 with every pair kept, and 2 with the
pair rule (graph/detection/rings.py ``_pairs_kept``), on the same populations (no database).

    python bench/pair_rings.py --bundle DIR [--bundle DIR ...] [--excess 2 3 4] [--cache DIR]

Each bundle needs truth.csv and an events file; it is read with bench/offline_bundle.py (``--cache``
keeps the read as a pickle per bundle, for re-runs on an unchanged bundle and code). Per bundle and
variant one row: rings found, of them rings of two, ring recall at any score, ring F1 of the rings
scored coordinated (>= 0.5, the shipped scoring model), ARI over ring accounts, contamination, and
the three cohorts with the largest share of accounts in coordinated rings.

Then the margins of the rule: for every ring of two that min_size 2 finds before the rule, whether it
is a true ring's pair (both accounts of one true ring) or not, and, for those whose two accounts
co-acted beyond chance, observed / expected matches: the range for true pairs and for the others.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
if TYPE_CHECKING:  # mypy checks bench as a package; run as a script, bench/ is on sys.path
    from bench.offline_bundle import cached_offline_bundle, offline_run
else:
    from offline_bundle import cached_offline_bundle, offline_run

from graph.detection import DEFAULT_PAIR_EXCESS, DetectionParams
from graph.evaluation.rings import COORDINATED, evaluate_rings
from graph.pipeline.behaviour import DetectedRings
from graph.scoring.model import default_model

_COHORTS_SHOWN = 3


def _margins(found: DetectedRings, ids: list[str], ring_of: dict[str, str | None]) -> str:
    """Observed / expected co-action of the rings of two, split by whether they are a true ring's pair."""
    coacting = found.graph.coacting
    ratio: dict[tuple[int, int], float] = {}
    if coacting is not None:
        for a, b, o, e in zip(coacting.src.tolist(), coacting.dst.tolist(), coacting.observed.tolist(),
                              coacting.expected.tolist(), strict=True):
            ratio[(a, b)] = o / e
    true_ratio: list[float] = []
    other_ratio: list[float] = []
    counts: Counter[str] = Counter()
    for ring in found.rings:
        if ring.shape[0] != 2:
            continue
        a, b = int(ring[0]), int(ring[1])
        same = ring_of.get(ids[a]) is not None and ring_of.get(ids[a]) == ring_of.get(ids[b])
        counts["true" if same else "other"] += 1
        if (a, b) in ratio:
            (true_ratio if same else other_ratio).append(ratio[(a, b)])

    def span(values: list[float]) -> str:
        return f"{len(values)} co-acting, {min(values):.1f}-{max(values):.1f}x" if values else "none co-acting"

    return (f"rings of two before the rule: {counts['true']} true pairs ({span(true_ratio)}), "
            f"{counts['other']} others ({span(other_ratio)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", required=True)
    ap.add_argument("--excess", type=float, nargs="*", default=[DEFAULT_PAIR_EXCESS],
                    help="pair_excess values to compare beside min_size 3 and every pair kept")
    ap.add_argument("--cache", type=Path, help="keep each bundle's read here as a pickle")
    args = ap.parse_args()
    variants: list[tuple[str, DetectionParams]] = [("min 3", DetectionParams(min_size=3)),
                                                   ("min 2, all", DetectionParams(min_size=2, pair_excess=None))]
    variants += [(f"min 2, {x:g}x", DetectionParams(min_size=2, pair_excess=x)) for x in args.excess]
    print(f"  {'variant':<12} {'rings':>6} {'pairs':>6} {'R_any':>6} {'F1_co':>6} {'ARI':>6} {'contam':>7} "
          f"{'time':>5}  share of cohort in coordinated rings (largest)")
    for path in args.bundle:
        t0 = time.perf_counter()
        bundle = cached_offline_bundle(path, args.cache)
        truth = bundle.truth
        if truth is None or bundle.usage is None:
            raise SystemExit(f"{path}: needs truth.csv and an events file")
        model = default_model(usage_log=True)
        print(f"# {path}: {bundle.accounts:,} accounts; read in {time.perf_counter() - t0:.0f}s", flush=True)
        margins = ""
        for name, params in variants:
            t = time.perf_counter()
            run = offline_run(bundle, params, model)
            rings, scores = run.rings, run.scores
            coordinated = [r for r, s in zip(rings, scores, strict=True) if s.score >= COORDINATED]
            every = evaluate_rings(rings, truth.ring, truth.cohort, actors_outside_rings=truth.actors_outside_rings)
            scored = evaluate_rings(coordinated, truth.ring, truth.cohort,
                                    actors_outside_rings=truth.actors_outside_rings)
            shown = sorted(scored.cohort_fp_rate.items(), key=lambda kv: (-kv[1], kv[0]))[:_COHORTS_SHOWN]
            pairs = sum(len(r) == 2 for r in rings)
            print(f"  {name:<12} {len(rings):>6} {pairs:>6} {every.ring_recall:6.3f} {scored.ring_f1:6.3f} "
                  f"{every.ari:6.3f} {every.contamination:7.4f} {time.perf_counter() - t:4.0f}s  "
                  + ", ".join(f"{c} {v:.3f}" for c, v in shown), flush=True)
            if params.pair_excess is None and params.min_size == 2:
                margins = _margins(run.found, bundle.observations.incidence.account_ids.tolist(), truth.ring)
        print(f"  {margins}", flush=True)


if __name__ == "__main__":
    main()
