"""The moments that make hard negatives look coordinated: lab slots, benchmark runs, pipelines, team
templates. Their everyday traffic comes from `ordinary`.
"""

from __future__ import annotations

import numpy as np

from .events import EVENT, records
from .negatives import Classroom, Pipeline, ResearchLab, Team
from .ordinary import models_for, session_times
from .population import Population
from .world import DAY, END, EPOCH, GENERATION_RELEASES, HOUR, model_at

__all__ = ["classroom_usage", "pipeline_usage", "research_usage", "team_usage"]


def classroom_usage(rng: np.random.Generator, pop: Population, group: Classroom) -> np.ndarray:
    """Each attending student sends a few prompts on the class template during each two-hour lab."""
    members = group.members
    lab = np.repeat(np.arange(group.labs.size), members.size)
    student = np.tile(members, group.labs.size)
    attend = rng.random(student.size) < 0.85
    lab, student = lab[attend], student[attend]
    sends = rng.poisson(3, student.size) + 1
    account = np.repeat(student, sends)
    ts = np.repeat(group.labs[lab], sends) + rng.uniform(0, 2 * HOUR, account.size).astype(np.int64)
    # one campus NAT address per student and lab
    ip = np.repeat(pop.pools.sample(rng, np.full(student.size, group.campus)), sends)
    frame = np.full(account.size, group.frame, np.int32)
    noise = pop.habits.noise[account].astype(np.uint8)
    return records(pop, rng, account, ts, frame, models_for(rng, pop, account, ts), ip, noise)


def research_usage(rng: np.random.Generator, pop: Population, lab: ResearchLab, scale: float) -> np.ndarray:
    """Benchmark runs: a few at each researcher's own working hours, plus one on many release days."""
    parts = []
    for account in lab.members.tolist():
        start = max(int(pop.created[account]), EPOCH)
        runs = []
        for _ in range(int(rng.poisson(2)) + 1):
            day = rng.uniform(start, END - DAY)
            local = (9 + rng.uniform(0, 9)) * HOUR - int(pop.tz[account]) * 60
            runs.append((int(day // DAY * DAY + local), -1))
        for g, released in enumerate(GENERATION_RELEASES):
            if released > start and rng.random() < 0.6:
                runs.append((int(released + rng.uniform(0.3, 20) * HOUR), g + 1))
        for at, generation in runs:
            bench = (
                int(rng.integers(pop.benchmarks.size)) if generation < 0 else int(rng.choice(3, p=[0.6, 0.25, 0.15]))
            )
            first = 0 if rng.random() < 0.6 else int(rng.integers(300))
            items = np.arange(first, min(400, first + max(20, int(rng.uniform(50, 400) * scale))))
            gaps = rng.uniform(2, 15) + rng.exponential(2, items.size)
            ts = at + np.cumsum(gaps).astype(np.int64)
            acct = np.full(items.size, account, np.int32)
            if generation < 0:
                model = models_for(rng, pop, acct, ts)
            else:
                model = model_at(np.full(items.size, generation), np.zeros(items.size, bool), ts)
            slots = np.zeros((items.size, 4), np.int32)
            slots[:, 0] = items
            ip = np.full(items.size, pop.pools.sample(rng, np.array([lab.pool]))[0])
            frame = np.full(items.size, pop.benchmarks[bench], np.int32)
            parts.append(records(pop, rng, acct, ts, frame, model, ip, slots=slots))
    return np.concatenate(parts)


def pipeline_usage(rng: np.random.Generator, pop: Population, pipe: Pipeline, requests: int) -> np.ndarray:
    """Templated requests round the clock (mildly busier on weekday working hours) from its servers."""
    draw = int(requests * 1.4) + 1
    ts = pipe.start + (rng.random(draw) * (pipe.end - pipe.start)).astype(np.int64)
    local = ((ts + int(pop.tz[pipe.account]) * 60) % DAY) / HOUR
    busy = 0.55 + 0.45 * np.exp(-(((local - 13) / 5) ** 2))
    ts = np.sort(ts[rng.random(draw) < busy][:requests])
    n = ts.size
    generation = np.full(n, pipe.generation, np.int64)
    for g, released in enumerate(GENERATION_RELEASES):
        generation = np.maximum(generation, np.where(ts >= released + pipe.migrate_after, g + 1, 0))
    model = model_at(generation, np.full(n, pop.habits.lite[pipe.account]), ts)
    ip = pop.pools.sample(rng, np.full(n, pipe.servers))
    count = np.where(rng.random(n) < 0.05, rng.integers(2, 21, n), 1).astype(np.int16)
    account = np.full(n, pipe.account, np.int32)
    return records(pop, rng, account, ts, np.full(n, pipe.frame, np.int32), model, ip, count=count)


def team_usage(rng: np.random.Generator, pop: Population, team: Team, per_member: float) -> np.ndarray:
    """Internal templates, sent in working sessions from the office network."""
    members = team.members
    counts = rng.poisson(per_member * rng.uniform(0.3, 1.7, members.size))
    start = np.maximum(pop.created[members], EPOCH)
    owner, ts, session = session_times(rng, pop, members, counts, start, np.full(members.size, END))
    if not owner.size:
        return np.empty(0, EVENT)
    account = members[owner]
    first = np.concatenate([[True], session[1:] != session[:-1]])
    ip = np.repeat(
        pop.pools.sample(rng, np.full(int(first.sum()), team.office)),
        np.diff(np.concatenate([np.flatnonzero(first), [owner.size]])),
    )
    frame = team.frames[rng.integers(team.frames.size, size=account.size)]
    noise = pop.habits.noise[account].astype(np.uint8)
    return records(pop, rng, account, ts, frame, models_for(rng, pop, account, ts), ip, noise)
