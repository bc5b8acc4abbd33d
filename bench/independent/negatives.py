"""Hard negatives: benign groups that look coordinated.

- `classroom`: a class sends its assignment template in the same two-hour lab slot, on a few lab
  days, from the campus NAT; many students signed up the week before the first lab.
- `benchmark_researcher`: researchers run the same public benchmark prompts at their own times, and
  many of them on each new model's release day.
- `enterprise_pipeline`: one account sends thousands of templated requests round the clock from its
  cloud servers; several pipelines share one integration template shape; a company may run a staging
  and a production account on one card and one set of servers.
- `company_team`: colleagues on the company network and domain, often on one business card, with
  a few internal templates of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .benign import _belongings, _lifetimes
from .population import Population
from .world import COUNTRIES, DAY, END, EPOCH, GENERATION_RELEASES, HOUR, country_weights, rng_for

__all__ = ["Classroom", "Pipeline", "ResearchLab", "Team", "build_negatives"]

_INTEGRATION_SHAPES = (
    (
        "Classify the sentiment of the following review as positive, negative or neutral. Review: {review}",
        "classification",
        4,
    ),
    ("Extract the fields name, date and total as JSON from: {invoice}", "extraction", 40),
    ("Summarise this support ticket in one sentence: {ticket}", "summarization", 30),
    ("Translate the product description into {language}: {sentence}", "translation", 60),
    ("Tag this document with up to three topics: {article}", "classification", 12),
)
BENCHMARKS = (
    ("Question: {bench_logic} Answer with the letter of the correct option only.", "qa", 3),
    ("Read the question and choose one option. {bench_science} Reply with A, B, C or D.", "qa", 3),
    ("You are taking a bar exam. {bench_law} Give the letter, then one sentence of justification.", "qa", 40),
)


@dataclass
class Classroom:
    members: np.ndarray
    frame: int
    campus: int  # pool id of the campus NAT
    labs: np.ndarray  # UTC start of each two-hour lab slot


@dataclass
class ResearchLab:
    members: np.ndarray
    pool: int


@dataclass
class Pipeline:
    account: int
    frame: int
    servers: int  # pool id
    start: int
    end: int
    generation: int  # the model generation it is pinned to at start
    migrate_after: float  # seconds after a release before it moves to it


@dataclass
class Team:
    members: np.ndarray
    frames: np.ndarray
    office: int


def _people(pop: Population, rng: np.random.Generator, idx: np.ndarray, country: int, tz: int) -> None:
    """Own home, habits and belongings for accounts living in `country`."""
    pop.country[idx], pop.tz[idx] = country, tz
    pop.email[idx] = pop.person_emails(rng, idx.size)
    pop.draw_habits(rng, idx, worker=0.8)
    pop.set_homes(rng, idx, np.arange(idx.size), np.full(idx.size, country))
    pop.habits.places[idx, 0] = pop.carrier_pool[country][0]
    pop.habits.place_p[idx, 0] = rng.beta(1.3, 3.0, idx.size)
    _belongings(pop, rng, idx, np.arange(idx.size))
    pop.home_links(idx)


def _site(
    pop: Population, rng: np.random.Generator, kind: str, prefix: int, nat: int
) -> tuple[str, str, int, int, int]:
    """A new organisation with its own listed network: (name, domain, country, tz, NAT pool)."""
    country = int(rng.choice(len(COUNTRIES), p=country_weights()))
    name, domain = pop.namer.organisation(kind)
    pool = pop.pools.add(pop.networks.corporate(name, country, prefix, nat))
    return name, domain, country, COUNTRIES[country].offsets[0], pool


def _office_links(pop: Population, rng: np.random.Generator, idx: np.ndarray, pool: int) -> None:
    first = np.maximum(pop.created[idx], EPOCH)
    pop.links.add(
        "ip", idx, pop.pools.sample(rng, np.full(idx.size, pool)), first, pop.until[idx], rng.integers(2, 200, idx.size)
    )


def _classrooms(pop: Population, rng: np.random.Generator, count: int) -> None:
    instructions = (
        "explain in your own words",
        "compare and contrast",
        "write a short essay on",
        "give three arguments about",
        "analyse the relationship between",
        "summarise the debate on",
    )
    rules = (
        "Cite two sources.",
        "Use at most 300 words.",
        "Include one worked example.",
        "Answer in the first person.",
        "Use the lecture notation.",
        "",
    )
    while count >= 8:
        _, domain, country, tz, campus = _site(pop, rng, "university", 22, int(rng.integers(4, 17)))
        for _ in range(int(rng.integers(1, 4))):
            size = min(count, int(np.clip(12 + rng.pareto(1.4) * 14, 8, 140)))
            if size < 8:
                break
            count -= size
            idx = pop.take(size, "classroom")
            course = (
                "Biology",
                "Statistics",
                "Philosophy",
                "Data Structures",
                "Macroeconomics",
                "World History",
                "Organic Chemistry",
                "Psychology",
            )[int(rng.integers(8))]
            label = ("assignment", "problem set", "lab", "homework")[int(rng.integers(4))]
            text = (
                f"{course} {label} {int(rng.integers(1, 9))}: {instructions[int(rng.integers(6))]} {{homework}}."
                f" {rules[int(rng.integers(6))]}"
            ).strip()
            frame = pop.bank.add(text, "education", 450)
            semester = int(rng.choice([int(rng.integers(14, 40)), int(rng.integers(236, 262))]))
            slot = semester * DAY + int(rng.integers(9, 16)) * HOUR - tz * 60
            labs = EPOCH + slot + 7 * DAY * np.sort(rng.choice(8, size=int(rng.integers(2, 7)), replace=False))
            fresh = rng.random(size) < 0.6
            pop.created[idx] = np.where(
                fresh, labs[0] - rng.uniform(0, 14 * DAY, size), EPOCH - rng.uniform(30 * DAY, 900 * DAY, size)
            ).astype(np.int64)
            pop.until[idx] = END
            _people(pop, rng, idx, country, tz)
            on_campus = rng.random(size) < 0.6
            pop.email[idx[on_campus]] = pop.person_emails(rng, int(on_campus.sum()), f"student.{domain}")
            pop.habits.places[idx, 2], pop.habits.place_p[idx, 2] = campus, rng.uniform(0.1, 0.4, size)
            _office_links(pop, rng, idx, campus)
            pop.channel[idx] = rng.random() < 0.12
            pop.groups["classroom"].append(Classroom(idx, frame, campus, labs.astype(np.int64)))


def _researchers(pop: Population, rng: np.random.Generator, count: int) -> None:
    while count > 0:
        size = min(count, int(rng.choice([1, 1, 1, 2, 2, 3, 4])))
        count -= size
        idx = pop.take(size, "benchmark_researcher")
        kind = int(rng.integers(3))
        if kind == 2:  # cloud notebooks
            country = int(rng.choice(len(COUNTRIES), p=country_weights()))
            tz, pool = COUNTRIES[country].offsets[0], pop.pools.add(pop.networks.hosting(int(rng.integers(1, 4))))
        else:
            _, _, country, tz, pool = _site(pop, rng, ("university", "company")[kind], 26, int(rng.integers(1, 4)))
        _lifetimes(pop, rng, idx, during=0.2)
        _people(pop, rng, idx, country, tz)
        pop.habits.places[idx, 2], pop.habits.place_p[idx, 2] = pool, rng.uniform(0.3, 0.8, size)
        _office_links(pop, rng, idx, pool)
        pop.channel[idx] = rng.random() < 0.12
        pop.groups["benchmark_researcher"].append(ResearchLab(idx, pool))


def _pipelines(pop: Population, rng: np.random.Generator, count: int) -> None:
    shapes = [pop.bank.add(t, c, o) for t, c, o in _INTEGRATION_SHAPES]
    popularity = 1.0 / np.arange(1, len(shapes) + 1) ** 1.2
    roles = ("ml-platform", "data-eng", "integrations", "api-bot", "analytics", "support-ai")
    while count > 0:
        accounts = min(count, 2 if rng.random() < 0.2 else 1)
        count -= accounts
        idx = pop.take(accounts, "enterprise_pipeline")
        name, domain = pop.namer.organisation("company")
        country = int(rng.choice(len(COUNTRIES), p=country_weights()))
        pop.country[idx], pop.tz[idx] = country, COUNTRIES[country].offsets[0]
        servers = pop.pools.add(pop.networks.hosting(int(rng.integers(1, 5))))
        if rng.random() < 0.6:
            frame = shapes[int(rng.choice(len(shapes), p=popularity / popularity.sum()))]
        else:
            text, category, out = _INTEGRATION_SHAPES[int(rng.integers(len(shapes)))]
            frame = pop.bank.add(f"[{name}] {text}", category, out)
        start = int(rng.uniform(EPOCH - 60 * DAY, END - 25 * DAY))
        length = float(np.exp(rng.uniform(np.log(20), np.log(300)))) * DAY
        pop.created[idx] = start - rng.uniform(DAY, 200 * DAY, accounts).astype(np.int64)
        pop.email[idx] = pop.unique_emails(list(rng.choice(roles, accounts, replace=False)), [domain] * accounts)
        pop.draw_habits(rng, idx, worker=1.0)
        card = pop.cards(rng, 1, np.array([country]))
        pop.links.add(
            "payment",
            idx,
            np.repeat(card["value"], accounts),
            pop.created[idx],
            END,
            12,
            card={k: np.repeat(v, accounts) for k, v in card.items() if k != "value"},
        )
        pop.links.add("device", idx, pop.devices(accounts), pop.created[idx], END, 1)
        _office_links(pop, rng, idx, servers)
        pop.channel[idx] = rng.random() < 0.12
        generation = int(np.searchsorted(np.array(GENERATION_RELEASES), start))
        for account in idx:
            pop.groups["enterprise_pipeline"].append(
                Pipeline(
                    int(account),
                    frame,
                    servers,
                    max(start, EPOCH),
                    int(min(END, max(start + length, EPOCH + 14 * DAY))),
                    generation,
                    float(rng.uniform(30, 150) * DAY),
                )
            )


def _teams(pop: Population, rng: np.random.Generator, count: int) -> None:
    internal = (
        "Using the {company} style guide, draft a reply to: {ticket}",
        "Summarise this incident for the {company} weekly report: {sentence}",
        "Write {company} release notes for {code_task}.",
        "Turn these meeting notes into {company} action items: {sentence}",
        "Review this {code_lang} change against {company} conventions: {code_task}",
    )
    while count >= 3:
        size = min(count, int(np.clip(3 + rng.pareto(1.2) * 5, 3, 80)))
        count -= size
        idx = pop.take(size, "company_team")
        name, domain, country, tz, office = _site(pop, rng, "company", 24, int(rng.integers(2, 7)))
        _lifetimes(pop, rng, idx, during=0.4)
        _people(pop, rng, idx, country, tz)
        h = pop.habits
        h.peak[idx], h.peak2[idx], h.spread[idx] = rng.normal(10.5, 1, size), rng.normal(15, 1, size), 1.5
        h.places[idx, 2], h.place_p[idx, 2] = office, rng.uniform(0.5, 0.9, size)
        staff = rng.random(size) < 0.85
        pop.email[idx[staff]] = pop.person_emails(rng, int(staff.sum()), domain)
        if rng.random() < 0.4:
            card = pop.cards(rng, 1, np.array([country]))
            pop.links.add(
                "payment",
                idx,
                np.repeat(card["value"], size),
                pop.created[idx],
                END,
                6,
                card={k: np.repeat(v, size) for k, v in card.items() if k != "value"},
            )
        picks = rng.choice(len(internal), size=int(rng.integers(2, 4)), replace=False)
        frames = np.array([pop.bank.add(internal[i].replace("{company}", name), "writing", 300) for i in picks])
        _office_links(pop, rng, idx, office)
        pop.channel[idx] = rng.random() < 0.12
        pop.groups["company_team"].append(Team(idx, frames, office))


def build_negatives(pop: Population, counts: dict[str, int]) -> None:
    rng = rng_for(pop.seed, "negatives")
    pop.benchmarks = np.array([pop.bank.add(t, c, o) for t, c, o in BENCHMARKS], dtype=np.int32)
    _classrooms(pop, rng, counts["classroom"])
    _researchers(pop, rng, counts["benchmark_researcher"])
    _pipelines(pop, rng, counts["enterprise_pipeline"])
    _teams(pop, rng, counts["company_team"])
