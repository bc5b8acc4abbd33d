"""Ordinary usage, vectorised over many accounts at once: sessions at each person's own hours in their
own time zone, requests inside a session seconds to minutes apart, public templates (the person's
favourite, or any by Zipf popularity) or free-form prompts, models adopted some weeks after release.

Every cohort's everyday traffic comes from here: benign users, the students, researchers and team
members between their special moments, previous owners of bought accounts, and the ordinary-looking
requests careful operators mix into a ring's traffic (then from the ring's exits, not from home).
"""

from __future__ import annotations

import numpy as np

from .events import EVENT, records
from .population import Population
from .world import DAY, GENERATION_RELEASES, HOUR, model_at

__all__ = ["models_for", "ordinary_usage", "session_times"]


def session_times(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, counts: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner position, time, session number) of each request of accounts `idx` within [start, end)."""
    h = pop.habits
    counts = np.asarray(counts, np.int64)
    if counts.sum() == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    sessions = np.where(counts > 0, np.maximum(1, np.round(counts / h.session_mean[idx])), 0).astype(np.int64)
    sessions = np.minimum(sessions, counts)
    owner_s = np.repeat(np.arange(idx.size), sessions)
    acct = idx[owner_s]
    tz = pop.tz[acct].astype(np.int64) * 60
    when = start[owner_s] + rng.random(owner_s.size) * np.maximum(end - start, 1)[owner_s]
    local_day = np.floor((when + tz) / DAY)
    weekend = ((local_day + 3) % 7) >= 5  # the epoch (1970-01-01) was a Thursday
    move = weekend & (rng.random(owner_s.size) < h.weekday_bias[acct])
    local_day = local_day + np.where(move, np.where(((local_day + 3) % 7) == 5, -1, 1), 0)
    peak = np.where(rng.random(owner_s.size) < 0.7, h.peak[acct], h.peak2[acct])
    hour = (peak + rng.normal(0, 1, owner_s.size) * h.spread[acct]) % 24
    session_start = (local_day * DAY + hour * HOUR - tz).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(sessions)[:-1]])
    owner_e = np.repeat(np.arange(idx.size), counts)
    session = first[owner_e] + (rng.random(owner_e.size) * sessions[owner_e]).astype(np.int64)
    order = np.argsort(session, kind="stable")
    session, owner_e = session[order], owner_e[order]
    gaps = rng.exponential(h.gap_mean[idx][owner_e])
    cumulative = np.cumsum(gaps)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(session)) + 1])
    lengths = np.diff(np.concatenate([starts, [session.size]]))
    base = np.repeat(cumulative[starts] - gaps[starts], lengths)
    ts = session_start[session] + (cumulative - base).astype(np.int64)
    return owner_e, ts, session


def models_for(rng: np.random.Generator, pop: Population, account: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Each person moves to a new generation some time after its release, for part of their traffic."""
    h = pop.habits
    generation = np.zeros(account.size, np.int64)
    for g, released in enumerate(GENERATION_RELEASES):
        generation += ts >= released + h.adopt_delay[account, g]
    stay = (generation > 0) & (rng.random(account.size) > h.adopt_share[account])
    return model_at(generation - stay, h.lite[account], ts)


def _home(pop: Population, account: np.ndarray, ts: np.ndarray) -> np.ndarray:
    h = pop.habits
    epoch = (ts >= h.home_change[account, 0]).astype(np.int64) + (ts >= h.home_change[account, 1])
    home: np.ndarray = h.home[account, epoch]
    return home


def session_addresses(rng: np.random.Generator, pop: Population, account: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Home, mobile, VPN or office address of each session (one entry per session)."""
    h = pop.habits
    ip = _home(pop, account, ts)
    for place in (2, 1, 0):  # later places take precedence: mobile over VPN over office
        pool = h.places[account, place]
        here = (pool >= 0) & (rng.random(account.size) < h.place_p[account, place])
        if here.any():
            ip[here] = pop.pools.sample(rng, pool[here])
    missing = ip < 0  # no home (a pipeline's service account): its office or carrier
    if missing.any():
        fallback = np.where(
            h.places[account[missing], 2] >= 0, h.places[account[missing], 2], h.places[account[missing], 0]
        )
        ip[missing] = pop.pools.sample(rng, np.maximum(fallback, 0))
    return ip


def ordinary_content(rng: np.random.Generator, pop: Population, account: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frame, noise code) per request: favourite public template, any public one (Zipf) or free-form."""
    h = pop.habits
    n = account.size
    public = pop.public
    ranks = 1.0 / np.arange(1, public.size + 1) ** 1.1
    any_public = public[rng.choice(public.size, size=n, p=ranks / ranks.sum())]
    u = rng.random(n)
    p = h.p_public[account]
    frame = np.where(u < p * 0.5, h.favourite[account], np.where(u < p, any_public, pop.freeform)).astype(np.int32)
    noise = np.where(rng.random(n) < 0.7, h.noise[account], rng.integers(0, 36, n)).astype(np.uint8)
    return frame, noise


def ordinary_usage(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    counts: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    exits: np.ndarray | None = None,
) -> np.ndarray:
    """Event records of ordinary usage; `exits` (a pool id per account) replaces home and places."""
    owner, ts, session = session_times(rng, pop, idx, counts, start, end)
    if not owner.size:
        return np.empty(0, EVENT)
    account = idx[owner]
    first_of_session = np.concatenate([[True], session[1:] != session[:-1]])
    session_account = account[first_of_session]
    if exits is None:
        session_ip = session_addresses(rng, pop, session_account, ts[first_of_session])
    else:
        session_ip = pop.pools.sample(rng, exits[owner][first_of_session])
    ip = np.repeat(session_ip, np.diff(np.concatenate([np.flatnonzero(first_of_session), [owner.size]])))
    frame, noise = ordinary_content(rng, pop, account)
    return records(pop, rng, account, ts, frame, models_for(rng, pop, account, ts), ip, noise)
