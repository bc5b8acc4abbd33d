"""Ring detection on tiny hand-drawn graphs: exact seeded partitions per backend, hubs, camouflage."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest

from graph.detection import METHODS, DetectionParams, detect_rings, membership_stability
from graph.links import Incidence, index_links
from graph.projection import AccountGraph, Coacting, ProjectionParams, WeakEntities, project
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

T0 = 1_700_000_000.0
DAY = 86_400.0

Link = tuple[str, str, str, float]


def build(links: list[Link], networks: dict[str, str]) -> Incidence:
    accounts = sorted({a for a, _, _, _ in links})
    entities = sorted({(k, v) for _, k, v, _ in links})
    acc_idx = {a: i for i, a in enumerate(accounts)}
    ent_idx = {e: i for i, e in enumerate(entities)}
    return Incidence(
        account_ids=np.array(accounts, dtype=np.str_),
        entity_keys=np.array([v for _, v in entities], dtype=np.str_),
        entity_kind=np.array([KIND_ORDER.index(k) for k, _ in entities], np.int8),
        entity_network=np.array(
            [NETWORK_CLASSES.index(networks.get(v, "unknown")) for _, v in entities], np.int8
        ),
        link_account=np.array([acc_idx[a] for a, _, _, _ in links], np.int32),
        link_entity=np.array([ent_idx[(k, v)] for _, k, v, _ in links], np.int32),
        link_first_seen=np.array([t for _, _, _, t in links], np.float64),
        link_last_seen=np.array([t for _, _, _, t in links], np.float64),
        link_count=np.ones(len(links), np.int32),
    )


def graph_from_edges(n: int, edges: list[tuple[int, int, float]]) -> AccountGraph:
    edges = sorted(edges)
    empty = np.zeros(0, np.int32)
    return AccountGraph(
        n_accounts=n,
        src=np.array([s for s, _, _ in edges], np.int32),
        dst=np.array([d for _, d, _ in edges], np.int32),
        weight=np.array([w for _, _, w in edges], np.float64),
        shared=np.ones(len(edges), np.int32),
        entity_weight=np.zeros(0),
        entity_degree=empty,
        weak_entities=WeakEntities(empty, np.zeros(0, np.int8), empty),
    )


def as_lists(rings: list[npt.NDArray[np.int32]]) -> list[list[int]]:
    return [r.tolist() for r in rings]


def clique(nodes: range, w: float) -> list[tuple[int, int, float]]:
    return [(i, j, w) for i in nodes for j in nodes if i < j]


# Three 4-cliques in a chain joined by single weaker edges, plus an isolated pair (below min_size).
CHAIN = graph_from_edges(
    14, [*clique(range(4), 1.0), *clique(range(4, 8), 1.0), *clique(range(8, 12), 1.0), (3, 4, 0.3),
         (7, 8, 0.3), (12, 13, 1.0)]
)
RESOLUTION = {"leiden-cpm": 0.5, "leiden-modularity": 1.0, "louvain": 1.0, "plm": 1.0}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_exact_seeded_partition(method: str) -> None:
    rings = detect_rings(CHAIN, DetectionParams(
        method=method, resolution=RESOLUTION[method], min_size=3, merge_weight=None, seed=42
    ))
    assert as_lists(rings) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    # Joined by edges of 0.3, the three cliques are one ring unless only stronger links join.
    assert as_lists(detect_rings(CHAIN, DetectionParams(
        method=method, resolution=RESOLUTION[method], merge_weight=0.1, seed=42)
    )) == [
        list(range(12)), [12, 13]  # the isolated pair shares a rare device: a ring of two by default
    ]


def test_cpm_resolution_is_a_density_threshold() -> None:
    # Edges of 1.0 inside, 0.3 between: above 1.0 nothing is dense enough to be a ring.
    assert detect_rings(CHAIN, DetectionParams(
        method="leiden-cpm", resolution=1.01, min_size=3, merge_weight=None, seed=1
    )) == []
    # At zero every connected component is one community.
    rings = detect_rings(CHAIN, DetectionParams(method="leiden-cpm", resolution=0.0, min_size=3, seed=1))
    assert as_lists(rings) == [list(range(12))]


def test_small_dense_component_kept_whole_and_small_ones_dropped() -> None:
    g = graph_from_edges(7, [*clique(range(5), 1.0), (5, 6, 1.0)])
    for method in METHODS:
        rings = detect_rings(g, DetectionParams(method=method, resolution=RESOLUTION[method], min_size=3, seed=0))
        assert as_lists(rings) == [[0, 1, 2, 3, 4]], method


def two_rings_behind_nat() -> tuple[list[Link], dict[str, str]]:
    ring_a = [f"a{i}" for i in range(6)]
    ring_b = [f"b{i}" for i in range(6)]
    links: list[Link] = []
    for a in ring_a:
        links += [(a, "device", "devA", T0), (a, "payment", "payA", T0)]
    for b in ring_b:
        links += [(b, "device", "devB", T0 + DAY), (b, "phone", "phB", T0 + DAY)]
    # A carrier NAT shared by everyone: 300 accounts, both rings among them.
    for i, acct in enumerate([*ring_a, *ring_b, *(f"u{i:03d}" for i in range(288))]):
        links.append((acct, "ip", "100.64.0.1", T0 + (i % 90) * DAY))
    # Camouflage: ring A also uses a popular residential IP that 40 benign users use over a year.
    for i in range(40):
        links.append((f"v{i:02d}", "ip", "203.0.113.7", T0 + i * 9 * DAY))
    for a in ring_a:
        links.append((a, "ip", "203.0.113.7", T0))
    # And each benign user shares that IP plus a second popular one with one ring member.
    for i in range(40):
        links.append((f"v{i:02d}", "ip", "198.51.100.9", T0 + i * 9 * DAY))
    links.append(("a0", "ip", "198.51.100.9", T0))
    nets = {"100.64.0.1": "mobile", "203.0.113.7": "residential", "198.51.100.9": "residential"}
    return links, nets


@pytest.mark.parametrize("method", sorted(METHODS))
def test_nat_does_not_join_rings_and_camouflage_does_not_pull_in_benign(method: str) -> None:
    links, nets = two_rings_behind_nat()
    inc = build(links, nets)
    g = project(index_links(inc), ProjectionParams())
    # The carrier NAT and both popular residential addresses are above the IP cap (10 accounts): weak
    # evidence, no edge; the rings come out on their devices, cards and phones alone.
    assert sorted(inc.entity_keys[g.weak_entities.entity].tolist()) == ["100.64.0.1", "198.51.100.9", "203.0.113.7"]
    rings = detect_rings(g, DetectionParams(method=method, resolution=RESOLUTION[method], min_size=3, seed=7))
    named = [sorted(inc.account_ids[r].tolist()) for r in rings]
    assert named == [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]


def test_rings_bridged_by_one_shared_email_stay_apart_as_communities() -> None:
    links, nets = two_rings_behind_nat()
    links.append(("a0", "email", "x@example.org", T0))
    links.append(("b0", "email", "x@example.org", T0))
    inc = build(links, nets)
    g = project(index_links(inc), ProjectionParams())
    for method in METHODS:
        rings = detect_rings(g, DetectionParams(
            method=method, resolution=RESOLUTION[method], min_size=3, merge_weight=None, seed=7
        ))
        assert [r.shape[0] for r in rings] == [6, 6], method


def test_cells_sharing_a_rare_device_are_one_ring_but_an_address_used_months_apart_is_not() -> None:
    links, nets = two_rings_behind_nat()
    device = [*links, ("a0", "device", "dev-shared", T0), ("b0", "device", "dev-shared", T0)]
    g = project(index_links(build(device, nets)), ProjectionParams())
    assert [r.shape[0] for r in detect_rings(g, DetectionParams(seed=7))] == [12]
    assert [r.shape[0] for r in detect_rings(g, DetectionParams(seed=7, merge_weight=None))] == [6, 6]
    nets = {**nets, "198.51.100.9": "residential"}
    ip = [*links, ("a0", "ip", "198.51.100.9", T0), ("b0", "ip", "198.51.100.9", T0 + 200 * DAY)]
    g = project(index_links(build(ip, nets)), ProjectionParams())
    assert [r.shape[0] for r in detect_rings(g, DetectionParams(seed=7))] == [6, 6]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_same_rings_when_links_are_shuffled(method: str) -> None:
    links, nets = two_rings_behind_nat()
    rng = np.random.default_rng(11)
    for i in range(60):  # noise: benign households sharing devices over time
        links.append((f"h{i:02d}", "device", f"hd{i // 3}", T0 + float(rng.integers(0, 300)) * DAY))
        links.append((f"h{i:02d}", "ip", f"hip{i // 4}", T0 + float(rng.integers(0, 300)) * DAY))
    results = []
    for perm_seed in (0, 1, 2):
        perm = np.random.default_rng(perm_seed).permutation(len(links))
        inc = build([links[i] for i in perm], nets)
        g = project(index_links(inc), ProjectionParams())
        rings = detect_rings(g, DetectionParams(method=method, resolution=RESOLUTION[method], min_size=3, seed=5))
        results.append([inc.account_ids[r].tolist() for r in rings])
    assert results[0] == results[1] == results[2]


def test_unknown_method_rejected() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        detect_rings(CHAIN, DetectionParams(method="magic", resolution=1.0, min_size=3, seed=0))


def test_membership_stability_of_clean_rings_is_one() -> None:
    rings = detect_rings(CHAIN, DetectionParams(
        method="leiden-cpm", resolution=0.5, min_size=3, merge_weight=None, seed=3
    ))
    stability = membership_stability(CHAIN, rings, DetectionParams(
        method="leiden-cpm", resolution=0.5, merge_weight=None, seed=3
    ))
    assert [s.tolist() for s in stability] == [[1.0] * 4] * 3


def _coacting(graph: AccountGraph, pairs: list[tuple[int, int]], days: list[list[int]]) -> AccountGraph:
    """`graph` with `pairs` co-acting beyond chance (3 matches where 0.5 were expected) on `days`."""
    return replace(graph, coacting=Coacting(
        src=np.array([s for s, _ in pairs], np.int32), dst=np.array([d for _, d in pairs], np.int32),
        observed=np.full(len(pairs), 3.0), expected=np.full(len(pairs), 0.5),
        days=np.array([d for ds in days for d in ds], np.int64),
        day_offsets=np.concatenate([[0], np.cumsum([len(ds) for ds in days])]).astype(np.int64)))


# Two 4-account communities of one component that CPM keeps apart, and every pair across them.
TWO_GROUPS = graph_from_edges(8, [*clique(range(4), 1.0), *clique(range(4, 8), 1.0), (3, 4, 0.3)])
ACROSS = [(i, j) for i in range(4) for j in range(4, 8)]
GROUP_PARAMS = DetectionParams(resolution=0.5, seed=7)


def test_groups_whose_members_coact_on_several_days_are_one_ring() -> None:
    assert as_lists(detect_rings(TWO_GROUPS, GROUP_PARAMS)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    spread = _coacting(TWO_GROUPS, ACROSS, [[20_000 + k % 4] for k in range(len(ACROSS))])
    assert as_lists(detect_rings(spread, GROUP_PARAMS)) == [list(range(8))]
    assert as_lists(detect_rings(spread, replace(GROUP_PARAMS, group_coaction=None))) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_one_shared_burst_or_a_few_coacting_pairs_do_not_join_groups() -> None:
    burst = _coacting(TWO_GROUPS, ACROSS, [[20_000] for _ in ACROSS])
    assert len(detect_rings(burst, GROUP_PARAMS)) == 2
    few = _coacting(TWO_GROUPS, ACROSS[:3], [[20_000 + k] for k in range(3)])  # 3 of 16 pairs
    assert len(detect_rings(few, GROUP_PARAMS)) == 2


def test_coacting_groups_of_two_components_stay_apart() -> None:
    apart = graph_from_edges(8, [*clique(range(4), 1.0), *clique(range(4, 8), 1.0)])
    spread = _coacting(apart, ACROSS, [[20_000 + k % 4] for k in range(len(ACROSS))])
    assert len(detect_rings(spread, GROUP_PARAMS)) == 2


@pytest.mark.parametrize("rate", [0.7, 0.9, 2.0, 5.0])
def test_groups_meeting_only_as_often_as_chance_stay_apart(rate: float) -> None:
    # Every pair across meets a Poisson(rate) number of times, exactly what its habits predict.
    big = graph_from_edges(40, [*clique(range(20), 1.0), *clique(range(20, 40), 1.0), (19, 20, 0.3)])
    rng = np.random.default_rng(int(rate * 10))
    for _ in range(20):
        across = [(i, j) for i in range(20) for j in range(20, 40)]
        met = rng.poisson(rate, len(across))
        pairs = [p for p, k in zip(across, met, strict=True) if k > 0]
        chance = replace(big, coacting=Coacting(
            src=np.array([s for s, _ in pairs], np.int32), dst=np.array([d for _, d in pairs], np.int32),
            observed=met[met > 0].astype(np.float64), expected=np.full(len(pairs), rate),
            days=rng.integers(20_000, 20_030, len(pairs)).astype(np.int64),
            day_offsets=np.arange(len(pairs) + 1, dtype=np.int64)))
        assert len(detect_rings(chance, GROUP_PARAMS)) == 2


def test_no_merge_turns_co_action_as_a_group_off_too() -> None:
    assert DetectionParams.for_method(merge=False).group_coaction is None
    with pytest.raises(ValueError, match="group_coaction"):
        DetectionParams(group_coaction=1.5)
