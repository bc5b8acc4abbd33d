"""Links of an Incidence indexed both ways (account -> entities, entity -> accounts), duplicates merged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.model import NETWORK_CLASSES
from graph.projection import KIND_ORDER, Incidence

__all__ = ["GROUPS", "LinkIndex", "RingLinks", "build_index", "ring_links"]

#: Evidence groups of shared entities; IPs split by what their network class lets them prove.
GROUPS: tuple[str, ...] = ("payment", "device", "phone", "email", "ip", "common_ip")
_COMMON_NETWORKS = ("mobile", "vpn", "tor")

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LinkIndex:
    """Unique (account, entity) links sorted by account, plus the entity-major view."""

    n_accounts: int
    n_entities: int
    acc: Ints
    ent: Ints
    first: npt.NDArray[np.float64]
    acc_ptr: Ints  # links of account a: [acc_ptr[a], acc_ptr[a + 1])
    by_entity: Ints  # link positions sorted by entity
    ent_ptr: Ints
    degree: Ints  # distinct accounts per entity
    group: Ints  # index into GROUPS per entity

    def links_of(self, accounts: Ints) -> Ints:
        """Positions of every link of `accounts`."""
        if accounts.shape[0] == 0:
            return np.zeros(0, np.int64)
        starts = self.acc_ptr[accounts]
        lengths = self.acc_ptr[accounts + 1] - starts
        offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        out: Ints = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
        return out

    def accounts_of(self, entity: int) -> Ints:
        """Accounts linked to `entity`, ascending."""
        return np.asarray(self.acc[self.by_entity[self.ent_ptr[entity] : self.ent_ptr[entity + 1]]], np.int64)


@dataclass(frozen=True)
class RingLinks:
    """The links of a set of accounts, reduced to the entities two or more of them share."""

    members: Ints
    link_acc: Ints  # account index per link to a shared entity
    link_ent: Ints
    link_first: npt.NDArray[np.float64]
    entities: Ints  # shared entities, ascending
    inside: Ints  # members linked to each shared entity
    exclusivity: npt.NDArray[np.float64]  # (inside - 1) / (degree - 1): 1 = nobody else uses it


def build_index(inc: Incidence) -> LinkIndex:
    """Index `inc`; duplicate rows merge with the earliest known first_seen."""
    n_acc = int(inc.account_ids.shape[0])
    n_ent = int(inc.entity_keys.shape[0])
    key = inc.link_account.astype(np.int64) * max(n_ent, 1) + inc.link_entity.astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    if ks.shape[0]:
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        first = np.fmin.reduceat(inc.link_first_seen.astype(np.float64)[order], starts)
        uk = ks[starts]
    else:
        first = np.zeros(0, np.float64)
        uk = ks
    acc = uk // max(n_ent, 1)
    ent = uk % max(n_ent, 1)
    acc_ptr = np.r_[0, np.cumsum(np.bincount(acc, minlength=n_acc))].astype(np.int64)
    by_entity = np.argsort(ent, kind="stable").astype(np.int64)
    degree = np.bincount(ent, minlength=n_ent).astype(np.int64)
    ent_ptr = np.r_[0, np.cumsum(degree)].astype(np.int64)
    kinds = np.array([GROUPS.index(k) for k in KIND_ORDER], np.int64)
    group = kinds[inc.entity_kind.astype(np.int64)]
    common = np.isin(inc.entity_network.astype(np.int64), [NETWORK_CLASSES.index(n) for n in _COMMON_NETWORKS])
    group[(group == GROUPS.index("ip")) & common] = GROUPS.index("common_ip")
    return LinkIndex(n_acc, n_ent, acc, ent, first, acc_ptr, by_entity, ent_ptr, degree, group)


def ring_links(index: LinkIndex, members: Ints) -> RingLinks:
    """The entities two or more of `members` share, with how exclusively they share them."""
    members = np.unique(np.asarray(members, np.int64))
    pos = index.links_of(members)
    ents = index.ent[pos]
    uniq, inside = np.unique(ents, return_counts=True)
    shared = uniq[inside >= 2]
    inside = inside[inside >= 2].astype(np.int64)
    keep = np.isin(ents, shared)
    degree = index.degree[shared].astype(np.float64)
    excl = (inside - 1.0) / np.maximum(degree - 1.0, 1.0)
    return RingLinks(
        members=members,
        link_acc=index.acc[pos[keep]],
        link_ent=ents[keep],
        link_first=index.first[pos[keep]],
        entities=shared,
        inside=inside,
        exclusivity=excl,
    )
