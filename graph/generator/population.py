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
from graph.generator.identities import Identities
from graph.generator.infrastructure import Infrastructure, build_shared_networks
from graph.generator.rings import plan_rings, populate_rings
from graph.generator.writer import write_bundle

__all__ = ["MIN_ACCOUNTS", "GenerationSummary", "generate_population"]

Ints = npt.NDArray[np.int64]
MIN_ACCOUNTS = 100


@dataclass(frozen=True)
class GenerationSummary:
    """What was generated: counts, rows per file, accounts per cohort and the ring sizes."""

    accounts: int
    links: int
    rings: int
    ring_accounts: int
    organizations: int  # actor organisations
    files: dict[str, int]
    cohorts: dict[str, int]
    ring_sizes: tuple[int, ...]


def generate_population(
    out_dir: Path,
    accounts: int,
    seed: int,
    progress: Callable[[str, float], None] | None = None,
) -> GenerationSummary:
    """Write accounts, links, known, ip_ranges and truth CSVs for `accounts` synthetic accounts.

    About 95% of accounts are benign (households, families, colleagues, mobile, VPN and travelling
    users, who share IPs, devices and cards innocently); the rest are rings of coordinated accounts,
    half of them run for an actor organisation. The same (accounts, seed) always gives byte-identical
    files. `progress(stage, fraction_done)` is called between stages.
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"need at least {MIN_ACCOUNTS} accounts, got {accounts}")
    report = progress or (lambda stage, done: None)
    report("planning", 0.0)
    rng = np.random.Generator(np.random.PCG64(seed))
    registry = EntityRegistry()
    infra = Infrastructure(rng, registry)
    world = plan_rings(rng, accounts)
    benign = accounts - world.ring_accounts - world.prior_accounts
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
    report("benign accounts", 0.05)
    homes = populate_benign(draft, 0, sizes)
    report("rings", 0.35)
    populate_rings(draft, world, benign + world.prior_accounts, benign, homes)
    report("links", 0.45)
    # Account ids follow sign-up order, as a real system's sequence would.
    slots = np.arange(accounts, dtype=np.int64)
    rank = np.empty(accounts, dtype=np.int64)
    rank[np.lexsort((slots, draft.created))] = slots
    width = max(registry.size(kind) for kind in KINDS)
    links = _spell(rng, draft.links.collect(rank, width))
    report("writing", 0.65)
    files = write_bundle(out_dir, draft, world, rank, links)
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
    )


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
