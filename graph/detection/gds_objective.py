"""What the Graph Data Science library's Leiden is given, so that it optimises the in-process objective.

GDS Leiden (2.13, Community) maximises modularity over the whole projected graph, its ``gamma`` being
igraph's resolution (measured: the modularity GDS reports for a partition equals igraph's). The
in-process path maximises, per connected component, CPM or modularity (:mod:`.leiden`). Two exact
rewritings of the input make one GDS call maximise the same:

- **leiden-cpm.** Every node gets a self-loop that brings its weighted degree up to the largest one,
  ``D`` (a self-loop counts twice in a degree, so its weight is ``(D - k_i) / 2``). With all degrees
  equal, modularity's null-model term ``gamma K_S^2 / 4M`` is ``gamma n_S^2 D^2 / 4M`` with
  ``M = n D / 2``, and the loops add the same constant to every partition: CPM at density ``r`` is
  modularity at ``gamma = r n / D``. CPM is additive over components, so one call is the per-component
  objective.
- **leiden-modularity.** Each component's weights are divided by its total weight ``m_c`` and gamma is
  multiplied by ``k``, the number of components in the call: the global modularity is then
  ``(1/k) sum_c Q_c``, each component's own modularity, which a call per component maximises.

Only the components :func:`~graph.detection.rings.plan_components` leaves to partition are given to
GDS; the others never need a call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.detection.params import GDS_METHODS
from graph.detection.rings import ComponentPlan
from graph.projection import AccountGraph

__all__ = ["LeidenInput", "leiden_input"]


@dataclass(frozen=True)
class LeidenInput:
    """Weighted undirected relationships over account indices (self-loops included) for GDS Leiden,
    and the factor that turns a method's resolution into GDS's ``gamma``."""

    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    gamma_per_resolution: float

    def gamma(self, resolution: float) -> float:
        return resolution * self.gamma_per_resolution


def leiden_input(graph: AccountGraph, plan: ComponentPlan, method: str) -> LeidenInput:
    """The relationships of the components `plan` leaves to partition, rewritten for `method`."""
    if method not in GDS_METHODS:
        raise ValueError(f"the GDS backend runs {' or '.join(GDS_METHODS)}, not {method!r}")
    parts = plan.partition.tolist()
    empty = np.zeros(0, np.int64)
    edges = np.concatenate([plan.edges(c) for c in parts]) if parts else empty
    src, dst = graph.src[edges].astype(np.int64), graph.dst[edges].astype(np.int64)
    weight = graph.weight[edges].astype(np.float64)
    if edges.shape[0] == 0:
        return LeidenInput(src, dst, weight, 1.0)
    if method == "leiden-modularity":
        per_component = np.concatenate([np.full(plan.edges(c).shape[0], i, np.int64) for i, c in enumerate(parts)])
        total = np.bincount(per_component, weights=weight, minlength=len(parts))
        return LeidenInput(src, dst, weight / total[per_component], float(len(parts)))
    nodes = np.concatenate([plan.nodes(c) for c in parts])
    strength = (np.bincount(src, weights=weight, minlength=graph.n_accounts)
                + np.bincount(dst, weights=weight, minlength=graph.n_accounts))[nodes]
    top = float(strength.max())
    padded = strength < top
    loops = nodes[padded]
    return LeidenInput(
        np.r_[src, loops], np.r_[dst, loops], np.r_[weight, (top - strength[padded]) / 2],
        nodes.shape[0] / top,
    )
