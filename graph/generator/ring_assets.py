"""What ring members share: devices, cards, numbers and IPs, or (behaviour-only rings) nothing at all.

Infrastructure rings: every member shares at least two rare identifiers with other members: its
primary device (each device serves two or more members of its cell) and one "channel" identifier (a
second device of its cell, a card, a virtual number, a proxy exit or a hosting IP) handed out so that
every such identifier again serves two or more members. A ring split into device cells keeps its
devices inside each cell and ties the cells with cards and IPs.

Behaviour-only rings: one device, card and number of its own per member, and a handful of exits of a
large rotating residential proxy network (real households' IPs), drawn per member, so two members
share an exit only by the chance two strangers' households would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.generator.draft import Draft
from graph.generator.infrastructure import AddressBlock
from graph.generator.rings import RingPlan

__all__ = ["Assets", "own_assets", "shared_assets"]

Ints = npt.NDArray[np.int64]
AddLink = Callable[[str, Ints, Ints], None]
_CHANNELS = ("device2", "card", "phone", "proxy", "hosting")


@dataclass(frozen=True)
class Assets:
    """Devices and cards ring members use (cards never empty for an infrastructure ring): an
    operation's later campaign may reuse one."""

    devices: Ints
    cards: Ints


@dataclass(frozen=True)
class _CellDevices:
    """Each member's cell-local device ring: device(shift) = devices[base + (local + shift) % k]."""

    devices: Ints
    base: Ints
    k: Ints
    local: Ints

    def of(self, members: Ints, shift: Ints | int) -> Ints:
        at: Ints = self.base[members] + (self.local[members] + shift) % self.k[members]
        return self.devices[at]


def _cell_devices(draft: Draft, cells: Ints) -> _CellDevices:
    """Automation devices per cell, handed round robin so each serves two or more of its members."""
    rng = draft.rng
    n = len(cells)
    base = np.zeros(n, dtype=np.int64)
    k = np.ones(n, dtype=np.int64)
    local = np.zeros(n, dtype=np.int64)
    pieces: list[Ints] = []
    cursor = 0
    for cell in range(int(cells.max()) + 1):
        mine = np.flatnonzero(cells == cell)
        size = len(mine)
        count = int(np.clip(np.ceil(size / rng.uniform(3, 10)), 1, max(1, size // 2)))
        pieces.append(draft.identities.devices(count))
        base[mine], k[mine] = cursor, count
        local[mine] = rng.permutation(size) % count
        cursor += count
    return _CellDevices(np.concatenate(pieces), base, k, local)


def shared_assets(
    draft: Draft,
    plan: RingPlan,
    members: Ints,
    add: AddLink,
    proxies: Ints,
    hosting_ips: Callable[[int], Ints],
) -> Assets:
    """Devices, cards, numbers and IPs the members share (see the module docstring for the rule)."""
    rng = draft.rng
    ident = draft.identities
    n = plan.size
    cell = np.maximum(draft.cell[members], 0)
    dev = _cell_devices(draft, cell)
    everyone = np.arange(n)
    add("device", members, dev.of(everyone, 0))

    hosting = plan.own_range or rng.random() < 0.6
    min_k = int(dev.k.min())
    options = [c for c in _CHANNELS if (c != "device2" or min_k >= 2) and (c != "hosting" or hosting)]
    if plan.cells > 1:  # cells are tied by cards and IPs, never by devices
        channels = ["card", "hosting" if hosting and rng.random() < 0.5 else "proxy"]
    else:
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
            add("device", who, dev.of(group, 1 + within % np.maximum(dev.k[group] - 1, 1)))
        elif channel == "card":
            cards = ident.cards(width)
            add("payment", who, cards[slot])
        elif channel == "phone":
            add("phone", who, ident.phones(draft.phone_country_codes(who[:width]))[slot])
        elif channel == "proxy":
            exits = proxies[rng.choice(len(proxies), min(width, len(proxies)), replace=False)]
            add("ip", who, exits[slot % len(exits)])
        else:
            add("ip", who, hosting_ips(width)[slot])

    # Beyond the guaranteed pair: strong rings share more, weak ones look more like individuals.
    share = (0.1, 0.25, 0.5)[plan.strength]
    extra = np.flatnonzero((rng.random(n) < share) & (dev.k >= 2))
    add("device", members[extra], dev.of(extra, 1))
    used = [cards]
    if len(cards) == 0 and plan.strength > 0:
        cards = ident.cards(max(1, n // int(rng.integers(4, 11))))
    if len(cards):
        extra = members[rng.random(n) < share]
        used.append(cards[rng.integers(0, len(cards), len(extra))])
        add("payment", extra, used[-1])
    own_card = members[rng.random(n) < 0.5 - share]
    add("payment", own_card, ident.cards(len(own_card)))
    shared = np.unique(np.concatenate(used))
    if len(shared) == 0:  # a later campaign may reuse a card: then the operator's own, used once here
        shared = ident.cards(1)
        add("payment", members[:1], shared)
    return Assets(dev.devices, shared)


def own_assets(draft: Draft, members: Ints, add: AddLink, households: Ints) -> Assets:
    """One device, card and number per member, and exits of a large rotating residential proxy pool."""
    rng = draft.rng
    ident = draft.identities
    n = len(members)
    devices = ident.devices(n)
    add("device", members, devices)
    carded = members[rng.random(n) < 0.6]
    cards = ident.cards(len(carded))
    add("payment", carded, cards)
    numbered = members[rng.random(n) < 0.5]
    add("phone", numbered, ident.phones(draft.phone_country_codes(numbered)))
    # A few exits each, fewer when the population (the proxy network's visible part) is small.
    most = int(np.clip(len(households) // max(20 * n, 1), 2, 14))
    exits = rng.integers(2, most + 1, n)
    who = np.repeat(members, exits)
    add("ip", who, households[rng.integers(0, len(households), len(who))])
    return Assets(devices, cards)


def hosting_ips(draft: Draft, plan: RingPlan, count: int, own_blocks: list[AddressBlock]) -> Ints:
    """Rented hosting (the provider is not the actor) or, for some actor rings, the actor's own range."""
    rng = draft.rng
    if plan.own_range:
        return draft.infra.addresses(own_blocks[plan.actor], count)
    _, block4, block6 = draft.networks.hosting[int(rng.integers(0, len(draft.networks.hosting)))]
    return draft.infra.addresses(block6 if rng.random() < 0.2 else block4, count)
