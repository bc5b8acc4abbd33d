"""Ring detection (DESIGN.md §3 step 3): components, then community detection inside each.

One algorithm per module -- :mod:`.louvain` (python-louvain, the reference), :mod:`.leiden` (igraph
Leiden, CPM or modularity), :mod:`.plm` (networkit) -- and :mod:`.rings`, which drives them.
"""

from graph.detection.rings import (
    DEFAULT_MERGE_WEIGHT,
    DEFAULT_METHOD,
    DEFAULT_MIN_SIZE,
    DEFAULT_RESOLUTION,
    METHODS,
    detect_rings,
    ring_labels,
)
from graph.detection.stability import membership_stability

__all__ = [
    "DEFAULT_MERGE_WEIGHT",
    "DEFAULT_METHOD",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_RESOLUTION",
    "METHODS",
    "detect_rings",
    "membership_stability",
    "ring_labels",
]
