"""The feature names of both scores, in the order their coefficients are stored.

Kept apart from the code that computes them so the scoring model (which names its coefficients)
and the features depend on this module, not on each other.
"""

from __future__ import annotations

from graph.links import GROUPS

__all__ = [
    "ATTRIBUTION_FEATURES",
    "BEHAVIOUR_FEATURES",
    "COORDINATION_FEATURES",
    "NONNEGATIVE_ATTRIBUTION",
    "NONNEGATIVE_COORDINATION",
    "UNWEIGHTED_COORDINATION",
]

#: Coordination evidence from the usage log (graph/scoring/behaviour.py).
BEHAVIOUR_FEATURES: tuple[str, ...] = (
    "coaction_cover", "coaction_days", "coaction_excess", "coaction_spread", "round_the_clock", "category_focus",
    "model_pivot",
)
COORDINATION_FEATURES: tuple[str, ...] = (
    *(f"{p}_{g}" for g in GROUPS for p in ("shared", "cover") if (p, g) != ("cover", "common_ip")),
    "ring_size",
    "density",
    "signup_burst",
    "link_burst",
    *BEHAVIOUR_FEATURES,
)
#: Evidence counts for a ring, never against it; only size may take either sign.
NONNEGATIVE_COORDINATION: tuple[str, ...] = tuple(f for f in COORDINATION_FEATURES if f != "ring_size")
#: Shown in the evidence, never weighed: a carrier's NAT, a VPN or a Tor exit is shared by unrelated people
#: by design. Left to the fit, its weight is whatever a generator's proxies make of it: 0 fitted on
#: ringtrace's generator alone, 7.1 (more than a shared card) pooled with bench/independent.
UNWEIGHTED_COORDINATION: tuple[str, ...] = ("shared_common_ip",)

ATTRIBUTION_FEATURES: tuple[str, ...] = (
    "known_members",
    "org_network",
    "org_email_domain",
    "coordination",
)
NONNEGATIVE_ATTRIBUTION: tuple[str, ...] = ATTRIBUTION_FEATURES
