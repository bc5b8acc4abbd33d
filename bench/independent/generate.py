"""Build a population and write its bundle: who is in it, then what they send.

Shares of accounts (of N): operated rings 14%, classroom 2.5%, company teams 3%, benchmark
researchers 0.8%, proxy customers 0.6%, enterprise pipelines 0.12%, everybody else ordinary
(benign, household, colleague). Shares of the usage log (of N x events_per_account rows):
ordinary 40%, rings 34% (job requests and their mixed-in traffic), pipelines 12%, researchers 6%,
teams 4%, classroom 3%, proxy customers 1%.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .benign import build_benign, build_proxy_customers
from .events import EventLog
from .negatives import build_negatives
from .operations import plan_operations, plan_ring_sizes
from .ordinary import ordinary_usage
from .population import Population
from .ring_members import build_proxy_networks, build_ring_members
from .ring_usage import ring_raw_volume, ring_usage
from .special_usage import classroom_usage, pipeline_usage, research_usage, team_usage
from .tables import account_ids, write_tables
from .world import DAYS, END, EPOCH, cohort_code, rng_for

__all__ = ["Summary", "generate"]

ACCOUNT_SHARES = {
    "operated": 0.14,
    "classroom": 0.025,
    "company_team": 0.03,
    "benchmark_researcher": 0.008,
    "proxy_customer": 0.006,
    "enterprise_pipeline": 0.0012,
}
EVENT_SHARES = {
    "ordinary": 0.40,
    "operated": 0.34,
    "enterprise_pipeline": 0.12,
    "benchmark_researcher": 0.06,
    "company_team": 0.04,
    "classroom": 0.03,
    "proxy_customer": 0.01,
}
_CHUNK = 8192


@dataclass(frozen=True)
class Summary:
    directory: Path
    accounts: int
    rings: int
    operations: int
    event_rows: int
    seconds: float


def _background(rng: np.random.Generator, pop: Population, log: EventLog, idx: np.ndarray, budget: float) -> None:
    """Ordinary usage of accounts `idx` adding up to about `budget` rows, in chunks."""
    if not idx.size or budget <= 0:
        return
    start = np.maximum(pop.created[idx], EPOCH)
    end = np.minimum(pop.until[idx], END)
    active = np.clip((end - start) / (DAYS * 86_400), 0, 1)
    weight = pop.habits.weight[idx] * active * (rng.random(idx.size) > 0.08)  # some never use it
    counts = rng.poisson(budget * weight / max(weight.sum(), 1e-9))
    for lo in range(0, idx.size, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        log.add(ordinary_usage(rng, pop, idx[part], counts[part], start[part], np.maximum(end[part], start[part])))


def _cohort(pop: Population, name: str) -> np.ndarray:
    return np.flatnonzero(pop.cohort == cohort_code(name)).astype(np.int32)


def generate(
    directory: Path, accounts: int, seed: int, events_per_account: float = 100.0, compress: bool = True
) -> Summary:
    began = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    pop = Population(accounts, seed)
    counts = {k: round(v * accounts) for k, v in ACCOUNT_SHARES.items()}
    build_negatives(pop, counts)
    sizes = plan_ring_sizes(rng_for(seed, "ring-sizes"), counts["operated"], accounts)
    build_benign(pop, pop.remaining() - sum(sizes) - counts["proxy_customer"])
    build_proxy_networks(pop)
    build_proxy_customers(pop, counts["proxy_customer"], pop.proxies["rotating"])
    operations, rings = plan_operations(pop, sizes)
    build_ring_members(pop, operations, rings)
    assert pop.remaining() == 0, pop.remaining()

    total = accounts * events_per_account
    log = EventLog(pop, directory)
    rng = rng_for(seed, "usage")
    ordinary = np.concatenate([_cohort(pop, c) for c in ("benign", "household", "colleague")])
    _background(rng, pop, log, ordinary, total * EVENT_SHARES["ordinary"])
    _background(rng, pop, log, _cohort(pop, "proxy_customer"), total * EVENT_SHARES["proxy_customer"])
    share = EVENT_SHARES
    _background(rng, pop, log, _cohort(pop, "classroom"), total * share["classroom"] * 0.7)
    for classroom in pop.groups["classroom"]:
        log.add(classroom_usage(rng, pop, classroom))
    researchers = _cohort(pop, "benchmark_researcher")
    _background(rng, pop, log, researchers, total * share["benchmark_researcher"] * 0.25)
    run_scale = max(0.1, events_per_account / 100)
    for lab in pop.groups["benchmark_researcher"]:
        log.add(research_usage(rng, pop, lab, run_scale))
    team = _cohort(pop, "company_team")
    _background(rng, pop, log, team, total * share["company_team"] * 0.6)
    per_member = total * share["company_team"] * 0.4 / max(1, team.size)
    for group in pop.groups["company_team"]:
        log.add(team_usage(rng, pop, group, per_member))
    pipes = pop.groups["enterprise_pipeline"]
    weights = rng.lognormal(0, 0.8, len(pipes)) * np.array([(p.end - p.start) for p in pipes], float)
    for pipe, w in zip(pipes, weights, strict=True):
        log.add(pipeline_usage(rng, pop, pipe, int(total * share["enterprise_pipeline"] * w / weights.sum())))
    for owners, sold in pop.prior_owners:
        _background_until(rng, pop, log, owners, sold)
    raw = np.array([ring_raw_volume(r) for r in rings])
    scale = total * share["operated"] / max(raw.sum(), 1.0)
    for ring in rings:
        requests = ring_raw_volume(ring) * scale / (1 + ring.mix)
        ring_usage(rng, pop, operations[ring.operation], ring, requests, log.add)

    ids = account_ids(pop)
    write_tables(directory, pop, operations, rings, ids)
    name = "events.csv.gz" if compress else "events.csv"
    for stale in ("events.csv", "events.csv.gz"):
        (directory / stale).unlink(missing_ok=True)
    rows = log.write(directory / name, ids)
    return Summary(directory, accounts, len(rings), len(operations), rows, time.perf_counter() - began)


def _background_until(
    rng: np.random.Generator, pop: Population, log: EventLog, owners: np.ndarray, sold: np.ndarray
) -> None:
    """The light use half of the accounts later sold to an operator saw in their last months before the sale."""
    start = np.maximum(np.maximum(pop.created[owners], EPOCH), sold - rng.uniform(10, 120, owners.size) * 86_400)
    days = np.maximum(sold - start, 0) / 86_400
    counts = rng.poisson(days * pop.habits.weight[owners] * 0.1 * (rng.random(owners.size) < 0.5))
    log.add(ordinary_usage(rng, pop, owners, counts, start, np.maximum(sold, start)))
