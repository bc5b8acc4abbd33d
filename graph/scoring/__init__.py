"""Scoring (DESIGN.md §3 step 4): coordination and attribution probabilities that explain themselves.

Both scores are splink-like: a prior log odds plus one log-likelihood ratio per piece of evidence,
from logistic models fitted on labelled rings (:mod:`graph.scoring.model`), so every probability
decomposes into :class:`EvidenceItem` s that add up to its logit. See :mod:`.coordination` and
:mod:`.attribution` for the features, :mod:`.scorer` for the entry points, and
:mod:`graph.evaluation.reliability` for calibration figures.

All rings (and all accounts) are scored at once over flat arrays: :mod:`.coordination` and
:mod:`.candidates` compute features with segment reductions (:mod:`.segments`, which keeps NumPy's
own summation order, so the scores are those a per-ring loop gives, bit for bit), and
:mod:`.coordination_evidence`, :mod:`.attribution_evidence` and :mod:`.accounts` build the
explanations from slices of those arrays.
"""

from graph.scoring.coordination import RingCoordination
from graph.scoring.evidence import EvidenceItem, Explanation, logit, sigmoid
from graph.scoring.features import (
    ATTRIBUTION_FEATURES,
    COORDINATION_FEATURES,
    NONNEGATIVE_ATTRIBUTION,
    NONNEGATIVE_COORDINATION,
    UNWEIGHTED_COORDINATION,
)
from graph.scoring.indicators import OrgIndicators, domains_named_after, own_hosting
from graph.scoring.model import (
    DEFAULT_MODEL_PATH,
    INFRA_MODEL_PATH,
    LogisticModel,
    ScoringModel,
    default_model,
    fit,
    load_model,
    model_from_json,
    model_to_json,
    save_model,
)
from graph.scoring.scorer import (
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
    "INFRA_MODEL_PATH",
    "NONNEGATIVE_ATTRIBUTION",
    "NONNEGATIVE_COORDINATION",
    "UNWEIGHTED_COORDINATION",
    "AccountAttribution",
    "Attribution",
    "EvidenceItem",
    "Explanation",
    "LogisticModel",
    "OrgIndicators",
    "RingCoordination",
    "RingScore",
    "ScoringInput",
    "ScoringModel",
    "attribute_accounts",
    "default_model",
    "domains_named_after",
    "fit",
    "load_model",
    "logit",
    "model_from_json",
    "model_to_json",
    "own_hosting",
    "prepare",
    "save_model",
    "score_rings",
    "sigmoid",
]
