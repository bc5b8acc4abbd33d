"""Membership confidence from re-running detection with perturbed seeds and resolutions.

A consensus-style check in the spirit of Lancichinetti & Fortunato, "Consensus clustering in complex
networks", Sci. Rep. 2, 336 (2012): a member that stays with its ring's core whatever the seed or a
nearby resolution is placed with more confidence than one that drifts between rings.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graph.detection.params import DetectionParams
from graph.detection.rings import Communities, detect_rings, ring_labels
from graph.projection import AccountGraph

__all__ = ["membership_confidence", "membership_stability"]


def membership_stability(
    graph: AccountGraph,
    rings: list[npt.NDArray[np.int32]],
    params: DetectionParams,
    communities: Communities | None = None,
) -> list[npt.NDArray[np.float64]]:
    """Per ring in `rings`, per member: the fraction of reruns in which it stayed with the ring's core.

    Reruns use seeds ``seed + 1 ... seed + stability_seeds`` crossed with ``resolution x factor`` for
    each of ``params.stability_resolution_factors``. In each rerun a ring's core is the rerun ring
    holding most of its members; a member stays when it is in that rerun ring. The reruns label
    accounts with `communities`, the backend the run itself used (default: in process).
    """
    runs: list[npt.NDArray[np.int64]] = []
    for k in range(1, params.stability_seeds + 1):
        for factor in params.stability_resolution_factors:
            rerun = detect_rings(
                graph, params.rerun(seed=params.seed + k, resolution=params.resolution * factor), communities
            )
            runs.append(ring_labels(rerun, graph.n_accounts))
    result: list[npt.NDArray[np.float64]] = []
    for ring in rings:
        stayed = np.zeros(ring.shape[0], np.float64)
        for labels in runs:
            member_labels = labels[ring]
            placed = member_labels[member_labels >= 0]
            if placed.shape[0] == 0:
                continue
            values, counts = np.unique(placed, return_counts=True)
            core = values[np.argmax(counts)]  # ties: smallest label, deterministic
            stayed += member_labels == core
        result.append(stayed / max(len(runs), 1))
    return result


def membership_confidence(stability: list[npt.NDArray[np.float64]]) -> list[npt.NDArray[np.float64]]:
    """Each member's confidence from its stability: ``0.5 + 0.5 x stability``, to 4 decimals.

    A member found in the ring by the main run and every rerun is as sure as detection can make it;
    the floor keeps a member the main run placed from reading as "certainly not a member".
    """
    return [np.round(0.5 + 0.5 * s, 4) for s in stability]
