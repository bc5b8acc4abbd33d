"""Projection weights on tiny hand-drawn incidences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graph.links import Incidence, index_links
from graph.projection import ProjectionParams, project
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

DAY = 86_400.0
T0 = 1_700_000_000.0

Link = tuple[str, str, str, float]  # account, kind, value, first_seen


def build(links: list[Link], networks: dict[str, str] | None = None) -> Incidence:
    """An Incidence from (account, kind, value, first_seen) rows, in the order given."""
    networks = networks or {}
    accounts = sorted({a for a, _, _, _ in links})
    entities = sorted({(k, v) for _, k, v, _ in links})
    acc_idx = {a: i for i, a in enumerate(accounts)}
    ent_idx = {e: i for i, e in enumerate(entities)}
    n = len(links)
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
        link_count=np.ones(n, np.int32),
    )


def edges(g: object) -> dict[tuple[int, int], float]:
    return {(int(s), int(d)): float(w) for s, d, w in zip(g.src, g.dst, g.weight, strict=True)}  # type: ignore[attr-defined]


def test_device_pair_and_rare_hosting_ip_weights() -> None:
    links: list[Link] = [
        ("a", "device", "d1", T0),
        ("b", "device", "d1", T0),
        ("a", "ip", "10.0.0.1", T0),
        ("b", "ip", "10.0.0.1", T0),
        ("c", "ip", "10.0.0.1", T0),
    ]
    g = project(index_links(build(links, {"10.0.0.1": "hosting"})), ProjectionParams())
    ip_w = 0.3 * 1.0 * math.log(7) / math.log(8)
    assert g.entity_weight.tolist() == pytest.approx([1.0, ip_w])
    assert edges(g) == pytest.approx({(0, 1): 1.0 + ip_w, (0, 2): ip_w, (1, 2): ip_w})
    assert g.shared.tolist() == [2, 1, 1]
    assert g.src.dtype == np.int32 and g.dst.dtype == np.int32


def test_network_class_scales_ip_weight_only() -> None:
    links: list[Link] = [
        ("a", "ip", "m", T0),
        ("b", "ip", "m", T0),
        ("a", "phone", "p", T0),
        ("b", "phone", "p", T0),
    ]
    g = project(index_links(build(links, {"m": "mobile"})), ProjectionParams(min_weight=0.0))
    assert g.entity_weight.tolist() == pytest.approx([0.3 * 0.05, 0.6])


def test_links_spread_in_time_count_less() -> None:
    links: list[Link] = [
        ("a", "device", "d", T0),
        ("b", "device", "d", T0 + DAY),
        ("c", "device", "d", T0 + 200 * DAY),
    ]
    g = project(index_links(build(links)), ProjectionParams(min_weight=0.0))
    w = math.log(7) / math.log(8)
    burst = 0.25 + 0.75 * 0.5  # one of its two other links within the 3-day window
    late = 0.25
    assert edges(g) == pytest.approx(
        {(0, 1): w * burst, (0, 2): w * math.sqrt(burst * late), (1, 2): w * math.sqrt(burst * late)}
    )


def test_unknown_first_seen_is_neutral() -> None:
    links: list[Link] = [("a", "device", "d", math.nan), ("b", "device", "d", T0)]
    g = project(index_links(build(links)), ProjectionParams())
    assert edges(g) == pytest.approx({(0, 1): 1.0})


def test_entity_above_cap_is_weak_evidence_not_edge() -> None:
    links: list[Link] = [(f"u{i:03d}", "ip", "nat", T0) for i in range(60)]
    links += [("u000", "device", "d", T0), ("u001", "device", "d", T0)]
    g = project(index_links(build(links, {"nat": "residential"})), ProjectionParams())
    assert edges(g) == pytest.approx({(0, 1): 1.0})
    assert g.weak_entities.entity.tolist() == [1]
    assert g.weak_entities.degree.tolist() == [60]
    assert KIND_ORDER[int(g.weak_entities.kind[0])] == "ip"
    assert g.entity_weight[1] == 0.0


def test_pruning_and_duplicate_links() -> None:
    links: list[Link] = [
        ("a", "ip", "r", T0 + DAY),
        ("a", "ip", "r", T0),  # duplicate row: merged, earliest first_seen kept
        ("b", "ip", "r", T0),
    ]
    params = ProjectionParams(min_weight=0.2)
    assert project(index_links(build(links, {"r": "residential"})), params).n_edges == 0  # 0.15 < 0.2
    g = project(index_links(build(links, {"r": "residential"})), ProjectionParams(min_weight=0.1))
    assert edges(g) == pytest.approx({(0, 1): 0.15})
    assert g.shared.tolist() == [1]


def test_idf_rarity() -> None:
    links: list[Link] = [(a, "device", "d", T0) for a in "abc"] + [("d", "device", "e", T0)]
    g = project(index_links(build(links)), ProjectionParams(rarity="idf"))
    assert g.entity_weight[0] == pytest.approx(math.log(4 / 3) / math.log(2))


def test_shuffled_links_give_the_same_graph() -> None:
    rng = np.random.default_rng(3)
    links: list[Link] = []
    for i in range(40):
        links.append((f"a{i:02d}", "ip", f"ip{i % 7}", T0 + float(rng.integers(0, 30)) * DAY))
        links.append((f"a{i:02d}", "device", f"d{i % 11}", T0 + float(rng.integers(0, 30)) * DAY))
    base = project(index_links(build(links)), ProjectionParams())
    perm = rng.permutation(len(links))
    other = project(index_links(build([links[i] for i in perm])), ProjectionParams())
    assert np.array_equal(base.src, other.src) and np.array_equal(base.dst, other.dst)
    assert np.array_equal(base.weight, other.weight)
    assert np.all(base.src < base.dst)
    assert np.all(np.diff(base.src.astype(np.int64) * 1000 + base.dst) > 0)
