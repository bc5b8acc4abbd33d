"""Ordinary users: households, colleagues behind an office network, mobile and VPN users, and the
customers of residential proxy networks.

Households of 1-6 people share their home address (leases change a few times a year), sometimes a
family device, a card or a phone. A quarter of adults work at an employer whose office network NATs
everyone to a handful of addresses. Mobile sessions come out of a carrier's small CGNAT pool shared
by thousands; VPN sessions out of a provider's exits. None of that is coordination.
"""

from __future__ import annotations

import numpy as np

from .population import Population
from .world import COUNTRIES, DAY, END, EPOCH, country_weights, rng_for

__all__ = ["build_benign", "build_proxy_customers"]

_HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
_HOUSEHOLD_P = np.array([0.75, 0.15, 0.06, 0.03, 0.008, 0.002])


def _households(rng: np.random.Generator, count: int) -> np.ndarray:
    sizes = rng.choice(_HOUSEHOLD_SIZES, size=count, p=_HOUSEHOLD_P)
    total = np.cumsum(sizes)
    cut = int(np.searchsorted(total, count))
    sizes = sizes[: cut + 1].copy()
    sizes[-1] -= int(total[cut]) - count
    return sizes[sizes > 0]


def _lifetimes(pop: Population, rng: np.random.Generator, idx: np.ndarray, during: float = 0.3) -> None:
    n = idx.size
    before = EPOCH - rng.uniform(0, 3 * 365 * DAY, n)
    inside = rng.uniform(EPOCH, END - 5 * DAY, n)
    pop.created[idx] = np.where(rng.random(n) < during, inside, before).astype(np.int64)
    status = rng.choice(3, size=n, p=[0.97, 0.01, 0.02])
    pop.status[idx] = np.array([0, 1, 2])[status]
    ends = rng.uniform(np.maximum(pop.created[idx], EPOCH), END)
    pop.until[idx] = np.where(status > 0, ends, END).astype(np.int64)


def _places(pop: Population, rng: np.random.Generator, idx: np.ndarray, employers: list[tuple[int, int]]) -> None:
    """Mobile carrier, VPN and workplace of each account, and their login observations."""
    h, n = pop.habits, idx.size
    countries = pop.country[idx]
    carrier = np.array([pop.carrier_pool[c][int(rng.integers(len(pop.carrier_pool[c])))] for c in countries])
    h.places[idx, 0] = carrier
    h.place_p[idx, 0] = np.where(rng.random(n) < 0.08, 0.85, rng.beta(1.3, 3.0, n))
    vpn = rng.random(n) < 0.09
    tor = rng.random(n) < 0.004
    h.places[idx[vpn], 1] = np.array(pop.vpn_pool)[rng.integers(len(pop.vpn_pool), size=int(vpn.sum()))]
    h.places[idx[tor], 1] = pop.tor_pool
    h.place_p[idx[vpn | tor], 1] = rng.uniform(0.2, 0.95, int((vpn | tor).sum()))
    by_country: dict[int, list[int]] = {}
    for pool, country in employers:
        by_country.setdefault(country, []).append(pool)
    working = np.flatnonzero(rng.random(n) < 0.25)
    for row in working:
        options = by_country.get(int(countries[row]))
        if options:
            weights = 1.0 / np.arange(1, len(options) + 1) ** 0.9
            h.places[idx[row], 2] = options[rng.choice(len(options), p=weights / weights.sum())]
            h.place_p[idx[row], 2] = rng.uniform(0.2, 0.7)
    for place, logins in ((0, 2), (1, 2), (2, 1)):
        has = np.flatnonzero(h.places[idx, place] >= 0)
        times = np.repeat(has, logins)
        who = idx[times]
        first = np.maximum(pop.created[who], EPOCH) + rng.uniform(0, 30 * DAY, who.size).astype(np.int64)
        addresses = pop.pools.sample(rng, h.places[who, place])
        pop.links.add(
            "ip",
            who,
            addresses,
            first,
            np.minimum(first + rng.integers(DAY, 90 * DAY, who.size), pop.until[who]),
            rng.integers(1, 40, who.size),
        )


def _belongings(pop: Population, rng: np.random.Generator, idx: np.ndarray, household: np.ndarray) -> None:
    """Devices, cards, phones and recovery e-mails; a household shares some of them."""
    n = idx.size
    first, last = pop.created[idx], pop.until[idx]
    own = 1 + (rng.random(n) < 0.5) + (rng.random(n) < 0.1)
    who = np.repeat(np.arange(n), own)
    pop.links.add("device", idx[who], pop.devices(who.size), first[who], last[who], rng.integers(1, 300, who.size))
    sizes = np.bincount(household)
    family = np.flatnonzero((sizes >= 2) & (rng.random(sizes.size) < 0.3))
    members = np.flatnonzero(np.isin(household, family))
    shared = pop.devices(family.size)
    lookup = np.full(sizes.size, -1)
    lookup[family] = np.arange(family.size)
    pop.links.add(
        "device",
        idx[members],
        shared[lookup[household[members]]],
        first[members],
        last[members],
        rng.integers(1, 80, members.size),
    )
    payer = rng.random(n) < 0.35
    card_of = np.arange(n)
    shares_card = (sizes >= 2)[household] & (rng.random(sizes.size) < 0.5)[household] & payer
    head = np.full(sizes.size, -1)
    head[household[shares_card][::-1]] = np.flatnonzero(shares_card)[::-1]
    card_of[shares_card] = head[household[shares_card]]
    payers = np.flatnonzero(payer)
    holders = np.unique(card_of[payers])
    cards = pop.cards(rng, holders.size, pop.country[idx[holders]])
    position = np.searchsorted(holders, card_of[payers])
    pop.links.add(
        "payment",
        idx[payers],
        cards["value"][position],
        first[payers],
        last[payers],
        rng.integers(1, 24, payers.size),
        card={k: v[position] for k, v in cards.items() if k != "value"},
    )
    phone = np.flatnonzero(rng.random(n) < 0.75)
    pop.links.add("phone", idx[phone], pop.phones(rng, pop.country[idx[phone]]), first[phone], last[phone], 1)
    recovery = np.flatnonzero(rng.random(n) < 0.12)
    pop.links.add("email", idx[recovery], pop.person_emails(rng, recovery.size), first[recovery], last[recovery], 1)


def build_benign(pop: Population, count: int) -> None:
    """`count` ordinary accounts in households; cohort `household` for shared homes, `colleague` for
    people living alone who work behind an office network, `benign` for the rest."""
    rng = rng_for(pop.seed, "benign")
    employers: list[tuple[int, int]] = []
    for _ in range(max(3, count // 350)):
        country = int(rng.choice(len(COUNTRIES), p=country_weights()))
        name, _ = pop.namer.organisation("company")
        nat = pop.networks.corporate(name, country, 26, int(rng.integers(2, 9)))
        employers.append((pop.pools.add(nat), country))
    sizes = _households(rng, count)
    idx = pop.take(count, "benign")
    household = np.repeat(np.arange(sizes.size), sizes)
    countries = rng.choice(len(COUNTRIES), size=sizes.size, p=country_weights())
    tz = np.array([COUNTRIES[c].offsets[int(rng.integers(len(COUNTRIES[c].offsets)))] for c in countries])
    pop.country[idx], pop.tz[idx] = countries[household], tz[household]
    _lifetimes(pop, rng, idx)
    pop.channel[idx] = rng.random(count) < 0.12
    pop.email[idx] = pop.person_emails(rng, count)
    pop.draw_habits(rng, idx, worker=0.35)
    pop.set_homes(rng, idx, household, countries)
    _places(pop, rng, idx, employers)
    _belongings(pop, rng, idx, household)
    pop.home_links(idx)
    pop.cohort[idx[(sizes >= 2)[household]]] = 1
    alone_at_work = (sizes < 2)[household] & (pop.habits.places[idx, 2] >= 0)
    pop.cohort[idx[alone_at_work]] = 2
    pop.groups["benign"].append(idx)


def build_proxy_customers(pop: Population, count: int, proxy_pools: list[int]) -> None:
    """People and small agencies sending ordinary work through the same residential proxy networks
    the operators use: they share exits with rings and with each other, and nothing else."""
    rng = rng_for(pop.seed, "proxy-customers")
    idx = pop.take(count, "proxy_customer")
    countries = rng.choice(len(COUNTRIES), size=count, p=country_weights())
    pop.country[idx] = countries
    pop.tz[idx] = [COUNTRIES[c].offsets[0] for c in countries]
    _lifetimes(pop, rng, idx, during=0.5)
    pop.email[idx] = pop.person_emails(rng, count)
    pop.channel[idx] = rng.random(count) < 0.12
    pop.draw_habits(rng, idx, worker=0.6)
    pop.set_homes(rng, idx, np.arange(count), countries)
    _belongings(pop, rng, idx, np.arange(count))
    pop.home_links(idx)
    pop.habits.places[idx, 1] = np.array(proxy_pools)[rng.integers(len(proxy_pools), size=count)]
    pop.habits.place_p[idx, 1] = rng.uniform(0.6, 1.0, count)
    first = np.maximum(pop.created[idx], EPOCH)
    for _ in range(3):
        exits = pop.pools.sample(rng, pop.habits.places[idx, 1])
        pop.links.add("ip", idx, exits, first, np.minimum(first + 40 * DAY, END), rng.integers(1, 5, count))
    pop.groups["proxy_customer"].append(idx)
