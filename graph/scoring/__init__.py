"""Scoring (DESIGN.md §3 step 4): coordination and attribution probabilities that explain themselves.

Both scores are splink-like: a prior log odds plus one log-likelihood ratio per piece of evidence,
from logistic models fitted on labelled rings (:mod:`graph.scoring.model`), so every probability
decomposes into :class:`EvidenceItem` s that add up to its logit. See :mod:`.coordination` and
:mod:`.attribution` for the features and :mod:`.calibration` for reliability.
"""

from graph.scoring.attribution import ATTRIBUTION_FEATURES
from graph.scoring.calibration import ReliabilityBin, expected_calibration_error, reliability_table
from graph.scoring.coordination import COORDINATION_FEATURES, RingCoordination
from graph.scoring.evidence import EvidenceItem, Explanation, logit, sigmoid
from graph.scoring.inputs import OrgEvidence, domains_named_after
from graph.scoring.model import (
    DEFAULT_MODEL_PATH,
    LogisticModel,
    ScoringModel,
    default_model,
    fit,
    load_model,
    model_from_json,
    model_to_json,
    save_model,
)
from graph.scoring.scoring import (
    AccountAttribution,
    Attribution,
    RingScore,
    ScoringInput,
    attribute_accounts,
    prepare,
    score_rings,
)

__all__ = [
    "ATTRIBUTION_FEATURES",
    "COORDINATION_FEATURES",
    "DEFAULT_MODEL_PATH",
    "AccountAttribution",
    "Attribution",
    "EvidenceItem",
    "Explanation",
    "LogisticModel",
    "OrgEvidence",
    "ReliabilityBin",
    "RingCoordination",
    "RingScore",
    "ScoringInput",
    "ScoringModel",
    "attribute_accounts",
    "default_model",
    "domains_named_after",
    "expected_calibration_error",
    "fit",
    "load_model",
    "logit",
    "model_from_json",
    "model_to_json",
    "prepare",
    "reliability_table",
    "save_model",
    "score_rings",
    "sigmoid",
]
