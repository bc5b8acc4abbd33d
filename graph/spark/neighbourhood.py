"""The rings' neighbourhood: the part of the store that scoring a run's rings reads, collected to the driver.

Scoring, attribution, evidence and operations (graph/scoring/, graph/pipeline/explain.py and
operations.py) look at the links of the accounts they score, the degree of each entity those links
reach, and the organisations' indicators. The accounts they score are the ring members and every
account whose own links could attribute it (graph/scoring/accounts.py ``with_own_evidence``). This module
selects those accounts on Spark and collects every link of every entity they use (so each degree is
the store's), with the known members, the organisations and the counts that scoring weighs evidence
against (accounts, accounts per email domain, users of each organisation's network, as a whole read
counts them: :class:`~graph.scoring.indicators.Population`), as the
:class:`~graph.store.observation_reads.Observations` that graph/store/observation_reads.py would read
back: the same arrays in the same order (accounts by id, entities by kind then key), only fewer.
On a cluster this is what the driver must hold: rings and the accounts with own evidence are a small
share of all accounts, though an entity shared by many (a carrier NAT) brings all its links.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from graph.links import Incidence
from graph.scoring import OrgIndicators, domains_named_after
from graph.scoring.indicators import Population
from graph.store.observation_reads import Observations
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from graph.spark.bundle import Bundle

__all__ = ["account_emails", "ring_neighbourhood"]

_MAX_COUNT: Final = 2**31 - 1  # as graph/store/observation_reads.py caps a link's count


def ring_neighbourhood(bundle: Bundle, read: DataFrame, members: list[str], senders: DataFrame | None) -> Observations:
    """The observations scoring needs for rings of `members` (every ring member), from `read` (the
    links detection reads, graph/spark/projection.py `read_links`); `senders` (``account_id``) are the
    accounts co-action reads, which the store's read holds besides."""
    from pyspark.sql import functions as F  # noqa: N812

    spark = read.sparkSession
    known_accounts = sorted({account for account, _ in bundle.known})
    known = spark.createDataFrame([(a,) for a in known_accounts], "account_id string")
    # The accounts the store's read holds: those of the links it reads, the known members, the senders.
    in_run = read.select("account_id").union(known)
    in_run = (in_run if senders is None else in_run.union(senders)).distinct()
    with_domain = (in_run.join(bundle.accounts, "account_id")
                   .where(F.col("email_domain").isNotNull() & (F.col("email_domain") != "")))
    domains = sorted(str(r[0]) for r in with_domain.select("email_domain").distinct().collect())
    domain_org = domains_named_after(bundle.organizations, domains)
    # Who scoring attributes besides ring members (graph/scoring/accounts.py with_own_evidence): known
    # members, the other users of their entities, users of the IPs of an organisation with known
    # members, and accounts on a domain named after an organisation or used by a known member.
    acting = sorted({organization for _, organization in bundle.known})
    known_domains = with_domain.join(known, "account_id").select("email_domain")
    seed_domains = sorted(set(domain_org) | {str(r[0]) for r in known_domains.distinct().collect()})
    beside_known = read.join(read.join(known, "account_id").select("kind", "value").distinct(), ["kind", "value"])
    scored = (spark.createDataFrame([(a,) for a in sorted(set(members))], "account_id string")
              .union(known)
              .union(beside_known.select("account_id"))
              .union(read.where((F.col("kind") == KIND_ORDER.index("ip")) & F.col("org").isin(*acting)
                                if acting else F.lit(False)).select("account_id"))
              .union(with_domain.where(F.col("email_domain").isin(*seed_domains) if seed_domains else F.lit(False))
                     .select("account_id"))
              .distinct())
    entities = read.join(scored, "account_id").select("kind", "value").distinct()
    links: pd.DataFrame = (read.join(entities, ["kind", "value"])
             .select("account_id", "kind", "value", "network", "org", "first_seen", "last_seen", "count")
             .toPandas())
    # A member of a ring found by co-action alone may read no link.
    account_ids = sorted(set(links["account_id"].tolist()) | set(known_accounts) | set(members))
    facts: pd.DataFrame = (bundle.accounts.join(spark.createDataFrame([(a,) for a in account_ids], "account_id string"),
                                  "account_id").toPandas())
    created = {a: float(c) for a, c in zip(facts["account_id"], facts["created_at"], strict=True)}
    domain = {a: d for a, d in zip(facts["account_id"], facts["email_domain"], strict=True) if isinstance(d, str)}
    population = _population(bundle, in_run, read, set(domain.values()) - {""})
    return _observations(links, account_ids, created, domain, bundle, domain_org, population)


def _population(bundle: Bundle, in_run: DataFrame, read: DataFrame, domains: set[str]) -> Population:
    """What graph/store/observation_reads.py's whole read counts: its accounts (`in_run`), those of
    each of `domains`, and each organisation's network users over the IPs it holds."""
    from pyspark.sql import functions as F  # noqa: N812

    on_domains = (in_run.join(bundle.accounts, "account_id").where(F.col("email_domain").isin(*sorted(domains)))
                  if domains else None)
    per_domain = ({str(r[0]): int(r[1]) for r in on_domains.groupBy("email_domain").count().collect()}
                  if on_domains is not None else {})
    on_networks = read.where((F.col("kind") == KIND_ORDER.index("ip")) & F.col("org").isNotNull())
    users = {str(r[0]): int(r[1]) for r in on_networks.groupBy("org").agg(F.countDistinct("account_id")).collect()}
    return Population(accounts=int(in_run.count()), domain_accounts=per_domain, network_users=users)


def _observations(links: pd.DataFrame, account_ids: list[str], created: dict[str, float], domain: dict[str, str],
                  bundle: Bundle, domain_org: dict[str, int], population: Population) -> Observations:
    """The arrays of graph/store/observation_reads.py `read_observations`, from collected rows."""
    ids = np.array(account_ids, dtype=np.str_)
    network_code = {name: code for code, name in enumerate(NETWORK_CLASSES)}
    org_index = {name: i for i, name in enumerate(bundle.organizations)}
    kind = links["kind"].to_numpy(np.int8)
    value = links["value"].to_numpy().astype(np.str_)
    # Entities in (kind, key) order, as the store's read orders them.
    keys, first_of, entity = np.unique(np.char.add(np.char.zfill(kind.astype(np.str_), 2),
                                                   np.char.add("\x00", value)), return_index=True,
                                       return_inverse=True)
    del keys
    networks = links["network"].tolist()
    orgs = links["org"].tolist()
    incidence = Incidence(
        account_ids=ids,
        entity_keys=value[first_of],
        entity_kind=kind[first_of],
        entity_network=np.array([network_code.get(networks[i] or "unknown", network_code["unknown"])
                                 for i in first_of.tolist()], np.int8),
        link_account=np.searchsorted(ids, links["account_id"].to_numpy().astype(np.str_)).astype(np.int32),
        link_entity=entity.astype(np.int32),
        link_first_seen=links["first_seen"].to_numpy(dtype=np.float64, na_value=np.nan),
        link_last_seen=links["last_seen"].to_numpy(dtype=np.float64, na_value=np.nan),
        link_count=np.minimum(links["count"].to_numpy(np.int64), _MAX_COUNT).astype(np.int32),
    )
    position = {a: i for i, a in enumerate(account_ids)}
    org_indicators = OrgIndicators(
        organizations=bundle.organizations,
        known_account=np.array([position[a] for a, _ in bundle.known], dtype=np.int32),
        known_org=np.array([org_index[o] for _, o in bundle.known], dtype=np.int32),
        entity_org=np.array([org_index.get(orgs[i], -1) if orgs[i] else -1 for i in first_of.tolist()], np.int32),
        account_email_domain=np.array([domain.get(a, "") for a in account_ids], dtype=np.str_),
        domain_org=domain_org,
        own_hosting=frozenset(org_index[o] for o in bundle.own_hosting if o in org_index),
        population=population,
    )
    # NaN where unknown: pandas gives a null epoch as NaN already.
    account_created = np.array([created.get(a, np.nan) for a in account_ids], dtype=np.float64)
    return Observations(incidence=incidence, account_created=account_created, org_indicators=org_indicators)


def account_emails(bundle: Bundle, account_ids: set[str]) -> dict[str, list[str]]:
    """account_id -> its email addresses, sorted (graph/store/observation_reads.py `read_account_emails`)."""
    from pyspark.sql import functions as F  # noqa: N812

    if not account_ids:
        return {}
    spark = bundle.links.sparkSession
    wanted = spark.createDataFrame([(a,) for a in sorted(account_ids)], "account_id string")
    rows = (bundle.links.where(F.col("kind") == KIND_ORDER.index("email")).join(wanted, "account_id")
            .groupBy("account_id").agg(F.array_sort(F.collect_list("value")).alias("emails")).collect())
    return {str(r["account_id"]): list(r["emails"]) for r in rows}
