"""Explanations of the coordination scores: per ring, a prior plus one item per piece of evidence.

What the items cite is gathered for every ring at once, as CSR arrays keyed by (ring, group): the
shared entities by exclusivity (descending, then by index), so the first is "the most telling", and
the members linked to them. Only the sentences are written per ring, from Python lists sliced out
of those arrays (no NumPy call per ring).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graph.links import GROUPS, Incidence, LinkIndex, SetLinks, SharedLinks
from graph.scoring.coordination import DAY
from graph.scoring.evidence import EvidenceItem, Explanation
from graph.scoring.features import COORDINATION_FEATURES
from graph.scoring.model import LogisticModel
from graph.scoring.segments import group_ptr, unique_ints

__all__ = ["explain_coordination"]

_COL = {f: i for i, f in enumerate(COORDINATION_FEATURES)}
_NAMES = {
    "payment": "payment instrument",
    "device": "device",
    "phone": "phone number",
    "email": "email address",
    "ip": "IP address",
    "common_ip": "mobile/VPN/Tor IP address",
}

Floats = npt.NDArray[np.float64]


def explain_coordination(
    inc: Incidence, index: LinkIndex, rings: SetLinks, shared: SharedLinks, features: Floats, model: LogisticModel
) -> list[Explanation]:
    """Each ring's coordination score as a prior plus one item per piece of evidence, in ring order."""
    n_rings, n_groups = rings.n_sets, len(GROUPS)
    group = index.group[shared.entities]
    order = np.lexsort((shared.entities, -shared.exclusivity, group, shared.shared_set))
    ptr = group_ptr((shared.shared_set * n_groups + group)[order], n_rings * n_groups).tolist()
    ents = shared.entities[order]
    ent_list, inside, degree = ents.tolist(), shared.inside[order].tolist(), index.degree[ents].tolist()
    on = np.flatnonzero(shared.link_shared >= 0)
    m = max(rings.members.shape[0], 1)
    who_key = unique_ints((rings.link_set[on] * n_groups + group[shared.link_shared[on]]) * m + rings.link_member[on])
    who_ptr = group_ptr(who_key // m, n_rings * n_groups).tolist()
    who_list = rings.members[who_key % m].tolist()
    members = rings.members.tolist()
    set_ptr = rings.set_ptr.tolist()
    values = features.tolist()
    contributions = model.contributions(features).tolist()
    prior = EvidenceItem("prior", model.intercept, "Before any evidence: the base rate of coordinated rings.")
    columns = [(g, name, _COL[f"shared_{name}"], _COL.get(f"cover_{name}")) for g, name in enumerate(GROUPS)]
    base = _COL["ring_size"]
    out = []
    for r in range(n_rings):
        value, by = values[r], contributions[r]
        n = set_ptr[r + 1] - set_ptr[r]
        ring = tuple(members[set_ptr[r] : set_ptr[r + 1]])
        items = [prior]
        for g, name, cs, cc in columns:
            llr = by[cs] + (by[cc] if cc is not None else 0.0)
            if value[cs] == 0.0 and (value[cc] if cc is not None else 0.0) == 0.0:
                continue
            at = r * n_groups + g
            lo, hi = ptr[at], ptr[at + 1]
            who = tuple(who_list[who_ptr[at] : who_ptr[at + 1]])
            k = hi - lo
            noun = _NAMES[name]
            sentence = (
                f"{len(who)} of {n} accounts in this ring share {k} {noun}"
                f"{'es' if noun.endswith('address') and k != 1 else ('' if k == 1 else 's')}; "
                f"the most telling, {_short(str(inc.entity_keys[ent_list[lo]]))}, is used by {inside[lo]} ring "
                f"members and {degree[lo] - inside[lo]} other accounts."
            )
            items.append(EvidenceItem(f"shared_{name}", llr, sentence, who, tuple(ent_list[lo:hi])))
        items.append(EvidenceItem("ring_size", by[base], f"The ring has {n} accounts.", ring))
        if value[base + 1] > 0:
            items.append(
                EvidenceItem(
                    "density", by[base + 1], f"{value[base + 1]:.0%} of member pairs share a rare identifier.", ring
                )
            )
        if value[base + 2] > 0:
            spread = 30 * DAY / 10 ** value[base + 2]
            items.append(
                EvidenceItem(
                    "signup_burst",
                    by[base + 2],
                    f"Most members signed up within {_duration(spread)} of each other.",
                    ring,
                )
            )
        if value[base + 3] > 0:
            items.append(
                EvidenceItem(
                    "link_burst",
                    by[base + 3],
                    f"{value[base + 3]:.0%} of the members' links to shared identifiers were first seen "
                    "within 6 hours of another member's.",
                    ring,
                )
            )
        out.append(Explanation.of(items))
    return out


def _short(key: str) -> str:
    return key if len(key) <= 14 else key[:12] + "…"


def _duration(seconds: float) -> str:
    if seconds < 2 * 3_600:
        return f"{max(1, round(seconds / 60))} minutes"
    if seconds < 2 * DAY:
        return f"{round(seconds / 3_600)} hours"
    return f"{round(seconds / DAY)} days"
