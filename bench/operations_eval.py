"""Campaigns and operations, measured offline: campaign-blind rings against rings cut at activity gaps,
and how the rings are grouped into operations, on the same populations (no database).

    python bench/operations_eval.py --bundle DIR [--bundle DIR ...] [--gap none 30 60] [--cache DIR]

Each bundle needs truth.csv with ``operation_id`` (ringtrace's generator and bench/independent both
write it) and is read with bench/offline_bundle.py (the loader's own parsing, usage log included).
Per bundle and campaign gap (``--gap``: days, ``none`` = never cut, the old behaviour) one row:

- rings found, ring recall at any score, ring F1 of the rings scored coordinated (>= 0.5, with the
  shipped scoring model), ARI over ring accounts, contamination;
- ``fused``: found rings holding two or more campaigns of one operator (what the cut prevents);
- operations: true operations of 2+ campaigns with 2+ found (``found``), of them grouped under one
  found operation; found operations of 2+ rings and how many mix operators (an operator is the named
  organisation behind an operation, or the anonymous operation itself); ``1-org`` counts found
  operations grouping separate true operations of one organisation, ``benign`` those holding a ring
  of benign accounts beside a campaign;
- attribution of the found rings that stand for a ring of an organisation (hold at least half their
  members from it): share attributed to it at >= 0.5 on their own evidence (``top1``) and once
  siblings pass theirs on (``top1_op``, graph/scoring/operation_attribution.py), and the share of the
  other found rings attributed to anyone at >= 0.5 after it (``false``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from offline_bundle import cached_offline_bundle, offline_run

from graph.detection import DetectionParams
from graph.evaluation.operations import evaluate_operations
from graph.evaluation.rings import COORDINATED, evaluate_rings
from graph.evaluation.truth import Truth
from graph.pipeline.operations import group_operations
from graph.scoring.model import default_model
from graph.scoring.operation_attribution import attribute_through_operations
from graph.scoring.results import RingScore


def _attribution(scores: list[RingScore], rings: list[list[str]], truth: Truth) -> tuple[float, float]:
    """(share of the organisation's rings attributed to it at >= 0.5, share of the rest attributed)."""
    organisation = truth.ring_organization()
    right = total = wrong = others = 0
    for members, score in zip(rings, scores, strict=True):
        counts = Counter(truth.ring.get(a) for a in members if truth.ring.get(a))
        true_ring, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]), default=(None, 0))
        org = organisation.get(true_ring) if true_ring is not None and 2 * n >= len(members) else None
        top = score.top
        attributed = top is not None and top.confidence >= COORDINATED
        if org is None:
            others += 1
            wrong += attributed
        else:
            total += 1
            right += attributed and top is not None and top.name == org
    return right / max(total, 1), wrong / max(others, 1)


def _gap(text: str) -> float | None:
    return None if text == "none" else float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", required=True)
    ap.add_argument("--gap", type=_gap, nargs="*", default=[None, DetectionParams().campaign_gap_days],
                    help="campaign gaps in days to compare ('none': never cut)")
    ap.add_argument("--cache", type=Path, help="keep each bundle's read here as a pickle (bench/offline_bundle.py)")
    args = ap.parse_args()
    print(f"  {'gap':>5} {'rings':>6} {'R_any':>6} {'F1_co':>6} {'ARI':>6} {'contam':>7} {'fused':>5} | "
          f"{'ops2+':>5} {'found':>5} {'grouped':>8} | {'found2+':>7} {'mixed':>8} {'1-org':>5} {'time':>6}")
    for path in args.bundle:
        t0 = time.perf_counter()
        bundle = cached_offline_bundle(path, args.cache)
        truth = bundle.truth
        if truth is None or not truth.operation or bundle.usage is None:
            raise SystemExit(f"{path}: needs truth.csv with operation_id and an events file")
        org = bundle.observations.org_indicators
        model = default_model(usage_log=True)
        print(f"# {path}: {bundle.accounts:,} accounts; read in {time.perf_counter() - t0:.0f}s")
        for gap in args.gap:
            t = time.perf_counter()
            run = offline_run(bundle, DetectionParams(campaign_gap_days=gap), model)
            rings, scores = run.rings, run.scores
            operations = group_operations(run.links, run.found.rings, run.data.orgs)
            coordinated = [r for r, s in zip(rings, scores, strict=True) if s.score >= COORDINATED]
            every = evaluate_rings(rings, truth.ring, truth.cohort, actors_outside_rings=truth.actors_outside_rings)
            scored = evaluate_rings(coordinated, truth.ring, truth.cohort,
                                    actors_outside_rings=truth.actors_outside_rings)
            grouped = evaluate_operations(rings, [str(o) for o in operations.of_ring.tolist()], truth.ring,
                                          truth.operation, truth.organization)
            top1, _ = _attribution(scores, rings, truth)
            inherited = attribute_through_operations(scores, operations, [f"ring {i}" for i in range(len(rings))],
                                                     org.organizations)
            top1_op, false = _attribution(inherited, rings, truth)
            print(f"  {'none' if gap is None else f'{gap:g}':>5} {len(rings):>6} {every.ring_recall:6.3f} "
                  f"{scored.ring_f1:6.3f} {every.ari:6.3f} {every.contamination:7.4f} {grouped.fused_rings:>5} | "
                  f"{grouped.true_operations:>5} {grouped.found:>5} {grouped.grouped:>3} {grouped.grouped_rate:4.2f} | "
                  f"{grouped.operations:>7} {grouped.mixed:>3} {grouped.mixed_rate:4.2f} {grouped.same_org:>5} "
                  f"{grouped.with_benign:>6} | "
                  f"{top1:5.3f} {top1_op:7.3f} {false:6.4f} {time.perf_counter() - t:5.0f}s", flush=True)


if __name__ == "__main__":
    main()
