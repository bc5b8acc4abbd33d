"""The population while it is being drawn: per-account columns indexed by slot, plus the side tables.

Cohorts: the benign majority (home .. traveller), ring members and earlier cases' accounts
(prior_case), and the hard negatives that look coordinated in the usage log and are not (student,
researcher, pipeline, team).

Accounts are drawn cohort by cohort into contiguous slots; only when everything is drawn are they
ordered by sign-up time and given their account ids, so ids say nothing about cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graph.generator.entities import EntityRegistry, LinkBuffer
from graph.generator.identities import Identities
from graph.generator.infrastructure import Infrastructure, SharedNetworks
from graph.generator.wordlists import COUNTRIES

__all__ = [
    "COHORTS",
    "COUNTRY_CODES",
    "STATUSES",
    "Draft",
    "KnownAttribution",
]

Ints = npt.NDArray[np.int64]

COHORTS: tuple[str, ...] = (
    "home",
    "family",
    "corporate",
    "cgnat",
    "vpn",
    "traveller",
    "ring",
    "prior_case",
    "student",
    "researcher",
    "pipeline",
    "team",
)
STATUSES: tuple[str, ...] = ("active", "suspended", "closed")
COUNTRY_CODES: tuple[str, ...] = tuple(code for code, _, _ in COUNTRIES)


@dataclass(frozen=True)
class KnownAttribution:
    """Accounts an earlier investigation attributed to an actor (rows of known.csv)."""

    slots: Ints
    organization: str
    source: str


@dataclass
class Draft:
    """Mutable state shared by the benign and ring generators."""

    rng: np.random.Generator
    accounts: int
    registry: EntityRegistry
    links: LinkBuffer
    identities: Identities
    infra: Infrastructure
    networks: SharedNetworks
    created: Ints = field(init=False)
    country: Ints = field(init=False)
    status: Ints = field(init=False)
    cohort: Ints = field(init=False)
    ring: Ints = field(init=False)  # ring index or -1
    organization: Ints = field(init=False)  # actor index or -1
    cell: Ints = field(init=False)  # device cell within the ring, -1 outside rings
    operated_from: Ints = field(init=False)  # when an operator starts using the account (0: never)
    operated_until: Ints = field(init=False)  # when it stops
    emails: list[tuple[int, pa.Array]] = field(default_factory=list)
    known: list[KnownAttribution] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.accounts
        self.created = np.zeros(n, dtype=np.int64)
        self.country = np.zeros(n, dtype=np.int64)
        self.status = np.zeros(n, dtype=np.int64)
        self.cohort = np.full(n, -1, dtype=np.int64)
        self.ring = np.full(n, -1, dtype=np.int64)
        self.organization = np.full(n, -1, dtype=np.int64)
        self.cell = np.full(n, -1, dtype=np.int64)
        self.operated_from = np.zeros(n, dtype=np.int64)
        self.operated_until = np.zeros(n, dtype=np.int64)

    def set_emails(self, first_slot: int, addresses: pa.Array) -> None:
        """The sign-up email of the contiguous slots starting at `first_slot`."""
        self.emails.append((first_slot, addresses))

    def draw_status(self, slots: Ints, suspended: float, closed: float) -> None:
        """Account status: mostly active; rings get caught more often."""
        self.status[slots] = self.rng.choice(3, len(slots), p=[1 - suspended - closed, suspended, closed])

    def phone_country_codes(self, slots: Ints) -> pa.Array:
        """Calling codes matching the accounts' countries."""
        codes = pa.array([cc for _, _, cc in COUNTRIES])
        return codes.take(pa.array(self.country[slots]))
