"""What scoring reads besides the :class:`~graph.links.Incidence`: organisations and their evidence.

The Neo4j reader builds :class:`OrgIndicators` from ``KNOWN_MEMBER_OF`` edges, ``(:IP)-[:OPERATED_BY]->``
enrichment and ``Account.email_domain``; bench/offline_bundle.py builds it straight from a bundle.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["ROUTABLE_PREFIX", "OrgIndicators", "Population", "domains_named_after", "own_hosting"]

#: The shortest prefix the Internet's routing tables carry, by family: a /24 of IPv4, a /48 of IPv6.
#: A block longer than it cannot be announced by itself, so it is always a piece of a provider's
#: space; an organisation's hosting space of at most one such prefix in all is a customer's.
ROUTABLE_PREFIX: dict[int, int] = {4: 24, 6: 48}


@dataclass(frozen=True)
class Population:
    """Counts over the accounts a whole read holds, for the domains and organisations a partial one holds.

    accounts
        Accounts a whole read holds (those linked by an identifier it reads, the known members and
        co-action's senders).
    domain_accounts
        Email domain -> those accounts that signed up with it.
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
    own_hosting
        Organisation indices whose hosting space is their own (:func:`own_hosting`): on those ranges
        the organisation acts, as on its corporate network. Empty: hosting ranges name the provider.
    population
        The counts scoring weighs a ring's evidence against, as a whole read (graph/store/
        observation_reads.py) holds them: how many accounts, how many on each email domain, how many
        on each organisation's network. A read of part of it (the Spark job's driver, which holds
        the rings' neighbourhood only) must give them; None counts the accounts indexed.
    """

    organizations: tuple[str, ...]
    known_account: npt.NDArray[np.int32]
    known_org: npt.NDArray[np.int32]
    entity_org: npt.NDArray[np.int32]
    account_email_domain: npt.NDArray[np.str_]
    domain_org: Mapping[str, int] = field(default_factory=dict)
    own_hosting: frozenset[int] = frozenset()
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
        if any(not 0 <= o < n_org for o in self.own_hosting):
            raise ValueError("OrgIndicators.own_hosting out of range")


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


def own_hosting(ranges: Iterable[tuple[str | None, str, str]]) -> frozenset[str]:
    """Organisations, by name, on whose hosting ranges they act rather than host.

    `ranges` are (organization, cidr, network) rows as ip_ranges.csv gives them. An organisation
    qualifies when it is named on hosting blocks, each longer than the shortest routable prefix
    (:data:`ROUTABLE_PREFIX`: a /25 or smaller, IPv6 longer than /48), together no more than one
    such prefix per family, and on nothing else but corporate networks. A provider announces its
    space as routable prefixes (a hosting /16, a single /24 of a small host, an ISP's or carrier's
    space, however a feed splits it), and an address there says who hosts the account, not who runs
    it. A block too small to route is a piece of someone's space registered to the one it was
    reassigned to: the organisation rents dedicated servers in its own name, and who uses them is
    its doing. The name is the registry's, trusted as a corporate range's is.
    """
    space: dict[tuple[str, int], int] = {}
    provider: set[str] = set()
    for organization, cidr, network in ranges:
        if not organization or network == "corporate":
            continue
        block = ipaddress.ip_network(cidr, strict=False)
        if network != "hosting" or block.prefixlen <= ROUTABLE_PREFIX[block.version]:
            provider.add(organization)
        else:
            key = (organization, block.version)
            space[key] = space.get(key, 0) + block.num_addresses
    for (organization, version), addresses in space.items():
        if addresses > 2 ** ((32 if version == 4 else 128) - ROUTABLE_PREFIX[version]):
            provider.add(organization)
    return frozenset({o for o, _ in space} - provider)
