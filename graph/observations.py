"""Reading the account–entity observations out of Neo4j into the arrays projection works on.

One streamed query per relationship type (the type and label come from the model's allow-list), with
a large fetch size; values are appended to flat Python lists and turned into numpy arrays once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

import neo4j
from graph.model import ENTITY_KINDS, NETWORK_CLASSES
from graph.projection import KIND_ORDER, Incidence

__all__ = ["Observations", "read_observations"]

_FETCH_SIZE: Final = 20000
_LINKS: Final = """
MATCH (a:Account)-[r:{relationship}]->(e:{label})
RETURN a.account_id, e.{key}, {network},
       r.first_seen.epochSeconds, r.last_seen.epochSeconds, r.count
"""
_ACCOUNTS: Final = "MATCH (a:Account) RETURN a.account_id, a.created_at.epochSeconds"


@dataclass(frozen=True)
class Observations:
    """The incidence plus per-account facts that scoring needs."""

    incidence: Incidence
    account_created: npt.NDArray[np.float64]  # epoch seconds per account index, NaN if unknown

    @property
    def n_links(self) -> int:
        return int(self.incidence.link_account.shape[0])


def read_observations(driver: neo4j.Driver, database: str) -> Observations:
    """Every account and every account→entity link in the database."""
    created_by_account: dict[str, float] = {}
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=_FETCH_SIZE) as s:
        for account_id, created in s.run(_ACCOUNTS):
            created_by_account[account_id] = float("nan") if created is None else float(created)

        link_accounts: list[str] = []
        link_entities: list[int] = []
        first: list[float] = []
        last: list[float] = []
        counts: list[int] = []
        entity_index: dict[tuple[int, str], int] = {}
        entity_kind: list[int] = []
        entity_network: list[int] = []
        entity_keys: list[str] = []
        network_code = {name: code for code, name in enumerate(NETWORK_CLASSES)}
        unknown = network_code["unknown"]
        nan = float("nan")
        for kind_code, kind_name in enumerate(KIND_ORDER):
            kind = ENTITY_KINDS[kind_name]
            network = "e.network" if kind_name == "ip" else "null"
            query = _LINKS.format(relationship=kind.relationship, label=kind.label, key=kind.key, network=network)
            for account_id, key, net, first_seen, last_seen, count in s.run(query):
                slot = (kind_code, key)
                index = entity_index.get(slot)
                if index is None:
                    index = entity_index[slot] = len(entity_keys)
                    entity_keys.append(key)
                    entity_kind.append(kind_code)
                    entity_network.append(network_code.get(net, unknown) if net is not None else unknown)
                link_accounts.append(account_id)
                link_entities.append(index)
                first.append(nan if first_seen is None else first_seen)
                last.append(nan if last_seen is None else last_seen)
                counts.append(1 if count is None else count)

    for account_id in link_accounts:
        created_by_account.setdefault(account_id, nan)
    account_ids = np.array(sorted(created_by_account), dtype=np.str_)
    position = {account_id: i for i, account_id in enumerate(account_ids.tolist())}
    incidence = Incidence(
        account_ids=account_ids,
        entity_keys=np.array(entity_keys, dtype=np.str_),
        entity_kind=np.array(entity_kind, dtype=np.int8),
        entity_network=np.array(entity_network, dtype=np.int8),
        link_account=np.fromiter((position[a] for a in link_accounts), dtype=np.int32, count=len(link_accounts)),
        link_entity=np.array(link_entities, dtype=np.int32),
        link_first_seen=np.array(first, dtype=np.float64),
        link_last_seen=np.array(last, dtype=np.float64),
        link_count=np.array(counts, dtype=np.int32),
    )
    created = np.array([created_by_account[a] for a in account_ids.tolist()], dtype=np.float64)
    return Observations(incidence=incidence, account_created=created)
