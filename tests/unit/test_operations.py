"""Campaigns and operations on hand-drawn graphs: a reused device keeps two campaigns two rings under
one operation; device cells of one campaign are one ring; what may and may not tie two campaigns."""

from __future__ import annotations

import numpy as np

from graph.behaviour.usage import sent_active_at, usage_index
from graph.detection import DetectionParams, detect_rings
from graph.detection.operations import Operations, group_operations
from graph.detection.ring_ids import assign_ring_ids
from graph.detection.rings import split_campaigns
from graph.evaluation.operations import evaluate_operations
from graph.links import LinkIndex, index_links
from graph.pipeline.graph import Templates, joined_graph
from graph.pipeline.operations import operation_ids
from graph.projection import ProjectionParams, active_at, project
from tests.unit.test_detection import DAY, T0, Link, build

Rings = list[np.ndarray]


def campaign(prefix: str, n: int, start: float, device: str, card: str) -> list[Link]:
    """`n` accounts that share a device and a card and log in from one office address in one week."""
    links: list[Link] = []
    for i in range(n):
        at = start + i * 3600.0
        links += [(f"{prefix}{i}", "device", device, at), (f"{prefix}{i}", "payment", card, at),
                  (f"{prefix}{i}", "ip", f"203.0.113.{ord(prefix[0])}", at)]
    return links


def operations_of(
    links: list[Link],
    networks: dict[str, str],
    known: list[tuple[str, int]] | None = None,
    acting: dict[str, int] | None = None,
    rings: list[list[str]] | None = None,
) -> tuple[LinkIndex, Rings, Operations]:
    """Rings (detected, or the given member lists) and their operations; `known`: (account, org) pairs,
    `acting`: entity key -> the organisation acting on it."""
    index = index_links(build(links, networks))
    ids = index.incidence.account_ids.tolist()
    if rings is None:
        found = detect_rings(project(index, ProjectionParams()), DetectionParams(seed=3))
    else:
        found = [np.array(sorted(ids.index(a) for a in r), np.int32) for r in rings]
    keys = index.incidence.entity_keys.tolist()
    entity_org = np.full(len(keys), -1, np.int64)
    for key, org in (acting or {}).items():
        entity_org[keys.index(key)] = org
    known_account = np.array([ids.index(a) for a, _ in known or []], np.int32)
    known_org = np.array([o for _, o in known or []], np.int32)
    return index, found, group_operations(index, found, known_account, known_org, entity_org)


def members(index: LinkIndex, ring: np.ndarray) -> list[str]:
    return [str(index.incidence.account_ids[a]) for a in ring.tolist()]


def test_two_campaigns_tied_by_one_reused_device_are_two_rings_of_one_operation() -> None:
    march = campaign("a", 5, T0, "dev-a", "card-a")
    june = campaign("b", 5, T0 + 100 * DAY, "dev-b", "card-b")
    reuse = [("b0", "device", "dev-a", T0 + 100 * DAY)]  # June's first account on March's device
    index, rings, ops = operations_of(march + june + reuse, {})
    assert sorted(members(index, r) for r in rings) == [[f"a{i}" for i in range(5)], [f"b{i}" for i in range(5)]]
    assert ops.n_operations == 1
    (tie,) = [t for t in ops.ties]
    assert tie.kind == "device"
    assert {str(index.incidence.entity_keys[tie.entity])} == {"dev-a"}
    assert {members(index, rings[r])[0][0] for r in tie.rings} == {"a", "b"}
    assert index.find(tie.accounts[0], tie.entity) >= 0 and index.find(tie.accounts[1], tie.entity) >= 0


def test_campaign_blind_detection_would_have_fused_them() -> None:
    links = campaign("a", 5, T0, "dev-a", "card-a") + campaign("b", 5, T0 + 100 * DAY, "dev-b", "card-b")
    links += [(f"b{i}", "device", "dev-a", T0 + 100 * DAY) for i in range(3)]
    graph = project(index_links(build(links, {})), ProjectionParams())
    assert [r.shape[0] for r in detect_rings(graph, DetectionParams(seed=3, campaign_gap_days=None))] == [10]
    assert [r.shape[0] for r in detect_rings(graph, DetectionParams(seed=3))] == [5, 5]


def test_device_cells_of_one_campaign_sharing_cards_and_addresses_in_one_week_are_one_ring() -> None:
    cells = [*campaign("a", 4, T0, "dev-1", "card-1"), *campaign("a", 4, T0, "dev-2", "card-1")]
    cells = [(f"{a}{'x' if i >= 12 else ''}", k, v, t) for i, (a, k, v, t) in enumerate(cells)]
    graph = project(index_links(build(cells, {})), ProjectionParams())
    assert [r.shape[0] for r in detect_rings(graph, DetectionParams(seed=3))] == [8]


def test_a_cut_needs_min_size_on_both_sides_and_untimed_members_stay_with_the_earliest_part() -> None:
    labels = np.array([0] * 7 + [1] * 3, np.int64)
    times = np.array([0, 1, 2, 90, 91, 92, np.nan, 0, 1, 200], np.float64) * DAY
    cut = split_campaigns(labels, times, 60 * DAY, 3)
    assert len(set(cut[:3].tolist())) == 1 and len(set(cut[3:6].tolist())) == 1 and cut[0] != cut[3]
    assert cut[6] == cut[0]  # unknown time: not moved
    assert len(set(cut[7:].tolist())) == 1  # a straggler 200 days on does not make a ring of one


def test_active_at_is_the_median_first_seen_of_an_accounts_links() -> None:
    links = [("a", "ip", "1", T0), ("a", "ip", "2", T0 + 10 * DAY), ("a", "ip", "3", T0 + 400 * DAY),
             ("b", "ip", "1", float("nan"))]
    at = active_at(index_links(build(links, {})))
    assert at[0] == T0 + 10 * DAY and np.isnan(at[1])


def bought_ring(n: int) -> tuple[list[Link], Templates]:
    """`n` accounts bought from sellers months apart: each brings the three home addresses its
    seller's household had (residential leases, shared with the seller's family), then shares the
    operator's device and card and sends the operator's template in the campaign's week."""
    links: list[Link] = []
    sent: list[tuple[str, list[int]]] = []
    for i in range(n):
        old = T0 - (500 - 70 * i) * DAY
        links += [(who, "ip", f"198.51.{i}.{k}", old + k * DAY) for k in range(3) for who in (f"b{i}", f"h{i}")]
        links += [(f"b{i}", "device", "dev-op", T0 + i * 3600.0), (f"b{i}", "payment", "card-op", T0 + i * 3600.0)]
        sent.append((f"b{i}", [int(T0 // 60) + day * 1440 + 60 * i for day in range(7)]))
    return links, [("t-op", n, None, sent)]


def test_a_ring_of_bought_accounts_is_one_campaign_by_when_it_sent_not_by_its_sellers_history() -> None:
    links, templates = bought_ring(6)
    index = index_links(build(links, {f"198.51.{i}.{k}": "residential" for i in range(6) for k in range(3)}))
    params = DetectionParams(seed=3)
    ring = sorted(f"b{i}" for i in range(6))
    by_links = detect_rings(project(index, params.projection), params)  # the sellers' leases months apart cut it
    assert by_links and all(len(set(members(index, r)) & set(ring)) <= 2 for r in by_links)
    _, graph = joined_graph(index, usage_index(templates, index.incidence.account_ids), params)
    assert [members(index, r) for r in detect_rings(graph, params) if members(index, r)[0].startswith("b")] == [ring]


def test_sent_active_at_is_the_first_quartile_of_an_accounts_sent_minutes() -> None:
    ids = np.array(["a", "b", "c"], dtype=np.str_)
    templates = [("t1", 2, None, [("a", [10, 20, 30]), ("b", [5, 6])]), ("t2", 3, None, [("a", [30, 40]), ("b", [6])]),
                 ("t3", 1, None, [("c", [7])])]  # a template of one sender is nobody's co-action
    at = sent_active_at(usage_index(templates, ids), 3)
    # a: 10, 20, 30, 30, 40 (a minute on two templates counts twice); b: 5, 6, 6
    assert at[0] == 20 * 60.0 and at[1] == 5 * 60.0 and np.isnan(at[2])
    five = sent_active_at(usage_index([("t", 2, None, [("a", [1, 2, 3, 4, 5, 6]), ("b", [9])])], ids), 3)
    assert five[0] == 2 * 60.0  # the first quartile of six minutes: the second


def test_residential_and_widely_used_assets_tie_nothing_but_an_exclusive_server_does() -> None:
    base = campaign("a", 4, T0, "dev-a", "card-a") + campaign("b", 4, T0 + 100 * DAY, "dev-b", "card-b")
    rings = [[f"a{i}" for i in range(4)], [f"b{i}" for i in range(4)]]
    home = [("a0", "ip", "198.51.100.7", T0), ("b0", "ip", "198.51.100.7", T0 + 100 * DAY)]
    _, _, ops = operations_of(base + home, {"198.51.100.7": "residential"}, rings=rings)
    assert ops.n_operations == 2
    crowd = [(f"x{i}", "device", "dev-pop", T0) for i in range(6)] + [("a0", "device", "dev-pop", T0),
                                                                         ("b0", "device", "dev-pop", T0)]
    _, _, ops = operations_of(base + crowd, {}, rings=rings)
    assert ops.n_operations == 2  # six of its eight users are strangers
    server = [("a0", "ip", "192.0.2.50", T0), ("b1", "ip", "192.0.2.50", T0 + 100 * DAY)]
    _, _, ops = operations_of(base + server, {"192.0.2.50": "hosting"}, rings=rings)
    assert ops.n_operations == 1 and [t.kind for t in ops.ties] == ["ip"]


def test_known_members_of_one_organisation_tie_campaigns_and_two_organisations_never_share_one() -> None:
    a = campaign("a", 4, T0, "dev-a", "card-a")
    b = campaign("b", 4, T0 + 100 * DAY, "dev-b", "card-b")
    c = campaign("c", 4, T0 + 200 * DAY, "dev-c", "card-c")
    rings = [[f"{p}{i}" for i in range(4)] for p in "abc"]
    _, _, ops = operations_of(a + b + c, {}, known=[("a1", 0), ("b2", 0)], rings=rings)
    assert ops.of_ring.tolist() == [0, 0, 1] and [t.kind for t in ops.ties] == ["known_member"]
    # b shares a card with a (org 0) and with c (org 1): it joins a, the stronger tie first, never both.
    hub = [("b0", "payment", "card-a", T0 + 100 * DAY), ("b1", "payment", "card-c", T0 + 100 * DAY)]
    _, _, ops = operations_of(a + b + c + hub, {}, known=[("a1", 0), ("c2", 1)], rings=rings)
    assert ops.of_ring.tolist() == [0, 0, 1]


def test_an_organisations_own_network_ties_its_campaigns_but_an_employers_shared_one_does_not() -> None:
    a = campaign("a", 4, T0, "dev-a", "card-a")
    b = campaign("b", 4, T0 + 100 * DAY, "dev-b", "card-b")
    rings = [[f"a{i}" for i in range(4)], [f"b{i}" for i in range(4)]]
    own = [("a0", "ip", "10.0.0.1", T0), ("b0", "ip", "10.0.0.2", T0 + 100 * DAY)]
    nets = {"10.0.0.1": "residential", "10.0.0.2": "residential"}
    _, _, ops = operations_of(a + b + own, nets, acting={"10.0.0.1": 0, "10.0.0.2": 0}, rings=rings)
    assert [t.kind for t in ops.ties] == ["org_network"] and ops.n_operations == 1
    staff = [(f"s{i}", "ip", "10.0.0.3", T0) for i in range(20)]
    acting = {"10.0.0.1": 0, "10.0.0.2": 0, "10.0.0.3": 0}
    _, _, ops = operations_of(a + b + own + staff, {**nets, "10.0.0.3": "residential"}, acting=acting, rings=rings)
    assert ops.n_operations == 2


def test_operation_ids_continue_across_runs_when_a_campaign_is_added() -> None:
    first = assign_ring_ids({}, [frozenset({"ring-a", "ring-b"})], prefix="op")
    assert first.ids[0].startswith("op-")
    again = assign_ring_ids({first.ids[0]: frozenset({"ring-a", "ring-b"})},
                            [frozenset({"ring-a", "ring-b", "ring-c"})], prefix="op")
    assert again.ids == first.ids


def test_operation_evaluation_counts_grouping_mixing_and_fusion() -> None:
    truth_ring = {**{f"a{i}": "R1" for i in range(4)}, **{f"b{i}": "R2" for i in range(4)},
                  **{f"c{i}": "R3" for i in range(4)}, "z": None}
    truth_op = {**{f"a{i}": "OP1" for i in range(4)}, **{f"b{i}": "OP1" for i in range(4)},
                **{f"c{i}": "OP2" for i in range(4)}, "z": None}
    orgs: dict[str, str | None] = {a: None for a in truth_ring}
    rings = [[f"a{i}" for i in range(4)], [f"b{i}" for i in range(4)], [f"c{i}" for i in range(4)]]
    good = evaluate_operations(rings, ["x", "x", "y"], truth_ring, truth_op, orgs)
    assert (good.true_operations, good.found, good.grouped, good.operations, good.mixed) == (1, 1, 1, 1, 0)
    mixed = evaluate_operations(rings, ["x", "y", "y"], truth_ring, truth_op, orgs)
    assert (mixed.grouped, mixed.operations, mixed.mixed) == (0, 1, 1)
    fused = evaluate_operations([rings[0] + rings[1], rings[2]], ["x", "y"], truth_ring, truth_op, orgs)
    assert fused.fused_rings == 1 and fused.found == 0 and fused.mixing_rings == 0
    two_operators = evaluate_operations([rings[0], rings[1] + rings[2][:2], rings[2][2:]], ["x", "y", "z"],
                                        truth_ring, truth_op, orgs)
    assert two_operators.mixing_rings == 1 and two_operators.fused_rings == 0
    one_straggler = evaluate_operations([rings[0], rings[1] + rings[2][:1], rings[2][1:]], ["x", "y", "z"],
                                        truth_ring, truth_op, orgs)
    assert one_straggler.mixing_rings == 0
    one_organisation = evaluate_operations([rings[0], rings[1] + rings[2][:2], rings[2][2:]], ["x", "y", "z"],
                                           truth_ring, truth_op, {a: "Org" for a in truth_ring})
    assert one_organisation.mixing_rings == 0


def test_a_ring_between_two_organisations_campaigns_is_contested_whatever_the_ring_order() -> None:
    a = campaign("a", 4, T0, "dev-a", "card-a")
    b = campaign("b", 4, T0 + 100 * DAY, "dev-b", "card-b")
    h = campaign("h", 4, T0 + 200 * DAY, "dev-h", "card-h")
    phone = [("a0", "phone", "+15550199", T0), ("b0", "phone", "+15550199", T0), ("h0", "phone", "+15550199", T0)]
    for rings in ([[f"{p}{i}" for i in range(4)] for p in "abh"], [[f"{p}{i}" for i in range(4)] for p in "hba"]):
        _, _, ops = operations_of(a + b + h + phone, {}, known=[("a1", 0), ("b1", 1)], rings=rings)
        where = {r[0]: int(ops.of_ring[k]) for k, r in enumerate(rings)}
        assert where["a0"] != where["b0"]
        assert ops.contested == {[r[0] for r in rings].index("h0")}


def test_an_operation_that_gains_campaigns_keeps_its_id() -> None:
    first = operation_ids({}, [frozenset({"ring-a"}), frozenset({"ring-x", "ring-y"})])
    before = dict(zip(("a", "xy"), first.ids, strict=True))
    again = operation_ids({before["a"]: frozenset({"ring-a"}), before["xy"]: frozenset({"ring-x", "ring-y"})},
                          [frozenset({"ring-a", "ring-b", "ring-c"}), frozenset({"ring-x", "ring-y"})])
    assert again.ids == (before["a"], before["xy"])
    assert not [e for e in again.events if e.kind == "dissolved"]
