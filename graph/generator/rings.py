"""Ring plans: operations, their campaigns, and what each campaign's accounts share.

An **operation** is one operator's work; each of its **campaigns** is one ring in the ground truth: a
burst of fresh sign-ups, or a batch of bought (aged) accounts taken over at once, active for days to
weeks. Most operations run one campaign; some run two to four, months apart, and tie them by reusing a
device or card of an earlier campaign or by members an investigation already attributed (known.csv,
one case naming members of both). A campaign may also split into device **cells** that share cards
and IPs within the same week: still one ring.

What members share varies per ring. Infrastructure rings reuse automation devices, cards, virtual
numbers, proxy exits and rented hosting (every member shares at least two rare identifiers with other
members). Behaviour-only rings ("hydra" networks) give every account its own device, card, number and
mailbox and send through rotating residential proxies: they share nothing but proxy exits, and only
their usage (what and when they send, `graph.generator.usage`) gives them away.

About half the operations work for an actor organisation. What ties a ring to its actor varies: earlier
cases (known.csv) naming members or outside accounts that used the ring's devices or cards, the actor's
own IP range, or the actor's email domain. Operations without an actor rent the same hosting providers
and VPNs, which must not make those providers look like actors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from graph.generator.timeline import DAY, WINDOW_END, WINDOW_START
from graph.generator.wordlists import ACTOR_NAMES, slug

__all__ = [
    "SHARING",
    "TIES",
    "Actor",
    "RingPlan",
    "RingWorld",
    "plan_rings",
]

SHARING: tuple[str, ...] = ("infrastructure", "behaviour")
TIES: tuple[str, ...] = ("device", "card", "known")
_CAMPAIGN_GAP_DAYS = (75.0, 150.0)  # between the starts of an operation's campaigns
_AGED_LEAD_DAYS = 120  # a bought account's campaign starts at least this long after the window opens
_PINNED = 6  # rings whose kind plan_rings fixes


@dataclass(frozen=True)
class Actor:
    """An organisation rings can be attributed to."""

    name: str
    domain: str


@dataclass(frozen=True)
class RingPlan:
    """What a ring (one campaign) will look like, fixed before any slot is drawn."""

    size: int
    operation: int  # index of the operation it belongs to
    actor: int  # index into the actors, -1 for none
    strength: int  # 0 weak .. 2 strong (infrastructure rings)
    start: int  # unix seconds: fresh sign-ups begin, or bought accounts are taken over
    campaign: int = 0  # 0 for an operation's first campaign
    tie: str = ""  # how it reuses an earlier campaign of its operation: device, card, known
    sharing: str = "infrastructure"  # or "behaviour": no device, card, number or mailbox shared
    aged: bool = False  # bought accounts created months before the campaign
    cells: int = 1  # device cells sharing cards and IPs
    known_members: bool = False  # an earlier case named some members
    prior_accounts: int = 0  # earlier-case accounts outside the ring that used its devices/cards
    own_range: bool = False  # members use the actor's own IP range
    domain: bool = False  # members sign up on the actor's email domain
    alias: bool = False  # many members sign up with variants of one Gmail mailbox


@dataclass(frozen=True)
class RingWorld:
    """Every ring's plan, the actors they may belong to, and how many operations run them."""

    plans: tuple[RingPlan, ...]
    actors: tuple[Actor, ...]
    operations: int
    prior_accounts: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prior_accounts", sum(p.prior_accounts for p in self.plans))

    @property
    def ring_accounts(self) -> int:
        """Accounts inside rings."""
        return sum(p.size for p in self.plans)


def _ring_sizes(rng: np.random.Generator, accounts: int) -> list[int]:
    """Heavy-tailed sizes from 3 up; at a million accounts a few rings reach 300-600. At least six
    rings, so that the pinned variety of `plan_rings` fits in any population."""
    target = max(18, round(0.04 * accounts))
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
    while len(sizes) < _PINNED and max(sizes) >= 6:
        big = sizes.index(max(sizes))
        sizes[big : big + 1] = [sizes[big] // 2, sizes[big] - sizes[big] // 2]
    if len(sizes) < _PINNED:
        sizes = [target // _PINNED + (i < target % _PINNED) for i in range(_PINNED)]
    return sizes


def plan_rings(rng: np.random.Generator, accounts: int) -> RingWorld:
    """Operations, their campaigns and per-ring evidence for a population of `accounts`.

    The first rings pin the variety small populations must still show: an actor ring with an earlier
    case's outside accounts (0), a ring of bought accounts without an actor (1), a mailbox-alias ring
    (2), a behaviour-only ring (3) and an operation of two campaigns tied by a reused device (4, 5).
    """
    scale = float(np.clip(np.log(accounts / 2_000) / np.log(500), 0.0, 1.0))
    n_actors = round(6 + 14 * scale)
    names = [ACTOR_NAMES[i] for i in rng.permutation(len(ACTOR_NAMES))[:n_actors]]
    actors = tuple(Actor(name, f"{slug(name)}.example") for name in names)
    actor_p = 1.0 / (np.arange(n_actors) + 1.0) ** 0.8
    sizes = _ring_sizes(rng, accounts)
    plans: list[RingPlan] = []
    operation = 0
    while len(plans) < len(sizes):
        i = len(plans)
        campaigns = 1
        if i == 4:
            campaigns = 2
        elif i > 5 and rng.random() < 0.22:
            campaigns = int(rng.integers(2, 5))
        campaigns = min(campaigns, len(sizes) - i)
        with_actor = i == 0 or (i not in (1, 4) and rng.random() < 0.5)
        actor = int(rng.choice(n_actors, p=actor_p / actor_p.sum())) if with_actor else -1
        aged = [i + c == 1 or (i + c > 5 and rng.random() < 0.25) for c in range(campaigns)]
        starts = _campaign_starts(rng, campaigns, aged[0])
        for c in range(campaigns):
            plans.append(_campaign(rng, i + c, sizes[i + c], operation, actor, starts[c], c, aged[c]))
        _tie_campaigns(rng, plans, i, campaigns)
        operation += 1
    _ensure_cells(plans)
    return RingWorld(tuple(plans), actors, operation)


def _campaign_starts(rng: np.random.Generator, campaigns: int, first_aged: bool) -> list[int]:
    """Start times months apart, all inside the window with room for the last campaign to run."""
    gaps = rng.uniform(*_CAMPAIGN_GAP_DAYS, campaigns - 1) * DAY
    lo = WINDOW_START + (_AGED_LEAD_DAYS if first_aged else 20) * DAY
    hi = WINDOW_END - 60 * DAY - gaps.sum()
    if hi < lo:  # squeeze the gaps to fit the window, never below two months
        gaps = np.maximum(gaps * (WINDOW_END - 60 * DAY - lo) / gaps.sum(), 60 * DAY)
        hi = max(lo, WINDOW_END - 60 * DAY - gaps.sum())
    first = int(rng.integers(lo, int(hi) + 1))
    return [first + int(g) for g in np.r_[0.0, np.cumsum(gaps)]]


def _campaign(
    rng: np.random.Generator, i: int, size: int, operation: int, actor: int, start: int, campaign: int, aged: bool
) -> RingPlan:
    """One ring: how its members share infrastructure and what ties it to its actor."""
    strength = int(rng.choice(3, p=[0.35, 0.4, 0.25]))
    if i == 2:
        strength = max(strength, 1)
    behaviour = i == 3 or (i not in (0, 2) and rng.random() < 0.3)
    alias = not behaviour and (i == 2 or (strength > 0 and rng.random() < 0.35))
    cells = 1
    if not behaviour and size >= 8 and rng.random() < 0.3:
        cells = int(rng.integers(2, min(4, size // 4) + 1))
    plan = RingPlan(
        size,
        operation,
        actor,
        strength,
        start,
        campaign=campaign,
        sharing=SHARING[int(behaviour)],
        aged=aged,
        cells=cells,
        alias=alias,
    )
    if actor < 0:
        return plan
    known, own, domain = (rng.random(3) < [0.5, 0.45, 0.4]).tolist()
    if behaviour:  # an actor's range or domain would be shared infrastructure
        return replace(plan, known_members=True)
    if not (known or own or domain):
        known, own, domain = (np.arange(3) == rng.integers(0, 3)).tolist()
    known = known or i == 0
    mode = 0.9 if i == 0 else rng.random()
    return replace(
        plan,
        known_members=bool(known and mode < 0.75),
        prior_accounts=int(rng.integers(1, 4)) if known and mode >= 0.6 else 0,
        own_range=bool(own),
        domain=bool(domain),
    )


def _tie_campaigns(rng: np.random.Generator, plans: list[RingPlan], first: int, campaigns: int) -> None:
    """Each later campaign reuses something of the one before: a device, a card or a known member.

    A device or card tie makes both campaigns infrastructure rings (a behaviour-only ring shares no
    device or card with anyone); a known-member tie needs an actor and names members of both.
    """
    for c in range(1, campaigns):
        later, earlier = first + c, first + c - 1
        options = ["device", "card"] + (["known"] if plans[later].actor >= 0 else [])
        tie = "device" if later == 5 else options[int(rng.integers(0, len(options)))]
        if tie == "known":
            plans[earlier] = replace(plans[earlier], known_members=True)
            plans[later] = replace(plans[later], tie=tie, known_members=True)
            continue
        for j in (earlier, later):
            if plans[j].sharing == "behaviour":
                plans[j] = replace(plans[j], sharing="infrastructure", known_members=plans[j].actor >= 0)
        plans[later] = replace(plans[later], tie=tie)


def _ensure_cells(plans: list[RingPlan]) -> None:
    """At least one campaign split into device cells, when any infrastructure ring is big enough."""
    if any(p.cells > 1 for p in plans):
        return
    candidates = [i for i, p in enumerate(plans) if p.sharing == "infrastructure" and p.size >= 6 and i > 2]
    if candidates:
        best = max(candidates, key=lambda i: (plans[i].size, -i))
        plans[best] = replace(plans[best], cells=2)
