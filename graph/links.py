"""Account x entity links: the incidence a run reads, and the one index over it that every stage shares.

:class:`Incidence` is what the reader hands over: one row per observed link, as parallel arrays.
:func:`index_links` merges duplicate (account, entity) rows (earliest known first_seen wins) and
indexes the unique links both ways (account -> entities, entity -> accounts). A run builds it once;
projection, scoring and evidence paths all read the same :class:`LinkIndex`. :func:`set_links` and
:func:`shared_links` give :func:`ring_links` for many rings (or accounts) at once, as flat arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

__all__ = [
    "GROUPS",
    "Incidence",
    "LinkIndex",
    "RingLinks",
    "SetLinks",
    "SharedLinks",
    "index_links",
    "owned_links",
    "ring_links",
    "set_links",
    "shared_links",
]

#: Evidence groups of shared entities; IPs split by what their network class lets them prove.
GROUPS: tuple[str, ...] = ("payment", "device", "phone", "email", "ip", "common_ip")
_COMMON_NETWORKS = ("mobile", "vpn", "tor")

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Incidence:
    """Account x entity links as parallel arrays, one row per link."""

    account_ids: npt.NDArray[np.str_]  # index -> account_id, sorted ascending (deterministic order)
    entity_keys: npt.NDArray[np.str_]  # index -> entity node key (address/fingerprint/number)
    entity_kind: npt.NDArray[np.int8]  # index into KIND_ORDER
    entity_network: npt.NDArray[np.int8]  # index into NETWORK_CLASSES; non-IP entities: "unknown"
    link_account: npt.NDArray[np.int32]
    link_entity: npt.NDArray[np.int32]
    link_first_seen: npt.NDArray[np.float64]  # epoch seconds, NaN if unknown
    link_last_seen: npt.NDArray[np.float64]
    link_count: npt.NDArray[np.int32]

    def check(self) -> None:
        """Raise ValueError unless the arrays line up and every index is in range."""
        n_links = self.link_account.shape[0]
        for name in ("link_entity", "link_first_seen", "link_last_seen", "link_count"):
            if getattr(self, name).shape[0] != n_links:
                raise ValueError(f"Incidence.{name} has {getattr(self, name).shape[0]} rows, expected {n_links}")
        n_ent = self.entity_keys.shape[0]
        if self.entity_kind.shape[0] != n_ent or self.entity_network.shape[0] != n_ent:
            raise ValueError("Incidence entity arrays differ in length")
        if n_links and (
            self.link_account.min() < 0
            or self.link_account.max() >= self.account_ids.shape[0]
            or self.link_entity.min() < 0
            or self.link_entity.max() >= n_ent
        ):
            raise ValueError("Incidence link index out of range")


@dataclass(frozen=True)
class LinkIndex:
    """Unique (account, entity) links sorted by account, plus the entity-major view."""

    incidence: Incidence
    n_accounts: int
    n_entities: int
    acc: Ints
    ent: Ints
    first: npt.NDArray[np.float64]  # earliest known first_seen of the link's rows
    row: Ints  # the link's first row in the incidence (its last_seen and count)
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

    def find(self, account: int, entity: int) -> int:
        """Position of the (account, entity) link, -1 when the account never used the entity."""
        start, end = int(self.acc_ptr[account]), int(self.acc_ptr[account + 1])
        at = start + int(np.searchsorted(self.ent[start:end], entity))
        return at if at < end and int(self.ent[at]) == entity else -1


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


def index_links(inc: Incidence) -> LinkIndex:
    """Index `inc`; duplicate rows merge with the earliest known first_seen."""
    inc.check()
    n_acc = int(inc.account_ids.shape[0])
    n_ent = int(inc.entity_keys.shape[0])
    key = inc.link_account.astype(np.int64) * max(n_ent, 1) + inc.link_entity.astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    if ks.shape[0]:
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        first = np.fmin.reduceat(inc.link_first_seen.astype(np.float64)[order], starts)
        uk = ks[starts]
        row = order[starts].astype(np.int64)
    else:
        first = np.zeros(0, np.float64)
        uk = ks
        row = np.zeros(0, np.int64)
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
    return LinkIndex(inc, n_acc, n_ent, acc, ent, first, row, acc_ptr, by_entity, ent_ptr, degree, group)


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


@dataclass(frozen=True)
class SetLinks:
    """The links of many sets of accounts at once (rings, or single accounts), flat and set-major.

    :func:`ring_links` for every set in one pass: the members of set s are
    ``members[set_ptr[s]:set_ptr[s + 1]]`` (unique, ascending), and each link of a member is one row,
    in member order, then entity order, as :meth:`LinkIndex.links_of` gives them.
    """

    set_ptr: Ints
    members: Ints
    member_set: Ints  # per member row: its set
    link_set: Ints  # per link row: its set
    link_member: Ints  # per link row: its member row
    link_pos: Ints  # per link row: its position in the LinkIndex

    @property
    def n_sets(self) -> int:
        return int(self.set_ptr.shape[0]) - 1

    @property
    def sizes(self) -> Ints:
        out: Ints = np.diff(self.set_ptr)
        return out


@dataclass(frozen=True)
class SharedLinks:
    """Per set of a :class:`SetLinks`: the entities two or more of its members share (as :class:`RingLinks`).

    Shared entities are set-major and ascending within a set; ``link_shared`` maps each link row of
    the SetLinks to its shared entity row, -1 when no other member of its set uses that entity.
    """

    set_ptr: Ints  # shared entities of set s: [set_ptr[s], set_ptr[s + 1])
    shared_set: Ints
    entities: Ints
    inside: Ints
    exclusivity: npt.NDArray[np.float64]
    link_shared: Ints


def set_links(index: LinkIndex, sets: Sequence[npt.NDArray[np.integer]] | Sequence[Sequence[int]]) -> SetLinks:
    """Every link of every set's members; duplicates within a set count once (as in :func:`ring_links`)."""
    sizes = np.array(list(map(len, sets)), np.int64)
    flat = np.concatenate(sets).astype(np.int64).ravel() if sizes.sum() else np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
    return owned_links(index, owner, flat, len(sets))


def owned_links(index: LinkIndex, owner: Ints, accounts: Ints, n_sets: int) -> SetLinks:
    """:func:`set_links` of the sets ``{accounts[i] : owner[i] == s}`` for s < `n_sets` (one pass)."""
    accounts = np.asarray(accounts, np.int64)
    if accounts.shape[0] and (int(accounts.min()) < 0 or int(accounts.max()) >= index.n_accounts):
        raise ValueError("account index out of range")
    width = max(index.n_accounts, 1)
    key = np.sort(np.asarray(owner, np.int64) * width + accounts)
    key = key[np.r_[True, key[1:] != key[:-1]]] if key.shape[0] else key  # np.unique, by sorting (faster)
    owner = key // width
    members = key % width
    set_ptr = np.r_[0, np.cumsum(np.bincount(owner, minlength=n_sets))].astype(np.int64)
    pos = index.links_of(members)
    per_member = index.acc_ptr[members + 1] - index.acc_ptr[members]
    link_member = np.repeat(np.arange(members.shape[0], dtype=np.int64), per_member)
    return SetLinks(set_ptr, members, owner, owner[link_member], link_member, pos)


def shared_links(index: LinkIndex, links: SetLinks) -> SharedLinks:
    """The entities shared within each set of `links`, with their exclusivity ``(inside - 1) / (degree - 1)``."""
    ents = index.ent[links.link_pos]
    key = links.link_set * max(index.n_entities, 1) + ents
    order = np.argsort(key, kind="stable")
    ks = key[order]
    new = np.r_[True, ks[1:] != ks[:-1]] if ks.shape[0] else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    counts = np.diff(np.r_[starts, ks.shape[0]]).astype(np.int64)
    shared = counts >= 2
    run = np.cumsum(new) - 1  # per sorted link: its (set, entity) run
    row_of_run = np.where(shared, np.cumsum(shared) - 1, -1)
    link_shared = np.empty(ks.shape[0], np.int64)
    link_shared[order] = row_of_run[run]
    uk = ks[starts[shared]]
    shared_set = uk // max(index.n_entities, 1)
    entities = uk % max(index.n_entities, 1)
    inside = counts[shared]
    degree = index.degree[entities].astype(np.float64)
    excl = (inside - 1.0) / np.maximum(degree - 1.0, 1.0)
    set_ptr = np.r_[0, np.cumsum(np.bincount(shared_set, minlength=links.n_sets))].astype(np.int64)
    return SharedLinks(set_ptr, shared_set, entities, inside, excl, link_shared)
