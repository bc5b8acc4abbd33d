"""Hard negatives: benign groups whose usage looks coordinated, and their infrastructure.

- **students**: classes at a university, signing up when term starts, on the campus network (a few
  NAT addresses) and its email domain; in the usage log they send one assignment template in the
  same two-hour lab session, week after week;
- **researchers**: individuals at home, on a campus or in a small lab, each running the same public
  benchmark prompts at their own times, and many of them on a new model's release day;
- **pipelines**: a software company's one to three API accounts (production, staging) on rented
  hosting and one company card, sending thousands of templated requests around the clock;
- **teams**: colleagues behind their company's NAT sharing an internal assistant's templates in
  working hours, some in a daily routine.

The usage itself is drawn by `graph.generator.usage`; this module draws the accounts and links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graph.generator.draft import COHORTS, Draft
from graph.generator.timeline import DAY, HOUR, WINDOW_END, WINDOW_START, activity
from graph.generator.wordlists import (
    COMPANY_HEADS,
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    PIPELINE_TAILS,
    RESIDENTIAL_ISPS,
    TEAM_TAILS,
    UNIVERSITY_PLACES,
    slug,
)

__all__ = [
    "HARD_NEGATIVE_SHARES",
    "Campus",
    "HardNegatives",
    "SchoolClass",
    "hard_negative_sizes",
    "populate_hard_negatives",
]

Ints = npt.NDArray[np.int64]
HARD_NEGATIVE_SHARES: dict[str, float] = {"student": 0.02, "researcher": 0.006, "pipeline": 0.0012, "team": 0.02}
_MINIMUM = {"student": 12, "researcher": 3, "pipeline": 2, "team": 4}
_COUNTRY_P = np.array([w for _, w, _ in COUNTRIES]) / sum(w for _, w, _ in COUNTRIES)
TERM_DAYS = 105


@dataclass(frozen=True)
class Campus:
    """A university: its network (a few NAT addresses) and email domain."""

    name: str
    domain: str
    ips: Ints
    country: int


@dataclass(frozen=True)
class SchoolClass:
    """Students taking one course in one or two terms; `campus_ip` is each student's usual NAT exit."""

    slots: Ints
    campus: int
    terms: tuple[tuple[int, int], ...]
    campus_ip: Ints


@dataclass(frozen=True)
class HardNegatives:
    """The groups the usage log gives look-alike behaviour to."""

    campuses: tuple[Campus, ...]
    classes: tuple[SchoolClass, ...]
    researchers: Ints
    pipelines: tuple[Ints, ...]  # each company's API accounts
    teams: tuple[Ints, ...]
    team_names: tuple[str, ...]  # each team's company


def hard_negative_sizes(accounts: int) -> dict[str, int]:
    """Accounts per hard-negative cohort for a population of `accounts`."""
    return {c: max(_MINIMUM[c], round(share * accounts)) for c, share in HARD_NEGATIVE_SHARES.items()}


def populate_hard_negatives(draft: Draft, start: int, sizes: dict[str, int]) -> HardNegatives:
    """Draw the four cohorts into slots from `start` on (student, researcher, pipeline, team)."""
    slots: dict[str, Ints] = {}
    cursor = start
    for cohort in ("student", "researcher", "pipeline", "team"):
        slots[cohort] = np.arange(cursor, cursor + sizes[cohort], dtype=np.int64)
        draft.cohort[slots[cohort]] = COHORTS.index(cohort)
        draft.draw_status(slots[cohort], suspended=0.01, closed=0.03)
        cursor += sizes[cohort]
    everyone = np.arange(start, cursor, dtype=np.int64)
    draft.country[everyone] = draft.rng.choice(len(COUNTRIES), len(everyone), p=_COUNTRY_P)
    campuses, classes = _students(draft, slots["student"])
    researchers = _researchers(draft, slots["researcher"], campuses)
    pipelines, _ = _companies(draft, slots["pipeline"], PIPELINE_TAILS, (1, 3), pipeline=True)
    teams, names = _companies(draft, slots["team"], TEAM_TAILS, (4, 40), pipeline=False)
    return HardNegatives(campuses, classes, researchers, pipelines, teams, names)


def _groups(rng: np.random.Generator, total: int, median: float, bounds: tuple[int, int]) -> list[int]:
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(int(np.clip(round(np.exp(rng.normal(np.log(median), 0.6))), *bounds)))
    sizes[-1] -= sum(sizes) - total
    if sizes[-1] < bounds[0] and len(sizes) > 1:
        tail = sizes.pop()
        sizes[-1] += tail
    return sizes


def _personal(draft: Draft, slots: Ints, card: float, phone: float, mobile: float) -> None:
    """Each person's own device, and perhaps a phone number, a card and a carrier NAT exit."""
    rng = draft.rng
    ident = draft.identities
    n = len(slots)
    f, la, c = activity(rng, draft.created[slots], 10 * 60, 60, 700, 1.5)
    draft.links.add("device", slots, ident.devices(n), f, la, c)
    for kind, share in (("payment", card), ("phone", phone), ("ip", mobile)):
        some = slots[rng.random(n) < share]
        if kind == "payment":
            entity = ident.cards(len(some))
        elif kind == "phone":
            entity = ident.phones(draft.phone_country_codes(some))
        else:
            entity = draft.networks.mobile.draw(rng, len(some))
        f, la, c = activity(rng, draft.created[some], DAY, 60, 600, 0.5)
        draft.links.add(kind, some, entity, f, la, c)


def _mail(draft: Draft, n: int, domain: str) -> list[str]:
    first, last = draft.identities.names(n)
    numbers = draft.identities.mailbox_numbers(n)  # distinct, so no two people share a mailbox
    return [f"{FIRST_NAMES[a]}.{LAST_NAMES[b]}{k}@{domain}" for a, b, k in zip(first, last, numbers, strict=True)]


def _students(draft: Draft, slots: Ints) -> tuple[tuple[Campus, ...], tuple[SchoolClass, ...]]:
    rng = draft.rng
    infra = draft.infra
    sizes = _groups(rng, len(slots), 30, (12, 80))
    forms = ("{} University", "University of {}", "{} Institute of Technology")
    campuses: list[Campus] = []
    for i in range(max(1, len(sizes) // 3)):
        place = UNIVERSITY_PLACES[i % len(UNIVERSITY_PLACES)]
        name = forms[(i // len(UNIVERSITY_PLACES)) % len(forms)].format(place)
        distinct = len(UNIVERSITY_PLACES) * len(forms)
        name = name if i < distinct else f"{name} {i // distinct + 1}"  # never two universities of one name
        nat = int(rng.integers(2, 5))
        ips = infra.addresses(infra.v4_block(name, "corporate", infra.asn(), nat), nat)
        campuses.append(Campus(name, f"{slug(name)}.example", ips, int(rng.choice(len(COUNTRIES), p=_COUNTRY_P))))
    classes: list[SchoolClass] = []
    emails: list[str] = []
    cursor = 0
    for size in sizes:
        members = slots[cursor : cursor + size]
        cursor += size
        at = int(rng.integers(0, len(campuses)))
        campus = campuses[at]
        first = int(rng.integers(WINDOW_START + 10 * DAY, WINDOW_END - (TERM_DAYS + 20) * DAY))
        terms = [(first, first + TERM_DAYS * DAY)]
        second = first + int(rng.uniform(140, 200) * DAY)
        if rng.random() < 0.4 and second + TERM_DAYS * DAY < WINDOW_END:
            terms.append((second, second + TERM_DAYS * DAY))
        early = rng.random(size) < 0.3  # already had an account before the course
        joined = first + rng.integers(-7 * DAY, 10 * DAY, size)
        before = WINDOW_START + (rng.random(size) * max(first - WINDOW_START, DAY)).astype(np.int64)
        draft.created[members] = np.clip(np.where(early, before, joined), WINDOW_START, WINDOW_END - DAY)
        draft.country[members] = np.where(rng.random(size) < 0.9, campus.country, draft.country[members])
        usual = campus.ips[rng.integers(0, len(campus.ips), size)]
        begin = np.maximum(draft.created[members], first) + rng.integers(0, DAY, size)
        end = np.full(size, terms[-1][1], dtype=np.int64)
        weeks = (end - begin) // (7 * DAY)
        draft.links.add("ip", members, usual, begin, end, 1 + rng.poisson(weeks * 6))
        roam = rng.random(size) < 0.3
        other = campus.ips[rng.integers(0, len(campus.ips), int(roam.sum()))]
        draft.links.add("ip", members[roam], other, begin[roam], end[roam], 1 + rng.poisson(weeks[roam]))
        domain_mail = _mail(draft, size, campus.domain)
        free = draft.identities.freemail(size).to_pylist()
        emails += [d if rng.random() < 0.65 else f for d, f in zip(domain_mail, free, strict=True)]
        classes.append(SchoolClass(members, at, tuple(terms), usual))
    if len(slots):
        draft.set_emails(int(slots[0]), pa.array(emails, pa.string()))
    _personal(draft, slots, card=0.3, phone=0.6, mobile=0.6)
    return tuple(campuses), tuple(classes)


def _researchers(draft: Draft, slots: Ints, campuses: tuple[Campus, ...]) -> Ints:
    """At home (their ISP), on a campus (beside its students) or in a small lab of a few colleagues."""
    rng = draft.rng
    infra = draft.infra
    n = len(slots)
    span = WINDOW_END - WINDOW_START - 60 * DAY
    draft.created[slots] = WINDOW_START + (span * rng.random(n) ** 1.6).astype(np.int64)  # early adopters
    draft.country[slots] = rng.choice(len(COUNTRIES), n, p=_COUNTRY_P)
    place = rng.choice(3, n, p=[0.45, 0.3, 0.25])
    ips = np.zeros(n, dtype=np.int64)
    emails = draft.identities.freemail(n).to_pylist()
    home = np.flatnonzero(place == 0)
    codes = [code for code, _, _ in COUNTRIES]
    for country in np.unique(draft.country[slots[home]]):
        mine = home[draft.country[slots[home]] == country]
        isp = next(name for code, name in RESIDENTIAL_ISPS if code == codes[country])
        ips[mine] = infra.addresses(infra.v4_block(isp, "residential", infra.asn(), len(mine)), len(mine))
    for i in np.flatnonzero(place == 1):
        campus = campuses[int(rng.integers(0, len(campuses)))]
        ips[i] = campus.ips[int(rng.integers(0, len(campus.ips)))]
        if rng.random() < 0.6:
            emails[i] = _mail(draft, 1, campus.domain)[0]
    lab = np.flatnonzero(place == 2)
    for start in range(0, len(lab), 4):
        group = lab[start : start + 4]
        name = f"{COMPANY_HEADS[int(rng.integers(0, len(COMPANY_HEADS)))]} Research {start // 4 + 1}"
        ips[group] = infra.addresses(infra.v4_block(name, "corporate", infra.asn(), 1), 1)[0]
        for i, address in zip(group, _mail(draft, len(group), f"{slug(name)}.example"), strict=True):
            emails[i] = address
    first = draft.created[slots] + rng.integers(HOUR, DAY, n)
    last = WINDOW_END - rng.integers(0, 30 * DAY, n)
    draft.links.add("ip", slots, ips, first, last, 1 + rng.poisson((last - first) / DAY * 2))
    if n:
        draft.set_emails(int(slots[0]), pa.array(emails, pa.string()))
    _personal(draft, slots, card=0.8, phone=0.7, mobile=0.4)
    return slots


def _companies(
    draft: Draft, slots: Ints, tails: tuple[str, ...], bounds: tuple[int, int], pipeline: bool
) -> tuple[tuple[Ints, ...], tuple[str, ...]]:
    """Pipelines: API accounts on rented hosting with one card. Teams: colleagues behind a NAT."""
    rng = draft.rng
    infra = draft.infra
    sizes = _groups(rng, len(slots), 1.6 if pipeline else 10, bounds)
    order = rng.permutation(len(COMPANY_HEADS) * len(tails))
    groups: list[Ints] = []
    names: list[str] = []
    emails: list[str] = []
    cursor = 0
    for i, size in enumerate(sizes):
        members = slots[cursor : cursor + size]
        cursor += size
        pick = int(order[i % len(order)])
        name = f"{COMPANY_HEADS[pick // len(tails)]} {tails[pick % len(tails)]}"
        name = name if i < len(order) else f"{name} {i // len(order) + 1}"
        domain = f"{slug(name)}.example"
        founded = int(rng.integers(WINDOW_START, WINDOW_END - 120 * DAY))
        burst = rng.random() < 0.5
        later = rng.integers(0, (20 if burst else 300) * DAY, size)
        draft.created[members] = np.minimum(founded + np.sort(later), WINDOW_END - 60 * DAY)
        draft.country[members] = int(rng.choice(len(COUNTRIES), p=_COUNTRY_P))
        first = draft.created[members] + rng.integers(HOUR, 2 * DAY, size)
        last = WINDOW_END - rng.integers(0, 20 * DAY, size)
        if pipeline:
            _, block4, _ = draft.networks.hosting[int(rng.integers(0, len(draft.networks.hosting)))]
            servers = infra.addresses(block4, int(rng.integers(2, 7)))
            for k, member in enumerate(members):
                used = servers[rng.random(len(servers)) < 0.6] if k else servers
                used = used if len(used) else servers[:1]
                count = 1 + rng.poisson((last[k] - first[k]) / DAY * 200, len(used))
                draft.links.add(
                    "ip",
                    np.full(len(used), member),
                    used,
                    np.full(len(used), first[k]),
                    np.full(len(used), last[k]),
                    count,
                )
            roles = ("api-prod", "ml-platform", "staging", "data-eng", "integrations")
            emails += [f"{roles[k % len(roles)]}@{domain}" for k in range(size)]
        else:
            nat = infra.addresses(infra.v4_block(name, "corporate", infra.asn(), 2), int(rng.integers(1, 3)))
            exits = nat[rng.integers(0, len(nat), size)]
            draft.links.add("ip", members, exits, first, last, 1 + rng.poisson((last - first) / DAY * 4))
            emails += _mail(draft, size, domain)
        if pipeline or (size >= 3 and rng.random() < 0.4):
            holders = members if pipeline else rng.choice(members, min(size, int(rng.integers(3, 9))), replace=False)
            card = np.repeat(draft.identities.cards(1), len(holders))
            f, la, c = activity(rng, draft.created[holders], 2 * DAY, 60, 500, 0.2)
            draft.links.add("payment", holders, card, f, la, c)
        groups.append(members)
        names.append(name)
    if len(slots):
        draft.set_emails(int(slots[0]), pa.array(emails, pa.string()))
    if pipeline:
        f, la, c = activity(rng, draft.created[slots], HOUR, 1, 30, 1.0)  # the developer's laptop at sign-up
        draft.links.add("device", slots, draft.identities.devices(len(slots)), f, la, c)
    else:
        _personal(draft, slots, card=0.2, phone=0.7, mobile=0.3)
    return tuple(groups), tuple(names)
