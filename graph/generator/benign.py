"""The benign majority: households, families, colleagues, mobile users, VPN users and travellers.

Benign accounts share plenty -- a household's IP for months, a family tablet, a company NAT and card,
a carrier NAT with thousands of strangers -- which is exactly what makes rings hard to see: sharing
alone proves nothing, only rare sharing in a burst does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.generator.draft import COHORTS, COUNTRY_CODES, Draft
from graph.generator.timeline import DAY, HOUR, MINUTE, WINDOW_END, WINDOW_START, activity
from graph.generator.wordlists import COMPANY_HEADS, COMPANY_TAILS, COUNTRIES, RESIDENTIAL_ISPS, slug

__all__ = [
    "BENIGN_SHARES",
    "Households",
    "populate_benign",
]

Ints = npt.NDArray[np.int64]

# Fraction of benign accounts per cohort; home takes the remainder.
BENIGN_SHARES: dict[str, float] = {
    "family": 0.09,
    "corporate": 0.10,
    "cgnat": 0.22,
    "vpn": 0.05,
    "traveller": 0.05,
}
_COUNTRY_P = np.array([w for _, w, _ in COUNTRIES]) / sum(w for _, w, _ in COUNTRIES)


@dataclass(frozen=True)
class Households:
    """Residential IPs of households; rings' residential proxies exit through them."""

    ips: Ints  # primary residential IP per household


def populate_benign(draft: Draft, start: int, sizes: dict[str, int]) -> Households:
    """Draw the benign cohorts into slots from `start` on, in COHORTS order."""
    slots: dict[str, Ints] = {}
    cursor = start
    for cohort in COHORTS[:6]:
        slots[cohort] = np.arange(cursor, cursor + sizes[cohort], dtype=np.int64)
        draft.cohort[slots[cohort]] = COHORTS.index(cohort)
        cursor += sizes[cohort]
    everyone = np.arange(start, cursor, dtype=np.int64)
    rng = draft.rng
    # Sign-ups grow over the window (more recent accounts are more numerous).
    span = WINDOW_END - WINDOW_START - 2 * DAY
    draft.created[everyone] = WINDOW_START + (span * rng.random(len(everyone)) ** 0.85).astype(np.int64)
    draft.country[everyone] = rng.choice(len(COUNTRY_CODES), len(everyone), p=_COUNTRY_P)
    draft.draw_status(everyone, suspended=0.02, closed=0.04)

    households = _households(draft, slots)
    _companies(draft, slots["corporate"])  # first: onboarding bursts move sign-up times
    _mobile_users(draft, slots)
    _vpn_users(draft, slots["vpn"])
    _travellers(draft, slots["traveller"])
    _personal_items(draft, everyone)
    for cohort in ("home", "family", "cgnat", "vpn", "traveller"):
        if len(slots[cohort]):
            draft.set_emails(int(slots[cohort][0]), draft.identities.freemail(len(slots[cohort])))
    return households


def _partition(rng: np.random.Generator, total: int, choices: Ints, p: list[float]) -> Ints:
    """Group sizes drawn from `choices` that add up to `total` (the last group absorbs the rest)."""
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = rng.choice(choices, total // int(choices.min()) + 1, p=p)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, total)) + 1
    sizes = sizes[:count].astype(np.int64)
    sizes[-1] = total - (int(ends[count - 2]) if count > 1 else 0)
    if count > 1 and sizes[-1] < choices.min():
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    return sizes


def _households(draft: Draft, slots: dict[str, Ints]) -> Households:
    """Homes (1-3 accounts), families (2-5, sharing a device or card), travellers' own homes."""
    rng = draft.rng
    home = _partition(rng, len(slots["home"]), np.array([1, 2, 3]), [0.55, 0.3, 0.15])
    family = _partition(rng, len(slots["family"]), np.array([2, 3, 4, 5]), [0.35, 0.3, 0.25, 0.1])
    members = np.concatenate([slots["home"], slots["family"], slots["traveller"]])
    size = np.concatenate([home, family, np.ones(len(slots["traveller"]), dtype=np.int64)])
    n_home, n_family = len(home), len(family)
    count = len(size)
    of = np.repeat(np.arange(count), size)
    heads = np.r_[0, np.cumsum(size)[:-1]].astype(np.int64)

    country = rng.choice(len(COUNTRY_CODES), count, p=_COUNTRY_P)
    draft.country[members] = country[of]
    isp = _pick_isp(rng, country)
    v6 = rng.random(count) < 0.15
    moved = rng.random(count) < 0.3  # the ISP re-addressed the household once
    ip1 = np.zeros(count, dtype=np.int64)
    ip2 = np.zeros(count, dtype=np.int64)
    infra = draft.infra
    for i, (_, name) in enumerate(RESIDENTIAL_ISPS):
        mine = isp == i
        asn = infra.asn()
        need4 = int((mine & ~v6).sum())
        block4 = infra.v4_block(name, "residential", asn, 2 * need4 + 2)
        block6 = infra.v6_block(name, "residential", asn)
        for is_v6, block in ((False, block4), (True, block6)):
            sel = np.flatnonzero(mine & (v6 == is_v6))
            ip1[sel] = infra.addresses(block, len(sel))
            sel2 = sel[moved[sel]]
            ip2[sel2] = infra.addresses(block, len(sel2))

    created = draft.created[members]
    since = np.minimum.reduceat(created, heads) if count else created
    switch = since + ((WINDOW_END - since) * rng.uniform(0.2, 0.8, count)).astype(np.int64)
    end = WINDOW_END - rng.integers(0, 20 * DAY, len(members))
    first = created + rng.exponential(HOUR, len(members)).astype(np.int64)
    # Before a move: the old address until the switch; after it: the new one.
    old = ~moved[of] | (created < switch[of])
    last1 = np.where(moved[of], switch[of], end)
    _add_span(draft, "ip", members[old], ip1[of][old], first[old], last1[old], per_day=2.0)
    new = moved[of]
    first2 = np.maximum(first, switch[of])[new]
    _add_span(draft, "ip", members[new], ip2[of][new], first2, end[new], per_day=2.0)

    # Shared household devices (a family tablet) and cards (a parent's card on a teen's account).
    multi = size >= 2
    is_family = np.arange(count) >= n_home
    is_family &= np.arange(count) < n_home + n_family
    device = (multi & ~is_family & (rng.random(count) < 0.2)) | (is_family & (rng.random(count) < 0.6))
    card = is_family & ((rng.random(count) < 0.5) | ~device)
    for kind, has in (("device", device), ("payment", card)):
        chosen = np.flatnonzero(has)
        ident = draft.identities
        ids = ident.devices(len(chosen)) if kind == "device" else ident.cards(len(chosen))
        entity = np.full(count, -1, dtype=np.int64)
        entity[chosen] = ids
        users = has[of]
        f, la, c = activity(rng, created[users], 2 * DAY, 20, 600, 0.8)
        draft.links.add(kind, members[users], entity[of][users], f, la, c)
    return Households(ips=ip1)


def _pick_isp(rng: np.random.Generator, country: Ints) -> Ints:
    table = [[i for i, (code, _) in enumerate(RESIDENTIAL_ISPS) if code == c] for c in COUNTRY_CODES]
    width = max(len(t) for t in table)
    padded = np.array([t + [t[0]] * (width - len(t)) for t in table], dtype=np.int64)
    options = np.array([len(t) for t in table])
    picked: Ints = padded[country, (rng.random(len(country)) * options[country]).astype(np.int64)]
    return picked


def _add_span(
    draft: Draft, kind: str, slots: Ints, entity: Ints, first: Ints, last: Ints, per_day: float
) -> None:
    """A link over a known span; the count grows with the span."""
    days = np.maximum(last - first, 0) / DAY
    rate = per_day * draft.rng.uniform(0.2, 1.8, len(days))
    count = 1 + draft.rng.poisson(np.minimum(days * rate, 50_000.0))
    draft.links.add(kind, slots, entity, first, last, count.astype(np.int64))


def _mobile_users(draft: Draft, slots: dict[str, Ints]) -> None:
    """Carrier NAT: mobile users see 1-3 exits; some home and office users roam onto one too."""
    rng = draft.rng
    pool = draft.networks.mobile
    mobile = slots["cgnat"]
    first_exit = rng.choice(len(pool.ids), len(mobile), p=pool.weights)
    draft.country[mobile] = draft.networks.mobile_country[first_exit]
    extra = rng.binomial(2, 0.35, len(mobile))
    who = np.concatenate([mobile, np.repeat(mobile, extra)])
    ips = np.concatenate([pool.ids[first_exit], pool.draw(rng, int(extra.sum()))])
    f, la, c = activity(rng, draft.created[who], 2 * HOUR, 5, 400, 2.0)
    draft.links.add("ip", who, ips, f, la, c)
    others = np.concatenate([slots["home"], slots["family"], slots["corporate"], slots["traveller"]])
    roam = others[rng.random(len(others)) < 0.3]
    f, la, c = activity(rng, draft.created[roam], 3 * DAY, 2, 200, 0.5)
    draft.links.add("ip", roam, pool.draw(rng, len(roam)), f, la, c)


def _vpn_users(draft: Draft, slots: Ints) -> None:
    """Commercial VPN exits (shared by hundreds), the odd Tor exit, and a phone's carrier NAT."""
    rng = draft.rng
    nets = draft.networks
    exits = 1 + rng.binomial(3, 0.4, len(slots))
    who = np.repeat(slots, exits)
    f, la, c = activity(rng, draft.created[who], HOUR, 1, 300, 1.0)
    draft.links.add("ip", who, nets.vpn.draw(rng, len(who)), f, la, c)
    for pool, share in ((nets.mobile, 0.5), (nets.tor, 0.05)):
        some = slots[rng.random(len(slots)) < share]
        f, la, c = activity(rng, draft.created[some], DAY, 1, 200, 0.5)
        draft.links.add("ip", some, pool.draw(rng, len(some)), f, la, c)


def _travellers(draft: Draft, slots: Ints) -> None:
    """Hotel and airport Wi-Fi: many strangers, a few days each."""
    rng = draft.rng
    stays = 1 + rng.binomial(3, 0.4, len(slots))
    who = np.repeat(slots, stays)
    created = draft.created[who]
    arrive = created + ((WINDOW_END - created) * rng.random(len(who))).astype(np.int64)
    leave = np.minimum(arrive + rng.integers(HOUR, 7 * DAY, len(who)), WINDOW_END)
    _add_span(draft, "ip", who, draft.networks.hotspots.draw(rng, len(who)), arrive, leave, per_day=3.0)


def _company_names(rng: np.random.Generator, count: int) -> list[str]:
    combos = len(COMPANY_HEADS) * len(COMPANY_TAILS)
    order = rng.permutation(combos)
    names = []
    for i in range(count):
        pick = int(order[i % combos])
        name = f"{COMPANY_HEADS[pick // len(COMPANY_TAILS)]} {COMPANY_TAILS[pick % len(COMPANY_TAILS)]}"
        names.append(name if i < combos else f"{name} {i // combos + 1}")
    return names


def _companies(draft: Draft, slots: Ints) -> None:
    """Colleagues behind their company's NAT, on its domain, some on a shared company card.

    A third of companies onboard most staff within a few days: a benign sign-up burst.
    """
    rng = draft.rng
    total = len(slots)
    cap = max(3, min(2_000, total // 3))
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(int(np.clip(np.exp(rng.normal(np.log(10), 1.1)), 3, cap)))
    if sizes:
        sizes[-1] -= sum(sizes) - total
        if sizes[-1] < 3 and len(sizes) > 1:
            tail = sizes.pop()
            sizes[-1] += tail
    names = _company_names(rng, len(sizes))
    who: list[Ints] = []
    ips: list[Ints] = []
    card_who: list[Ints] = []
    card_ids: list[Ints] = []
    cursor = 0
    infra = draft.infra
    for name, size in zip(names, sizes, strict=True):
        staff = slots[cursor : cursor + size]
        cursor += size
        domain = f"{slug(name)}.example"
        draft.set_emails(int(staff[0]), draft.identities.company_mail(size, domain))
        draft.country[staff] = draft.country[staff[0]]
        if rng.random() < 0.3:
            onboard = staff[rng.random(size) < 0.7]
            day = draft.created[staff[0]]
            joined = day + rng.integers(0, 3 * DAY, len(onboard))
            draft.created[onboard] = np.minimum(joined, WINDOW_END - DAY)
        nat = 1 if size < 20 else int(rng.integers(1, 4))
        nat_ips = infra.addresses(infra.v4_block(name, "corporate", infra.asn(), nat), nat)
        primary = rng.integers(0, nat, size)
        second = (primary + 1) % nat
        both = rng.random(size) < 0.4
        who += [staff, staff[both & (nat > 1)]]
        ips += [nat_ips[primary], nat_ips[second][both & (nat > 1)]]
        if size >= 3 and rng.random() < 0.35:
            holders = rng.choice(staff, min(size, int(rng.integers(3, 9))), replace=False)
            card_who.append(np.sort(holders))
            card_ids.append(np.repeat(draft.identities.cards(1), len(holders)))
    if who:
        staff_all = np.concatenate(who)
        f, la, c = activity(rng, draft.created[staff_all], DAY, 30, 500, 3.0)
        draft.links.add("ip", staff_all, np.concatenate(ips), f, la, c)
    if card_who:
        holders_all = np.concatenate(card_who)
        f, la, c = activity(rng, draft.created[holders_all], 2 * DAY, 30, 400, 0.3)
        draft.links.add("payment", holders_all, np.concatenate(card_ids), f, la, c)


def _personal_items(draft: Draft, slots: Ints) -> None:
    """Each person's own devices, phone, card and perhaps a second mailbox.

    About 0.6% typed the placeholder `0000000000` a broken form accepted: thousands of strangers
    share that "phone" at scale, and it proves nothing.
    """
    rng = draft.rng
    ident = draft.identities
    n = len(slots)
    devices = 1 + (rng.random(n) < 0.35)
    who = np.repeat(slots, devices)
    f, la, c = activity(rng, draft.created[who], 10 * MINUTE, 20, 600, 1.5)
    draft.links.add("device", who, ident.devices(len(who)), f, la, c)

    u = rng.random(n)
    placeholder = u < 0.006
    own_phone = (u >= 0.006) & (u < 0.75)
    phone = np.full(n, ident.placeholder_phone()[0], dtype=np.int64)
    phone[own_phone] = ident.phones(draft.phone_country_codes(slots[own_phone]))
    has = placeholder | own_phone
    f, la, c = activity(rng, draft.created[slots[has]], 5 * MINUTE, 100, 700, 0.05)
    draft.links.add("phone", slots[has], phone[has], f, la, c)

    carded = slots[rng.random(n) < 0.55]
    f, la, c = activity(rng, draft.created[carded], 3 * DAY, 10, 600, 0.2)
    draft.links.add("payment", carded, ident.cards(len(carded)), f, la, c)

    second = slots[rng.random(n) < 0.06]
    f, la, c = activity(rng, draft.created[second], 30 * DAY, 10, 500, 0.1)
    draft.links.add("email", second, ident.emails(ident.freemail(len(second))), f, la, c)
