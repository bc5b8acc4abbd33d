"""Parallel Louvain Method (PLM) with networkit: the fastest modularity backend.

Staudt & Meyerhenke, "Engineering Parallel Algorithms for Community Detection in Massive Networks",
IEEE TPDS 27(1) (2016). Run sequentially (``par="none"``) with networkit's seed fixed, because the
parallel move phase depends on thread scheduling. Modularity-based, so it shares Louvain's
resolution limit.
"""

from __future__ import annotations

import networkit as nk
import numpy as np
import numpy.typing as npt

__all__ = ["plm_partition"]


def plm_partition(
    n_nodes: int,
    src: npt.NDArray[np.int32],
    dst: npt.NDArray[np.int32],
    weight: npt.NDArray[np.float64],
    *,
    resolution: float,
    seed: int,
) -> npt.NDArray[np.int64]:
    """Community label per node, maximising modularity with resolution gamma = `resolution`."""
    g = nk.Graph(n_nodes, weighted=True, directed=False)
    if src.shape[0]:
        g.addEdges((weight.astype(np.float64), (src.astype(np.uint64), dst.astype(np.uint64))))
    nk.engineering.setSeed(seed, False)
    plm = nk.community.PLM(g, refine=True, gamma=resolution, par="none", turbo=True)
    plm.run()
    return np.asarray(plm.getPartition().getVector(), np.int64)
