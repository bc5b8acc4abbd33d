"""Coordination score per ring: P(the members are operated together | the evidence).

The score is a logistic model (:mod:`graph.scoring.model`) over features a fraud investigator reads
off a ring, each feature's ``β x`` being one log-likelihood ratio as in splink's match weights:

``shared_<g>``, ``cover_<g>`` for each group g of entities (payment, device, phone, email, IP on
residential/hosting/corporate/unknown networks, IP on mobile/VPN/Tor networks)
    An entity two or more members share counts by its *exclusivity* ``(inside - 1) / (degree - 1)``:
    1 when nobody outside the ring uses it, ~0 for a carrier NAT shared with thousands (a
    term-frequency adjustment, as splink's). ``shared_g = log(1 + Σ exclusivity)`` grows with the
    number of distinct shared entities with diminishing returns, and ``cover_g`` is the mean over
    members of the most exclusive shared entity they use (not for mobile/VPN/Tor IPs, whose
    exclusivity is ~0 almost always: a coverage of it would only fit noise). Twenty accounts on one IP are one entity:
    ``shared`` and ``cover`` are the same as for three accounts on it, so they count once.
``ring_size``
    ``log(n / 3)``.
``density``
    Share of member pairs that share an entity of exclusivity >= 0.1 outside the common-IP group.
``signup_burst``
    ``max(0, log10(30 days / spread))``, spread = 10th-90th percentile range of sign-up times.
``link_burst``
    Share of members' links to shared entities first seen within 6 hours of another member's link to
    the same entity (automation touches an asset in one sitting; families and colleagues do not).

Payment and device sharing weigh more than IP sharing because the fitted ``β`` say so (the defaults
are fitted on generated populations), and every sharing coefficient is constrained to be >= 0.

Every ring is scored at once, from the flat ring x entity incidence of :func:`graph.links.set_links`
and :func:`graph.links.shared_links`: sums per (ring, group) and means per ring are segment
reductions (:func:`~graph.scoring.segments.segment_sum`, NumPy's own pairwise order, so the
features are those a per-ring loop gives, bit for bit), the covers a scatter-max per (group, member),
the density one sparse product ``B·Bᵀ`` of the block-diagonal member x (ring, strong entity) matrix
(its off-diagonal non-zeros per ring are the sharing pairs), the sign-up spread ``np.percentile``
over the rings of each size at once, and the link burst one sort of all links by (shared entity,
first seen). Transcendental functions go through :mod:`math` (NumPy's SIMD ``log``/``exp`` differ
from libm in the last bit). :mod:`.coordination_evidence` turns the rows into explanations.
"""


from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from graph.links import GROUPS, LinkIndex, SetLinks, SharedLinks
from graph.scoring.evidence import Explanation
from graph.scoring.features import COORDINATION_FEATURES
from graph.scoring.segments import group_ptr, segment_sum

__all__ = ["RingCoordination", "coordination_features"]

_COL = {f: i for i, f in enumerate(COORDINATION_FEATURES)}

DAY = 86_400.0
_DENSE_EXCLUSIVITY = 0.1
_LINK_WINDOW = 6 * 3_600.0
_COMMON = GROUPS.index("common_ip")

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RingCoordination:
    """A ring's coordination score and the evidence it decomposes into."""

    members: npt.NDArray[np.int64]
    features: Floats
    explanation: Explanation

    @property
    def probability(self) -> float:
        return self.explanation.probability


def coordination_features(index: LinkIndex, rings: SetLinks, shared: SharedLinks, account_created: Floats) -> Floats:
    """The :data:`COORDINATION_FEATURES` of every ring of `rings`, one row per ring."""
    n_rings, n_groups = rings.n_sets, len(GROUPS)
    n = rings.sizes
    x = np.zeros((n_rings, len(COORDINATION_FEATURES)), np.float64)
    group = index.group[shared.entities]
    key = shared.shared_set * n_groups + group
    order = np.argsort(key, kind="stable")  # (ring, group, entity)
    sums = segment_sum(shared.exclusivity[order], group_ptr(key[order], n_rings * n_groups))
    sums = sums.reshape(n_rings, n_groups)
    on = np.flatnonzero(shared.link_shared >= 0)
    row, at = rings.link_member[on], shared.link_shared[on]
    best = np.zeros((n_groups, rings.members.shape[0]), np.float64)
    np.maximum.at(best, (group[at], row), shared.exclusivity[at])
    for g, name in enumerate(GROUPS):
        x[:, _COL[f"shared_{name}"]] = [math.log1p(v) for v in sums[:, g].tolist()]
        if f"cover_{name}" in _COL:
            total = segment_sum(best[g], rings.set_ptr)
            x[:, _COL[f"cover_{name}"]] = np.where(n > 0, total / np.maximum(n, 1), 0.0)
    base = _COL["ring_size"]
    x[:, base] = [math.log(max(k, 1) / 3.0) for k in n.tolist()]
    x[:, base + 1] = _density(rings, shared, group, on, n)
    x[:, base + 2] = _signup_burst(rings, account_created)
    x[:, base + 3] = _link_burst(index, rings, shared, group, on)
    return x


def _density(rings: SetLinks, shared: SharedLinks, group: Ints, on: Ints, n: Ints) -> Floats:
    """Share of member pairs sharing a strong entity: off-diagonal non-zeros of B·Bᵀ, per ring."""
    strong = (shared.exclusivity >= _DENSE_EXCLUSIVITY) & (group != _COMMON)
    on = on[strong[shared.link_shared[on]]]
    row, col = rings.link_member[on], shared.link_shared[on]
    m = rings.members.shape[0]
    b = sparse.csr_matrix((np.ones(on.shape[0]), (row, col)), shape=(m, shared.entities.shape[0]))
    pairs = (b @ b.T).tocsr()
    off = np.diff(pairs.indptr) - (np.bincount(row, minlength=m) > 0)
    count = np.bincount(rings.member_set, weights=off.astype(np.float64), minlength=rings.n_sets)
    out: Floats = np.where(n >= 2, count / np.maximum(n * (n - 1), 1), 0.0)
    return out


def _signup_burst(rings: SetLinks, account_created: Floats) -> Floats:
    """``max(0, log10(30 days / spread))`` of each ring's 10th-90th percentile sign-up spread."""
    out = np.zeros(rings.n_sets, np.float64)
    created = account_created[rings.members]
    finite = np.flatnonzero(np.isfinite(created))
    ptr = group_ptr(rings.member_set[finite], rings.n_sets)
    count = np.diff(ptr)
    for size in np.unique(count[count >= 2]).tolist():  # one np.percentile per ring size, not per ring
        which = np.flatnonzero(count == size)
        values = created[finite[ptr[which][:, None] + np.arange(size)]]
        spread = np.percentile(values, 90, axis=1) - np.percentile(values, 10, axis=1)
        out[which] = [max(0.0, math.log10(30 * DAY / max(s, 60.0))) for s in spread.tolist()]
    return out


def _link_burst(index: LinkIndex, rings: SetLinks, shared: SharedLinks, group: Ints, on: Ints) -> Floats:
    """Share of links to shared entities first seen within 6 hours of another member's, per ring."""
    at = shared.link_shared[on]
    t = index.first[rings.link_pos[on]]
    keep = (group[at] != _COMMON) & np.isfinite(t)
    ent, t, ring = at[keep], t[keep], rings.link_set[on][keep]
    order = np.lexsort((t, ent))
    ent, t, ring = ent[order], t[order], ring[order]
    same = ent[1:] == ent[:-1]
    gap = np.diff(t)
    near = same & (gap <= _LINK_WINDOW)
    close = np.r_[False, near] | np.r_[near, False]
    total = np.bincount(ring, minlength=rings.n_sets)
    hits = np.bincount(ring, weights=close.astype(np.float64), minlength=rings.n_sets)
    out: Floats = np.where(total > 0, hits / np.maximum(total, 1), 0.0)
    return out
