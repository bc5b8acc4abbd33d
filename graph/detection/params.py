"""The parameters of a detection run and their defaults: the one place CLI, API, calibrate and bench read.

Every field is recorded in the run's audit record (:meth:`DetectionParams.as_dict`), so a run can
be repeated exactly from what it stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

from graph.behaviour.coaction import CoactionParams
from graph.projection import ProjectionParams

__all__ = [
    "BACKENDS",
    "DEFAULT_CAMPAIGN_GAP_DAYS",
    "DEFAULT_GROUP_COACTION",
    "DEFAULT_MERGE_WEIGHT",
    "DEFAULT_METHOD",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_PAIR_EXCESS",
    "GDS_METHODS",
    "METHODS",
    "NATURAL_RESOLUTION",
    "DetectionParams",
]

#: Community detection methods, each with the resolution its objective is meant to run at: CPM's
#: is a minimum weighted density (bench/offline_eval.py), modularity's the standard gamma = 1.
NATURAL_RESOLUTION: Final[dict[str, float]] = {
    "leiden-cpm": 0.05,
    "leiden-modularity": 1.0,
    "louvain": 1.0,
    "plm": 1.0,
}
METHODS: Final[tuple[str, ...]] = tuple(NATURAL_RESOLUTION)
DEFAULT_METHOD: Final = "leiden-cpm"
# Two accounts can be a ring: 50 of the 173 true rings of the independent bench population (20k seed
# 2) have two members. Rings of two are judged by their own tie (pair_excess below). Measured (ring
# recall at any score / F1 of rings scored coordinated / ARI, smallest ring 3 -> 2, bench/pair_rings.py):
# bench/independent 20k seed 2 0.694 / 0.775 / 0.991 -> 0.890 / 0.891 / 0.990, seed 3 0.595 / 0.696 /
# 0.966 -> 0.896 / 0.869 / 0.966, seed 4 (held out) 0.702 / 0.787 / 0.946 -> 0.956 / 0.942 / 0.947;
# generated 10k seed 102 0.947 / 0.926 -> 1.000 / 0.952, 20k seed 104 F1 0.988 -> 0.976 and seed 106
# 0.933 -> 0.916 (pairs split off larger true rings, scored coordinated); no hard-negative cohort's
# share in coordinated rings went up on any of the six.
DEFAULT_MIN_SIZE: Final = 2
# Communities joined by an edge at least this strong are one ring. Measured with the usage log
# (shared identifiers and co-action together; ring recall at any score / ARI, merge 0.1 | 0.5 | none):
# generated 10k seed 101: 0.71 / 0.75 | 0.96 / 0.99 | 0.92 / 0.98; 20k seed 104: 0.76 / 0.95 |
# 0.93 / 1.00 | 0.93 / 0.91; 20k seed 106: 0.78 / 0.36 | 0.94 / 0.37 | 0.93 / 0.37; the independent
# bench population (20k seed 2): 0.27 / 0.13 | 0.52 / 0.50 | 0.53 / 0.11. At 0.1 (the projection's
# floor) one reused device or IP fused an operator's separate campaigns; at 0.5 only a shared rare
# device or card, or firm co-action, joins two communities. The device cells of one campaign, which
# 0.1 was meant to join, now meet in behaviour: they run the same jobs.
DEFAULT_MERGE_WEIGHT: Final = 0.5
# The chance below which a pair's matches count as unusual, for co-action as a group
# (coacting_groups.py merge_coacting): the conventional 5%. Two communities join only when far more than this share of
# the pairs across them meet so often (binomial llr >= strong_llr).
DEFAULT_GROUP_COACTION: Final = 0.05
DEFAULT_CAMPAIGN_GAP_DAYS: Final = 60.0
# A ring of two accounts whose co-action is under this multiple of what their own habits give by
# chance is two busy accounts, not a ring (rings.py _pairs_kept). Measured on the six populations
# above (bench/pair_rings.py, observed / expected matches of the rings of two before the rule):
# every pair kept puts 17-25% of the enterprise-pipeline cohort (a company's staging and production
# on one card and server, always on) in coordinated rings on four of six; 2x still 8.3% on
# independent seed 2 and 16.7% on generated seed 102; 3x and 4x none. True pairs' co-action ran
# 1.7-28x: ring recall at 2x | 3x | 4x on independent seed 4 0.950 | 0.945 | 0.923, equal or nearly elsewhere.
DEFAULT_PAIR_EXCESS: Final = 3.0
#: Where the community step runs: in this process (scipy, igraph, ...) or in Neo4j's Graph Data
#: Science library (components and Leiden; graph.pipeline.gds_communities). Same rules after it.
BACKENDS: Final[tuple[str, ...]] = ("in-process", "gds")
#: The methods the gds backend runs, both with `gds.leiden` (graph.detection.gds_objective says how).
GDS_METHODS: Final[tuple[str, ...]] = ("leiden-cpm", "leiden-modularity")


@dataclass(frozen=True)
class DetectionParams:
    """Everything that decides which rings a run finds and how sure it is of each member.

    seed
        Seed of community detection; the same data and parameters give the same rings.
    method, resolution
        A key of :data:`METHODS` and the resolution its objective runs at (see :meth:`for_method`).
    min_size
        Smallest ring, in accounts.
    pair_excess
        Only with ``min_size`` 2: a ring of two is kept when its edge alone is at least
        ``merge_weight`` and, if the two co-acted beyond chance, at least this many times what chance
        gives (:func:`graph.detection.rings.detect_rings`); None keeps every pair.
    merge_weight
        Communities joined by an edge at least this strong are one ring; None keeps the partition.
    group_coaction
        The chance below which a pair's matches are unusual: communities far more of whose pairs
        across met that often than this share are one ring; None never joins on co-action as a group.
    campaign_gap_days
        A ring whose members' activity leaves a gap of more than this many days is two campaigns,
        two rings; None never cuts.
    stability_seeds, stability_resolution_factors
        Membership confidence reruns: seeds ``seed + 1 .. seed + stability_seeds`` crossed with
        ``resolution x factor``.
    projection
        How shared entities are weighted into account pairs.
    coaction
        How the usage log's co-action is counted and weighted into account pairs.
    backend
        A key of :data:`BACKENDS`: where components and communities are computed. ``gds`` runs the
        Leiden methods (:data:`GDS_METHODS`).
    """

    seed: int = 42
    method: str = DEFAULT_METHOD
    resolution: float = NATURAL_RESOLUTION[DEFAULT_METHOD]
    min_size: int = DEFAULT_MIN_SIZE
    pair_excess: float | None = DEFAULT_PAIR_EXCESS
    merge_weight: float | None = DEFAULT_MERGE_WEIGHT
    group_coaction: float | None = DEFAULT_GROUP_COACTION
    campaign_gap_days: float | None = DEFAULT_CAMPAIGN_GAP_DAYS
    stability_seeds: int = 2
    stability_resolution_factors: tuple[float, ...] = (0.8, 1.25)
    projection: ProjectionParams = field(default_factory=ProjectionParams)
    coaction: CoactionParams = field(default_factory=CoactionParams)
    backend: str = "in-process"

    def __post_init__(self) -> None:
        if self.method not in NATURAL_RESOLUTION:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend == "gds" and self.method not in GDS_METHODS:
            raise ValueError(f"the gds backend runs {' or '.join(GDS_METHODS)}, not {self.method!r}")
        if self.min_size < 2:
            raise ValueError("min_size must be at least 2")
        if self.pair_excess is not None and self.pair_excess < 1.0:
            raise ValueError("pair_excess must be at least 1 (co-action at its chance level)")
        if self.group_coaction is not None and not 0.0 < self.group_coaction < 1.0:
            raise ValueError("group_coaction must be between 0 and 1")

    @classmethod
    def for_method(
        cls,
        method: str | None = None,
        *,
        resolution: float | None = None,
        merge: bool = True,
        merge_weight: float | None = None,
        **others: Any,
    ) -> DetectionParams:
        """Parameters for `method` (default leiden-cpm) at its natural resolution unless one is given.

        `merge=False` keeps communities as the objective left them; otherwise `merge_weight`
        (default :data:`DEFAULT_MERGE_WEIGHT`) joins strongly linked ones and co-acting groups are joined
        (:data:`DEFAULT_GROUP_COACTION`).
        """
        chosen = method or DEFAULT_METHOD
        if chosen not in NATURAL_RESOLUTION:
            raise ValueError(f"unknown method {chosen!r}; choose one of {', '.join(METHODS)}")
        return cls(
            method=chosen,
            resolution=NATURAL_RESOLUTION[chosen] if resolution is None else resolution,
            merge_weight=(DEFAULT_MERGE_WEIGHT if merge_weight is None else merge_weight) if merge else None,
            **({} if merge else {"group_coaction": None}) | others,
        )

    def rerun(self, *, seed: int, resolution: float) -> DetectionParams:
        """The same parameters with another seed and resolution (stability reruns)."""
        return replace(self, seed=seed, resolution=resolution)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
