"""Reading the observations that detection and scoring need out of Neo4j, into flat arrays.

Only entities that can link accounts are read: those used by two or more accounts, and IPs on a
corporate or hosting range of a named organisation (a single ring member on an actor's own network
is attribution evidence). An entity seen by one account cannot put that account in a ring, and at
1M accounts such entities are four in five. Each query returns one record per entity with its links
as lists: the driver then unpacks a few hundred thousand records instead of millions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

import neo4j
from graph.links import Incidence
from graph.scoring import OrgIndicators, domains_named_after
from graph.scoring.indicators import Population
from graph.vocabulary import ENTITY_KINDS, KIND_ORDER, NETWORK_CLASSES

__all__ = ["Neighbourhood", "Observations", "read_account_emails", "read_observations"]

_FETCH_SIZE: Final = 5000
_MAX_COUNT: Final = 2**31 - 1
_ACCOUNT_PAGE: Final = 250_000
_LINKS: Final = """
MATCH (e:{label})
WHERE COUNT {{ (e)<-[:{relationship}]-() }} > 1 {extra}
MATCH (a:Account)-[r:{relationship}]->(e)
RETURN e.{key} AS key, {network} AS network, {org} AS org,
       collect([a.account_id, r.first_seen.epochSeconds, r.last_seen.epochSeconds, r.count]) AS links
"""
_ACTOR_IP: Final = "OR (e.org IS NOT NULL AND e.network IN ['corporate', 'hosting'])"
# The same entities as _LINKS, those of the accounts in $ids only, and not those in $seen.
_LINKS_AROUND: Final = """
UNWIND $ids AS id
MATCH (:Account {{account_id: id}})-[:{relationship}]->(e:{label})
WITH DISTINCT e
WHERE (COUNT {{ (e)<-[:{relationship}]-() }} > 1 {extra}) AND NOT e.{key} IN $seen
MATCH (a:Account)-[r:{relationship}]->(e)
RETURN e.{key} AS key, {network} AS network, {org} AS org,
       collect([a.account_id, r.first_seen.epochSeconds, r.last_seen.epochSeconds, r.count]) AS links
"""
_ACCOUNTS_BY_ID: Final = """
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
RETURN a.account_id AS id, coalesce(a.created_at.epochSeconds, $unknown) AS created,
       coalesce(a.email_domain, '') AS domain
"""
_AROUND_BATCH: Final = 5000
_ALL_ACCOUNTS: Final = "MATCH (a:Account) RETURN count(a) AS n"
_DOMAIN_ACCOUNTS: Final = """
UNWIND $domains AS domain
RETURN domain, COUNT { MATCH (a:Account) WHERE a.email_domain = domain } AS n
"""
# An organisation's network as a whole read holds it (the IPs _LINKS reads), and who used it.
_NETWORK_USERS: Final = f"""
UNWIND $names AS name
MATCH (:Organization {{name: name}})<-[:OPERATED_BY]-(e:IP)
WHERE COUNT {{ (e)<-[:USED_IP]-() }} > 1 {_ACTOR_IP}
MATCH (a:Account)-[:USED_IP]->(e)
RETURN name, count(DISTINCT a) AS n
"""
# Every account, a page at a time in account_id order (the key's index gives the order), as parallel
# lists: at 1M accounts 2.7 s, against 14 s for looking up the linked ones by id a record each.
_ACCOUNTS: Final = """
MATCH (a:Account) WHERE a.account_id > $after
WITH a ORDER BY a.account_id LIMIT $page
RETURN collect(a.account_id) AS ids, collect(coalesce(a.created_at.epochSeconds, $unknown)) AS created,
       collect(coalesce(a.email_domain, '')) AS domains
"""
_UNKNOWN_TIME: Final = -(2**63)
_NETWORK_CODE: Final = {name: code for code, name in enumerate(NETWORK_CLASSES)}
_UNKNOWN_NETWORK: Final = _NETWORK_CODE["unknown"]
_KNOWN: Final = "MATCH (a:Account)-[:KNOWN_MEMBER_OF]->(o:Organization) RETURN a.account_id, o.name"
_ORGANIZATIONS: Final = "MATCH (o:Organization) RETURN o.name ORDER BY o.name"


@dataclass(frozen=True)
class Observations:
    """The incidence plus what scoring reads: sign-up times and organisation evidence."""

    incidence: Incidence
    account_created: npt.NDArray[np.float64]  # epoch seconds per account index, NaN if unknown
    org_indicators: OrgIndicators

    @property
    def n_links(self) -> int:
        return int(self.incidence.link_account.shape[0])


@dataclass
class _Links:
    accounts: list[str]
    entities: list[int]
    first: list[float]
    last: list[float]
    counts: list[int]
    entity_keys: list[str]
    entity_kind: list[int]
    entity_network: list[int]
    entity_org: list[str | None]


def _link_query(kind_name: str, template: str) -> str:
    kind = ENTITY_KINDS[kind_name]
    is_ip = kind_name == "ip"
    return template.format(
        label=kind.label, relationship=kind.relationship, key=kind.key,
        extra=_ACTOR_IP if is_ip else "",
        network="e.network" if is_ip else "null", org="e.org" if is_ip else "null",
    )


def _add_entity(links: _Links, kind_code: int, key: str, network: str | None, org: str | None,
                rows: list[list[Any]]) -> None:
    network_code = _NETWORK_CODE.get(network, _UNKNOWN_NETWORK) if network else _UNKNOWN_NETWORK
    index = len(links.entity_keys)
    links.entity_keys.append(key)
    links.entity_kind.append(kind_code)
    links.entity_network.append(network_code)
    links.entity_org.append(org)
    links.entities.extend([index] * len(rows))
    nan = float("nan")
    for account, first, last, count in rows:
        links.accounts.append(account)
        links.first.append(nan if first is None else first)
        links.last.append(nan if last is None else last)
        # Counts add up across loads; beyond int32 they carry no more information.
        links.counts.append(1 if count is None else min(count, _MAX_COUNT))


def _read_links(session: neo4j.Session) -> _Links:
    links = _Links([], [], [], [], [], [], [], [], [])
    for kind_code, kind_name in enumerate(KIND_ORDER):
        # Each link is one list: collect() drops nulls, so parallel lists would lose unknown times.
        for key, network, org, rows in session.run(_link_query(kind_name, _LINKS)):
            _add_entity(links, kind_code, key, network, org, rows)
    return links


def _read_accounts(
    session: neo4j.Session, wanted: set[str]
) -> tuple[dict[str, float], dict[str, str], Population]:
    """Sign-up time (NaN if unknown) and email domain of the `wanted` accounts that exist, and the
    accounts per email domain over all of them."""
    created: dict[str, float] = {}
    domain: dict[str, str] = {}
    per_domain: Counter[str] = Counter()
    total = 0
    after = ""  # every account id is a non-empty string
    while True:
        page = session.run(_ACCOUNTS, after=after, page=_ACCOUNT_PAGE, unknown=_UNKNOWN_TIME).single(strict=True)
        ids = page["ids"]
        if not ids:
            per_domain.pop("", None)
            return created, domain, Population(accounts=total, domain_accounts=dict(per_domain))
        total += len(ids)
        per_domain.update(page["domains"])
        for account_id, created_at, email_domain in zip(ids, page["created"], page["domains"], strict=True):
            if account_id in wanted:
                created[account_id] = float("nan") if created_at == _UNKNOWN_TIME else float(created_at)
                domain[account_id] = email_domain
        after = ids[-1]


def read_observations(driver: neo4j.Driver, database: str, extra_accounts: Collection[str] = ()) -> Observations:
    """The linking observations, the accounts they involve (and `extra_accounts`, which behaviour
    links), and the organisation evidence."""
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=_FETCH_SIZE) as s:
        links = _read_links(s)
        known, organizations = _read_organisations(s)
        account_ids = sorted(set(links.accounts) | {a for a, _ in known} | set(extra_accounts))
        created, domain, population = _read_accounts(s, set(account_ids))
    return _observations(links, known, organizations, account_ids, created, domain, population)


def _read_organisations(session: neo4j.Session) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    known = sorted((str(a), str(o)) for a, o in session.run(_KNOWN))
    return known, tuple(str(record[0]) for record in session.run(_ORGANIZATIONS))


def _observations(
    links: _Links,
    known: list[tuple[str, str]],
    organizations: tuple[str, ...],
    account_ids: list[str],
    created: dict[str, float],
    domain: dict[str, str],
    population: Population | None,
) -> Observations:
    ids = np.array(account_ids, dtype=np.str_)
    position = {account_id: i for i, account_id in enumerate(account_ids)}
    org_index = {name: i for i, name in enumerate(organizations)}
    # Entities in (kind, key) order: the store's scan order depends on its history (Neo4j reuses
    # freed ids), and entity order breaks ties when evidence is chosen, so it must not leak in.
    entity_keys = np.array(links.entity_keys, dtype=np.str_)
    entity_kind = np.array(links.entity_kind, dtype=np.int8)
    order = np.lexsort((entity_keys, entity_kind))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    incidence = Incidence(
        account_ids=ids,
        entity_keys=entity_keys[order],
        entity_kind=entity_kind[order],
        entity_network=np.array(links.entity_network, dtype=np.int8)[order],
        link_account=np.fromiter((position[a] for a in links.accounts), dtype=np.int32, count=len(links.accounts)),
        link_entity=rank[np.array(links.entities, dtype=np.int64)].astype(np.int32),
        link_first_seen=np.array(links.first, dtype=np.float64),
        link_last_seen=np.array(links.last, dtype=np.float64),
        link_count=np.array(links.counts, dtype=np.int32),
    )
    email_domain = np.array([domain.get(a, "") for a in account_ids], dtype=np.str_)
    org_indicators = OrgIndicators(
        organizations=organizations,
        known_account=np.array([position[a] for a, _ in known], dtype=np.int32),
        known_org=np.array([org_index[o] for _, o in known], dtype=np.int32),
        entity_org=np.array([org_index.get(o, -1) if o else -1 for o in links.entity_org], dtype=np.int32)[order],
        account_email_domain=email_domain,
        domain_org=domains_named_after(organizations, sorted(set(domain.values()) - {""})),
        population=population,
    )
    account_created = np.array([created.get(a, float("nan")) for a in account_ids], dtype=np.float64)
    return Observations(incidence=incidence, account_created=account_created, org_indicators=org_indicators)


def _population(session: neo4j.Session, domains: set[str], organizations: set[str]) -> Population:
    total = session.run(_ALL_ACCOUNTS).single(strict=True)["n"]
    per_domain = {r["domain"]: r["n"] for r in session.run(_DOMAIN_ACCOUNTS, domains=sorted(domains))}
    users = {r["name"]: r["n"] for r in session.run(_NETWORK_USERS, names=sorted(organizations))}
    return Population(accounts=int(total), domain_accounts=per_domain, network_users=users)


class Neighbourhood:
    """What :func:`read_observations` would hold about some accounts, read around them alone.

    :meth:`grow` reads every entity of the given accounts that `read_observations` reads, with all of
    its links (its other users' too), so every account pair with one side among the accounts grown
    has exactly the entities, degrees and times a whole read gives it; :meth:`observations` builds
    them with the same code. The accounts it holds are those linked by what it read and the known
    members, as in a whole read.
    """

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver, self._database = driver, database
        self._links = _Links([], [], [], [], [], [], [], [], [])
        self._seen: dict[int, set[str]] = {code: set() for code in range(len(KIND_ORDER))}
        self._created: dict[str, float] = {}
        self._domain: dict[str, str] = {}
        self._organisations: tuple[list[tuple[str, str]], tuple[str, ...]] | None = None
        self.grown: set[str] = set()

    def grow(self, accounts: Collection[str]) -> None:
        """Read the entities of `accounts` not read yet."""
        new = sorted(set(accounts) - self.grown)
        self.grown.update(new)
        with self._session() as s:
            for kind_code, kind_name in enumerate(KIND_ORDER):
                query = _link_query(kind_name, _LINKS_AROUND)
                seen = self._seen[kind_code]
                for start in range(0, len(new), _AROUND_BATCH):
                    for key, network, org, rows in s.run(query, ids=new[start : start + _AROUND_BATCH],
                                                         seen=sorted(seen)):
                        if key not in seen:
                            seen.add(key)
                            _add_entity(self._links, kind_code, key, network, org, rows)

    def observations(self, extra_accounts: Collection[str] = (), *, population: bool = False) -> Observations:
        """The observations read so far, over their accounts, the known members and `extra_accounts`;
        with `population`, the whole store's counts that scoring weighs them against."""
        with self._session() as s:
            if self._organisations is None:
                self._organisations = _read_organisations(s)
            known, organizations = self._organisations
            account_ids = sorted(set(self._links.accounts) | {a for a, _ in known} | set(extra_accounts))
            unread = [a for a in account_ids if a not in self._domain]
            for start in range(0, len(unread), _AROUND_BATCH):
                batch = unread[start : start + _AROUND_BATCH]
                for account_id in batch:  # accounts that do not exist read as a whole read gives them
                    self._domain[account_id] = ""
                for record in s.run(_ACCOUNTS_BY_ID, ids=batch, unknown=_UNKNOWN_TIME):
                    at = record["created"]
                    self._created[record["id"]] = float("nan") if at == _UNKNOWN_TIME else float(at)
                    self._domain[record["id"]] = record["domain"]
            counts = _population(s, {self._domain[a] for a in account_ids} - {""},
                                 {o for o in self._links.entity_org if o}) if population else None
        return _observations(self._links, known, organizations, account_ids, self._created, self._domain, counts)

    def _session(self) -> neo4j.Session:
        return self._driver.session(database=self._database, default_access_mode=neo4j.READ_ACCESS,
                                    fetch_size=_FETCH_SIZE)


def read_account_emails(driver: neo4j.Driver, database: str, account_ids: set[str]) -> dict[str, list[str]]:
    """account_id -> its email addresses, sorted, for the accounts asked for."""
    records, _, _ = driver.execute_query(
        "UNWIND $ids AS id MATCH (a:Account {account_id: id})-[:HAS_EMAIL]->(e:Email) "
        "RETURN a.account_id AS a, collect(e.address) AS emails",
        ids=sorted(account_ids),
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return {str(r["a"]): sorted(r["emails"]) for r in records}
