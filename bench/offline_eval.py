"""Offline quality and speed of projection + detection on generated populations (no database).

    python bench/offline_eval.py --accounts 20000 100000 --seeds 1 2 3
    python bench/offline_eval.py --bundle DIR            # an existing bundle with truth.csv

Reads each bundle with bench/offline_bundle.py (the loader's parsing and IP enrichment, keeping what
the Neo4j reader would read back), indexes its links once, projects, detects with every method and
prints: method, resolution, time, ring F1, ARI, NMI, contamination and the false-positive rate per
benign cohort. ``--cpm``, ``--min-weight``, ``--time-window-days`` and ``--merge-weight`` take
several values and sweep them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
if TYPE_CHECKING:  # mypy checks bench as a package; run as a script, bench/ is on sys.path
    from bench.offline_bundle import read_offline_bundle
else:
    from offline_bundle import read_offline_bundle

from graph.detection import (
    DEFAULT_MERGE_WEIGHT,
    DEFAULT_MIN_SIZE,
    METHODS,
    NATURAL_RESOLUTION,
    DetectionParams,
    detect_rings,
)
from graph.detection.louvain import louvain_partition
from graph.evaluation.rings import RingEvaluation, evaluate_rings
from graph.evaluation.truth import Truth
from graph.links import LinkIndex, index_links
from graph.projection import ProjectionParams, project


def evaluate(links: LinkIndex, truth: Truth, params: DetectionParams) -> tuple[float, float, int, RingEvaluation]:
    """Projection seconds, detection seconds, edges and ring quality of one detection run."""
    t0 = time.perf_counter()
    graph = project(links, params.projection)
    t1 = time.perf_counter()
    rings = detect_rings(graph, params)
    t2 = time.perf_counter()
    ids = links.incidence.account_ids
    detected = [ids[r].tolist() for r in rings]
    quality = evaluate_rings(detected, truth.ring, truth.cohort, actors_outside_rings=truth.actors_outside_rings)
    return t1 - t0, t2 - t1, graph.n_edges, quality


def _row(
    label: str, size: int, seed: int, t_proj: float, t_det: float, edges: int, ev: RingEvaluation
) -> str:
    fps = " ".join(f"{c}={v:.3f}" for c, v in sorted(ev.cohort_fp_rate.items()) if v > 0.0005)
    return (
        f"{size:>7} {seed:>4} {label:<44} {edges:>8} {t_proj:6.2f} {t_det:7.3f} {ev.ring_f1:6.3f} "
        f"{ev.ring_precision:5.3f} {ev.ring_recall:5.3f} {ev.ari:6.3f} {ev.nmi:6.3f} "
        f"{ev.contamination:6.4f}  {fps}"
    )


HEADER = (
    f"{'acc':>7} {'seed':>4} {'method (resolution)':<44} {'edges':>8} {'proj_s':>6} {'det_s':>7} "
    f"{'ringF1':>6} "
    f"{'P':>5} {'R':>5} {'ARI':>6} {'NMI':>6} {'contam':>6}  FP per cohort (>0)"
)


def _merge_weight(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", default=[])
    ap.add_argument("--accounts", type=int, nargs="*", default=[20_000])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1], help="generation seeds (also detection seeds)")
    ap.add_argument("--methods", nargs="*", default=sorted(METHODS))
    ap.add_argument("--min-size", type=int, default=DEFAULT_MIN_SIZE)
    ap.add_argument("--min-weight", type=float, nargs="*", default=[ProjectionParams().min_weight])
    ap.add_argument("--cpm", type=float, nargs="*", default=[NATURAL_RESOLUTION["leiden-cpm"]])
    ap.add_argument(
        "--time-window-days", type=float, nargs="*", default=[ProjectionParams().time_window / 86400]
    )
    ap.add_argument(
        "--merge-weight", type=_merge_weight, nargs="*", default=[DEFAULT_MERGE_WEIGHT],
        help="join communities linked this strongly; 'none' keeps the partition",
    )
    ap.add_argument(
        "--whole-graph-louvain", action="store_true", help="time python-louvain on the whole graph"
    )
    args = ap.parse_args()

    bundles: list[tuple[int, int, Path]] = [(0, 0, b) for b in args.bundle]
    tmp = tempfile.TemporaryDirectory()
    if not bundles:
        from graph.generator import generate_population

        for size in args.accounts:
            for seed in args.seeds:
                out = Path(tmp.name) / f"pop-{size}-{seed}"
                generate_population(out, accounts=size, seed=seed)
                bundles.append((size, seed, out))
    print(HEADER)
    for size, seed, bundle in bundles:
        t0 = time.perf_counter()
        offline = read_offline_bundle(bundle)
        if offline.truth is None:
            raise SystemExit(f"{bundle}: no truth.csv")
        links = index_links(offline.observations.incidence)
        rejected = ", ".join(f"{k}={v}" for k, v in sorted(offline.rejected.items())) or "none"
        print(
            f"# {bundle}: {offline.accounts} accounts, {offline.links} links ({links.n_accounts} accounts and "
            f"{offline.observations.n_links} links can link); rejected rows: {rejected}; "
            f"read {time.perf_counter() - t0:.1f}s"
        )
        for min_weight in args.min_weight:
            for window in args.time_window_days:
                projection = replace(ProjectionParams(), min_weight=min_weight, time_window=window * 86400)
                for method in args.methods:
                    resolutions = args.cpm if method == "leiden-cpm" else [NATURAL_RESOLUTION[method]]
                    for res in resolutions:
                        for merge_weight in args.merge_weight:
                            params = DetectionParams.for_method(
                                method, resolution=res, merge=merge_weight is not None, merge_weight=merge_weight,
                                seed=seed, min_size=args.min_size, projection=projection,
                            )
                            t_p, t_d, edges, ev = evaluate(links, offline.truth, params)
                            merged = "none" if merge_weight is None else f"{merge_weight:g}"
                            label = f"{method} ({res:g}) mw={min_weight:g} tw={window:g}d jw={merged}"
                            print(_row(label, size or offline.accounts, seed, t_p, t_d, edges, ev), flush=True)
                if args.whole_graph_louvain:
                    graph = project(links, projection)
                    t0 = time.perf_counter()
                    louvain_partition(
                        graph.n_accounts, graph.src, graph.dst, graph.weight, resolution=1.0, seed=seed
                    )
                    took = time.perf_counter() - t0
                    print(f"# python-louvain on the whole graph (reference speed): {took:.2f}s", flush=True)
    tmp.cleanup()


if __name__ == "__main__":
    main()
