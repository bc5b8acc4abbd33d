"""A ring's traffic: jobs of templated extraction requests load-balanced over its members.

A job is a batch of requests on one of the ring's frames. Jobs run round the clock, in the operator's
working hours, or in a few bursts a day. A naive operator sends a job's requests round-robin over
all members within minutes; a careful one spreads them over up to an hour, touches only a few
members per job, adds greeting/courtesy noise and mixes ordinary-looking requests into every
member's traffic. Requests leave through the ring's proxy exits (a new exit per request, or one per
member for a sticky session), a few through the operator's own servers. After a release inside the
campaign, a share of the traffic moves to the new model within hours.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .events import records
from .operations import Operation, Ring, releases_in
from .ordinary import ordinary_usage
from .population import Population
from .tokens import splitmix64
from .world import DAY, GENERATION_RELEASES, HOUR, model_at

__all__ = ["ring_raw_volume", "ring_usage"]

_CHUNK = 250_000  # requests generated at a time


def ring_raw_volume(ring: Ring) -> float:
    """Unscaled requests of a ring (job requests and mixed-in ordinary ones)."""
    return ring.size * (ring.end - ring.start) / DAY * ring.rate * (1 + ring.mix)


def _job_times(rng: np.random.Generator, ring: Ring, jobs: int) -> np.ndarray:
    span = ring.end - ring.start
    if ring.style == "bursty":
        days = max(1, span // DAY)
        centres = rng.uniform(0, DAY, (days, int(rng.integers(2, 6))))
        pick = rng.integers(centres.size, size=jobs)
        t = ring.start + (pick // centres.shape[1]) * DAY + centres.ravel()[pick] + rng.normal(0, 1200, jobs)
    elif ring.style == "operator_hours":
        t = ring.start + rng.random(jobs * 3) * span
        local = (t + ring.operator_tz * 60) % DAY / HOUR
        weekday = ((t + ring.operator_tz * 60) // DAY + 3) % 7
        t = t[(local >= 8) & (local < 22) & (weekday != 6)][:jobs]
    else:
        t = ring.start + rng.random(jobs) * span
    return np.sort(t).astype(np.int64)


def _models(rng: np.random.Generator, ring: Ring, ts: np.ndarray) -> np.ndarray:
    generation = np.full(ts.size, int(np.searchsorted(np.array(GENERATION_RELEASES), ring.start)), np.int64)
    if ring.pivot_hours >= 0:
        for g in releases_in(ring):
            moved = (ts >= GENERATION_RELEASES[g - 1] + ring.pivot_hours * HOUR) & (
                rng.random(ts.size) < ring.pivot_share
            )
            generation[moved] = g
    return model_at(generation, np.full(ts.size, ring.lite), ts)


def _exits(
    rng: np.random.Generator, pop: Population, op: Operation, ring: Ring, member: np.ndarray, ts: np.ndarray
) -> np.ndarray:
    pool = pop.pools.get(ring.exit_pool)
    if ring.sticky > 0:
        key = member.astype(np.uint64) * np.uint64(1_000_003) + (ts // int(ring.sticky)).astype(np.uint64)
        with np.errstate(over="ignore"):
            ip = pool[(splitmix64(key) % np.uint64(pool.size)).astype(np.int64)]
    else:
        ip = pool[rng.integers(pool.size, size=ts.size)]
    if op.own >= 0 and ring.own_share > 0:
        own = rng.random(ts.size) < ring.own_share
        ip[own] = pop.pools.sample(rng, np.full(int(own.sum()), op.own))
    return ip


def ring_usage(
    rng: np.random.Generator,
    pop: Population,
    op: Operation,
    ring: Ring,
    requests: float,
    emit: Callable[[np.ndarray], None],
) -> None:
    """Emit (via `emit(records)`) about `requests` job requests of `ring` plus its mixed-in traffic."""
    members = ring.members
    created = pop.created[members]  # sorted: members were created in order
    job_size = max(2.0, (ring.touch or ring.size) * ring.job_factor)
    jobs = max(1, int(requests / job_size))
    times = _job_times(rng, ring, jobs)
    sizes = rng.poisson(job_size - 1, times.size) + 1
    frames = ring.frames[rng.choice(ring.frames.size, size=times.size, p=ring.frame_weights)]
    if ring.drift is not None:
        frames = np.where((frames == ring.drift[0]) & (times >= ring.drift[2]), ring.drift[1], frames)
    active = np.searchsorted(created, times, side="right")  # members signed up before the job
    per_member = np.zeros(members.size, np.int64)
    counter = 0
    chunk_starts = np.searchsorted(np.cumsum(sizes), np.arange(0, sizes.sum(), _CHUNK), side="right")
    for lo, hi in zip(chunk_starts, [*chunk_starts[1:].tolist(), times.size], strict=True):
        job = np.repeat(np.arange(lo, hi), sizes[lo:hi])
        if not job.size:
            continue
        within = np.arange(job.size) - np.repeat(np.cumsum(sizes[lo:hi]) - sizes[lo:hi], sizes[lo:hi])
        live = active[job]
        keep = live > 0
        job, within, live = job[keep], within[keep], live[keep]
        if ring.touch:
            chosen = (rng.random((hi - lo, ring.touch)) * np.maximum(active[lo:hi], 1)[:, None]).astype(np.int64)
            member = chosen[job - lo, within % ring.touch]
            offset = rng.random(job.size) * ring.spread
        else:
            member = (counter + np.arange(job.size)) % live
            counter += job.size
            offset = within / sizes[job] * ring.spread + rng.normal(0, 4, job.size)
        ts = times[job] + offset.astype(np.int64)
        account = members[member]
        np.add.at(per_member, member, 1)
        noise = np.where(rng.random(job.size) < ring.noise, rng.integers(1, 36, job.size), 0).astype(np.uint8)
        emit(
            records(
                pop,
                rng,
                account,
                ts,
                frames[job],
                _models(rng, ring, ts),
                _exits(rng, pop, op, ring, account, ts),
                noise,
            )
        )
    if ring.mix > 0:
        counts = rng.poisson(per_member * ring.mix)
        start = np.maximum(created, ring.start)
        end = np.minimum(pop.until[members], ring.end)
        for lo in range(0, members.size, 4096):
            part = slice(lo, lo + 4096)
            emit(
                ordinary_usage(
                    rng,
                    pop,
                    members[part],
                    counts[part],
                    start[part],
                    np.maximum(end[part], start[part]),
                    exits=np.full(members[part].size, ring.exit_pool),
                )
            )
