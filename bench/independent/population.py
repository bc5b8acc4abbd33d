"""The population: one row of arrays per account, the observations linking accounts to entities, and
each account's everyday habits (what its ordinary usage looks like, wherever it comes from).

Cohort builders (`benign`, `negatives`, `operations`) take blocks of account indices with `take`
and fill them in; usage generators read them back. Account indices are internal: the ids written to
the bundle come from a permutation, so neither ids nor file order give a cohort away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypedDict

import numpy as np
import numpy.typing as npt

from .names import Namer, email_locals, free_mail_domains
from .networks import Networks
from .templates import INTENTS, PUBLIC, TemplateBank
from .tokens import opaque, phone_numbers
from .world import COHORTS, COUNTRIES, DAY, END, EPOCH, HOUR, rng_for

if TYPE_CHECKING:
    from .negatives import Classroom, Pipeline, ResearchLab, Team
    from .operations import Ring

__all__ = ["KINDS", "STATUSES", "Groups", "Habits", "LinkTable", "Pools", "Population"]

KINDS: Final = ("ip", "device", "payment", "email", "phone")
STATUSES: Final = ("active", "suspended", "closed", "unverified")
_BRANDS: Final = (("visa", "4"), ("mastercard", "5"), ("amex", "37"), ("discover", "6011"))


class Pools:
    """Sets of addresses sampled per session or request (a carrier's CGNAT, a VPN's exits, a proxy pool)."""

    def __init__(self) -> None:
        self._pools: list[np.ndarray] = []
        self._flat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, addresses: np.ndarray) -> int:
        self._pools.append(np.asarray(addresses, dtype=np.int32))
        self._flat = None
        return len(self._pools) - 1

    def get(self, pool: int) -> np.ndarray:
        return self._pools[pool]

    def sample(self, rng: np.random.Generator, pools: np.ndarray) -> np.ndarray:
        """One address from each given pool (vectorised over a mixed array of pool ids)."""
        if self._flat is None:
            sizes = np.array([p.size for p in self._pools], dtype=np.int64)
            self._flat = (np.concatenate(self._pools), np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
        flat, offsets, sizes = self._flat
        pick = (rng.random(pools.size) * sizes[pools]).astype(np.int64)
        sampled: np.ndarray = flat[offsets[pools] + pick]
        return sampled


@dataclass
class LinkTable:
    """links.csv rows, collected as column arrays per call."""

    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        accounts: npt.ArrayLike,
        values: npt.ArrayLike,
        first: npt.ArrayLike,
        last: npt.ArrayLike,
        count: npt.ArrayLike | None = None,
        card: dict[str, np.ndarray] | None = None,
    ) -> None:
        accounts = np.asarray(accounts, dtype=np.int32)
        n = accounts.size
        if n == 0:
            return
        chunk = {
            "account": accounts,
            "kind": np.full(n, KINDS.index(kind), np.int8),
            "value": np.asarray(values, dtype=object),
            "first": np.broadcast_to(np.asarray(first, dtype=np.int64), (n,)).copy(),
            "last": np.broadcast_to(np.asarray(last, dtype=np.int64), (n,)).copy(),
            "count": np.broadcast_to(np.asarray(1 if count is None else count, dtype=np.int64), (n,)).copy(),
        }
        for column, default in (("brand", ""), ("bin", ""), ("last4", ""), ("country", "")):
            values_of = card[column] if card is not None else np.full(n, default, dtype=object)
            chunk[column] = np.asarray(values_of, dtype=object)
        chunk["last"] = np.maximum(chunk["last"], chunk["first"])
        self.chunks.append(chunk)


@dataclass
class Habits:
    """Per account: how its own, ordinary usage looks (used by every cohort's everyday traffic)."""

    n: int
    weight: np.ndarray = field(init=False)  # relative volume (log-normal)
    peak: np.ndarray = field(init=False)  # local hour of the main activity peak
    peak2: np.ndarray = field(init=False)
    spread: np.ndarray = field(init=False)  # hours
    weekday_bias: np.ndarray = field(init=False)  # chance a weekend session moves to a weekday
    session_mean: np.ndarray = field(init=False)  # requests per session
    gap_mean: np.ndarray = field(init=False)  # seconds between requests in a session
    p_public: np.ndarray = field(init=False)  # share of requests on public templates
    favourite: np.ndarray = field(init=False)  # the public template it likes best
    noise: np.ndarray = field(init=False)  # its usual greeting/courtesy style (noise code)
    lite: np.ndarray = field(init=False)
    adopt_delay: np.ndarray = field(init=False)  # (n, 2) seconds after each release it starts using it
    adopt_share: np.ndarray = field(init=False)
    home: np.ndarray = field(init=False)  # (n, 3) household address per epoch, -1 none
    home_change: np.ndarray = field(init=False)  # (n, 2) when the household address changes
    places: np.ndarray = field(init=False)  # (n, 3) pool ids: mobile carrier, VPN, workplace; -1 none
    place_p: np.ndarray = field(init=False)  # (n, 3) chance a session comes from that place

    def __post_init__(self) -> None:
        n = self.n
        for name in (
            "weight",
            "peak",
            "peak2",
            "spread",
            "weekday_bias",
            "session_mean",
            "gap_mean",
            "p_public",
            "adopt_share",
        ):
            setattr(self, name, np.zeros(n))
        self.favourite = np.zeros(n, np.int32)
        self.noise = np.zeros(n, np.int16)
        self.lite = np.zeros(n, bool)
        self.adopt_delay = np.zeros((n, 2))
        self.home = np.full((n, 3), -1, np.int32)
        self.home_change = np.full((n, 2), END, np.int64)
        self.places = np.full((n, 3), -1, np.int32)
        self.place_p = np.zeros((n, 3))


class Groups(TypedDict):
    """What the cohort builders formed, one list per cohort (the keys are `COHORTS`)."""

    benign: list[np.ndarray]
    household: list[np.ndarray]
    colleague: list[np.ndarray]
    proxy_customer: list[np.ndarray]
    classroom: list[Classroom]
    benchmark_researcher: list[ResearchLab]
    enterprise_pipeline: list[Pipeline]
    company_team: list[Team]
    operated: list[Ring]


class Population:
    """Accounts by index, their links, habits, and the groups the cohort builders formed."""

    def __init__(self, accounts: int, seed: int) -> None:
        self.n, self.seed = accounts, seed
        self.rng = rng_for(seed, "population")
        self.namer = Namer(rng_for(seed, "names"))
        self.networks = Networks(rng_for(seed, "networks"), self.namer, accounts)
        self.pools = Pools()
        self.carrier_pool = [[self.pools.add(p) for p in pools] for pools in self.networks.carrier_pools]
        self.vpn_pool = [self.pools.add(p) for p in self.networks.vpn_pools]
        self.tor_pool = self.pools.add(self.networks.tor_pool)
        self.bank = TemplateBank(salt=seed * 7919 + 17)
        public = [self.bank.add(t, c, o, i) for t, c, o, i in PUBLIC]
        # The public wordings of extraction intents circulate online: a few ordinary users send them too.
        public += [self.bank.paraphrase(self.rng, intent, verbatim=True) for intent in INTENTS]
        self.public = np.array(public, dtype=np.int32)
        self.benchmarks = np.empty(0, np.int32)
        self.proxies: dict[str, list[int]] = {}
        self.prior_owners: list[tuple[np.ndarray, np.ndarray]] = []  # bought accounts: (accounts, sold at)
        self.freeform = self.bank.add("{opener} {subject} {context} {tail}", "chat", 350, unique=True)
        self.created = np.zeros(accounts, np.int64)
        self.until = np.full(accounts, END, np.int64)  # no request after this (suspension, closure)
        self.country = np.zeros(accounts, np.int16)
        self.tz = np.zeros(accounts, np.int16)  # minutes east of UTC
        self.cohort = np.full(accounts, -1, np.int8)
        self.status = np.zeros(accounts, np.int8)
        self.channel = np.zeros(accounts, np.int8)  # 1: the provider shares only prompt fingerprints
        self.ring = np.full(accounts, -1, np.int32)
        self.operation = np.full(accounts, -1, np.int32)
        self.org = np.full(accounts, -1, np.int32)
        self.email = np.full(accounts, "", dtype=object)
        self.habits = Habits(accounts)
        self.links = LinkTable()
        self.orgs: list[str] = []
        self.org_domains: list[str] = []
        self.known: list[tuple[int, str, str]] = []
        self.groups: Groups = {
            "benign": [],
            "household": [],
            "colleague": [],
            "proxy_customer": [],
            "classroom": [],
            "benchmark_researcher": [],
            "enterprise_pipeline": [],
            "company_team": [],
            "operated": [],
        }
        self._next = 0
        self._emails: set[str] = set()
        self._entity_keys = 0

    def take(self, count: int, cohort: str) -> np.ndarray:
        if self._next + count > self.n:
            raise ValueError(f"population of {self.n} accounts exhausted by {cohort}")
        block = np.arange(self._next, self._next + count, dtype=np.int32)
        self._next += count
        self.cohort[block] = COHORTS.index(cohort)
        return block

    def remaining(self) -> int:
        return self.n - self._next

    def organisation(self, name: str, domain: str) -> int:
        """A named operator (truth `organization`), with its own e-mail domain."""
        self.orgs.append(name)
        self.org_domains.append(domain)
        return len(self.orgs) - 1

    # -- entities ------------------------------------------------------------------------------------

    def tokens(self, prefix: str, count: int) -> np.ndarray:
        keys = np.arange(self._entity_keys, self._entity_keys + count, dtype=np.uint64)
        self._entity_keys += count
        return opaque(prefix, keys, self.seed * 104_729 + 3, 16)

    def devices(self, count: int) -> np.ndarray:
        return self.tokens("dv_", count)

    def cards(
        self, rng: np.random.Generator, count: int, country: np.ndarray, bin_: str | None = None
    ) -> dict[str, np.ndarray]:
        """Payment tokens with brand, BIN, last four and issuing country (never a card number)."""
        brands = rng.choice(len(_BRANDS), size=count, p=[0.5, 0.33, 0.1, 0.07])
        if bin_ is None:
            bins = [
                (_BRANDS[b][1] + f"{int(x):06d}")[:6]
                for b, x in zip(brands, rng.integers(0, 10**6, count), strict=True)
            ]
        else:
            bins = [bin_] * count
            brands = np.full(count, next(i for i, b in enumerate(_BRANDS) if bin_.startswith(b[1])))
        return {
            "value": self.tokens("pm_", count),
            "brand": np.array([_BRANDS[b][0] for b in brands], dtype=object),
            "bin": np.array(bins, dtype=object),
            "last4": np.array([f"{int(x):04d}" for x in rng.integers(0, 10_000, count)], dtype=object),
            "country": np.array([COUNTRIES[c].code for c in np.asarray(country)], dtype=object),
        }

    def phones(self, rng: np.random.Generator, country: np.ndarray) -> list[str]:
        return phone_numbers(
            rng, [COUNTRIES[c].phone_cc for c in country], [COUNTRIES[c].phone_digits for c in country]
        )

    def unique_emails(self, locals_: list[str], domains: np.ndarray | list[str]) -> np.ndarray:
        """Addresses, each new to the population (a clash gets a short suffix: nobody shares by accident)."""
        out = np.empty(len(locals_), dtype=object)
        for i, (local, domain) in enumerate(zip(locals_, domains, strict=True)):
            address, extra = f"{local}@{domain}", 0
            while address in self._emails:
                extra += 1
                address = f"{local}.{extra}@{domain}"
            self._emails.add(address)
            out[i] = address
        return out

    def person_emails(self, rng: np.random.Generator, count: int, domain: str | None = None) -> np.ndarray:
        domains = free_mail_domains(rng, count) if domain is None else np.full(count, domain)
        return self.unique_emails(email_locals(rng, count), domains)

    # -- habits --------------------------------------------------------------------------------------

    def draw_habits(self, rng: np.random.Generator, idx: np.ndarray, worker: float = 0.3) -> None:
        """Ordinary-person habits for accounts `idx` (country and tz already set)."""
        h, n = self.habits, idx.size
        h.weight[idx] = rng.lognormal(0.0, 1.5, n)
        kind = rng.choice(3, size=n, p=[0.45, 0.35, 0.20])
        h.peak[idx] = (
            np.select(
                [kind == 0, kind == 1], [rng.normal(20.5, 1.8, n), rng.normal(11, 1.5, n)], rng.normal(15.5, 2.5, n)
            )
            % 24
        )
        h.peak2[idx] = (h.peak[idx] + rng.choice([-1, 1], n) * rng.uniform(3, 8, n)) % 24
        h.spread[idx] = rng.uniform(0.8, 3.5, n)
        h.weekday_bias[idx] = np.where(rng.random(n) < worker, rng.uniform(0.4, 0.9, n), rng.uniform(0, 0.2, n))
        h.session_mean[idx] = rng.lognormal(np.log(3), 0.6, n)
        h.gap_mean[idx] = rng.lognormal(np.log(90), 0.8, n)
        h.p_public[idx] = rng.beta(1.2, 2.6, n)
        ranks = np.arange(1, len(self.public) + 1)
        zipf = 1.0 / ranks**1.1
        h.favourite[idx] = self.public[rng.choice(len(ranks), size=n, p=zipf / zipf.sum())]
        h.noise[idx] = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 36, n))
        h.lite[idx] = rng.random(n) < 0.3
        h.adopt_delay[idx] = rng.exponential(25 * DAY, (n, 2)) + rng.uniform(0, 2 * DAY, (n, 2))
        h.adopt_share[idx] = rng.beta(2, 2, n)

    def set_homes(self, rng: np.random.Generator, idx: np.ndarray, household: np.ndarray, country: np.ndarray) -> None:
        """Household addresses over time (dynamic ISP leases): accounts `idx` live in `household`
        (0..H-1, one entry per account), household h in `country[h]`; 1-3 leases per household."""
        households = country.size
        epochs = 1 + (rng.random(households) < 0.55) + (rng.random(households) < 0.2)
        leases = self.networks.residential(np.repeat(country, epochs))
        first = np.concatenate([[0], np.cumsum(epochs)[:-1]])
        home = np.empty((households, 3), np.int32)
        for e in range(3):
            home[:, e] = leases[first + np.minimum(e, epochs - 1)]
        changes = np.sort(rng.integers(EPOCH + 10 * DAY, END - 10 * DAY, size=(households, 2)), axis=1)
        changes[epochs < 3, 1] = END
        changes[epochs < 2, 0] = END
        self.habits.home[idx] = home[household]
        self.habits.home_change[idx] = changes[household]

    def home_links(self, idx: np.ndarray) -> None:
        """ip observations of each account's household addresses, over the epochs it was active."""
        h = self.habits
        bounds = np.column_stack([np.full(idx.size, EPOCH), h.home_change[idx], np.full(idx.size, END)])
        for epoch in range(3):
            lo = np.maximum(bounds[:, epoch], self.created[idx])
            hi = np.minimum(bounds[:, epoch + 1], self.until[idx])
            first_epoch = h.home[idx, epoch] != (h.home[idx, epoch - 1] if epoch else -2)
            keep = (h.home[idx, epoch] >= 0) & (hi > lo) & first_epoch
            sessions = np.maximum(1, ((hi - lo) / DAY * h.weight[idx] * 0.4).astype(np.int64))
            self.links.add("ip", idx[keep], h.home[idx, epoch][keep], lo[keep], hi[keep] - HOUR, sessions[keep])
