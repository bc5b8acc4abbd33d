"""The result types of scoring: a run's scoring input, ring scores, and ring and account attributions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from graph.behaviour.activity import RingActivity
from graph.links import Incidence, LinkIndex
from graph.scoring.attribution import OrgIndex
from graph.scoring.behaviour import Behaviour
from graph.scoring.coordination import RingCoordination
from graph.scoring.evidence import Explanation
from graph.scoring.indicators import OrgIndicators

__all__ = ["AccountAttribution", "Attribution", "RingScore", "ScoringInput"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScoringInput:
    """The observations scoring reads, indexed once (build it with :func:`graph.scoring.prepare`)."""

    links: LinkIndex
    account_created: Floats
    org_indicators: OrgIndicators
    orgs: OrgIndex
    behaviour: Behaviour | None = None  # the usage log's, when the run has one

    @property
    def incidence(self) -> Incidence:
        return self.links.incidence


@dataclass(frozen=True, slots=True)
class Attribution:
    """One organisation a ring or account is attributed to, with the explained confidence."""

    organization: int
    name: str
    features: Floats
    explanation: Explanation

    @property
    def confidence(self) -> float:
        return self.explanation.probability


@dataclass(frozen=True, slots=True)
class RingScore:
    """A ring's coordination score and its attributions, most confident first."""

    ring: int  # position in the rings given to score_rings
    coordination: RingCoordination
    attributions: tuple[Attribution, ...]
    activity: RingActivity = field(default_factory=RingActivity)

    @property
    def score(self) -> float:
        return self.coordination.probability

    @property
    def top(self) -> Attribution | None:
        return self.attributions[0] if self.attributions else None


@dataclass(frozen=True, slots=True)
class AccountAttribution:
    """An account's attributions, most confident first; ``ring`` is -1 for an account in no ring."""

    account: int
    ring: int
    membership_confidence: float
    attributions: tuple[Attribution, ...]
