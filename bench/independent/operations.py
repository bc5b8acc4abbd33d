"""Operated rings: how many, how big, run by whom, when, and how each one works.

Ring sizes are heavy-tailed: a discrete Pareto (alpha 0.9) from 2 members up to 4.5% of the
population, plus one "hydra" ring of 2.5% that shares nothing but proxy exits. Rings are grouped
into operations (one operator each): most run one campaign, some two to four, months apart (each
campaign its own ring). A fifth of operations belong to a named organisation.

`Ring` holds everything the member builder (`ring_members`) and the job scheduler (`ring_usage`)
need; this module only decides it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .population import Population
from .templates import INTENTS
from .world import DAY, DAYS, EPOCH, GENERATION_RELEASES, MINUTE, rng_for

__all__ = ["Operation", "Ring", "plan_operations", "plan_ring_sizes", "releases_in"]

_FOCUS = {
    "reasoning": ("reasoning_trace", "reasoning_trace", "rubric_grading", "safe_rewrite"),
    "grading": ("rubric_grading", "rubric_grading", "reasoning_trace"),
    "agentic": ("agentic_tool_use", "computer_use", "code_generation"),
    "code": ("code_generation", "code_generation", "agentic_tool_use"),
    "mixed": tuple(INTENTS),
}


@dataclass
class Operation:
    index: int
    org: int  # -1: anonymous operator
    rings: list[int] = field(default_factory=list)
    own: int = -1  # pool id of the operator's own (or rented) servers, reused across its campaigns
    ties: list[str] = field(default_factory=list)  # what ties consecutive campaigns


@dataclass
class Ring:
    index: int
    ring_id: str
    operation: int
    org: int
    size: int
    start: int
    end: int
    profile: str  # hydra | pooled | sloppy | cells
    aged_share: float  # share of bought (aged) accounts
    exits: str  # rotating | sticky | mobile | datacenter | vpn
    exit_pool: int = -1
    sticky: float = 0.0  # seconds an exit stays with a member (0: a new exit per request)
    own_share: float = 0.0  # share of requests from the operator's own servers
    frames: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    frame_weights: np.ndarray = field(default_factory=lambda: np.empty(0))
    drift: tuple[int, int, int] | None = None  # (frame, its reworded successor, from when)
    style: str = "round_the_clock"  # round_the_clock | operator_hours | bursty
    operator_tz: int = 0
    careful: bool = False
    spread: float = 0.0  # seconds a job's requests are spread over
    touch: int = 0  # members per job (0: round-robin over everyone)
    job_factor: float = 1.0
    mix: float = 0.0  # ordinary-looking requests per job request
    noise: float = 0.0
    pivot_share: float = 0.0
    pivot_hours: float = -1.0  # < 0: never switches to a new model
    lite: bool = False
    rate: float = 10.0  # requests per member per campaign day (before the population-wide scale)
    channel: int = 0
    members: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    devices: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    cards: dict[str, np.ndarray] = field(default_factory=dict)
    known: int = 0  # members to list in known.csv


def plan_ring_sizes(rng: np.random.Generator, budget: int, accounts: int) -> list[int]:
    """Ring sizes adding up to `budget` accounts: one hydra ring, then Pareto(0.9) sizes >= 2."""
    cap = max(12, int(0.045 * accounts))
    sizes = [max(2, round(0.025 * accounts))] if budget >= 40 else []
    while sum(sizes) < budget:
        size = int(min(cap, np.floor(2 * (1 - rng.random()) ** (-1 / 0.9))))
        sizes.append(min(size, budget - sum(sizes)))
    if len(sizes) > 1 and sizes[-1] < 2:
        sizes[-2] += sizes.pop()
    return sizes


def _campaign_windows(rng: np.random.Generator, campaigns: int) -> list[tuple[int, int]]:
    lengths = np.exp(rng.uniform(np.log(12), np.log(100), campaigns))
    gaps = rng.uniform(40, 110, campaigns - 1)
    over = lengths.sum() + gaps.sum() - (DAYS - 6)
    if over > 0:  # squeeze gaps (never under a month), then campaigns
        gaps = np.maximum(30.0, gaps - over / max(1, gaps.size))
        room = DAYS - 6 - gaps.sum()
        lengths *= min(1.0, room / lengths.sum())
    start = 1 + rng.uniform(0, max(0.0, DAYS - 6 - lengths.sum() - gaps.sum()))
    out = []
    for j, length in enumerate(lengths):
        out.append((int(EPOCH + start * DAY), int(EPOCH + (start + length) * DAY)))
        start += length + (gaps[j] if j < campaigns - 1 else 0)
    return out


def _behaviour(rng: np.random.Generator, pop: Population, ring: Ring) -> None:
    """Wording, schedule, load balancing, care and model pivot of one ring."""
    focus = str(rng.choice(list(_FOCUS), p=[0.35, 0.12, 0.2, 0.23, 0.1]))
    intents = _FOCUS[focus]
    count = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
    chosen = [intents[int(rng.integers(len(intents)))] for _ in range(count)]
    ring.frames = np.array([pop.bank.paraphrase(rng, i, verbatim=rng.random() < 0.2) for i in chosen], np.int32)
    ring.frame_weights = rng.dirichlet(np.full(count, 1.5))
    if rng.random() < 0.25:
        first = int(ring.frames[0])
        successor = pop.bank.paraphrase(rng, chosen[0])
        if successor != first:
            ring.drift = (first, successor, int(rng.uniform(ring.start, ring.end)))
    ring.style = str(rng.choice(["round_the_clock", "operator_hours", "bursty"], p=[0.55, 0.3, 0.15]))
    ring.operator_tz = int(rng.choice([-300, 0, 60, 120, 180, 330, 420, 480, 540]))
    ring.careful = bool(rng.random() < 0.35)
    if ring.careful:
        ring.spread = rng.uniform(20, 60) * MINUTE
        ring.touch = int(rng.integers(2, 9))
        ring.mix, ring.noise = rng.uniform(0.1, 0.45), rng.uniform(0.2, 0.6)
    else:
        ring.spread = rng.uniform(0.5, 8) * MINUTE
        ring.mix, ring.noise = rng.uniform(0, 0.1), rng.uniform(0, 0.2)
        ring.touch = int(rng.integers(2, 9)) if ring.size > 40 and rng.random() < 0.3 else 0
    ring.job_factor = rng.uniform(0.5, 3.0)
    if rng.random() < 0.8:
        ring.pivot_share, ring.pivot_hours = rng.uniform(0.3, 0.9), rng.uniform(1, 24)
    ring.lite = bool(rng.random() < 0.2)
    ring.rate = float(rng.lognormal(np.log(14), 0.7))
    ring.channel = int(rng.random() < 0.15)


def _mechanics(rng: np.random.Generator, ring: Ring, hydra: bool) -> None:
    if hydra:
        ring.profile, ring.aged_share, ring.exits = "hydra", 0.3, "rotating"
    else:
        options, p = ["hydra", "pooled", "sloppy", "cells"], [0.45, 0.30, 0.13, 0.12]
        if ring.size < 12:
            options, p = options[:3], [0.5, 0.35, 0.15]
        ring.profile = str(rng.choice(options, p=p))
        ring.aged_share = float(rng.choice([0.0, 1.0, rng.uniform(0.2, 0.8)], p=[0.6, 0.2, 0.2]))
        ring.exits = str(
            rng.choice(["rotating", "sticky", "mobile", "datacenter", "vpn"], p=[0.55, 0.25, 0.08, 0.07, 0.05])
        )
    if ring.exits == "sticky":
        ring.sticky = rng.uniform(10, 120) * MINUTE


def plan_operations(pop: Population, sizes: list[int]) -> tuple[list[Operation], list[Ring]]:
    """Operators, their campaigns (rings) and each ring's mechanics and behaviour."""
    rng = rng_for(pop.seed, "operations")
    order = [0, *list(1 + rng.permutation(len(sizes) - 1))] if sizes else []
    operations: list[Operation] = []
    rings: list[Ring] = []
    orgs = max(2, round(pop.n / 12_000)) + 2
    position = 0
    while position < len(order):
        campaigns = int(rng.choice([1, 2, 3, 4], p=[0.62, 0.22, 0.11, 0.05]))
        members = order[position : position + campaigns]
        position += len(members)
        op = Operation(len(operations), -1)
        operations.append(op)
        for j, (start, end) in enumerate(_campaign_windows(rng, len(members))):
            ring = Ring(
                len(rings),
                f"ring-{len(rings) + 1:04d}",
                op.index,
                -1,
                sizes[members[j]],
                start,
                end,
                "hydra",
                0.0,
                "rotating",
            )
            _mechanics(rng, ring, hydra=members[j] == 0)
            _behaviour(rng, pop, ring)
            op.rings.append(ring.index)
            rings.append(ring)
    named = rng.permutation(len(operations))[: max(orgs, len(operations) // 5)]
    for k, op_index in enumerate(named.tolist()):
        op = operations[op_index]
        op.org = pop.organisation(*pop.namer.organisation("operator")) if k < orgs else operations[named[k % orgs]].org
        for r in op.rings:
            rings[r].org = op.org
    for op in operations:
        _ties(rng, op, rings)
    return operations, rings


def _ties(rng: np.random.Generator, op: Operation, rings: list[Ring]) -> None:
    """What a named operator leaves behind, and what ties its campaigns together."""
    for j, r in enumerate(op.rings):
        ring = rings[r]
        if op.org >= 0:
            direct = j == 0 or rng.random() < 0.6  # later campaigns may be tied to the org only via siblings
            ring.known = (
                max(1, min(20, int(ring.size * rng.uniform(0.02, 0.08)))) if direct and rng.random() < 0.75 else 0
            )
            ring.own_share = rng.uniform(0.02, 0.15) if direct and rng.random() < 0.6 else 0.0
        elif ring.profile != "hydra" and rng.random() < 0.25:  # a hydra ring shares nothing but exits
            ring.own_share = rng.uniform(0.02, 0.1)
    if len(op.rings) < 2:
        return
    kinds = ["device", "card", "network"] + (["known"] if op.org >= 0 else [])
    for j in range(1, len(op.rings)):
        tie = str(rng.choice(kinds))
        op.ties.append(tie)
        later, earlier = rings[op.rings[j]], rings[op.rings[j - 1]]
        if tie == "network":
            earlier.own_share = max(earlier.own_share, rng.uniform(0.03, 0.1))
            later.own_share = max(later.own_share, rng.uniform(0.03, 0.1))
        elif tie == "known":
            earlier.known, later.known = max(earlier.known, 1), max(later.known, 1)


def releases_in(ring: Ring) -> list[int]:
    """Generation releases falling inside the ring's campaign."""
    return [g + 1 for g, at in enumerate(GENERATION_RELEASES) if ring.start <= at < ring.end]
