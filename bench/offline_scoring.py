"""Offline quality of ring scoring on generated populations (no database).

    python bench/offline_scoring.py --accounts 20000 100000 --seeds 1 2 3
    python bench/offline_scoring.py --fit --accounts 20000 50000 --seeds 101 102 103 104
    python bench/offline_scoring.py --bundle DIR            # an existing bundle with truth.csv

Reads each bundle the way bench/offline_eval.py does, detects rings with the defaults, scores them
and prints per population and pooled: attribution top-1 accuracy over detected rings that match a
true ring with an organisation, false attribution rate (rings without an organisation whose top
attribution has confidence >= 0.5), the ECE and reliability table of both scores and, per benign
cohort, the share of its accounts in rings scored coordinated (>= 0.5). ``--fit`` instead fits both
models on the given populations and writes graph/scoring/default_model.json.

Labels: a detected ring is coordinated when it matches a true ring (Jaccard >= 0.5); (ring, org) is a
correct attribution when that true ring's organisation is org. An unmatched detected ring at least
half made of one organisation's ring members is a *fragment* of that organisation: it is labelled
with it for fitting and ECE (the matched-only ECE is printed too) and left out of the false
attribution rate, whose denominator is rings with no organisation at all.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from offline_eval import _epoch, _ipv4_to_int, _read, read_bundle

from graph.detection import detect_rings
from graph.projection import KIND_ORDER, Incidence, ProjectionParams, project
from graph.scoring import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    DEFAULT_MODEL_PATH,
    NONNEGATIVE_ATTRIBUTION,
    NONNEGATIVE_COORDINATION,
    LogisticModel,
    OrgIndicators,
    ScoringModel,
    attribute_accounts,
    default_model,
    domains_named_after,
    expected_calibration_error,
    fit,
    prepare,
    reliability_table,
    save_model,
    score_rings,
)

MATCH_JACCARD = 0.5


@dataclass
class Population:
    label: str
    inc: Incidence
    created: npt.NDArray[np.float64]
    org: OrgIndicators
    truth_ring: dict[str, str | None]
    truth_org: dict[str, str]
    truth_cohort: dict[str, str]


def _entity_org(inc: Incidence, bundle: Path, organizations: list[str]) -> npt.NDArray[np.int32]:
    out = np.full(inc.entity_keys.shape[0], -1, np.int32)
    path = bundle / "ip_ranges.csv"
    if not path.exists() and not path.with_suffix(".csv.gz").exists():
        return out
    ranges = _read(path)
    cidrs = ranges.column("cidr").to_pylist()
    owner = [organizations.index(o) if o else -1 for o in ranges.column("organization").to_pylist()]
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    ip_idx = np.flatnonzero(inc.entity_kind == KIND_ORDER.index("ip"))
    ips = inc.entity_keys[ip_idx]
    ints, is_v4 = _ipv4_to_int(ips)
    v4 = sorted(
        (int(n.network_address), int(n.broadcast_address), o)
        for n, o in zip(nets, owner, strict=True)
        if n.version == 4
    )
    if v4:
        starts = np.array([r[0] for r in v4], np.int64)
        ends = np.array([r[1] for r in v4], np.int64)
        orgs = np.array([r[2] for r in v4], np.int32)
        pos = np.searchsorted(starts, ints, side="right") - 1
        hit = is_v4 & (pos >= 0) & (ints <= ends[np.maximum(pos, 0)])
        out[ip_idx[hit]] = orgs[pos[hit]]
    v6 = [(n, o) for n, o in zip(nets, owner, strict=True) if n.version == 6]
    for i in np.flatnonzero(~is_v4).tolist():
        try:
            addr = ipaddress.ip_address(str(ips[i]))
        except ValueError:
            continue
        for net, o in v6:
            if addr in net:
                out[ip_idx[i]] = o
                break
    return out


def load(bundle: Path, label: str) -> Population:
    inc, truth_ring, truth_cohort = read_bundle(bundle)
    accounts = _read(bundle / "accounts.csv")
    ids = np.asarray(accounts.column("account_id").to_numpy(zero_copy_only=False)).astype(str)
    pos = np.searchsorted(inc.account_ids, ids)
    created = np.full(inc.account_ids.shape[0], np.nan)
    if "created_at" in accounts.column_names:
        created[pos] = _epoch(accounts.column("created_at"))
    domain = np.full(inc.account_ids.shape[0], "", dtype=object)
    if "email" in accounts.column_names:
        for p, e in zip(pos.tolist(), accounts.column("email").to_pylist(), strict=True):
            if e and "@" in e:
                domain[p] = e.rsplit("@", 1)[1].strip().lower()
    known_path = bundle / "known.csv"
    known = _read(known_path) if known_path.exists() else None
    org_names: set[str] = set()
    if known is not None:
        org_names |= {str(o) for o in known.column("organization").to_pylist() if o}
    if (bundle / "ip_ranges.csv").exists():
        org_names |= {str(o) for o in _read(bundle / "ip_ranges.csv").column("organization").to_pylist() if o}
    organizations = sorted(org_names)
    ka: list[int] = []
    ko: list[int] = []
    if known is not None:
        for a, o in zip(known.column("account_id").to_pylist(), known.column("organization").to_pylist(), strict=True):
            i = int(np.searchsorted(inc.account_ids, str(a)))
            if i < inc.account_ids.shape[0] and inc.account_ids[i] == str(a) and o:
                ka.append(i)
                ko.append(organizations.index(str(o)))
    org = OrgIndicators(
        organizations=tuple(organizations),
        known_account=np.array(ka, np.int32),
        known_org=np.array(ko, np.int32),
        entity_org=_entity_org(inc, bundle, organizations),
        account_email_domain=domain.astype(str),
        domain_org=domains_named_after(organizations, (str(d) for d in set(domain.tolist()) if d)),
    )
    truth = _read(bundle / "truth.csv")
    truth_org = {
        str(a): str(o or "")
        for a, o in zip(truth.column("account_id").to_pylist(), truth.column("organization").to_pylist(), strict=True)
    }
    return Population(label, inc, created, org, truth_ring, truth_org, truth_cohort)


@dataclass
class Scored:
    """Per detected ring: labels and scores; per candidate pair: features, confidence, correctness."""

    coord_x: npt.NDArray[np.float64]
    coord_p: npt.NDArray[np.float64]
    coordinated: npt.NDArray[np.bool_]
    ring_org: list[str]  # matched true ring's organisation, "" for none
    fragment_org: list[str]  # unmatched ring mostly made of one organisation's ring members, else ""
    top_org: list[str]
    top_conf: npt.NDArray[np.float64]
    attr_x: npt.NDArray[np.float64]
    attr_p: npt.NDArray[np.float64]
    attr_y: npt.NDArray[np.bool_]  # brief's label: org of the matched true ring
    attr_y_frag: npt.NDArray[np.bool_]  # same, and fragments labelled with their organisation
    cohort_hits: Counter[str]
    cohort_sizes: Counter[str]
    org_rings_without_candidate: int
    seconds: float
    account_counts: Counter[str]  # org_accounts, org_top1, no_org_accounts, no_org_false


def run(pop: Population, model: ScoringModel, seed: int) -> Scored:
    t0 = time.perf_counter()
    graph = project(pop.inc, ProjectionParams())
    rings = detect_rings(graph, seed=seed)
    t1 = time.perf_counter()
    data = prepare(pop.inc, pop.org, pop.created)
    scores = score_rings(data, rings, model)
    seconds = time.perf_counter() - t1
    accounts = attribute_accounts(data, rings, scores, model=model) if model.version != "unfitted" else {}
    counts: Counter[str] = Counter()
    for truth in pop.truth_org.values():
        counts["org_accounts" if truth else "no_org_accounts"] += 1
    for a, att in accounts.items():
        truth = pop.truth_org.get(str(pop.inc.account_ids[a]), "")
        best = att.attributions[0]
        if truth:
            counts["org_top1"] += best.name == truth and best.confidence >= 0.5
        else:
            counts["no_org_false"] += best.confidence >= 0.5
    del t0
    true_members: dict[str, set[str]] = {}
    for a, r in pop.truth_ring.items():
        if r is not None:
            true_members.setdefault(r, set()).add(a)
    ids = pop.inc.account_ids
    coordinated, ring_org, fragment_org, top_org, top_conf = [], [], [], [], []
    ax, ap, ay, ayf = [], [], [], []
    hits: Counter[str] = Counter()
    missing = 0
    for ring, s in zip(rings, scores, strict=True):
        members = {str(ids[i]) for i in ring.tolist()}
        votes = Counter(pop.truth_ring.get(a) for a in members if pop.truth_ring.get(a))
        matched = ""
        for r, _ in votes.most_common(1):
            if r is not None:
                tm = true_members[r]
                if len(tm & members) / len(tm | members) >= MATCH_JACCARD:
                    matched = r
        org = ""
        if matched:
            org = Counter(pop.truth_org[a] for a in true_members[matched]).most_common(1)[0][0]
        frag = ""
        if not matched:
            orgs = Counter(pop.truth_org.get(a, "") for a in members if pop.truth_ring.get(a))
            for o, k in orgs.most_common(1):
                frag = o if o and k >= 0.5 * len(members) else ""
        coordinated.append(bool(matched))
        ring_org.append(org)
        fragment_org.append(frag)
        top = s.top
        top_org.append(top.name if top else "")
        top_conf.append(top.confidence if top else 0.0)
        if org and not any(a.name == org for a in s.attributions):
            missing += 1
        for att in s.attributions:
            ax.append(att.features)
            ap.append(att.confidence)
            ay.append(att.name == org)
            ayf.append(att.name == (org or frag))
        if s.score >= 0.5 and not matched:
            for a in members:
                hits[pop.truth_cohort.get(a, "?")] += 1
    return Scored(
        coord_x=np.array([s.coordination.features for s in scores]).reshape(-1, len(COORDINATION_FEATURES)),
        coord_p=np.array([s.score for s in scores]),
        coordinated=np.array(coordinated, bool),
        ring_org=ring_org,
        fragment_org=fragment_org,
        top_org=top_org,
        top_conf=np.array(top_conf),
        attr_x=np.array(ax).reshape(-1, len(ATTRIBUTION_FEATURES)),
        attr_p=np.array(ap),
        attr_y=np.array(ay, bool),
        attr_y_frag=np.array(ayf, bool),
        cohort_hits=hits,
        cohort_sizes=Counter(pop.truth_cohort.values()),
        org_rings_without_candidate=missing,
        seconds=seconds,
        account_counts=counts,
    )


def _zero(features: tuple[str, ...]) -> LogisticModel:
    return LogisticModel(features, 0.0, tuple(0.0 for _ in features))


def fit_default(pops: list[tuple[Population, int]], l2: float) -> ScoringModel:
    stage0 = ScoringModel("unfitted", "", _zero(COORDINATION_FEATURES), _zero(ATTRIBUTION_FEATURES))
    xs, ys = [], []
    for pop, seed in pops:
        s = run(pop, stage0, seed)
        xs.append(s.coord_x)
        ys.append(s.coordinated)
    coord = fit(np.vstack(xs), np.concatenate(ys), COORDINATION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_COORDINATION)
    stage1 = replace(stage0, coordination=coord)
    xs, ys = [], []
    for pop, seed in pops:
        s = run(pop, stage1, seed)
        xs.append(s.attr_x)
        ys.append(s.attr_y_frag)
    attr = fit(np.vstack(xs), np.concatenate(ys), ATTRIBUTION_FEATURES, l2=l2, nonnegative=NONNEGATIVE_ATTRIBUTION)
    fitted_on = ", ".join(p.label for p, _ in pops)
    n_rings = sum(x.shape[0] for x in xs)
    return ScoringModel(
        version="2026.11-1",
        fitted_on=f"generated populations {fitted_on} (graph.generator; detect_rings defaults; l2={l2:g})",
        coordination=coord,
        attribution=attr,
        notes={"attribution_rows": n_rings, "labels": "detected ring matches a true ring at Jaccard >= 0.5"},
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
            f"accounts without one attributed at >= 0.5: {acc['no_org_false'] / max(acc['no_org_accounts'], 1):.5f}"
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
    ap.add_argument("--seeds", type=int, nargs="*", default=[1])
    ap.add_argument("--cache", type=Path, help="keep generated bundles here")
    ap.add_argument("--fit", action="store_true", help="fit and write graph/scoring/default_model.json")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    root = args.cache or Path(tmp.name)
    bundles: list[tuple[str, int, Path]] = [(str(b), 0, b) for b in args.bundle]
    if not bundles:
        from graph.generator import generate_population

        for size in args.accounts:
            for seed in args.seeds:
                out = root / f"pop-{size}-{seed}"
                if not (out / "truth.csv").exists():
                    generate_population(out, accounts=size, seed=seed)
                bundles.append((f"{size}/seed{seed}", seed, out))
    pops = [(load(b, label), seed) for label, seed, b in bundles]
    if args.fit:
        model = fit_default(pops, args.l2)
        save_model(model, args.out)
        print(f"wrote {args.out}")
        for name, m in (("coordination", model.coordination), ("attribution", model.attribution)):
            coefs = " ".join(f"{f}={c:.3f}" for f, c in zip(m.features, m.coefficients, strict=True))
            print(f"  {name}: intercept={m.intercept:.3f} {coefs}")
    else:
        model = default_model()
    print(f"model {model.version} fitted on: {model.fitted_on}")
    results = []
    for pop, seed in pops:
        r = run(pop, model, seed)
        results.append(r)
        report(pop.label, [r], verbose=False)
    report("pooled", results, verbose=True)
    tmp.cleanup()


if __name__ == "__main__":
    main()
