"""The coordination half of the reference scorer (tests/unit/scoring_reference.py): a ring's
features and their explanation, one ring at a time, verbatim from graph/scoring at commit 5e0eb4d.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import sparse

from graph.links import GROUPS, Incidence, LinkIndex, RingLinks
from graph.scoring import (
    COORDINATION_FEATURES,
    EvidenceItem,
    Explanation,
    LogisticModel,
)

Floats = npt.NDArray[np.float64]

_DAY = 86_400.0
_DENSE_EXCLUSIVITY = 0.1
_LINK_WINDOW = 6 * 3_600.0
KIND_NAMES = {
    "payment": "payment instrument",
    "device": "device",
    "phone": "phone number",
    "email": "email address",
    "ip": "IP address",
    "common_ip": "mobile/VPN/Tor IP address",
}
_COL = {f: i for i, f in enumerate(COORDINATION_FEATURES)}


def coordination_features(index: LinkIndex, links: RingLinks, account_created: Floats) -> Floats:
    """The :data:`COORDINATION_FEATURES` vector of one ring."""
    n = links.members.shape[0]
    x = np.zeros(len(COORDINATION_FEATURES), np.float64)
    group = index.group[links.entities]
    pos = {m: i for i, m in enumerate(links.members.tolist())}
    member_row = np.array([pos[a] for a in links.link_acc.tolist()], np.int64)
    ent_col = np.searchsorted(links.entities, links.link_ent)
    link_excl = links.exclusivity[ent_col]
    for g, name in enumerate(GROUPS):
        sel = group == g
        x[_COL[f"shared_{name}"]] = math.log1p(float(links.exclusivity[sel].sum()))
        if f"cover_{name}" in _COL:
            best = np.zeros(n, np.float64)
            on = group[ent_col] == g
            np.maximum.at(best, member_row[on], link_excl[on])
            x[_COL[f"cover_{name}"]] = float(best.mean()) if n else 0.0
    base = _COL["ring_size"]
    x[base] = math.log(max(n, 1) / 3.0)
    x[base + 1] = _density(links, group, member_row, ent_col, n)
    created = account_created[links.members]
    created = created[np.isfinite(created)]
    if created.shape[0] >= 2:
        spread = float(np.percentile(created, 90) - np.percentile(created, 10))
        x[base + 2] = max(0.0, math.log10(30 * _DAY / max(spread, 60.0)))
    x[base + 3] = _link_burst(links, group, ent_col)
    return x


def _density(
    links: RingLinks, group: npt.NDArray[np.int64], row: npt.NDArray[np.int64], col: npt.NDArray[np.int64], n: int
) -> float:
    if n < 2:
        return 0.0
    strong = (links.exclusivity >= _DENSE_EXCLUSIVITY) & (group != GROUPS.index("common_ip"))
    on = strong[col]
    b = sparse.csr_matrix((np.ones(int(on.sum())), (row[on], col[on])), shape=(n, links.entities.shape[0]))
    pairs = (b @ b.T).tocsr()
    pairs.setdiag(0)
    pairs.eliminate_zeros()
    return float(pairs.nnz) / (n * (n - 1))


def _link_burst(links: RingLinks, group: npt.NDArray[np.int64], col: npt.NDArray[np.int64]) -> float:
    keep = (group[col] != GROUPS.index("common_ip")) & np.isfinite(links.link_first)
    if not keep.any():
        return 0.0
    ent = col[keep]
    t = links.link_first[keep]
    order = np.lexsort((t, ent))
    ent, t = ent[order], t[order]
    same_prev = np.r_[False, ent[1:] == ent[:-1]]
    same_next = np.r_[ent[1:] == ent[:-1], False]
    gap_prev = np.r_[np.inf, np.diff(t)]
    gap_next = np.r_[np.diff(t), np.inf]
    close = (same_prev & (gap_prev <= _LINK_WINDOW)) | (same_next & (gap_next <= _LINK_WINDOW))
    return float(close.mean())


def explain_coordination(
    inc: Incidence, links: RingLinks, features: Floats, model: LogisticModel, index: LinkIndex
) -> Explanation:
    """The coordination score of one ring as a prior plus one item per piece of evidence."""
    contrib = model.contributions(features[None, :])[0]
    by_name = dict(zip(COORDINATION_FEATURES, contrib.tolist(), strict=True))
    value = dict(zip(COORDINATION_FEATURES, features.tolist(), strict=True))
    n = links.members.shape[0]
    members = tuple(int(a) for a in links.members)
    items = [EvidenceItem("prior", model.intercept, "Before any evidence: the base rate of coordinated rings.")]
    group = index.group[links.entities]
    for g, name in enumerate(GROUPS):
        llr = by_name[f"shared_{name}"] + by_name.get(f"cover_{name}", 0.0)
        if value[f"shared_{name}"] == 0.0 and value.get(f"cover_{name}", 0.0) == 0.0:
            continue
        sel = np.flatnonzero(group == g)
        sel = sel[np.lexsort((links.entities[sel], -links.exclusivity[sel]))]
        ents = links.entities[sel]
        on = np.isin(links.link_ent, ents)
        who = tuple(int(a) for a in np.unique(links.link_acc[on]))
        top = int(sel[0])
        key = str(inc.entity_keys[links.entities[top]])
        noun = KIND_NAMES[name]
        sentence = (
            f"{len(who)} of {n} accounts in this ring share {len(ents)} {noun}"
            f"{'es' if noun.endswith('address') and len(ents) != 1 else ('' if len(ents) == 1 else 's')}; "
            f"the most telling, {_short(key)}, is used by {int(links.inside[top])} ring members and "
            f"{int(index.degree[links.entities[top]]) - int(links.inside[top])} other accounts."
        )
        items.append(EvidenceItem(f"shared_{name}", llr, sentence, who, tuple(int(e) for e in ents)))
    items.append(EvidenceItem("ring_size", by_name["ring_size"], f"The ring has {n} accounts.", members))
    if value["density"] > 0:
        items.append(
            EvidenceItem(
                "density",
                by_name["density"],
                f"{value['density']:.0%} of member pairs share a rare identifier.",
                members,
            )
        )
    if value["signup_burst"] > 0:
        spread = 30 * _DAY / 10 ** value["signup_burst"]
        items.append(
            EvidenceItem(
                "signup_burst",
                by_name["signup_burst"],
                f"Most members signed up within {_duration(spread)} of each other.",
                members,
            )
        )
    if value["link_burst"] > 0:
        items.append(
            EvidenceItem(
                "link_burst",
                by_name["link_burst"],
                f"{value['link_burst']:.0%} of the members' links to shared identifiers were first seen "
                "within 6 hours of another member's.",
                members,
            )
        )
    return Explanation.of(items)



def _short(key: str) -> str:
    return key if len(key) <= 14 else key[:12] + "…"


def _duration(seconds: float) -> str:
    if seconds < 2 * 3_600:
        return f"{max(1, round(seconds / 60))} minutes"
    if seconds < 2 * _DAY:
        return f"{round(seconds / 3_600)} hours"
    return f"{round(seconds / _DAY)} days"
