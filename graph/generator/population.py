"""The public entry point: a synthetic population with ground truth, written as an input bundle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from graph.generator.benign import BENIGN_SHARES, populate_benign
from graph.generator.draft import COHORTS, COUNTRY_CODES, Draft
from graph.generator.entities import KINDS, EntityRegistry, LinkBuffer, Links
from graph.generator.hard_negatives import hard_negative_sizes, populate_hard_negatives
from graph.generator.identities import Identities
from graph.generator.infrastructure import Infrastructure, build_shared_networks
from graph.generator.ring_members import populate_rings
from graph.generator.rings import RingWorld, plan_rings
from graph.generator.usage import DEFAULT_EVENTS_PER_ACCOUNT, UsageInput, write_usage_log
from graph.generator.writer import write_bundle

__all__ = ["DEFAULT_EVENTS_PER_ACCOUNT", "MIN_ACCOUNTS", "GenerationSummary", "generate_population"]

Ints = npt.NDArray[np.int64]
MIN_ACCOUNTS = 100


@dataclass(frozen=True)
class GenerationSummary:
    """What was generated: counts, rows per file, accounts per cohort, the rings and operations."""

    accounts: int
    links: int
    rings: int
    ring_accounts: int
    organizations: int  # actor organisations
    files: dict[str, int]
    cohorts: dict[str, int]
    ring_sizes: tuple[int, ...]
    events: int = 0  # rows of the usage log
    operations: int = 0  # operations running the rings (one or more campaigns each)
    ring_kinds: dict[str, int] | None = None  # rings per kind (behaviour-only, bought, cells, campaigns)


def generate_population(
    out_dir: Path,
    accounts: int,
    seed: int,
    progress: Callable[[str, float], None] | None = None,
    *,
    events_per_account: float = DEFAULT_EVENTS_PER_ACCOUNT,
    compress_events: bool = False,
) -> GenerationSummary:
    """Write the bundle (accounts, links, known, ip_ranges, events) and its ground truth.

    About 95% of accounts are benign (households, families, colleagues, mobile, VPN and travelling
    users, who share IPs, devices and cards innocently, and the hard negatives of the usage log:
    students, researchers, API pipelines and teams); the rest are rings of coordinated accounts run
    by operations, half of them for an actor organisation. The usage log has about
    `events_per_account` requests per account (0: none; `compress_events` writes events.csv.gz) and is
    drawn from its own random stream, so changing it never changes the other files. The same
    (accounts, seed, events_per_account) always gives byte-identical files.
    `progress(stage, fraction_done)` is called between stages.
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"need at least {MIN_ACCOUNTS} accounts, got {accounts}")
    if events_per_account < 0:
        raise ValueError(f"events per account must not be negative, got {events_per_account}")
    report = progress or (lambda stage, done: None)
    report("planning", 0.0)
    rng = np.random.Generator(np.random.PCG64(seed))
    registry = EntityRegistry()
    infra = Infrastructure(rng, registry)
    world = plan_rings(rng, accounts)
    hard = hard_negative_sizes(accounts)
    benign = accounts - world.ring_accounts - world.prior_accounts - sum(hard.values())
    sizes = {cohort: round(benign * share) for cohort, share in BENIGN_SHARES.items()}
    sizes["home"] = benign - sum(sizes.values())
    draft = Draft(
        rng=rng,
        accounts=accounts,
        registry=registry,
        links=LinkBuffer(),
        identities=Identities(rng, registry),
        infra=infra,
        networks=build_shared_networks(infra, accounts, COUNTRY_CODES),
    )
    report("benign accounts", 0.02)
    homes = populate_benign(draft, 0, sizes)
    negatives = populate_hard_negatives(draft, benign, hard)
    report("rings", 0.05)
    operated = benign + sum(hard.values())
    populate_rings(draft, world, operated + world.prior_accounts, operated, homes)
    report("links", 0.07)
    # Account ids follow sign-up order, as a real system's sequence would.
    slots = np.arange(accounts, dtype=np.int64)
    rank = np.empty(accounts, dtype=np.int64)
    rank[np.lexsort((slots, draft.created))] = slots
    width = max(registry.size(kind) for kind in KINDS)
    links = _spell(rng, draft.links.collect(rank, width))
    report("writing", 0.1)
    files = write_bundle(out_dir, draft, world, rank, links)
    usage = UsageInput(seed, draft, world, negatives, links, rank)
    files.update(write_usage_log(out_dir, usage, events_per_account, compress_events, report))
    report("done", 1.0)
    counts = np.bincount(draft.cohort, minlength=len(COHORTS))
    return GenerationSummary(
        accounts=accounts,
        links=len(links.account),
        rings=len(world.plans),
        ring_accounts=world.ring_accounts,
        organizations=len(world.actors),
        files=files,
        cohorts={cohort: int(count) for cohort, count in zip(COHORTS, counts, strict=True)},
        ring_sizes=tuple(plan.size for plan in world.plans),
        events=sum(rows for name, rows in files.items() if name.startswith("events.csv")),
        operations=world.operations,
        ring_kinds=_ring_kinds(world),
    )


def _ring_kinds(world: RingWorld) -> dict[str, int]:
    plans = world.plans
    campaigns = np.bincount([p.operation for p in plans], minlength=world.operations)
    return {
        "infrastructure": sum(p.sharing == "infrastructure" for p in plans),
        "behaviour-only": sum(p.sharing == "behaviour" for p in plans),
        "bought accounts": sum(p.aged for p in plans),
        "device cells": sum(p.cells > 1 for p in plans),
        "multi-campaign operations": int((campaigns > 1).sum()),
        "campaigns in them": int(campaigns[campaigns > 1].sum()),
    }


def _spell(rng: np.random.Generator, links: Links) -> Links:
    """How each link writes its value: some IPv6 in upper case; phones mostly in the owner's habitual
    format, sometimes in another (a ring's shared virtual number is typed differently by members)."""
    n = len(links.account)
    ip = links.kind == KINDS.index("ip")
    phone = links.kind == KINDS.index("phone")
    habit = (links.entity * 2_654_435_761 >> 7) % 5
    spelling = np.where(rng.random(n) < 0.3, rng.integers(0, 5, n), habit)
    spelling = np.where(phone, spelling, np.where(ip & (rng.random(n) < 0.12), 1, 0))
    return replace(links, spelling=spelling.astype(np.int64))
