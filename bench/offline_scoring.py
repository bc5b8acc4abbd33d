"""Offline quality of ring scoring on generated populations (no database).

    python bench/offline_scoring.py --accounts 20000 100000 --seeds 1 2 3
    python bench/offline_scoring.py --fit --out model.json --accounts 20000 50000 --seeds 101 102 103 104
    python bench/offline_scoring.py --bundle DIR            # an existing bundle with truth.csv
    python bench/offline_scoring.py --bundle DIR --cache C --model FILE   # a candidate model, read kept in C

Reads each bundle with bench/offline_bundle.py, detects rings with ``DetectionParams`` (the
pipeline's defaults; ``--detect-seed``), scores them and prints per population and pooled:
attribution top-1 accuracy over detected rings that match a true ring with an organisation, false
attribution rate (rings without an organisation whose top attribution has confidence >= 0.5), the
ECE and reliability table of both scores and, per benign cohort, the share of its accounts in rings
scored coordinated (>= 0.5). ``--fit`` first fits both models on the given populations, pooled, with
``graph.pipeline.calibrate.fit_scoring_model`` (what ``ringtrace calibrate`` runs), writes the model
to ``--out`` (default graph/scoring/default_model.json; with ``--no-usage``, which leaves the
usage logs out, graph/scoring/default_model_infra.json) and reports with it.

Labels are :func:`graph.evaluation.attribution.label_rings`: a detected ring is coordinated when it
matches a true ring (Jaccard >= 0.5), and its organisation is that true ring's; an unmatched ring at
least half made of one organisation's ring members is a *fragment* of that organisation, labelled
with it for ECE (the matched-only ECE is printed too) and left out of the false attribution rate,
whose denominator is rings with no organisation at all.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
if TYPE_CHECKING:  # mypy checks bench as a package; run as a script, bench/ is on sys.path
    from bench.offline_bundle import cached_offline_bundle, read_offline_bundle
else:
    from offline_bundle import cached_offline_bundle, read_offline_bundle

from graph.detection import DetectionParams
from graph.evaluation.attribution import label_rings
from graph.evaluation.reliability import expected_calibration_error, reliability_table
from graph.evaluation.truth import Truth
from graph.links import LinkIndex, index_links
from graph.pipeline.behaviour import UsageLog, build_behaviour, detect_with_usage
from graph.pipeline.calibrate import Population as LabelledPopulation
from graph.pipeline.calibrate import fit_scoring_model
from graph.scoring import (
    DEFAULT_MODEL_PATH,
    INFRA_MODEL_PATH,
    ScoringModel,
    attribute_accounts,
    default_model,
    load_model,
    prepare,
    save_model,
    score_rings,
)
from graph.store.observation_reads import Observations


@dataclass(frozen=True)
class Population:
    label: str
    observations: Observations
    links: LinkIndex
    truth: Truth
    usage: UsageLog | None


@dataclass
class Scored:
    """Per detected ring: labels and scores; per candidate pair: confidence and correctness."""

    coord_p: npt.NDArray[np.float64]
    coordinated: npt.NDArray[np.bool_]
    ring_org: list[str]  # matched true ring's organisation, "" for none
    fragment_org: list[str]  # unmatched ring mostly made of one organisation's ring members, else ""
    top_org: list[str]
    top_conf: npt.NDArray[np.float64]
    attr_p: npt.NDArray[np.float64]
    attr_y: npt.NDArray[np.bool_]  # brief's label: org of the matched true ring
    attr_y_frag: npt.NDArray[np.bool_]  # same, and fragments labelled with their organisation
    cohort_hits: Counter[str]
    cohort_sizes: Counter[str]
    org_rings_without_candidate: int
    seconds: float
    account_counts: Counter[str]  # org_accounts, org_top1, no_org_accounts, no_org_false


def load(bundle: Path, label: str, usage: bool = True, cache: Path | None = None) -> Population:
    """The bundle as read offline; with `cache` (and its usage log), the read is kept there to re-use."""
    offline = cached_offline_bundle(bundle, cache) if usage and cache else read_offline_bundle(bundle, usage=usage)
    if offline.truth is None:
        raise SystemExit(f"{bundle}: no truth.csv")
    return Population(label, offline.observations, index_links(offline.observations.incidence), offline.truth,
                      offline.usage)


def run(pop: Population, model: ScoringModel, params: DetectionParams) -> Scored:
    templates = pop.usage.coaction_templates(params.coaction.max_senders) if pop.usage else []
    found = detect_with_usage(pop.links, templates, params)
    rings = found.rings
    behaviour = None if pop.usage is None else build_behaviour(
        found.usage, found.coaction, params.coaction, pop.observations.incidence.account_ids, pop.usage.activity,
        pop.usage.sent, pop.usage.releases)
    t1 = time.perf_counter()
    data = prepare(pop.links, pop.observations.org_indicators, pop.observations.account_created, behaviour)
    scores = score_rings(data, rings, model)
    accounts = attribute_accounts(data, rings, scores, model=model)
    seconds = time.perf_counter() - t1
    ids = pop.observations.incidence.account_ids
    truth = pop.truth
    counts: Counter[str] = Counter()
    for org in truth.organization.values():
        counts["org_accounts" if org else "no_org_accounts"] += 1
    for account, attributed in accounts.items():
        true_org = truth.organization.get(str(ids[account]))
        best = attributed.attributions[0]
        if true_org:
            counts["org_top1"] += best.name == true_org and best.confidence >= 0.5
        else:
            counts["no_org_false"] += best.confidence >= 0.5
    members = [frozenset(ids[r].tolist()) for r in rings]
    labels = label_rings(members, truth)
    ring_org, fragment_org, top_org, top_conf = [], [], [], []
    ap, ay, ayf = [], [], []
    hits: Counter[str] = Counter()
    missing = 0
    for ring, s, lab in zip(members, scores, labels, strict=True):
        org = lab.organization or ""
        frag = lab.fragment_of or ""
        ring_org.append(org)
        fragment_org.append(frag)
        top = s.top
        top_org.append(top.name if top else "")
        top_conf.append(top.confidence if top else 0.0)
        if org and not any(a.name == org for a in s.attributions):
            missing += 1
        for att in s.attributions:
            ap.append(att.confidence)
            ay.append(att.name == org)
            ayf.append(att.name == (org or frag))
        if s.score >= 0.5 and not lab.coordinated:
            for a in ring:
                hits[truth.cohort.get(a, "?")] += 1
    return Scored(
        coord_p=np.array([s.score for s in scores]),
        coordinated=np.array([lab.coordinated for lab in labels], bool),
        ring_org=ring_org,
        fragment_org=fragment_org,
        top_org=top_org,
        top_conf=np.array(top_conf),
        attr_p=np.array(ap),
        attr_y=np.array(ay, bool),
        attr_y_frag=np.array(ayf, bool),
        cohort_hits=hits,
        cohort_sizes=Counter(truth.cohort.values()),
        org_rings_without_candidate=missing,
        seconds=seconds,
        account_counts=counts,
    )


def _table(name: str, p: npt.NDArray[np.float64], y: npt.NDArray[np.bool_]) -> None:
    ece = expected_calibration_error(p, y)
    print(f"  {name}: n={p.shape[0]} ECE={ece:.4f}")
    for b in reliability_table(p, y):
        if b.count:
            print(
                f"    [{b.lower:.1f},{b.upper:.1f}) n={b.count:>5} predicted={b.mean_predicted:.3f} "
                f"observed={b.observed_rate:.3f}"
            )


def report(label: str, results: list[Scored], verbose: bool) -> None:
    coord_p = np.concatenate([r.coord_p for r in results])
    coordinated = np.concatenate([r.coordinated for r in results])
    ring_org = [o for r in results for o in r.ring_org]
    top_org = [o for r in results for o in r.top_org]
    top_conf = np.concatenate([r.top_conf for r in results])
    with_org = [i for i, o in enumerate(ring_org) if o]
    fragment_org = [o for r in results for o in r.fragment_org]
    without = [i for i, o in enumerate(ring_org) if not o and not fragment_org[i]]
    fragments = [i for i, o in enumerate(fragment_org) if o]
    frag_ok = sum(top_org[i] == fragment_org[i] for i in fragments)
    top1 = sum(top_org[i] == ring_org[i] for i in with_org) / max(len(with_org), 1)
    false_attr = sum(bool(top_org[i]) and top_conf[i] >= 0.5 for i in without) / max(len(without), 1)
    missing = sum(r.org_rings_without_candidate for r in results)
    attr_p = np.concatenate([r.attr_p for r in results])
    attr_y = np.concatenate([r.attr_y for r in results])
    attr_yf = np.concatenate([r.attr_y_frag for r in results])
    hits: Counter[str] = sum((r.cohort_hits for r in results), Counter())
    sizes: Counter[str] = sum((r.cohort_sizes for r in results), Counter())
    benign = " ".join(f"{c}={hits[c] / sizes[c]:.4f}" for c in sorted(sizes) if c not in ("ring", "prior_case"))
    print(
        f"{label:<28} rings={coord_p.shape[0]:>5} org_rings={len(with_org):>4} top1={top1:.3f} "
        f"(no candidate: {missing}) no_org_rings={len(without):>4} false_attr={false_attr:.4f} "
        f"ECE_coord={expected_calibration_error(coord_p, coordinated):.4f} "
        f"ECE_attr={expected_calibration_error(attr_p, attr_yf):.4f} "
        f"(matched-only labels {expected_calibration_error(attr_p, attr_y):.4f}) "
        f"score_s={sum(r.seconds for r in results):.1f}"
    )
    acc: Counter[str] = sum((r.account_counts for r in results), Counter())
    if acc["org_top1"] or acc["no_org_false"]:
        print(
            f"  accounts: attributed to their true organisation at >= 0.5: "
            f"{acc['org_top1'] / max(acc['org_accounts'], 1):.3f} of {acc['org_accounts']}; "
            f"accounts without one attributed at >= 0.5: "
            f"{acc['no_org_false'] / max(acc['no_org_accounts'], 1):.5f}"
        )
    print(f"  fragments of org rings (unmatched, >= half one org's ring members): {len(fragments)}, top1 {frag_ok}")
    print(f"  false coordination (share of cohort's accounts in unmatched rings scored >= 0.5): {benign}")
    if verbose:
        _table("coordination", coord_p, coordinated)
        _table("attribution (all candidate pairs, fragments labelled)", attr_p, attr_yf)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", default=[])
    ap.add_argument("--accounts", type=int, nargs="*", default=[20_000])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1], help="generation seeds")
    ap.add_argument("--detect-seed", type=int, default=DetectionParams().seed, help="seed of community detection")
    ap.add_argument("--cache", type=Path, help="keep generated bundles, and each bundle's read (a pickle), here")
    # A fitted model is the one scored, so a model file alongside --fit would be silently ignored.
    choice = ap.add_mutually_exclusive_group()
    choice.add_argument("--model", type=Path, help="score with this model file (default: the shipped model)")
    choice.add_argument("--fit", action="store_true", help="fit a model on the populations, write it to --out "
                        "and score with it")
    ap.add_argument("--attribution-from", type=Path, help="with --fit: fit coordination only and keep this model "
                    "file's attribution")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--version", help="version of the fitted model (default: fitted-<time>)")
    ap.add_argument("--out", type=Path, help="where --fit writes (default: default_model.json, or "
                    "default_model_infra.json with --no-usage)")
    ap.add_argument("--no-usage", action="store_true", help="leave the bundles' usage logs out")
    args = ap.parse_args()
    if args.attribution_from and not args.fit:
        ap.error("--attribution-from needs --fit")
    kept = load_model(args.attribution_from) if args.attribution_from else None  # a bad file fails before the reads

    tmp = tempfile.TemporaryDirectory()
    root = args.cache or Path(tmp.name)
    bundles: list[tuple[str, Path]] = [(str(b), b) for b in args.bundle]
    if not bundles:
        from graph.generator import generate_population

        for size in args.accounts:
            for seed in args.seeds:
                out = root / f"pop-{size}-{seed}"
                if not (out / "truth.csv").exists():
                    generate_population(out, accounts=size, seed=seed)
                bundles.append((f"{size}/seed{seed}", out))
    pops = [load(b, label, usage=not args.no_usage, cache=args.cache) for label, b in bundles]
    out = args.out or (INFRA_MODEL_PATH if args.no_usage else DEFAULT_MODEL_PATH)
    params = DetectionParams(seed=args.detect_seed)
    if args.fit:
        fitted_on = (
            f"populations {', '.join(p.label for p in pops)} (bench/offline_scoring.py; "
            f"DetectionParams(seed={args.detect_seed}); l2={args.l2:g})"
        )
        model = fit_scoring_model(
            [LabelledPopulation.offline(p.observations, p.truth, p.usage, params) for p in pops], params,
            version=args.version, l2=args.l2, fitted_on=fitted_on,
            keep_attribution_of=kept,
        )
        save_model(model, out)
        print(f"wrote {out}")
        for name, m in (("coordination", model.coordination), ("attribution", model.attribution)):
            coefs = " ".join(f"{f}={c:.3f}" for f, c in zip(m.features, m.coefficients, strict=True))
            print(f"  {name}: intercept={m.intercept:.3f} {coefs}")
    elif args.model:
        model = load_model(args.model)
    else:
        model = default_model(usage_log=any(p.usage is not None for p in pops))
    print(f"model {model.version} fitted on: {model.fitted_on}")
    results = []
    for pop in pops:
        r = run(pop, model, params)
        results.append(r)
        report(pop.label, [r], verbose=False)
    report("pooled", results, verbose=True)
    tmp.cleanup()


if __name__ == "__main__":
    main()
