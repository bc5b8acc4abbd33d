"""Reading the observations that detection and scoring need out of Neo4j, into flat arrays.

Only entities that can link accounts are read: those used by two or more accounts, and IPs on a
corporate or hosting range of a named organisation (a single ring member on an actor's own network
is attribution evidence). An entity seen by one account cannot put that account in a ring, and at
1M accounts such entities are four in five. Each query returns one record per entity with its links
as lists: the driver then unpacks a few hundred thousand records instead of millions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

import neo4j
from graph.links import Incidence
from graph.scoring import OrgIndicators, domains_named_after, own_hosting
from graph.vocabulary import ENTITY_KINDS, KIND_ORDER, NETWORK_CLASSES

__all__ = ["Observations", "read_account_emails", "read_observations"]

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
# Every account, a page at a time in account_id order (the key's index gives the order), as parallel
# lists: at 1M accounts 2.7 s, against 14 s for looking up the linked ones by id a record each.
_ACCOUNTS: Final = """
MATCH (a:Account) WHERE a.account_id > $after
WITH a ORDER BY a.account_id LIMIT $page
RETURN collect(a.account_id) AS ids, collect(coalesce(a.created_at.epochSeconds, $unknown)) AS created,
       collect(coalesce(a.email_domain, '')) AS domains
"""
_UNKNOWN_TIME: Final = -(2**63)
_KNOWN: Final = "MATCH (a:Account)-[:KNOWN_MEMBER_OF]->(o:Organization) RETURN a.account_id, o.name"
_ORGANIZATIONS: Final = "MATCH (o:Organization) RETURN o.name ORDER BY o.name"
# The ranges as enrichment reads them (graph/store/ip_ranges.py): the organisation a range names now.
_NAMED_RANGES: Final = "MATCH (r:IPRange) WHERE r.organization IS NOT NULL RETURN r.organization, r.cidr, r.network"


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


def _read_links(session: neo4j.Session) -> _Links:
    links = _Links([], [], [], [], [], [], [], [], [])
    network_code = {name: code for code, name in enumerate(NETWORK_CLASSES)}
    unknown = network_code["unknown"]
    nan = float("nan")
    for kind_code, kind_name in enumerate(KIND_ORDER):
        kind = ENTITY_KINDS[kind_name]
        is_ip = kind_name == "ip"
        query = _LINKS.format(
            label=kind.label, relationship=kind.relationship, key=kind.key,
            extra=_ACTOR_IP if is_ip else "",
            network="e.network" if is_ip else "null", org="e.org" if is_ip else "null",
        )
        # Each link is one list: collect() drops nulls, so parallel lists would lose unknown times.
        for key, network, org, rows in session.run(query):
            index = len(links.entity_keys)
            links.entity_keys.append(key)
            links.entity_kind.append(kind_code)
            links.entity_network.append(network_code.get(network, unknown) if network else unknown)
            links.entity_org.append(org)
            links.entities.extend([index] * len(rows))
            for account, first, last, count in rows:
                links.accounts.append(account)
                links.first.append(nan if first is None else first)
                links.last.append(nan if last is None else last)
                # Counts add up across loads; beyond int32 they carry no more information.
                links.counts.append(1 if count is None else min(count, _MAX_COUNT))
    return links


def _read_accounts(session: neo4j.Session, wanted: set[str]) -> tuple[dict[str, float], dict[str, str]]:
    """Sign-up time (NaN if unknown) and email domain of the `wanted` accounts that exist."""
    created: dict[str, float] = {}
    domain: dict[str, str] = {}
    after = ""  # every account id is a non-empty string
    while True:
        page = session.run(_ACCOUNTS, after=after, page=_ACCOUNT_PAGE, unknown=_UNKNOWN_TIME).single(strict=True)
        ids = page["ids"]
        if not ids:
            return created, domain
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
        known = sorted((str(a), str(o)) for a, o in s.run(_KNOWN))
        organizations = tuple(str(record[0]) for record in s.run(_ORGANIZATIONS))
        hosting = own_hosting((str(o), str(cidr), str(network)) for o, cidr, network in s.run(_NAMED_RANGES))
        account_ids = sorted(set(links.accounts) | {a for a, _ in known} | set(extra_accounts))
        created, domain = _read_accounts(s, set(account_ids))

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
        own_hosting=frozenset(org_index[o] for o in hosting if o in org_index),
    )
    account_created = np.array([created.get(a, float("nan")) for a in account_ids], dtype=np.float64)
    return Observations(incidence=incidence, account_created=account_created, org_indicators=org_indicators)


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
