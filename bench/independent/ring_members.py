"""Ring members as accounts: sign-up waves or bought (aged) accounts, and what each sharing profile
leaves in links.csv.

- `hydra`: every member its own anti-detect device, its own virtual card (one issuer BIN per ring)
  and number; nothing shared but proxy exits.
- `pooled`: devices, cards and phone numbers drawn from small pools across members.
- `sloppy`: one to three devices, cards and numbers for everyone; scripted e-mail addresses.
- `cells`: members split into device cells (each its own devices and numbers) that share the
  campaign's cards and management addresses, all signed up in one week: one ring, several cells.

Also the residential proxy networks: pools of exits that are, for the most part, real households
(some of them households of this population) plus mobile and datacenter proxies.
"""

from __future__ import annotations

import numpy as np

from .names import email_locals, free_mail_domains
from .operations import Operation, Ring
from .population import Population
from .world import COUNTRIES, DAY, EPOCH, HOUR, country_weights, rng_for

__all__ = ["build_proxy_networks", "build_ring_members"]

_SOURCES = ("prior-investigation", "partner-report", "abuse-desk", "threat-intel-feed")


def build_proxy_networks(pop: Population) -> None:
    rng = rng_for(pop.seed, "proxies")
    homes = np.unique(pop.habits.home[pop.groups["benign"][0]].ravel())
    homes = homes[homes >= 0]
    residential = []
    for _ in range(3):
        real = rng.choice(homes, size=max(8, int(0.2 * homes.size)), replace=False)
        fresh = pop.networks.residential(rng.choice(len(COUNTRIES), size=real.size, p=country_weights()))
        residential.append(pop.pools.add(np.concatenate([real, fresh])))
    carriers = np.concatenate([pop.pools.get(p) for pools in pop.carrier_pool for p in pools])
    mobile = pop.pools.add(rng.choice(carriers, size=max(8, carriers.size // 3), replace=False))
    datacenter = pop.pools.add(pop.networks.hosting(max(24, pop.n // 2000)))
    pop.proxies = {
        "rotating": residential,
        "sticky": residential,
        "mobile": [mobile],
        "datacenter": [datacenter],
        "vpn": list(pop.vpn_pool),
    }


def _created(rng: np.random.Generator, ring: Ring) -> tuple[np.ndarray, np.ndarray]:
    """Sign-up times (sorted) and which members were bought aged accounts."""
    aged = rng.random(ring.size) < ring.aged_share
    waves = 1 if ring.profile == "cells" else int(rng.integers(1, 5))
    span = 7 * DAY if ring.profile == "cells" else max(DAY, 0.3 * (ring.end - ring.start))
    wave_at = ring.start - 10 * DAY + rng.uniform(0, span + 10 * DAY, waves)
    fresh = wave_at[rng.integers(waves, size=ring.size)] + rng.uniform(0, rng.uniform(1, 12) * HOUR, ring.size)
    old = EPOCH - rng.uniform(200, 1500, ring.size) * DAY
    created = np.where(aged, old, fresh).astype(np.int64)
    order = np.argsort(created, kind="stable")
    return created[order], aged[order]


def _assign(rng: np.random.Generator, members: int, pool: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """(members holding one, index into a pool of `pool` entities) for `share` of the members."""
    holders = np.flatnonzero(rng.random(members) < share)
    return holders, rng.integers(pool, size=holders.size)


def _belongings(pop: Population, rng: np.random.Generator, ring: Ring, idx: np.ndarray) -> None:
    n, first, last = idx.size, pop.created[idx], pop.until[idx]
    cells = np.zeros(n, np.int64)
    if ring.profile == "hydra":
        holders = np.repeat(np.arange(n), 1 + (rng.random(n) < 0.3))
        devices = pop.devices(holders.size)
        device_of = np.arange(holders.size)
    elif ring.profile == "cells":
        count = int(np.clip(n // rng.uniform(6, 25), 2, 12))
        cells = np.sort(rng.integers(count, size=n))
        per_cell = rng.integers(1, 4, size=count)
        devices = pop.devices(int(per_cell.sum()))
        base = np.concatenate([[0], np.cumsum(per_cell)[:-1]])
        holders = np.arange(n)
        device_of = base[cells] + (rng.random(n) * per_cell[cells]).astype(np.int64)
    else:
        size = max(2, int(n / rng.uniform(3, 10))) if ring.profile == "pooled" else int(rng.integers(1, 4))
        devices = pop.devices(size)
        holders = np.concatenate([np.arange(n), np.flatnonzero(rng.random(n) < 0.2)])
        device_of = rng.integers(size, size=holders.size)
    pop.links.add(
        "device", idx[holders], devices[device_of], first[holders], last[holders], rng.integers(3, 400, holders.size)
    )
    ring.devices = devices[np.unique(device_of)]  # the ones members actually used, for reuse later
    # cards
    if ring.profile == "hydra":
        holders = np.flatnonzero(rng.random(n) < 0.5)
        card_of, pool = np.arange(holders.size), holders.size
        issuer = f"4{int(rng.integers(10**5)):05d}"
    else:
        pool = {
            "pooled": max(1, int(n / rng.uniform(4, 15))),
            "sloppy": int(rng.integers(1, 3)),
            "cells": int(rng.integers(2, 5)),
        }[ring.profile]
        holders, card_of = _assign(rng, n, pool, 0.7 if ring.profile == "pooled" else 0.8)
        issuer = None
    cards = pop.cards(rng, pool, pop.country[idx[rng.integers(n, size=pool)]], issuer)
    pop.links.add(
        "payment",
        idx[holders],
        cards["value"][card_of],
        first[holders],
        last[holders],
        rng.integers(1, 30, holders.size),
        card={k: v[card_of] for k, v in cards.items() if k != "value"},
    )
    used = np.unique(card_of)
    ring.cards = {k: v[used] for k, v in cards.items()}
    # phones
    if ring.profile == "hydra":
        holders, phone_of = _assign(rng, n, 1, 0.6)
        phone_of = np.arange(holders.size)
        numbers = pop.phones(rng, pop.country[idx[holders]])
    else:
        size = {
            "pooled": max(1, int(n / rng.uniform(3, 8))),
            "sloppy": int(rng.integers(1, 4)),
            "cells": int(cells.max()) + 1,
        }[ring.profile]
        holders, phone_of = _assign(rng, n, size, 0.8)
        if ring.profile == "cells":
            phone_of = cells[holders]
        numbers = pop.phones(rng, pop.country[idx[rng.integers(n, size=size)]])
    pop.links.add("phone", idx[holders], np.array(numbers, dtype=object)[phone_of], first[holders], last[holders], 1)
    if ring.profile == "cells":  # management addresses all cells sign up from, the same week
        management = pop.networks.residential(np.full(int(rng.integers(3, 7)), pop.country[idx[0]]))
        who = np.repeat(np.arange(n), 1 + (rng.random(n) < 0.5))
        pop.links.add(
            "ip",
            idx[who],
            management[rng.integers(management.size, size=who.size)],
            first[who],
            first[who] + 2 * DAY,
            rng.integers(1, 4, who.size),
        )


def _emails(pop: Population, rng: np.random.Generator, ring: Ring, idx: np.ndarray, aged: np.ndarray) -> None:
    n = idx.size
    if ring.profile == "sloppy":
        domain = str(free_mail_domains(rng, 1)[0]) if rng.random() < 0.5 else f"{pop.tokens('', 1)[0][:8]}.top"
        emails = pop.unique_emails(email_locals(rng, n, "pattern"), [domain] * n)
    else:
        emails = pop.person_emails(rng, n)
    if ring.org >= 0 and rng.random() < 0.4:
        staff = np.flatnonzero((rng.random(n) < rng.uniform(0.2, 0.6)) & ~aged)
        emails[staff] = pop.person_emails(rng, staff.size, pop.org_domains[ring.org])
    pop.email[idx] = emails


def _ring(pop: Population, rng: np.random.Generator, op: Operation, ring: Ring) -> None:
    idx = pop.take(ring.size, "operated")
    ring.members = idx
    pop.ring[idx], pop.operation[idx], pop.org[idx] = ring.index, ring.operation, ring.org
    created, aged = _created(rng, ring)
    pop.created[idx] = created
    ring.exit_pool = pop.proxies[ring.exits][int(rng.integers(len(pop.proxies[ring.exits])))]
    exits = pop.pools.get(ring.exit_pool)
    countries = pop.networks.registry.countries()[exits[rng.integers(exits.size, size=ring.size)]]
    countries = np.where(
        aged | (ring.exits in ("datacenter", "vpn")),
        rng.choice(len(COUNTRIES), size=ring.size, p=country_weights()),
        countries,
    )
    pop.country[idx] = countries
    pop.tz[idx] = [COUNTRIES[c].offsets[0] for c in countries]
    suspended = rng.random(ring.size) < 0.1
    active_from = np.maximum(created, ring.start)
    pop.until[idx] = np.where(
        suspended, rng.uniform(active_from, ring.end + DAY), ring.end + rng.uniform(0, 3 * DAY, ring.size)
    ).astype(np.int64)
    pop.status[idx] = np.where(suspended, 1, np.where(rng.random(ring.size) < 0.05, 3, 0))
    pop.channel[idx] = ring.channel
    pop.draw_habits(rng, idx, worker=0.3)
    _emails(pop, rng, ring, idx, aged)
    _belongings(pop, rng, ring, idx)
    signup = pop.pools.sample(rng, np.full(ring.size * 3, ring.exit_pool))
    who = np.tile(np.arange(ring.size), 3)
    seen = np.maximum(created[who], EPOCH) + rng.uniform(0, 5 * DAY, who.size).astype(np.int64)
    pop.links.add("ip", idx[who], signup, seen, seen + rng.integers(0, 3 * HOUR, who.size), 1)
    if ring.own_share > 0:
        if op.own < 0:
            if ring.org >= 0 and rng.random() < 0.7:
                addresses = pop.networks.operator_hosting(pop.orgs[ring.org], int(rng.integers(3, 12)))
            elif ring.org >= 0:
                addresses = pop.networks.corporate(pop.orgs[ring.org], int(countries[0]), 26, int(rng.integers(3, 12)))
            else:
                addresses = pop.networks.rented_servers(int(rng.integers(2, 8)))
            op.own = pop.pools.add(addresses)
        who = np.flatnonzero(rng.random(ring.size) < 0.3)
        who = who if who.size else np.array([int(rng.integers(ring.size))])
        pop.links.add(
            "ip",
            idx[who],
            np.full(who.size, pop.pools.get(op.own)[0]),  # the operator's main server
            np.maximum(created[who], ring.start),
            ring.end,
            rng.integers(1, 50, who.size),
        )
    prior = aged & (created < ring.start - 30 * DAY)
    if prior.any():  # the previous owners' homes and devices, before the account was sold
        owners = idx[prior]
        pop.set_homes(rng, owners, np.arange(owners.size), pop.country[owners])
        sold = ring.start - rng.uniform(DAY, 20 * DAY, owners.size).astype(np.int64)
        pop.links.add("ip", owners, pop.habits.home[owners, 0], np.maximum(created[prior], EPOCH - 90 * DAY), sold, 20)
        pop.links.add("device", owners, pop.devices(owners.size), created[prior], sold, 40)
        pop.prior_owners.append((owners, sold))
    for member in rng.choice(idx, size=min(ring.known, ring.size), replace=False):
        pop.known.append((int(member), pop.orgs[ring.org], _SOURCES[int(rng.integers(len(_SOURCES)))]))


def build_ring_members(pop: Population, operations: list[Operation], rings: list[Ring]) -> None:
    rng = rng_for(pop.seed, "ring-members")
    for op in operations:
        for r in op.rings:
            _ring(pop, rng, op, rings[r])
        for j, tie in enumerate(op.ties):  # an asset of campaign j reappears in campaign j + 1
            earlier, later = rings[op.rings[j]], rings[op.rings[j + 1]]
            who = rng.choice(later.members, size=min(later.size, int(rng.integers(1, 3))), replace=False)
            seen = np.maximum(pop.created[who], later.start)
            if tie == "card" and not earlier.cards["value"].size:
                tie = op.ties[j] = "device"  # a ring without cards leaves its devices to reuse
            if tie == "device":
                pop.links.add(
                    "device",
                    who,
                    earlier.devices[rng.integers(earlier.devices.size, size=who.size)],
                    seen,
                    pop.until[who],
                    rng.integers(2, 60, who.size),
                )
            elif tie == "card":
                pick = rng.integers(earlier.cards["value"].size, size=who.size)
                pop.links.add(
                    "payment",
                    who,
                    earlier.cards["value"][pick],
                    seen,
                    pop.until[who],
                    3,
                    card={k: v[pick] for k, v in earlier.cards.items() if k != "value"},
                )
    pop.groups["operated"].extend(rings)
