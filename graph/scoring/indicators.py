"""What scoring reads besides the :class:`~graph.links.Incidence`: organisations and their evidence.

The Neo4j reader builds :class:`OrgIndicators` from ``KNOWN_MEMBER_OF`` edges, ``(:IP)-[:OPERATED_BY]->``
enrichment and ``Account.email_domain``; bench/offline_bundle.py builds it straight from a bundle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["OrgIndicators", "Population", "domains_named_after"]


@dataclass(frozen=True)
class Population:
    """Counts over every account in the store, for the domains and organisations a read holds.

    accounts
        Accounts in the store.
    domain_accounts
        Email domain -> accounts in the store that signed up with it.
    network_users
        Organisation name -> distinct accounts on the IPs it operates that a whole read holds (used
        by two or more accounts, or on its corporate or hosting range); None counts those indexed.
    """

    accounts: int
    domain_accounts: Mapping[str, int]
    network_users: Mapping[str, int] | None = None


@dataclass(frozen=True)
class OrgIndicators:
    """Organisations and the observations that can point to them, indexed like the Incidence.

    organizations
        Organisation index -> name, sorted ascending.
    known_account, known_org
        One row per ``KNOWN_MEMBER_OF`` edge: the account index and the organisation index.
    entity_org
        Per entity of the Incidence: the organisation operating it (an IP inside a range
        ``OPERATED_BY`` that organisation), -1 for none.
    account_email_domain
        Per account: its email domain, lower case, or ``""``.
    domain_org
        Email domain -> organisation index from enrichment (registrant, WHOIS, a curated list, or
        :func:`domains_named_after`). Optional: domains that known members use are found without it.
    population
        Counts over the whole store that scoring weighs a ring's evidence against (how many
        accounts, how many on each email domain, how many on each organisation's network). A read of
        part of the store (an incremental run's) must give them; None counts the accounts indexed.
    """

    organizations: tuple[str, ...]
    known_account: npt.NDArray[np.int32]
    known_org: npt.NDArray[np.int32]
    entity_org: npt.NDArray[np.int32]
    account_email_domain: npt.NDArray[np.str_]
    domain_org: Mapping[str, int] = field(default_factory=dict)
    population: Population | None = None

    def __post_init__(self) -> None:
        if list(self.organizations) != sorted(self.organizations):
            raise ValueError("OrgIndicators.organizations must be sorted")
        if self.known_account.shape != self.known_org.shape:
            raise ValueError("OrgIndicators.known_account and known_org differ in length")
        n_org = len(self.organizations)
        if self.known_org.size and (self.known_org.min() < 0 or self.known_org.max() >= n_org):
            raise ValueError("OrgIndicators.known_org out of range")
        if self.entity_org.size and self.entity_org.max() >= n_org:
            raise ValueError("OrgIndicators.entity_org out of range")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def domains_named_after(organizations: Iterable[str], domains: Iterable[str]) -> dict[str, int]:
    """Domain -> organisation index where the domain's first label is the organisation's name.

    ``acme-data.example`` belongs to "Acme Data"; a registrant lookup is better where one exists.
    Names that slug to the same label are ambiguous and left out.
    """
    by_slug: dict[str, int] = {}
    clash: set[str] = set()
    for i, name in enumerate(organizations):
        s = _slug(name)
        if s in by_slug:
            clash.add(s)
        by_slug[s] = i
    out: dict[str, int] = {}
    for d in sorted(set(domains)):
        label = d.split(".", 1)[0]
        if d and "." in d and label in by_slug and label not in clash:
            out[d] = by_slug[label]
    return out
