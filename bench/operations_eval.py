"""Campaigns and operations, measured offline: campaign-blind rings against rings cut at activity gaps,
and how the rings are grouped into operations, on the same populations (no database).

    python bench/operations_eval.py --bundle DIR [--bundle DIR ...] [--gap none 30 60] [--cache DIR] [--model FILE]

Each bundle needs truth.csv with ``operation_id`` (ringtrace's generator and bench/independent both
write it) and is read with bench/offline_bundle.py (the loader's own parsing, usage log included).
Per bundle and campaign gap (``--gap``: days, ``none`` = never cut, the old behaviour) one row:

- rings found, ring recall at any score, ring F1 of the rings scored coordinated (>= 0.5, with the
  shipped scoring model), ARI over ring accounts, contamination;
- ``fused``: found rings holding two or more campaigns of one operator (what the cut prevents);
  ``2-op``: found rings holding campaigns of two or more operators (at least two members of each);
- operations: true operations of 2+ campaigns with 2+ found (``found``), of them grouped under one
  found operation; found operations of 2+ rings and how many mix operators (an operator is the named
  organisation behind an operation, or the anonymous operation itself); ``1-org`` counts found
  operations grouping separate true operations of one organisation, ``benign`` those holding a ring
  of benign accounts beside a campaign;
- attribution of the found rings that stand for a ring of an organisation (hold at least half their
  members from it): share attributed to it at >= 0.5 on their own evidence (``top1``) and once
  siblings pass theirs on (``top1_op``, graph/scoring/operation_attribution.py), the same over the
  rings whose organisation the data names at all (``traced``), and the share of the other found
  rings attributed to anyone at >= 0.5 after it (``false``).

A ring is *traced* to its organisation when one of its members, or of its operation's other
campaigns, is a known member of it, shares a device, card, phone or mailbox with one, uses an IP on a
range the organisation operates, or signs up with a mail domain that is the organisation's
(enrichment, or used by its known members and not free mail). A ring that carries none of these
cannot be attributed from the observations by anyone; the independent population makes such
campaigns on purpose ("a campaign may carry none of these"), so ``top1_op`` counts them as misses
and ``traced`` shows how the attributable ones fare.
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

from graph.detection import DetectionParams
from graph.evaluation.operations import evaluate_operations
from graph.evaluation.rings import COORDINATED, evaluate_rings
from graph.evaluation.truth import Truth
from graph.pipeline.operations import group_operations
from graph.scoring.attribution import FREE_MAIL
from graph.scoring.model import default_model, load_model
from graph.scoring.operation_attribution import attribute_through_operations
from graph.scoring.results import RingScore
from graph.store.observation_reads import Observations
from graph.vocabulary import KIND_ORDER


def _attribution(
    scores: list[RingScore], rings: list[list[str]], truth: Truth, traced: set[str] | None = None
) -> tuple[float, float]:
    """(share of the organisation's rings attributed to it at >= 0.5, share of the rest attributed).

    With `traced`, the first share counts only the found rings standing for a true ring in it.
    """
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
        elif traced is None or true_ring in traced:
            total += 1
            right += attributed and top is not None and top.name == org
    return right / max(total, 1), wrong / max(others, 1)


def _traced(observations: Observations, truth: Truth) -> set[str]:
    """True rings of an organisation whose own or sibling campaigns' data name it (module docstring)."""
    inc, org = observations.incidence, observations.org_indicators
    names = org.organizations
    ids = inc.account_ids.tolist()
    known = list(zip(org.known_account.tolist(), org.known_org.tolist(), strict=True))
    named: dict[str, set[str]] = {}  # account -> organisations its own observations name
    for a, o in known:
        named.setdefault(ids[a], set()).add(names[o])
    # a device, card, phone or mailbox a known member used (known_member_linked, graph/scoring/attribution.py)
    beside = {KIND_ORDER.index(k) for k in ("payment", "device", "phone", "email")}
    known_on: dict[int, set[str]] = {}
    by_account: dict[int, list[int]] = {}
    kinds = inc.entity_kind.tolist()
    for a, e in zip(inc.link_account.tolist(), inc.link_entity.tolist(), strict=True):
        if kinds[e] in beside:
            by_account.setdefault(a, []).append(e)
    for a, o in known:
        for e in by_account.get(a, ()):
            known_on.setdefault(e, set()).add(names[o])
    for a, entities in by_account.items():
        for e in entities:
            named.setdefault(ids[a], set()).update(known_on.get(e, ()))
    operated = org.entity_org[inc.link_entity]
    for a, o in zip(inc.link_account[operated >= 0].tolist(), operated[operated >= 0].tolist(), strict=True):
        named.setdefault(ids[a], set()).add(names[o])
    domains = {d: names[o] for d, o in org.domain_org.items()}
    known_domains = {(str(org.account_email_domain[a]), names[o]) for a, o in known}
    domains |= {d: o for d, o in known_domains if d and d not in FREE_MAIL}
    for a, d in enumerate(org.account_email_domain.tolist()):
        if d in domains:
            named.setdefault(ids[a], set()).add(domains[d])
    ring_org = truth.ring_organization()
    rings = {r for a, orgs in named.items() if (r := truth.ring.get(a)) and ring_org[r] in orgs}
    operations = {truth.operation.get(a) for a, r in truth.ring.items() if r in rings} - {None}
    return {r for a, r in truth.ring.items()
            if r and ring_org[r] and (r in rings or truth.operation.get(a) in operations)}


def _gap(text: str) -> float | None:
    return None if text == "none" else float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", required=True)
    ap.add_argument("--gap", type=_gap, nargs="*", default=[None, DetectionParams().campaign_gap_days],
                    help="campaign gaps in days to compare ('none': never cut)")
    ap.add_argument("--cache", type=Path, help="keep each bundle's read here as a pickle (bench/offline_bundle.py)")
    ap.add_argument("--model", type=Path, help="score with this model file (default: the shipped model)")
    args = ap.parse_args()
    model = load_model(args.model) if args.model else default_model(usage_log=True)
    print(f"  {'gap':>5} {'rings':>6} {'R_any':>6} {'F1_co':>6} {'ARI':>6} {'contam':>7} {'fused':>5} {'2-op':>4} | "
          f"{'ops2+':>5} {'found':>5} {'grouped':>8} | {'found2+':>7} {'mixed':>8} {'1-org':>5} {'benign':>6} | "
          f"{'top1':>5} {'top1_op':>7} {'traced':>6} {'false':>6} {'time':>6}")
    for path in args.bundle:
        t0 = time.perf_counter()
        bundle = cached_offline_bundle(path, args.cache)
        truth = bundle.truth
        if truth is None or not truth.operation or bundle.usage is None:
            raise SystemExit(f"{path}: needs truth.csv with operation_id and an events file")
        org = bundle.observations.org_indicators
        print(f"# {path}: {bundle.accounts:,} accounts; read in {time.perf_counter() - t0:.0f}s")
        traced = _traced(bundle.observations, truth)
        of_org = {r for r, o in truth.ring_organization().items() if o}
        print(f"# {len(traced)} of {len(of_org)} rings of an organisation are traced to it by the observations")
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
            top1_traced, _ = _attribution(inherited, rings, truth, traced)
            print(f"  {'none' if gap is None else f'{gap:g}':>5} {len(rings):>6} {every.ring_recall:6.3f} "
                  f"{scored.ring_f1:6.3f} {every.ari:6.3f} {every.contamination:7.4f} {grouped.fused_rings:>5} "
                  f"{grouped.mixing_rings:>4} | "
                  f"{grouped.true_operations:>5} {grouped.found:>5} {grouped.grouped:>3} {grouped.grouped_rate:4.2f} | "
                  f"{grouped.operations:>7} {grouped.mixed:>3} {grouped.mixed_rate:4.2f} {grouped.same_org:>5} "
                  f"{grouped.with_benign:>6} | "
                  f"{top1:5.3f} {top1_op:7.3f} {top1_traced:6.3f} {false:6.4f} "
                  f"{time.perf_counter() - t:5.0f}s", flush=True)


if __name__ == "__main__":
    main()
