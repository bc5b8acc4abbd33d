"""Ring members and their links: sign-ups or take-overs, shared assets, ties between campaigns, cover.

Fresh accounts sign up in a burst (hours to days; cells of one campaign within the same week). Bought
accounts were created months earlier by a seller, who used them lightly from its own device and a
residential IP, and are taken over together when the campaign starts. Each ring's links start
within minutes of the operator taking the account and last as long as the member is active.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from graph.generator.benign import Households
from graph.generator.draft import COHORTS, COUNTRY_CODES, Draft, KnownAttribution
from graph.generator.infrastructure import AddressBlock
from graph.generator.ring_assets import Assets, hosting_ips, own_assets, shared_assets
from graph.generator.ring_emails import ring_emails
from graph.generator.rings import RingPlan, RingWorld
from graph.generator.timeline import DAY, HOUR, MINUTE, WINDOW_END, WINDOW_START

__all__ = ["populate_rings"]

Ints = npt.NDArray[np.int64]
_KINDS = ("ip", "device", "payment", "phone", "email")


@dataclass
class _Observations:
    """Ring links gathered per kind; times are drawn once for all of them."""

    slots: dict[str, list[Ints]] = field(default_factory=lambda: {k: [] for k in _KINDS})
    entities: dict[str, list[Ints]] = field(default_factory=lambda: {k: [] for k in _KINDS})

    def add(self, kind: str, slots: Ints, entities: Ints) -> None:
        self.slots[kind].append(np.asarray(slots, dtype=np.int64))
        self.entities[kind].append(np.asarray(entities, dtype=np.int64))


def populate_rings(draft: Draft, world: RingWorld, start: int, prior_start: int, homes: Households) -> None:
    """Draw every ring into slots from `start` on, and earlier-case accounts from `prior_start` on."""
    rng = draft.rng
    infra = draft.infra
    need = np.zeros(len(world.actors), dtype=np.int64)
    for plan in world.plans:
        if plan.own_range:
            need[plan.actor] += plan.size
    own_blocks: list[AddressBlock] = []
    for actor, hosts in zip(world.actors, need, strict=True):
        network = "corporate" if rng.random() < 0.5 else "hosting"
        own_blocks.append(infra.v4_block(actor.name, network, infra.asn(), max(16, int(hosts))))
    proxies = _proxy_pools(rng, world, homes)
    duration = np.zeros(draft.accounts, dtype=np.int64)
    seen = _Observations()
    assets: list[Assets] = []
    case = int(rng.integers(100, 400))
    sources: dict[int, str] = {}  # operation -> the case naming members of its tied campaigns
    cursor, prior_cursor = start, prior_start
    for index, plan in enumerate(world.plans):
        members = np.arange(cursor, cursor + plan.size, dtype=np.int64)
        cursor += plan.size
        _draw_members(draft, index, plan, members, duration, homes)
        if plan.sharing == "behaviour":
            assets.append(own_assets(draft, members, seen.add, homes.ips))
        else:
            ips = lambda count, p=plan: hosting_ips(draft, p, count, own_blocks)  # noqa: E731
            assets.append(shared_assets(draft, plan, members, seen.add, proxies[plan.operation], ips))
        if plan.tie in ("device", "card"):
            _reuse(draft, plan, members, assets[index - 1], seen)
        _camouflage(draft, members, seen, proxies[plan.operation], plan.sharing == "behaviour")
        ring_emails(draft, world, plan, members, seen.add)
        if plan.actor < 0:
            continue
        actor = world.actors[plan.actor]
        case += int(rng.integers(1, 15))
        year = 2024 if draft.created[members[0]] < WINDOW_START + 120 * DAY else 2025
        source = f"case-{year}-{case:03d}"
        if plan.tie == "known" and plan.operation in sources:
            source = sources[plan.operation]  # the investigation that linked both campaigns
        if plan.known_members:
            sources.setdefault(plan.operation, source)
            named = rng.choice(members, int(rng.integers(1, max(1, plan.size // 8) + 1)), replace=False)
            draft.known.append(KnownAttribution(np.sort(named), actor.name, source))
        if plan.prior_accounts:
            prior = np.arange(prior_cursor, prior_cursor + plan.prior_accounts, dtype=np.int64)
            prior_cursor += plan.prior_accounts
            _prior_accounts(draft, plan, members, prior, assets[index], seen, duration)
            draft.known.append(KnownAttribution(prior, actor.name, source))
    _emit(draft, seen, duration)


def _proxy_pools(rng: np.random.Generator, world: RingWorld, homes: Households) -> list[Ints]:
    """Each operation's residential proxy exits: a random set of real households' IPs."""
    members = np.zeros(world.operations, dtype=np.int64)
    for plan in world.plans:
        members[plan.operation] += plan.size
    total = len(homes.ips)
    sizes = np.minimum(total, np.maximum(np.maximum(30, total // 50), 2 * members))
    return [homes.ips[rng.choice(total, int(size), replace=False)] for size in sizes]


def _draw_members(draft: Draft, index: int, plan: RingPlan, members: Ints, duration: Ints, homes: Households) -> None:
    """Fresh sign-ups in a burst, or bought accounts taken over together; cells within one week."""
    rng = draft.rng
    n = plan.size
    cell = np.arange(n) * plan.cells // n
    # Cells start up to two days apart; with a burst of at most five days, all within one week.
    offset = np.r_[0, rng.integers(0, 2 * DAY, plan.cells - 1)][cell] if plan.cells > 1 else 0
    spread = rng.uniform(2, 12) * HOUR if rng.random() < 0.5 else rng.uniform(1, 5) * DAY
    burst = plan.start + offset + np.sort((rng.random(n) * spread).astype(np.int64))
    if plan.aged:
        earliest = max(WINDOW_START, plan.start - 400 * DAY)
        latest = plan.start - 45 * DAY
        draft.created[members] = np.sort(rng.integers(earliest, latest, n))
        taken = plan.start + np.sort(rng.integers(0, 2 * DAY, n))
        _seller_history(draft, members, taken, homes)
    else:
        draft.created[members] = burst
        taken = burst
    draft.cohort[members] = COHORTS.index("ring")
    draft.ring[members] = index
    draft.organization[members] = plan.actor
    draft.cell[members] = cell
    cover = int(rng.integers(0, len(COUNTRY_CODES)))
    draft.country[members] = np.where(rng.random(n) < 0.8, cover, rng.integers(0, len(COUNTRY_CODES), n))
    draft.draw_status(members, suspended=0.2, closed=0.05)
    duration[members] = (rng.uniform(3, 60) * DAY * rng.uniform(0.3, 1.0, n)).astype(np.int64)
    draft.operated_from[members] = taken
    draft.operated_until[members] = np.minimum(taken + duration[members], WINDOW_END)


def _seller_history(draft: Draft, members: Ints, taken: Ints, homes: Households) -> None:
    """A bought account's life before the sale: the seller's own device and a household IP."""
    rng = draft.rng
    n = len(members)
    created = draft.created[members]
    first = created + rng.exponential(HOUR, n).astype(np.int64)
    last = np.maximum(first, taken - rng.integers(0, 10 * DAY, n))
    count = 1 + rng.poisson((last - first) / DAY * 0.3)
    draft.links.add("device", members, draft.identities.devices(n), first, last, count)
    ips = homes.ips[rng.integers(0, len(homes.ips), n)]
    draft.links.add("ip", members, ips, first, last, count)


def _reuse(draft: Draft, plan: RingPlan, members: Ints, earlier: Assets, seen: _Observations) -> None:
    """One or two members reuse a device (or card) of the operation's previous campaign."""
    rng = draft.rng
    cell = draft.cell[members]
    mates = members[cell == cell[int(rng.integers(0, len(members)))]]  # one cell: cells share no device
    who = rng.choice(mates, min(len(mates), int(rng.integers(1, 3))), replace=False)
    pool, kind = (earlier.cards, "payment") if plan.tie == "card" else (earlier.devices, "device")
    seen.add(kind, who, np.repeat(pool[int(rng.integers(0, len(pool)))], len(who)))


def _camouflage(draft: Draft, members: Ints, seen: _Observations, proxies: Ints, behaviour: bool) -> None:
    """The popular IPs benign users share, plus loosely reused proxy exits (infrastructure rings)."""
    rng = draft.rng
    nets = draft.networks
    n = len(members)
    for pool, share in ((nets.mobile, 0.5), (nets.vpn, 0.4), (nets.hotspots, 0.1), (nets.tor, 0.05)):
        who = members[rng.random(n) < share * (0.6 if behaviour else 1.0)]
        seen.add("ip", who, pool.draw(rng, len(who)))
    if not behaviour:
        who = np.repeat(members, rng.binomial(2, 0.4, n))
        seen.add("ip", who, proxies[rng.integers(0, len(proxies), len(who))])


def _prior_accounts(
    draft: Draft,
    plan: RingPlan,
    members: Ints,
    prior: Ints,
    assets: Assets,
    seen: _Observations,
    duration: Ints,
) -> None:
    """Accounts an earlier case caught, created before the ring, which used one of its devices or cards."""
    rng = draft.rng
    n = len(prior)
    t0 = int(draft.created[members[0]])
    latest = max(WINDOW_START + DAY, t0 - 30 * DAY)
    draft.created[prior] = WINDOW_START + (rng.random(n) * (latest - WINDOW_START)).astype(np.int64)
    draft.cohort[prior] = COHORTS.index("prior_case")
    draft.organization[prior] = plan.actor
    draft.ring[prior] = -1
    draft.country[prior] = draft.country[members[0]]
    draft.status[prior] = np.where(rng.random(n) < 0.6, 2, 1)
    duration[prior] = (rng.uniform(5, 90, n) * DAY).astype(np.int64)
    draft.operated_from[prior] = draft.created[prior]
    draft.operated_until[prior] = np.minimum(draft.created[prior] + duration[prior], WINDOW_END)
    use_card = (rng.random(n) < 0.4) & (len(assets.cards) > 0)
    device = assets.devices[rng.integers(0, len(assets.devices), n)]
    card = assets.cards[rng.integers(0, len(assets.cards), n)] if len(assets.cards) else device
    seen.add("payment", prior[use_card], card[use_card])
    seen.add("device", prior[~use_card], device[~use_card])
    seen.add("device", prior, draft.identities.devices(n))
    seen.add("ip", prior, draft.networks.vpn.draw(rng, n))
    draft.set_emails(int(prior[0]), draft.identities.freemail(n))


def _emit(draft: Draft, seen: _Observations, duration: Ints) -> None:
    """Ring links start within minutes of the operator taking the account and last while it is active."""
    rng = draft.rng
    for kind in _KINDS:
        if not seen.slots[kind]:
            continue
        slots = np.concatenate(seen.slots[kind])
        entities = np.concatenate(seen.entities[kind])
        first = draft.operated_from[slots] + rng.exponential(5 * MINUTE, len(slots)).astype(np.int64)
        first = np.minimum(first, WINDOW_END)
        active = (duration[slots] * rng.uniform(0.3, 1.0, len(slots))).astype(np.int64)
        last = np.minimum(first + active, WINDOW_END)
        count = 1 + rng.poisson(np.maximum(last - first, 0) / DAY * 6.0)
        draft.links.add(kind, slots, entities, first, last, count.astype(np.int64))
