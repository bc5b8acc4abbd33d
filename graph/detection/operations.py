"""Operations: the campaigns (rings) of one operator, grouped by what ties them (DESIGN.md §3 step 3).

A ring is one campaign (:func:`~graph.detection.rings.split_campaigns` keeps campaigns months apart
apart). Campaigns of one operator are grouped, not merged, by the rules an investigator states:

asset
    A device, card, phone or mailbox used by members of both rings, or an address on a hosting or
    corporate network (the operator's own or rented servers), provided the asset is the operation's:
    at least :data:`EXCLUSIVE_SHARE` of everyone who used it is in the rings it ties, and it ties no
    more than :data:`MAX_RINGS_PER_ASSET` rings. A residential, mobile, VPN or Tor address never
    ties: a proxy network's exits carry many operators' traffic and real households' too.
known_member
    Both rings hold accounts an earlier case attributed to the same organisation (``KNOWN_MEMBER_OF``).
org_network
    Both rings have members on addresses of an organisation that acts there (its corporate network,
    a hosting block reassigned to it, or any range of an organisation with known members), as
    attribution counts them.

One tie is enough, as it is for an investigator: a card reused in June that paid in March is the
same hand. Operations are the connected components of the ties, taken strongest first, except that
no tie may join two organisations' known members in one operation; a ring between two such
campaigns is *contested* and inherits no attribution. A ring tied to nothing is an operation of one
campaign. Every tie keeps a member of each ring that carries it, so its evidence
is a real path between the two campaigns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.detection.rings import ring_labels
from graph.links import LinkIndex
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

__all__ = [
    "EXCLUSIVE_SHARE",
    "MAX_RINGS_PER_ASSET",
    "SERVER_SHARE",
    "TIES_PER_PAIR",
    "Operations",
    "Tie",
    "group_operations",
]

#: Share of an asset's users that must sit in the rings it ties for it to be the operation's own: a
#: device, card, phone or mailbox, and (SERVER_SHARE) a server address.
EXCLUSIVE_SHARE: Final = 0.5
SERVER_SHARE: Final = 0.95
#: An asset in more rings than this is shared infrastructure (a hosting exit, a reseller's card).
MAX_RINGS_PER_ASSET: Final = 6
#: Ties kept per pair of rings (the strongest): evidence enough, not every shared proxy address.
TIES_PER_PAIR: Final = 3
_TYING_NETWORKS: Final = frozenset({"hosting", "corporate"})
_IP: Final = KIND_ORDER.index("ip")
# Ties are taken strongest first, so a refused join never hides a stronger tie behind a weaker one.
_STRENGTH: Final = {"payment": 0, "device": 1, "phone": 2, "email": 3, "known_member": 4, "ip": 5, "org_network": 6}


@dataclass(frozen=True)
class Tie:
    """Why two rings are one operator's: ``kind`` (an entity kind, ``known_member`` or ``org_network``),
    the two rings (indices, ``rings[0] < rings[1]``), a member of each that carries the tie, and the
    entity (asset: the shared one; org_network: the first ring's address, ``other_entity`` the
    second's) or organisation (index into the run's organisations) behind it."""

    kind: str
    rings: tuple[int, int]
    accounts: tuple[int, int]
    entity: int = -1
    other_entity: int = -1
    organization: int = -1
    users: int = 0  # asset ties: the asset's users, and how many of them are in the run's rings
    in_rings: int = 0


@dataclass(frozen=True)
class Operations:
    """Per ring its operation (0 .. n-1, numbered by each operation's first ring), and the ties.

    `contested` holds the rings tied to two organisations' campaigns at once (a tie towards one of
    them was refused): they are grouped by their strongest tie, but no organisation is inherited by them.
    """

    of_ring: npt.NDArray[np.int64]
    ties: tuple[Tie, ...]
    contested: frozenset[int] = frozenset()

    @property
    def n_operations(self) -> int:
        return int(self.of_ring.max()) + 1 if self.of_ring.shape[0] else 0

    def by_operation(self) -> list[list[int]]:
        """Per operation, its rings (ascending); one pass, for callers that visit every operation."""
        out: list[list[int]] = [[] for _ in range(self.n_operations)]
        for ring, operation in enumerate(self.of_ring.tolist()):
            out[operation].append(ring)
        return out

    def ties_by_ring(self) -> list[list[Tie]]:
        """Per ring, the ties that touch it, in the order of :attr:`ties`."""
        out: list[list[Tie]] = [[] for _ in range(self.of_ring.shape[0])]
        for tie in self.ties:
            out[tie.rings[0]].append(tie)
            out[tie.rings[1]].append(tie)
        return out


def group_operations(
    links: LinkIndex,
    rings: Sequence[npt.NDArray[np.int32]],
    known_account: npt.NDArray[np.int32],
    known_org: npt.NDArray[np.int32],
    acting_org: npt.NDArray[np.int64],
) -> Operations:
    """The operations of `rings` (see the module docstring).

    `known_account` / `known_org` are the ``KNOWN_MEMBER_OF`` edges; `acting_org` gives per entity
    the organisation acting on it (-1: none), as attribution's organisation index has it.
    """
    n_rings = len(rings)
    if n_rings == 0:
        return Operations(np.zeros(0, np.int64), ())
    ring_of = ring_labels(list(rings), links.n_accounts)
    known_acc, known_by = known_account.astype(np.int64), known_org.astype(np.int64)
    named = _named_orgs(ring_of, known_acc, known_by, n_rings)
    # A ring holding known members of several organisations says nothing about which one runs it.
    one_org = np.array([len(o) == 1 for o in named])
    in_one = one_org[np.maximum(ring_of[known_acc], 0)] & (ring_of[known_acc] >= 0)
    candidates = _asset_ties(links, ring_of)
    candidates += _org_ties("known_member", ring_of, known_acc[in_one], known_by[in_one], None)
    on_org = acting_org[links.ent] >= 0
    own = _own_networks(acting_org, links, ring_of)
    on_org &= own[np.maximum(acting_org[links.ent], 0)]
    candidates += _org_ties("org_network", ring_of, links.acc[on_org], acting_org[links.ent[on_org]],
                            links.ent[on_org])
    candidates.sort(key=lambda t: (_STRENGTH[t.kind], t.rings, t.entity, t.organization, t.accounts))
    # Union-find over rings; a tie that would put two organisations' known members in one operation
    # is refused: two named actors' campaigns are not one operation, whatever hub sits between them.
    parent = list(range(n_rings))
    orgs = [set(o) for o in named]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ties = []
    refused = []
    per_pair: dict[tuple[int, int], int] = {}
    for tie in candidates:
        if per_pair.get(tie.rings, 0) >= TIES_PER_PAIR:
            continue
        a, b = root(tie.rings[0]), root(tie.rings[1])
        if a != b:
            if len(orgs[a] | orgs[b]) > 1:
                refused.append(tie)
                continue
            low, high = min(a, b), max(a, b)
            parent[high] = low
            orgs[low] |= orgs[high]
        ties.append(tie)
        per_pair[tie.rings] = per_pair.get(tie.rings, 0) + 1
    # A refused tie's rings that name no organisation themselves sit between two organisations' campaigns.
    contested = frozenset(r for tie in refused for r in tie.rings if not named[r])
    component = np.array([root(i) for i in range(n_rings)], np.int64)
    # Numbered by first ring so the order follows the rings' own (largest first).
    _, first, inverse = np.unique(component, return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    ties.sort(key=lambda t: (t.rings, _STRENGTH[t.kind], t.entity, t.organization, t.accounts))
    return Operations(rank[inverse.ravel()].astype(np.int64), tuple(ties), contested)


def _named_orgs(
    ring_of: npt.NDArray[np.int64], known_account: npt.NDArray[np.int64], known_org: npt.NDArray[np.int64],
    n_rings: int,
) -> list[set[int]]:
    """Per ring: the organisations its known members are attributed to."""
    named: list[set[int]] = [set() for _ in range(n_rings)]
    for ring, org in zip(ring_of[known_account].tolist(), known_org.tolist(), strict=True):
        if ring >= 0:
            named[ring].add(org)
    return named


def _own_networks(acting_org: npt.NDArray[np.int64], links: LinkIndex, ring_of: npt.NDArray[np.int64]) -> (
    npt.NDArray[np.bool_]
):
    """Per organisation: whether most accounts on its networks are in rings (the operation's own range,
    not an employer's network that its staff and a ring or two happen to share)."""
    n_org = max(int(acting_org.max()) + 1 if acting_org.shape[0] else 0, 1)  # one spare: -1 lookups stay in range
    org = acting_org[links.ent]
    on = org >= 0
    pairs = np.unique(org[on] * links.n_accounts + links.acc[on])
    user_org, user = pairs // max(links.n_accounts, 1), pairs % max(links.n_accounts, 1)
    users = np.bincount(user_org, minlength=n_org)
    inside = np.bincount(user_org[ring_of[user] >= 0], minlength=n_org)
    return np.asarray(inside >= EXCLUSIVE_SHARE * np.maximum(users, 1), np.bool_)


def _asset_ties(links: LinkIndex, ring_of: npt.NDArray[np.int64]) -> list[Tie]:
    inc = links.incidence
    ring = ring_of[links.acc]
    placed = ring >= 0
    ent, ring, acc = links.ent[placed], ring[placed], links.acc[placed]
    if ent.shape[0] == 0:
        return []
    order = np.lexsort((acc, ring, ent))
    ent, ring, acc = ent[order], ring[order], acc[order]
    # One row per (entity, ring): its first (smallest) member and how many members used it.
    first = np.flatnonzero(np.r_[True, (ent[1:] != ent[:-1]) | (ring[1:] != ring[:-1])])
    users = np.diff(np.r_[first, ent.shape[0]])
    pe, pr, pa = ent[first], ring[first], acc[first]
    rings_per_entity = np.bincount(pe, minlength=links.n_entities)
    inside = np.bincount(pe, weights=users, minlength=links.n_entities)
    tying_network = np.isin(inc.entity_network.astype(np.int64),
                            [NETWORK_CLASSES.index(n) for n in _TYING_NETWORKS])
    is_ip = inc.entity_kind.astype(np.int64) == _IP
    share = np.where(is_ip, SERVER_SHARE, EXCLUSIVE_SHARE)
    eligible = (
        (rings_per_entity >= 2)
        & (rings_per_entity <= MAX_RINGS_PER_ASSET)
        & (inside >= share * links.degree)
        & (~is_ip | tying_network)
    )
    keep = eligible[pe]
    pe, pr, pa = pe[keep], pr[keep], pa[keep]
    if pe.shape[0] == 0:
        return []
    ties = []
    # Every pair of the asset's rings (at most MAX_RINGS_PER_ASSET of them): a chain would group them
    # too, but a ring between two organisations' campaigns must be seen to be tied to both.
    bounds = np.flatnonzero(np.r_[True, pe[1:] != pe[:-1], True])
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        entity = int(pe[start])
        kind = KIND_ORDER[int(inc.entity_kind[entity])]
        figures = {"users": int(links.degree[entity]), "in_rings": int(inside[entity])}
        for i in range(start, end):
            for j in range(i + 1, end):
                ties.append(Tie(kind, (int(pr[i]), int(pr[j])), (int(pa[i]), int(pa[j])), entity=entity, **figures))
    return ties


def _org_ties(
    kind: str,
    ring_of: npt.NDArray[np.int64],
    accounts: npt.NDArray[np.int64],
    orgs: npt.NDArray[np.int64],
    entities: npt.NDArray[np.int64] | None,
) -> list[Tie]:
    """Ties between consecutive rings whose members point to the same organisation (one organisation's
    rings can never conflict with each other, so a chain is enough)."""
    ring = ring_of[accounts] if accounts.shape[0] else np.zeros(0, np.int64)
    placed = ring >= 0
    if not placed.any():
        return []
    entity = entities[placed] if entities is not None else np.full(int(placed.sum()), -1, np.int64)
    org, ring, acc = orgs[placed], ring[placed], accounts[placed]
    order = np.lexsort((entity, acc, ring, org))
    org, ring, acc, entity = org[order], ring[order], acc[order], entity[order]
    first = np.flatnonzero(np.r_[True, (org[1:] != org[:-1]) | (ring[1:] != ring[:-1])])
    po, pr, pa, pe = org[first], ring[first], acc[first], entity[first]
    return [
        Tie(kind, (int(pr[i]), int(pr[i + 1])), (int(pa[i]), int(pa[i + 1])),
            entity=int(pe[i]), other_entity=int(pe[i + 1]), organization=int(po[i]))
        for i in np.flatnonzero(po[1:] == po[:-1]).tolist()
    ]
