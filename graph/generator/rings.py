"""Coordinated rings: operators, actor organisations, sign-up bursts, shared assets, camouflage.

A ring is a burst of sign-ups by one operator. Its members reuse a few automation devices, cards and
virtual numbers, exit through residential proxies (real households' IPs) and rented hosting, and mix
in the carrier NATs and VPN exits everyone uses. Strength varies, but every member shares at least
two rare identifiers with other members: its primary device (each device serves two or more
members) and one "channel" identifier (a second device, a card, a virtual number, a proxy exit or a
hosting IP) handed out so that every such identifier again serves two or more members.

About half the rings work for an actor organisation. What ties a ring to its actor varies per ring:
earlier cases (known.csv) naming members or outside accounts that used the ring's devices or cards,
the actor's own IP range, or the actor's email domain. Rings without an actor rent the same hosting
providers and VPNs, which must not make those providers look like actors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graph.generator.benign import Households
from graph.generator.draft import COHORTS, COUNTRY_CODES, Draft, KnownAttribution
from graph.generator.infrastructure import AddressBlock
from graph.generator.timeline import DAY, HOUR, MINUTE, WINDOW_END, WINDOW_START
from graph.generator.wordlists import ACTOR_NAMES, FIRST_NAMES, LAST_NAMES, slug

__all__ = [
    "Actor",
    "RingPlan",
    "plan_rings",
    "populate_rings",
]

Ints = npt.NDArray[np.int64]
_CHANNELS = ("device2", "card", "phone", "proxy", "hosting")
_KINDS = ("ip", "device", "payment", "phone", "email")


@dataclass(frozen=True)
class Actor:
    """An organisation rings can be attributed to."""

    name: str
    domain: str


@dataclass(frozen=True)
class RingPlan:
    """What a ring will look like, fixed before any slot is drawn."""

    size: int
    operator: int
    actor: int  # index into the actors, -1 for none
    strength: int  # 0 weak .. 2 strong
    known_members: bool = False  # an earlier case named some members
    prior_accounts: int = 0  # earlier-case accounts outside the ring that used its devices/cards
    own_range: bool = False  # members use the actor's own IP range
    domain: bool = False  # members sign up on the actor's email domain
    alias: bool = False  # many members sign up with variants of one Gmail mailbox


@dataclass(frozen=True)
class RingWorld:
    """Every ring's plan, and the actors they may belong to."""

    plans: tuple[RingPlan, ...]
    actors: tuple[Actor, ...]
    operators: int
    prior_accounts: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prior_accounts", sum(p.prior_accounts for p in self.plans))

    @property
    def ring_accounts(self) -> int:
        """Accounts inside rings."""
        return sum(p.size for p in self.plans)


def _ring_sizes(rng: np.random.Generator, accounts: int) -> list[int]:
    """Heavy-tailed sizes from 3 up; at a million accounts a few rings reach 300-600."""
    target = max(15, round(0.04 * accounts))
    cap = int(np.clip(target // 4, 3, 600))
    sizes: list[int] = []
    if accounts >= 500_000:  # the tail a lognormal alone would rarely reach
        sizes += [int(rng.integers(300, cap + 1)) for _ in range(2 + accounts // 1_000_000)]
    while sum(sizes) < target:
        sizes.append(int(np.clip(round(np.exp(rng.normal(np.log(8), 1.2))), 3, cap)))
    sizes[-1] -= sum(sizes) - target
    if sizes[-1] < 3:
        tail = sizes.pop()
        sizes[-1] += tail
    return sizes


def plan_rings(rng: np.random.Generator, accounts: int) -> RingWorld:
    """Sizes, operators, actors and per-ring evidence for a population of `accounts`."""
    scale = float(np.clip(np.log(accounts / 2_000) / np.log(500), 0.0, 1.0))
    n_actors = round(6 + 14 * scale)
    names = [ACTOR_NAMES[i] for i in rng.permutation(len(ACTOR_NAMES))[:n_actors]]
    actors = tuple(Actor(name, f"{slug(name)}.example") for name in names)
    free_operators = max(2, n_actors // 2)
    actor_p = 1.0 / (np.arange(n_actors) + 1.0) ** 0.8
    free_p = 1.0 / (np.arange(free_operators) + 1.0) ** 0.8
    plans = []
    for i, size in enumerate(_ring_sizes(rng, accounts)):
        strength = int(rng.choice(3, p=[0.35, 0.4, 0.25]))
        # The first three rings pin the variety small populations must still show: an actor ring
        # with an earlier case's outside accounts, a ring without an actor, a mailbox-alias ring.
        if i == 2:
            strength = max(strength, 1)
        alias = i == 2 or (strength > 0 and rng.random() < 0.35)
        with_actor = i == 0 or (i != 1 and rng.random() < 0.5)
        if not with_actor:
            operator = n_actors + int(rng.choice(free_operators, p=free_p / free_p.sum()))
            plans.append(RingPlan(size, operator, -1, strength, alias=alias))
            continue
        actor = int(rng.choice(n_actors, p=actor_p / actor_p.sum()))
        known, own, domain = (rng.random(3) < [0.5, 0.45, 0.4]).tolist()
        if not (known or own or domain):
            known, own, domain = (np.arange(3) == rng.integers(0, 3)).tolist()
        known = known or i == 0
        mode = 0.9 if i == 0 else rng.random()
        plans.append(
            RingPlan(
                size,
                actor,
                actor,
                strength,
                known_members=bool(known and mode < 0.75),
                prior_accounts=int(rng.integers(1, 4)) if known and mode >= 0.6 else 0,
                own_range=bool(own),
                domain=bool(domain),
                alias=alias,
            )
        )
    return RingWorld(tuple(plans), actors, n_actors + free_operators)


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
    case = int(rng.integers(100, 400))
    cursor, prior_cursor = start, prior_start
    for index, plan in enumerate(world.plans):
        members = np.arange(cursor, cursor + plan.size, dtype=np.int64)
        cursor += plan.size
        _draw_members(draft, index, plan, members, duration)
        assets = _shared_assets(draft, plan, members, seen, proxies[plan.operator], own_blocks)
        _camouflage(draft, members, seen, proxies[plan.operator])
        _ring_emails(draft, world, plan, members, seen)
        if plan.actor < 0:
            continue
        actor = world.actors[plan.actor]
        case += int(rng.integers(1, 15))
        year = 2024 if draft.created[members[0]] < WINDOW_START + 120 * DAY else 2025
        source = f"case-{year}-{case:03d}"
        if plan.known_members:
            named = rng.choice(members, int(rng.integers(1, max(1, plan.size // 8) + 1)), replace=False)
            draft.known.append(KnownAttribution(np.sort(named), actor.name, source))
        if plan.prior_accounts:
            prior = np.arange(prior_cursor, prior_cursor + plan.prior_accounts, dtype=np.int64)
            prior_cursor += plan.prior_accounts
            _prior_accounts(draft, plan, members, prior, assets, seen, duration)
            draft.known.append(KnownAttribution(prior, actor.name, source))
    _emit(draft, seen, duration)


def _proxy_pools(rng: np.random.Generator, world: RingWorld, homes: Households) -> list[Ints]:
    """Each operator's residential proxy exits: a random set of real households' IPs."""
    members = np.zeros(world.operators, dtype=np.int64)
    for plan in world.plans:
        members[plan.operator] += plan.size
    total = len(homes.ips)
    sizes = np.minimum(total, np.maximum(np.maximum(30, total // 50), 2 * members))
    return [homes.ips[rng.choice(total, int(size), replace=False)] for size in sizes]


def _draw_members(draft: Draft, index: int, plan: RingPlan, members: Ints, duration: Ints) -> None:
    """A burst of sign-ups within hours or days; members are caught more often than benign users."""
    rng = draft.rng
    n = plan.size
    t0 = int(rng.integers(WINDOW_START + 20 * DAY, WINDOW_END - 60 * DAY))
    spread = rng.uniform(2, 12) * HOUR if rng.random() < 0.5 else rng.uniform(1, 5) * DAY
    draft.created[members] = t0 + np.sort((rng.random(n) * spread).astype(np.int64))
    draft.cohort[members] = COHORTS.index("ring")
    draft.ring[members] = index
    draft.organization[members] = plan.actor
    cover = int(rng.integers(0, len(COUNTRY_CODES)))
    draft.country[members] = np.where(rng.random(n) < 0.8, cover, rng.integers(0, len(COUNTRY_CODES), n))
    draft.draw_status(members, suspended=0.2, closed=0.05)
    duration[members] = (rng.uniform(3, 60) * DAY * rng.uniform(0.3, 1.0, n)).astype(np.int64)


@dataclass(frozen=True)
class _Assets:
    devices: Ints
    cards: Ints


def _shared_assets(
    draft: Draft,
    plan: RingPlan,
    members: Ints,
    seen: _Observations,
    proxies: Ints,
    own_blocks: list[AddressBlock],
) -> _Assets:
    """Devices, cards, numbers and IPs the members share (see the module docstring for the rule)."""
    rng = draft.rng
    ident = draft.identities
    n = plan.size
    k = int(np.clip(np.ceil(n / rng.uniform(3, 10)), 1, max(1, n // 2)))
    devices = ident.devices(k)
    primary = rng.permutation(n) % k  # round robin: every device serves >= 2 members
    seen.add("device", members, devices[primary])

    hosting = plan.own_range or rng.random() < 0.6
    options = [c for c in _CHANNELS if (c != "device2" or k >= 2) and (c != "hosting" or hosting)]
    wanted = min(len(options), n // 2, plan.strength + 1)
    channels = [options[i] for i in np.sort(rng.choice(len(options), wanted, replace=False))]
    if plan.own_range and "hosting" not in channels:
        channels[-1] = "hosting"
    rank = rng.permutation(n)
    block = rank * len(channels) // n  # contiguous blocks of >= 2 members each
    cards = np.zeros(0, dtype=np.int64)
    for c, channel in enumerate(channels):
        group = np.flatnonzero(block == c)
        within = rank[group] - rank[group].min()
        width = max(1, len(group) // int(rng.integers(2, 7)))
        slot = within % width
        who = members[group]
        if channel == "device2":
            seen.add("device", who, devices[(primary[group] + 1 + within % (k - 1)) % k])
        elif channel == "card":
            cards = ident.cards(width)
            seen.add("payment", who, cards[slot])
        elif channel == "phone":
            seen.add("phone", who, ident.phones(draft.phone_country_codes(who[:width]))[slot])
        elif channel == "proxy":
            exits = proxies[rng.choice(len(proxies), min(width, len(proxies)), replace=False)]
            seen.add("ip", who, exits[slot % len(exits)])
        else:
            seen.add("ip", who, _hosting_ips(draft, plan, width, own_blocks)[slot])

    # Beyond the guaranteed pair: strong rings share more, weak ones look more like individuals.
    share = (0.1, 0.25, 0.5)[plan.strength]
    if k >= 2:
        extra = np.flatnonzero(rng.random(n) < share)
        seen.add("device", members[extra], devices[(primary[extra] + 1) % k])
    if len(cards) == 0 and plan.strength > 0:
        cards = ident.cards(max(1, n // int(rng.integers(4, 11))))
    if len(cards):
        extra = members[rng.random(n) < share]
        seen.add("payment", extra, cards[rng.integers(0, len(cards), len(extra))])
    own_card = members[rng.random(n) < 0.5 - share]
    seen.add("payment", own_card, ident.cards(len(own_card)))
    numbers = ident.phones(draft.phone_country_codes(members[: max(1, n // 6)]))
    extra = members[rng.random(n) < share]
    seen.add("phone", extra, numbers[rng.integers(0, len(numbers), len(extra))])
    return _Assets(devices, cards)


def _hosting_ips(draft: Draft, plan: RingPlan, count: int, own_blocks: list[AddressBlock]) -> Ints:
    """Rented hosting (the provider is not the actor) or, for some actor rings, the actor's own range."""
    rng = draft.rng
    if plan.own_range:
        return draft.infra.addresses(own_blocks[plan.actor], count)
    _, block4, block6 = draft.networks.hosting[int(rng.integers(0, len(draft.networks.hosting)))]
    return draft.infra.addresses(block6 if rng.random() < 0.2 else block4, count)


def _camouflage(draft: Draft, members: Ints, seen: _Observations, proxies: Ints) -> None:
    """The popular IPs benign users share, plus loosely reused proxy exits."""
    rng = draft.rng
    nets = draft.networks
    n = len(members)
    for pool, share in ((nets.mobile, 0.5), (nets.vpn, 0.4), (nets.hotspots, 0.1), (nets.tor, 0.05)):
        who = members[rng.random(n) < share]
        seen.add("ip", who, pool.draw(rng, len(who)))
    who = np.repeat(members, rng.binomial(2, 0.4, n))
    seen.add("ip", who, proxies[rng.integers(0, len(proxies), len(who))])


def _ring_emails(draft: Draft, world: RingWorld, plan: RingPlan, members: Ints, seen: _Observations) -> None:
    """Throwaway free-mail, aliases of one mailbox (dots, case, +tags), or the actor's own domain."""
    rng = draft.rng
    n = plan.size
    addresses: list[str] = draft.identities.freemail(n).to_pylist()
    kind = rng.random(n)
    if plan.alias:
        mailbox, suffix = _mailbox_name(draft, int(members[0]))
        use = kind < rng.uniform(0.5, 1.0)
        for i in np.flatnonzero(use):
            addresses[i] = _alias(rng, mailbox, int(i), suffix)
    if plan.domain:
        domain = world.actors[plan.actor].domain
        use = kind > 1 - rng.uniform(0.1, 0.4)
        use[int(rng.integers(0, n))] = True
        handles = ("ops", "team", "dev", "research", "svc", "growth")
        numbers = draft.identities.mailbox_numbers(int(use.sum())) % 10_000
        # The account number keeps two rings of one actor from sharing a mailbox by a collision.
        for i, number in zip(np.flatnonzero(use), numbers, strict=True):
            handle = handles[int(rng.integers(0, len(handles)))]
            addresses[i] = f"{handle}{number}.{int(members[i])}@{domain}"
    draft.set_emails(int(members[0]), pa.array(addresses))
    # A few members also register a recovery address: another alias or throwaway.
    extra = members[rng.random(n) < 0.1]
    seen.add("email", extra, draft.identities.emails(draft.identities.freemail(len(extra))))


def _mailbox_name(draft: Draft, owner: int) -> tuple[str, str]:
    """A mailbox name, and a suffix unique to the ring (its first member) so rings never collide."""
    rng = draft.rng
    number = int(draft.identities.mailbox_numbers(1)[0]) % 1_000
    first = FIRST_NAMES[int(rng.integers(0, len(FIRST_NAMES)))]
    return f"{first}{LAST_NAMES[int(rng.integers(0, len(LAST_NAMES)))]}{number}", str(owner)


def _alias(rng: np.random.Generator, mailbox: str, member: int, suffix: str) -> str:
    """A Gmail variant of `mailbox`: dots and case are ignored, and so is anything after `+`."""
    chars: list[str] = []
    for i, ch in enumerate(mailbox):
        if i > 0 and rng.random() < 0.25 and chars[-1] != ".":
            chars.append(".")
        chars.append(ch.upper() if rng.random() < 0.15 else ch)
    local = "".join(chars).strip(".") + suffix
    if rng.random() < 0.75:
        local += f"+{('r', 'x', 'promo', 'acct', 'test')[int(rng.integers(0, 5))]}{member}"
    domain = "googlemail.com" if rng.random() < 0.3 else "gmail.com"
    return f"{local}@{domain}"


def _prior_accounts(
    draft: Draft,
    plan: RingPlan,
    members: Ints,
    prior: Ints,
    assets: _Assets,
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
    draft.country[prior] = draft.country[members[0]]
    draft.status[prior] = np.where(rng.random(n) < 0.6, 2, 1)
    duration[prior] = (rng.uniform(5, 90, n) * DAY).astype(np.int64)
    use_card = (rng.random(n) < 0.4) & (len(assets.cards) > 0)
    device = assets.devices[rng.integers(0, len(assets.devices), n)]
    card = assets.cards[rng.integers(0, len(assets.cards), n)] if len(assets.cards) else device
    seen.add("payment", prior[use_card], card[use_card])
    seen.add("device", prior[~use_card], device[~use_card])
    seen.add("device", prior, draft.identities.devices(n))
    seen.add("ip", prior, draft.networks.vpn.draw(rng, n))
    draft.set_emails(int(prior[0]), draft.identities.freemail(n))


def _emit(draft: Draft, seen: _Observations, duration: Ints) -> None:
    """Ring links start within minutes of sign-up and last as long as the member is active."""
    rng = draft.rng
    for kind in _KINDS:
        if not seen.slots[kind]:
            continue
        slots = np.concatenate(seen.slots[kind])
        entities = np.concatenate(seen.entities[kind])
        first = draft.created[slots] + rng.exponential(5 * MINUTE, len(slots)).astype(np.int64)
        first = np.minimum(first, WINDOW_END)
        active = (duration[slots] * rng.uniform(0.3, 1.0, len(slots))).astype(np.int64)
        last = np.minimum(first + active, WINDOW_END)
        count = 1 + rng.poisson(np.maximum(last - first, 0) / DAY * 6.0)
        draft.links.add(kind, slots, entities, first, last, count.astype(np.int64))
