"""Evidence items: one log-likelihood ratio each, adding up to the logit of a score (splink's waterfall).

A score's :class:`Explanation` holds a ``prior`` item (the model's intercept: the log odds before any
evidence) and one item per piece of evidence; ``sum(item.llr) == logit(probability)`` exactly, since
the probability is computed from that sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["EvidenceItem", "Explanation", "logit", "sigmoid"]


def sigmoid(x: float) -> float:
    """The logistic function, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    """log(p / (1 - p)); ±inf at 0 and 1."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One piece of evidence and how much it moves the log odds.

    kind
        Stable identifier: ``prior``, ``shared_payment``, ``shared_device``, ``shared_phone``,
        ``shared_email``, ``shared_ip``, ``shared_common_ip``, ``ring_size``, ``density``,
        ``signup_burst``, ``link_burst``, ``coordination``, ``known_member_in_ring``,
        ``known_member_linked``, ``org_network``, ``org_email_domain``, ``ring_membership``,
        ``coaction``, ``round_the_clock``, ``category_focus``, ``model_pivot``.
    llr
        Natural-log likelihood ratio this item contributes (negative: evidence against).
    sentence
        What the item says, in plain language.
    accounts, entities
        Account and entity indices (into the Incidence) involved, so the caller can fetch the path.
    organization
        Organisation index (into :attr:`OrgIndicators.organizations`) for attribution items, else -1.
    sent
        Behavioural items: (account, account or -1, template fingerprint) whose SENT relationships are
        the item's paths: two accounts that co-acted on a template, or one account and what it sent.
    """

    kind: str
    llr: float
    sentence: str
    accounts: tuple[int, ...] = ()
    entities: tuple[int, ...] = ()
    organization: int = -1
    sent: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    """A probability and the evidence items whose log-likelihood ratios add up to its logit."""

    probability: float
    items: tuple[EvidenceItem, ...]

    @property
    def log_odds(self) -> float:
        """The sum of the items' log-likelihood ratios (prior included)."""
        return math.fsum(item.llr for item in self.items)

    def ranked(self, top: int | None = None) -> list[tuple[EvidenceItem, float]]:
        """Items other than the prior by |llr|, each with its share of the total |llr| of those items."""
        evidence = [i for i in self.items if i.kind != "prior"]
        total = math.fsum(abs(i.llr) for i in evidence) or 1.0
        order = sorted(evidence, key=lambda i: (-abs(i.llr), i.kind, i.accounts, i.entities))
        return [(i, abs(i.llr) / total) for i in order[:top]]

    @staticmethod
    def of(items: Sequence[EvidenceItem]) -> Explanation:
        """The explanation whose probability is sigmoid of the items' summed llr."""
        kept = tuple(items)
        return Explanation(sigmoid(math.fsum([i.llr for i in kept])), kept)
