"""Speed and exactness of the score stage (prepare, score_rings, attribute_accounts), no database.

    python bench/scoring_speed.py prep DIR CACHE            # read the bundle, detect rings, pickle
    python bench/scoring_speed.py time CACHE [--repeat N] [--save FILE] [--compare FILE] [--profile]
                                             [--model MODEL.json]

``prep`` runs what ``graph/pipeline/detect.py`` runs before its "score" stage (``index_links``,
``project``, ``detect_rings``, ``membership_stability`` and the run's membership confidence) on the
bundle read by bench/offline_bundle.py, and pickles the observations, rings and confidences, so that
``time`` measures only the score stage, exactly as the pipeline calls it, with the default model
(or ``--model``).
``--save`` writes everything scoring produced (features, probabilities, every evidence item in
order) as plain tuples; ``--compare`` checks a run against such a file and prints the largest
differences. The machine is shared: repeat, and read the minimum (and the CPU time, which other
processes disturb less than the wall clock).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pickle
import pstats
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.links import index_links
from graph.projection import project
from graph.scoring import (
    AccountAttribution,
    Attribution,
    RingScore,
    attribute_accounts,
    default_model,
    load_model,
    prepare,
    score_rings,
)


def _prep(bundle: Path, cache: Path) -> None:
    if TYPE_CHECKING:  # mypy checks bench as a package; run as a script, bench/ is on sys.path
        from bench.offline_bundle import read_offline_bundle
    else:
        from offline_bundle import read_offline_bundle

    started = time.perf_counter()
    observations = read_offline_bundle(bundle).observations
    params = DetectionParams(seed=7)
    links = index_links(observations.incidence)
    graph = project(links, params.projection)
    rings = detect_rings(graph, params)
    stability = membership_stability(graph, rings, params)
    confidence = [np.round(0.5 + 0.5 * s, 4) for s in stability]  # as graph/pipeline/detect.py
    with cache.open("wb") as f:
        pickle.dump({"observations": observations, "rings": rings, "confidence": confidence}, f, protocol=5)
    print(f"{bundle}: {len(rings)} rings, {links.n_accounts} accounts, {links.acc.shape[0]} links "
          f"({time.perf_counter() - started:.1f} s)")


def _items(expl: Any) -> tuple[Any, ...]:
    return tuple((i.kind, i.llr, i.sentence, i.accounts, i.entities, i.organization) for i in expl.items)


def _attribution(a: Attribution) -> tuple[Any, ...]:
    return (a.organization, a.name, a.features.tolist(), a.confidence, _items(a.explanation))


def snapshot(rings: list[RingScore], accounts: dict[int, AccountAttribution]) -> dict[str, Any]:
    """Everything scoring produced, as plain tuples (independent of the classes' code)."""
    return {
        "rings": [
            (
                s.ring,
                s.coordination.members.tolist(),
                s.coordination.features.tolist(),
                s.coordination.probability,
                _items(s.coordination.explanation),
                [_attribution(a) for a in s.attributions],
            )
            for s in rings
        ],
        "accounts": {
            a: (x.account, x.ring, x.membership_confidence, [_attribution(t) for t in x.attributions])
            for a, x in sorted(accounts.items())
        },
    }


class _Diff:
    def __init__(self) -> None:
        self.max: dict[str, float] = {}
        self.mismatch: list[str] = []

    def num(self, what: str, a: float, b: float, where: str) -> None:
        d = 0.0 if a == b or (math.isnan(a) and math.isnan(b)) else abs(a - b)
        self.max[what] = max(self.max.get(what, 0.0), d)
        if d > 1e-12:
            self.mismatch.append(f"{where}: {what} {a!r} != {b!r}")

    def same(self, what: str, a: Any, b: Any, where: str) -> None:
        if a != b:
            self.mismatch.append(f"{where}: {what} {a!r} != {b!r}")

    def items(self, a: tuple[Any, ...], b: tuple[Any, ...], where: str) -> None:
        self.same("item kinds", [i[0] for i in a], [i[0] for i in b], where)
        for x, y in zip(a, b, strict=False):
            self.num("llr", x[1], y[1], f"{where} {x[0]}")
            for k, what in ((2, "sentence"), (3, "accounts"), (4, "entities"), (5, "organization")):
                self.same(what, x[k], y[k], f"{where} {x[0]}")

    def attributions(self, a: list[Any], b: list[Any], where: str) -> None:
        self.same("organisations", [x[0] for x in a], [x[0] for x in b], where)
        for x, y in zip(a, b, strict=False):
            w = f"{where} org {x[1]}"
            self.same("name", x[1], y[1], w)
            for fx, fy in zip(x[2], y[2], strict=True):
                self.num("attribution feature", fx, fy, w)
            self.num("attribution probability", x[3], y[3], w)
            self.items(x[4], y[4], w)


def compare(new: dict[str, Any], old: dict[str, Any]) -> _Diff:
    d = _Diff()
    d.same("ring count", len(new["rings"]), len(old["rings"]), "run")
    for x, y in zip(new["rings"], old["rings"], strict=False):
        w = f"ring {x[0]}"
        d.same("members", x[1], y[1], w)
        for fx, fy in zip(x[2], y[2], strict=True):
            d.num("coordination feature", fx, fy, w)
        d.num("coordination probability", x[3], y[3], w)
        d.items(x[4], y[4], w)
        d.attributions(x[5], y[5], w)
    d.same("accounts", sorted(new["accounts"]), sorted(old["accounts"]), "run")
    for a in sorted(set(new["accounts"]) & set(old["accounts"])):
        x, y = new["accounts"][a], old["accounts"][a]
        w = f"account {a}"
        d.same("ring", x[1], y[1], w)
        d.num("membership confidence", x[2], y[2], w)
        d.attributions(x[3], y[3], w)
    return d


def _time(
    cache: Path, repeat: int, save: Path | None, against: Path | None, profile: bool, model_path: Path | None
) -> None:
    with cache.open("rb") as f:
        data = pickle.load(f)
    observations, rings, confidence = data["observations"], data["rings"], data["confidence"]
    links = index_links(observations.incidence)
    model = default_model() if model_path is None else load_model(model_path)
    print(f"scoring from {Path(sys.modules['graph.scoring'].__file__ or '').parent}")
    seconds: list[float] = []
    cpus: list[float] = []
    result: tuple[list[RingScore], dict[int, AccountAttribution]] | None = None
    for _ in range(repeat):
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        scoring_input = prepare(links, observations.org_indicators, observations.account_created)
        t_prep = time.perf_counter()
        ring_scores = score_rings(scoring_input, rings, model)
        t_rings = time.perf_counter()
        account_scores = attribute_accounts(scoring_input, rings, ring_scores, membership=confidence, model=model)
        t_end = time.perf_counter()
        if profiler is not None:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        cpu = time.process_time() - cpu
        seconds.append(t_end - started)
        cpus.append(cpu)
        print(f"score stage {t_end - started:7.2f} s, cpu {cpu:7.2f} s  "
              f"(prepare {t_prep - started:.2f}, rings {t_rings - t_prep:.2f}, "
              f"accounts {t_end - t_rings:.2f}); {len(rings)} rings, {len(account_scores)} attributed accounts")
        result = (ring_scores, account_scores)
    print(f"min {min(seconds):.2f} s (cpu {min(cpus):.2f} s) over {repeat}")
    assert result is not None
    snap = snapshot(*result)
    if save is not None:
        with save.open("wb") as f:
            pickle.dump(snap, f, protocol=5)
    if against is not None:
        with against.open("rb") as f:
            diff = compare(snap, pickle.load(f))
        for what, value in sorted(diff.max.items()):
            print(f"  max |Δ| {what}: {value:.3g}")
        print(f"  {len(diff.mismatch)} mismatches" + "".join(f"\n    {m}" for m in diff.mismatch[:20]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prep")
    p.add_argument("bundle", type=Path)
    p.add_argument("cache", type=Path)
    t = sub.add_parser("time")
    t.add_argument("cache", type=Path)
    t.add_argument("--repeat", type=int, default=1)
    t.add_argument("--save", type=Path)
    t.add_argument("--compare", type=Path)
    t.add_argument("--profile", action="store_true")
    t.add_argument("--model", type=Path)
    args = parser.parse_args()
    if args.command == "prep":
        _prep(args.bundle, args.cache)
    else:
        _time(args.cache, args.repeat, args.save, args.compare, args.profile, args.model)


if __name__ == "__main__":
    main()
