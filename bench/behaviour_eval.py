"""Behaviour in detection, measured offline: infrastructure only, behaviour only, both, and a plain
co-action detector, on the same populations (no database).

    python bench/behaviour_eval.py --bundle DIR [--bundle DIR ...] [--window 5 10 20] [--min-days 2 3 4] [--cache DIR]

Each bundle (with truth.csv and an events file) is read with bench/offline_bundle.py, which runs
the loader's own parsing, template assignment and aggregation (bench/offline_usage.py). Rows:

- ``infrastructure``: the projection of shared identifiers alone (no usage log);
- ``behaviour``: co-action alone (graph/behaviour/coaction.py), no shared identifier;
- ``both``: what `ringtrace detect` runs (co-action joined to the projection);
- ``plain components`` / ``plain leiden``: the plain co-action detector (SynchroTrap and CooRTweet
  as usually re-implemented): two accounts are linked when they sent the same template in the same
  window of ``--plain-window`` minutes on at least ``--plain-days`` distinct days, unweighted, no
  chance model; rings are the connected components (or Leiden-CPM communities) of 3+ accounts.

Columns: ring F1, precision, recall, ARI, contamination; recall of the true rings whose members
share no device or card (``R_nodev``); and per hard-negative cohort the share of its accounts placed
in any detected ring. Scores are not involved: this measures what detection finds.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
if TYPE_CHECKING:  # mypy checks bench as a package; run as a script, bench/ is on sys.path
    from bench.offline_bundle import OfflineBundle, cached_offline_bundle
else:
    from offline_bundle import OfflineBundle, cached_offline_bundle

from graph.behaviour.coaction import CoactionParams, join_coaction
from graph.behaviour.usage import UsageIndex, usage_index
from graph.detection import DetectionParams, detect_rings
from graph.detection.leiden import leiden_cpm_partition
from graph.evaluation.rings import evaluate_rings, rings_sharing_device_or_card
from graph.links import LinkIndex, index_links
from graph.pipeline.graph import joined_graph
from graph.projection import AccountGraph, project
from graph.vocabulary import KIND_ORDER

_COHORTS_SHOWN = 8


def _no_device_rings(bundle: OfflineBundle, links: LinkIndex) -> set[str]:
    """True rings whose members share no device or card in the bundle's links."""
    truth = bundle.truth
    assert truth is not None
    inc = links.incidence
    ids = inc.account_ids.tolist()
    devices: dict[str, set[tuple[str, str]]] = {}
    kinds = [KIND_ORDER[k] for k in inc.entity_kind.tolist()]
    for account, entity in zip(inc.link_account.tolist(), inc.link_entity.tolist(), strict=True):
        if kinds[entity] in ("device", "payment"):
            devices.setdefault(ids[account], set()).add((kinds[entity], str(inc.entity_keys[entity])))
    sharing = rings_sharing_device_or_card(truth.ring, devices)
    return {r for r in _true_rings(bundle) if r not in sharing}


def _true_rings(bundle: OfflineBundle) -> dict[str, set[str]]:
    assert bundle.truth is not None
    rings: dict[str, set[str]] = {}
    for account, ring in bundle.truth.ring.items():
        if ring:
            rings.setdefault(ring, set()).add(account)
    return rings


def _empty_graph(graph: AccountGraph) -> AccountGraph:
    z = np.zeros(0, np.int32)
    return replace(graph, src=z, dst=z, weight=np.zeros(0), shared=z)


def _plain_pairs(usage: UsageIndex, window: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs that sent one template in the same `window`-minute window on >= `days` distinct days."""
    rows = np.repeat(np.arange(usage.n_sent), np.diff(usage.minute_offsets))
    keep = usage.sent_account[rows] >= 0
    rows = rows[keep]
    minute = usage.minutes[keep]
    t, a, w = usage.sent_template[rows].astype(np.int64), usage.sent_account[rows].astype(np.int64), minute // window
    order = np.lexsort((a, w, t))
    t, a, w = t[order], a[order], w[order]
    distinct = np.r_[True, (np.diff(t) != 0) | (np.diff(w) != 0) | (np.diff(a) != 0)]
    t, a, w = t[distinct], a[distinct], w[distinct]
    starts = np.flatnonzero(np.r_[True, (np.diff(t) != 0) | (np.diff(w) != 0)])
    sizes = np.diff(np.r_[starts, t.shape[0]])
    left, right, day = [], [], []
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        if 2 <= size <= 64:
            members = a[start : start + size]
            i, j = np.triu_indices(size, 1)
            left.append(members[i])
            right.append(members[j])
            day.append(np.full(i.shape[0], int(w[start]) * window // 1440))
    if not left:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    n = int(usage.sent_account.max()) + 1
    key = np.unique((np.concatenate(left) * n + np.concatenate(right)) * 10_000 + np.concatenate(day))
    pair, count = np.unique(key // 10_000, return_counts=True)
    pair = pair[count >= days]
    return (pair // n).astype(np.int32), (pair % n).astype(np.int32)


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> list[np.ndarray]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(src.shape[0]), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    found = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    return [r.astype(np.int32) for r in found if r.shape[0] >= 3]


def _leiden(n: int, src: np.ndarray, dst: np.ndarray, seed: int) -> list[np.ndarray]:
    if src.shape[0] == 0:
        return []
    labels = leiden_cpm_partition(n, src, dst, np.ones(src.shape[0]), resolution=0.05, seed=seed)
    found = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    return [r.astype(np.int32) for r in found if r.shape[0] >= 3]


def _row(name: str, rings: list[np.ndarray], bundle: OfflineBundle, links: LinkIndex, nodev: set[str],
         seconds: float) -> str:
    truth = bundle.truth
    assert truth is not None
    ids = links.incidence.account_ids
    detected = [ids[r].tolist() for r in rings]
    ev = evaluate_rings(detected, truth.ring, truth.cohort, actors_outside_rings=truth.actors_outside_rings)
    members = _true_rings(bundle)
    found_sets = [set(d) for d in detected]
    recovered = sum(
        1 for r in nodev
        if any(len(f & members[r]) / len(f | members[r]) >= 0.5 for f in found_sets if f & members[r])
    )
    fps = sorted(ev.cohort_fp_rate.items(), key=lambda x: -x[1])[:_COHORTS_SHOWN]
    shown = " ".join(f"{c}={v:.3f}" for c, v in fps if v > 0.0005)
    return (f"  {name:<22} {len(rings):>6} {ev.ring_f1:6.3f} {ev.ring_precision:5.3f} {ev.ring_recall:5.3f} "
            f"{ev.ari:6.3f} {ev.contamination:6.4f} {recovered:>3}/{len(nodev):<3} {seconds:6.1f}s  {shown}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", required=True)
    ap.add_argument("--cache", type=Path, help="keep each bundle's read here as a pickle (bench/offline_bundle.py)")
    ap.add_argument("--window", type=int, nargs="*", default=[CoactionParams().window_minutes])
    ap.add_argument("--min-days", type=int, nargs="*", default=[CoactionParams().min_days])
    ap.add_argument("--plain-window", type=int, default=20)
    ap.add_argument("--plain-days", type=int, default=3)
    ap.add_argument("--seed", type=int, default=DetectionParams().seed)
    ap.add_argument("--merge-weight", type=lambda v: None if v == "none" else float(v), nargs="*",
                    default=[DetectionParams().merge_weight], help="join communities linked this strongly")
    args = ap.parse_args()
    print(f"  {'detector':<22} {'rings':>6} {'ringF1':>6} {'P':>5} {'R':>5} {'ARI':>6} {'contam':>6} "
          f"{'R_nodev':>7} {'time':>7}  share of cohort in any ring (largest)")
    for path in args.bundle:
        t0 = time.perf_counter()
        bundle = cached_offline_bundle(path, args.cache)
        if bundle.truth is None or bundle.usage is None:
            raise SystemExit(f"{path}: needs truth.csv and an events file")
        links = index_links(bundle.observations.incidence)
        nodev = _no_device_rings(bundle, links)
        print(f"# {path}: {bundle.accounts:,} accounts, {len(_true_rings(bundle))} true rings "
              f"({len(nodev)} share no device or card); read {time.perf_counter() - t0:.0f}s")
        for merge_weight in args.merge_weight:
            base = DetectionParams(seed=args.seed, merge_weight=merge_weight)
            _modes(bundle, links, nodev, base, args.window, args.min_days, f"jw={merge_weight}")
        base = DetectionParams(seed=args.seed)
        usage = usage_index(bundle.usage.coaction_templates(base.coaction.max_senders), links.incidence.account_ids)
        t = time.perf_counter()
        src, dst = _plain_pairs(usage, args.plain_window, args.plain_days)
        print(_row(f"plain components {args.plain_window}m", _components(links.n_accounts, src, dst), bundle,
                   links, nodev, time.perf_counter() - t))
        t = time.perf_counter()
        print(_row(f"plain leiden {args.plain_window}m", _leiden(links.n_accounts, src, dst, args.seed), bundle,
                   links, nodev, time.perf_counter() - t))


def _modes(bundle: OfflineBundle, links: LinkIndex, nodev: set[str], base: DetectionParams, windows: list[int],
           min_days: list[int], tag: str) -> None:
    assert bundle.usage is not None
    infra = project(links, base.projection)
    t = time.perf_counter()
    print(_row(f"infrastructure {tag}", detect_rings(infra, base), bundle, links, nodev, time.perf_counter() - t))
    for window in windows:
        for days in min_days:
            params = replace(base, coaction=replace(base.coaction, window_minutes=window, min_days=days))
            templates = bundle.usage.coaction_templates(params.coaction.max_senders)
            t = time.perf_counter()
            usage = usage_index(templates, links.incidence.account_ids)
            pairs, both = joined_graph(links, usage, params)  # as `ringtrace detect` builds it
            behaviour = join_coaction(_empty_graph(both), pairs, params.coaction, params.projection.min_weight)
            label = f"w={window} d={days} {tag}"
            print(_row(f"behaviour {label}", detect_rings(behaviour, params), bundle, links, nodev,
                       time.perf_counter() - t))
            t = time.perf_counter()
            print(_row(f"both {label}", detect_rings(both, params), bundle, links, nodev,
                       time.perf_counter() - t))


if __name__ == "__main__":
    main()
