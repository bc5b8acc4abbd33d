"""Which rings of an organisation the observations name it for (bench/operations_eval.py ``_traced``),
on a hand-drawn population: each route on its own, a sibling campaign passing it on, and the routes
that say nothing (free mail, another organisation's range)."""

from __future__ import annotations

import numpy as np

from bench.operations_eval import _traced
from graph.evaluation.truth import Truth
from graph.links import Incidence
from graph.scoring import OrgIndicators
from graph.store.observation_reads import Observations
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

_ACCOUNTS = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
_ENTITIES = [("device", "d1"), ("ip", "10.0.0.1"), ("ip", "10.0.1.1")]
_LINKS = [("a3", 0), ("a6", 0), ("a4", 1), ("a7", 2)]
# ring -> (organisation, operation, members)
_RINGS = {
    "R1": ("Acme", "O1", ["a1"]),  # a known member of Acme
    "R2": ("Acme", "O1", ["a2"]),  # nothing of its own: R1's sibling
    "R3": ("Beta", "O2", ["a3"]),  # shares device d1 with a6, known to Beta outside any ring
    "R4": ("Beta", "O3", ["a4"]),  # on an IP of Beta's range
    "R5": ("Acme", "O4", ["a5"]),  # signs up on acme.example, the domain Acme's known member a1 uses
    "R6": ("Beta", "O5", ["a7"]),  # gmail like Beta's known a6, and an IP of Acme's range: neither is Beta
}


def _observations() -> Observations:
    inc = Incidence(
        account_ids=np.array(_ACCOUNTS, dtype=np.str_),
        entity_keys=np.array([v for _, v in _ENTITIES], dtype=np.str_),
        entity_kind=np.array([KIND_ORDER.index(k) for k, _ in _ENTITIES], np.int8),
        entity_network=np.full(len(_ENTITIES), NETWORK_CLASSES.index("hosting"), np.int8),
        link_account=np.array([_ACCOUNTS.index(a) for a, _ in _LINKS], np.int32),
        link_entity=np.array([e for _, e in _LINKS], np.int32),
        link_first_seen=np.zeros(len(_LINKS)),
        link_last_seen=np.zeros(len(_LINKS)),
        link_count=np.ones(len(_LINKS), np.int32),
    )
    org = OrgIndicators(
        organizations=("Acme", "Beta"),
        known_account=np.array([0, 5], np.int32),
        known_org=np.array([0, 1], np.int32),
        entity_org=np.array([-1, 1, 0], np.int32),
        account_email_domain=np.array(
            ["acme.example", "", "", "", "acme.example", "gmail.com", "gmail.com"], dtype=np.str_
        ),
    )
    return Observations(inc, np.zeros(len(_ACCOUNTS)), org)


def _truth() -> Truth:
    ring: dict[str, str | None] = {a: None for a in _ACCOUNTS}
    organization: dict[str, str | None] = {a: None for a in _ACCOUNTS}
    operation: dict[str, str | None] = {a: None for a in _ACCOUNTS}
    for name, (org, op, members) in _RINGS.items():
        for a in members:
            ring[a], organization[a], operation[a] = name, org, op
    organization["a6"] = "Beta"
    return Truth(ring=ring, organization=organization, cohort={a: "" for a in _ACCOUNTS}, operation=operation)


def test_each_route_traces_its_ring_and_free_mail_or_another_range_does_not() -> None:
    assert _traced(_observations(), _truth()) == {"R1", "R2", "R3", "R4", "R5"}
