"""Ring detection (DESIGN.md §3 step 3): components, then community detection inside each.

One algorithm per module -- :mod:`.louvain` (python-louvain, the reference), :mod:`.leiden` (igraph
Leiden, CPM or modularity), :mod:`.plm` (networkit, optional) -- chosen through :mod:`.partition`;
:mod:`.rings` drives them (and cuts rings into campaigns, judges rings of two), :mod:`.coacting_groups`
joins communities that co-act as a group, :mod:`.gds_objective` rewrites the graph for
the GDS backend's Leiden, :mod:`.operations` groups campaigns of one operator, :mod:`.stability`
gives membership confidence, :mod:`.ring_ids` keeps ring and operation ids stable across runs, and
:mod:`.params` holds every parameter and default.
"""

from graph.detection.params import (
    BACKENDS,
    DEFAULT_CAMPAIGN_GAP_DAYS,
    DEFAULT_MERGE_WEIGHT,
    DEFAULT_METHOD,
    DEFAULT_MIN_SIZE,
    DEFAULT_PAIR_EXCESS,
    GDS_METHODS,
    METHODS,
    NATURAL_RESOLUTION,
    DetectionParams,
)
from graph.detection.rings import detect_rings, ring_labels
from graph.detection.stability import membership_stability

__all__ = [
    "BACKENDS",
    "DEFAULT_CAMPAIGN_GAP_DAYS",
    "DEFAULT_MERGE_WEIGHT",
    "DEFAULT_METHOD",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_PAIR_EXCESS",
    "GDS_METHODS",
    "METHODS",
    "NATURAL_RESOLUTION",
    "DetectionParams",
    "detect_rings",
    "membership_stability",
    "ring_labels",
]
