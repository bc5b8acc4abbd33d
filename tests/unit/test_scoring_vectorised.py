"""Vectorised scoring against the per-ring code it replaced, on small hand-made and random populations.

The reference, tests/unit/scoring_reference.py with its coordination and attribution halves
(scoring_reference_coordination.py, scoring_reference_attribution.py), is the scoring code as it was
before it was vectorised, kept only as the specification the vectorised code must match. Every
probability, feature and log-likelihood ratio must be *identical* (==, not approximately), and every
evidence item the same kind, sentence, accounts, entities and organisation, in the same order.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from graph.links import Incidence, LinkIndex, index_links
from graph.scoring import (
    AccountAttribution,
    Attribution,
    Explanation,
    OrgIndicators,
    RingScore,
    ScoringModel,
    attribute_accounts,
    default_model,
    load_model,
    prepare,
    score_rings,
)
from graph.scoring.segments import exact_sum, segment_sum
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES
from tests.unit.scoring_reference import Floats, RefInput, reference_attribute_accounts, reference_score_rings
from tests.unit.scoring_reference_attribution import build_org_index

# ---------------------------------------------------------------------------------------------
# Populations and comparison
# ---------------------------------------------------------------------------------------------

T0 = 1_750_000_000.0
HOUR = 3_600.0
MODELS = {
    "default": default_model(),
    "test": load_model(Path(__file__).with_name("data") / "scoring_model.json"),
}


def _build(
    links: list[tuple[str, str, str]],
    *,
    networks: dict[str, str],
    ip_org: dict[str, str],
    known: list[tuple[str, str]],
    domains: dict[str, str],
    created: dict[str, float],
    first_seen: dict[tuple[str, str, str], float],
    domain_org: dict[str, str] | None = None,
    extra_orgs: tuple[str, ...] = (),
    own_hosting: frozenset[str] = frozenset(),
) -> tuple[LinkIndex, OrgIndicators, Floats]:
    accounts = sorted({a for a, _, _ in links} | {a for a, _ in known} | set(domains))
    entities = sorted({(k, v) for _, k, v in links})
    acc = {a: i for i, a in enumerate(accounts)}
    ent = {e: i for i, e in enumerate(entities)}
    signup = np.array([created.get(a, math.nan) for a in accounts])
    inc = Incidence(
        account_ids=np.array(accounts, dtype=np.str_),
        entity_keys=np.array([v for _, v in entities], dtype=np.str_),
        entity_kind=np.array([KIND_ORDER.index(k) for k, _ in entities], np.int8),
        entity_network=np.array([NETWORK_CLASSES.index(networks.get(v, "unknown")) for _, v in entities], np.int8),
        link_account=np.array([acc[a] for a, _, _ in links], np.int32),
        link_entity=np.array([ent[(k, v)] for _, k, v in links], np.int32),
        link_first_seen=np.array([first_seen.get(row, math.nan) for row in links]),
        link_last_seen=np.array([first_seen.get(row, math.nan) for row in links]),
        link_count=np.ones(len(links), np.int32),
    )
    orgs = sorted(set(ip_org.values()) | {o for _, o in known} | set(extra_orgs) | set((domain_org or {}).values()))
    evidence = OrgIndicators(
        organizations=tuple(orgs),
        known_account=np.array([acc[a] for a, _ in known], np.int32),
        known_org=np.array([orgs.index(o) for _, o in known], np.int32),
        entity_org=np.array([orgs.index(ip_org[v]) if v in ip_org else -1 for _, v in entities], np.int32),
        account_email_domain=np.array([domains.get(a, "") for a in accounts], dtype=np.str_),
        domain_org={d: orgs.index(o) for d, o in (domain_org or {}).items()},
        own_hosting=frozenset(orgs.index(o) for o in own_hosting if o in orgs),
    )
    return index_links(inc), evidence, signup


def random_population(seed: int) -> tuple[LinkIndex, OrgIndicators, Floats, list[npt.NDArray[np.int32]]]:
    """Accounts sharing every kind of entity with each other and with known accounts, plus rings."""
    rng = np.random.default_rng(seed)
    n_acc = int(rng.integers(30, 160))
    names = [f"acc{i:04d}" for i in range(n_acc)]
    pools = {"ip": 40, "device": 25, "payment": 15, "phone": 12, "email": 10}
    values = {k: [f"{k}-{j}" if k != "ip" else f"10.{seed % 200}.{j // 250}.{j % 250}" for j in range(n)]
              for k, n in pools.items()}
    rows: set[tuple[str, str, str]] = set()
    for a in names:
        for kind, pool in values.items():
            for _ in range(int(rng.poisson(0.8 if kind == "ip" else 0.5))):
                # a few popular entities, many rare ones
                j = int(min(rng.zipf(1.6) - 1, len(pool) - 1)) if rng.random() < 0.5 else int(rng.integers(len(pool)))
                rows.add((a, kind, pool[j]))
    links = sorted(rows)
    if seed % 3 == 0:
        links += links[: len(links) // 5]  # duplicate rows merge in index_links
    nets = ["residential", "mobile", "hosting", "vpn", "tor", "corporate", "unknown"]
    networks = {v: nets[int(rng.integers(len(nets)))] for v in values["ip"]}
    orgs = ["Acme", "Beta Corp", "CloudCo", "Delta", "Echo Ltd"]
    ip_org = {v: orgs[int(rng.integers(len(orgs)))] for v in values["ip"] if rng.random() < 0.4}
    known = sorted({(names[int(rng.integers(n_acc))], orgs[int(rng.integers(len(orgs)))])
                    for _ in range(int(rng.integers(0, 12)))})
    doms = ["acme.example", "beta-corp.example", "gmail.com", "delta.example", "echo-ltd.example", ""]
    domains = {a: doms[int(rng.integers(len(doms)))] for a in names if rng.random() < 0.7}
    created = {a: T0 + float(rng.integers(0, 40 * 24)) * HOUR for a in names if rng.random() < 0.85}
    if rng.random() < 0.5:  # a burst of sign-ups
        for a in names[:20]:
            created[a] = T0 + float(rng.integers(0, 180)) * 60.0
    first_seen = {row: T0 + float(rng.integers(0, 30 * 24 * 6)) * 600.0 for row in links if rng.random() < 0.9}
    domain_org = {"delta.example": "Delta"} if seed % 2 else None
    # Organisations acting on their hosting blocks, drawn apart so that the draws above stay as they were.
    apart = np.random.default_rng(seed + 1_000)
    own = frozenset(o for o in orgs if apart.random() < 0.5) if seed % 2 == 0 else frozenset()
    known = [k for k in known if k[1] not in own]  # known members would make them act anyway
    index, evidence, signup = _build(links, networks=networks, ip_org=ip_org, known=known, domains=domains,
                                     created=created, first_seen=first_seen, domain_org=domain_org,
                                     own_hosting=own)
    n = index.n_accounts
    order = rng.permutation(n)
    rings: list[npt.NDArray[np.int32]] = []
    at = 0
    while at < n - 3 and len(rings) < 12:
        k = int(rng.integers(2, 14))
        rings.append(np.sort(order[at : at + k]).astype(np.int32))
        at += k
    if seed % 4 == 0 and rings:
        rings.append(np.array([], np.int32))  # an empty ring
        rings.append(np.array([rings[0][0]], np.int32))  # a member of two rings, alone in the second
    if seed % 5 == 0 and len(rings) > 1:
        rings.append(np.r_[rings[1], rings[1][:2]].astype(np.int32))  # duplicate members
    return index, evidence, signup, rings


def big_ring_population() -> tuple[LinkIndex, OrgIndicators, Floats, list[npt.NDArray[np.int32]]]:
    """A 300-member ring on 200 exclusive IPs: sums long enough for NumPy's pairwise blocks and splits."""
    members = [f"m{i:03d}" for i in range(300)]
    links = [
        (a, "ip", f"198.18.{j // 250}.{j % 250}") for i, a in enumerate(members) for j in (i % 200, (i * 7 + 3) % 200)
    ]
    links += [(a, "device", f"dev-{i % 37}") for i, a in enumerate(members)]
    links += [(f"z{i:03d}", "device", f"dev-{i % 37}") for i in range(50)]
    links += [(a, "phone", f"+1555{i % 150:04d}") for i, a in enumerate(members)]
    created = {a: T0 + (i % 97) * 1234.5 for i, a in enumerate(members)}
    first_seen = {row: T0 + (sum(map(ord, row[0] + row[2])) % 1000) * 77.7 for row in links}
    known = [("z001", "Acme"), ("m005", "Beta Corp"), ("z002", "Beta Corp")]
    index, evidence, signup = _build(links, networks={}, ip_org={links[0][2]: "Acme"}, known=known,
                                     domains={"m001": "acme.example"}, created=created, first_seen=first_seen,
                                     domain_org={"acme.example": "Acme"})
    ring = np.searchsorted(index.incidence.account_ids, members).astype(np.int32)
    return index, evidence, signup, [ring, ring[:150], ring[150:160]]


def _items(e: Explanation) -> list[tuple[Any, ...]]:
    return [(i.kind, i.llr, i.sentence, i.accounts, i.entities, i.organization) for i in e.items]


def _attribution(a: Attribution) -> tuple[Any, ...]:
    return (a.organization, a.name, a.features.tolist(), a.confidence, _items(a.explanation))


def _ring(s: RingScore) -> tuple[Any, ...]:
    c = s.coordination
    return (s.ring, c.members.tolist(), c.features.tolist(), c.probability, _items(c.explanation),
            [_attribution(a) for a in s.attributions])


def _accounts(accounts: dict[int, AccountAttribution]) -> list[tuple[Any, ...]]:
    return [(a, x.account, x.ring, x.membership_confidence, [_attribution(t) for t in x.attributions])
            for a, x in accounts.items()]


def _check(index: LinkIndex, evidence: OrgIndicators, signup: Floats, rings: list[npt.NDArray[np.int32]],
           model: ScoringModel) -> None:
    data = prepare(index, evidence, signup)
    ref = RefInput(index, signup, evidence, build_org_index(index.incidence, evidence))
    got, want = score_rings(data, rings, model), reference_score_rings(ref, rings, model)
    assert [_ring(s) for s in got] == [_ring(s) for s in want]
    rng = np.random.default_rng(len(rings))
    membership = [np.round(rng.random(len(r)), 4) for r in rings]
    for conf in (None, membership):
        a = attribute_accounts(data, rings, got, conf, model)
        b = reference_attribute_accounts(ref, rings, want, conf, model)
        assert _accounts(a) == _accounts(b)
    some = sorted(rng.choice(index.n_accounts, size=min(10, index.n_accounts), replace=False).tolist())
    a = attribute_accounts(data, rings, got, membership, model, accounts=some)
    b = reference_attribute_accounts(ref, rings, want, membership, model, accounts=some)
    assert _accounts(a) == _accounts(b)


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("seed", range(24))
def test_vectorised_scores_equal_the_per_ring_reference(seed: int, model: str) -> None:
    _check(*random_population(seed), MODELS[model])


@pytest.mark.parametrize("model", sorted(MODELS))
def test_long_sums_equal_the_per_ring_reference(model: str) -> None:
    _check(*big_ring_population(), MODELS[model])


def test_hand_drawn_attribution_case_equals_the_reference() -> None:
    members = ("r1", "r2", "r3", "r4")
    links = [(a, "payment", "card-r") for a in members] + [(a, "device", "dev-r") for a in members]
    links += [(a, "ip", "198.51.100.9") for a in members] + [(a, "ip", "192.0.2.1") for a in members[:2]]
    links += [("k1", "device", "dev-r"), ("k2", "device", "dev-k2"), ("b1", "device", "dev-b")]
    links += [("k2", "payment", "card-r")]
    index, evidence, signup = _build(
        links,
        networks={"198.51.100.9": "hosting", "192.0.2.1": "corporate"},
        ip_org={"198.51.100.9": "CloudCo", "192.0.2.1": "Initech"},
        known=[("r2", "Acme"), ("k1", "Acme"), ("k2", "Beta"), ("k2", "Acme")],
        domains={"r1": "initech.example", "r3": "initech.example", "k1": "acme.example"},
        created={a: T0 + i * 60.0 for i, a in enumerate(members)},
        first_seen={row: T0 + 300.0 for row in links},
        domain_org={"initech.example": "Initech"},
    )
    rings = [np.searchsorted(index.incidence.account_ids, members).astype(np.int32)]
    for model in MODELS.values():
        _check(index, evidence, signup, rings, model)


def test_no_rings_and_no_organisations() -> None:
    index, evidence, signup = _build([("a", "ip", "10.0.0.1"), ("b", "ip", "10.0.0.1")], networks={}, ip_org={},
                                     known=[], domains={}, created={}, first_seen={})
    _check(index, evidence, signup, [], MODELS["default"])
    _check(index, evidence, signup, [np.array([0, 1], np.int32)], MODELS["default"])


def test_segment_sum_is_numpy_sum_and_exact_sum_is_fsum() -> None:
    rng = np.random.default_rng(7)
    lengths = np.r_[np.arange(0, 700), rng.integers(0, 3000, 40)].astype(np.int64)
    values = rng.standard_normal(int(lengths.sum())) * 10.0 ** rng.integers(-6, 6, int(lengths.sum()))
    ptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    got = segment_sum(values, ptr)
    assert got.tolist() == [float(np.add.reduce(values[ptr[i] : ptr[i + 1]])) for i in range(lengths.shape[0])]
    short = np.r_[0, np.cumsum(rng.integers(0, 6, 500))].astype(np.int64)
    v = values[: short[-1]]
    assert exact_sum(v, short).tolist() == [math.fsum(v[short[i] : short[i + 1]].tolist()) for i in range(500)]
