"""The GDS detection backend: connected components and Leiden run in Neo4j's Graph Data Science library.

Only the community step moves into the database. The run's account graph (shared identifiers and
co-action, computed in Python) is projected into the GDS catalog from parameters, `gds.wcc.stream`
finds its components, and `gds.leiden.stream` partitions the components
:func:`~graph.detection.rings.plan_components` leaves to partition, given as
:mod:`graph.detection.gds_objective` rewrites them so that GDS maximises the objective the in-process
path maximises. Merging, the campaign cut, ``min_size``, stability, scores, evidence, ids and
write-back are the in-process path's own.

The components and the Leiden graph are computed once per account graph and kept in the catalog for
the stability reruns; :func:`gds_communities` drops them when the run ends, failed or not.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

import neo4j
from graph.detection.gds_objective import LeidenInput, leiden_input
from graph.detection.rings import ComponentPlan, plan_components
from graph.projection import AccountGraph
from graph.store.gds import drop_graph, leiden_stream, project_graph, require_gds, wcc_stream

__all__ = ["GdsCommunities", "gds_communities"]


@dataclass
class _Projected:
    graph: AccountGraph
    min_size: int
    component: npt.NDArray[np.int64]
    plan: ComponentPlan
    leiden: LeidenInput


@dataclass
class GdsCommunities:
    """A :class:`~graph.detection.rings.Communities` that runs in GDS; ``timings`` adds up its seconds
    per step (``gds_project``, ``gds_wcc``, ``gds_leiden``)."""

    driver: neo4j.Driver
    database: str
    method: str
    prefix: str
    timings: dict[str, float] = field(default_factory=dict)
    _projected: _Projected | None = None
    _names: set[str] = field(default_factory=set)

    def __call__(self, graph: AccountGraph, *, resolution: float, min_size: int, seed: int) -> npt.NDArray[np.int64]:
        labels = np.full(graph.n_accounts, -1, np.int64)
        if graph.n_edges == 0:
            return labels
        projected = self._project(graph, min_size)
        labels[:] = projected.plan.labels
        if projected.leiden.src.shape[0] == 0:
            return labels
        with self._timed("gds_leiden"):
            nodes, community = leiden_stream(self.driver, self.database, self._name("leiden"),
                                             gamma=projected.leiden.gamma(resolution), seed=seed)
        # A label per (component, community): a community must not span components, whatever GDS's ids.
        # The offset keeps these labels apart from the ids of the components kept whole.
        pairs = np.unique(np.c_[projected.component[nodes], community], axis=0, return_inverse=True)[1]
        labels[nodes] = graph.n_accounts + pairs.reshape(-1)
        return labels

    def close(self) -> None:
        """Drop every graph this backend projected."""
        for name in sorted(self._names):
            drop_graph(self.driver, self.database, name)
        self._names.clear()
        self._projected = None

    def _project(self, graph: AccountGraph, min_size: int) -> _Projected:
        if self._projected is not None and self._projected.graph is graph and self._projected.min_size == min_size:
            return self._projected
        self.close()
        with self._timed("gds_project"):
            project_graph(self.driver, self.database, self._named("wcc"), graph.src.astype(np.int64),
                          graph.dst.astype(np.int64), graph.weight)
        with self._timed("gds_wcc"):
            nodes, component = wcc_stream(self.driver, self.database, self._name("wcc"))
        drop_graph(self.driver, self.database, self._name("wcc"))
        self._names.discard(self._name("wcc"))
        components = _component_ids(graph.n_accounts, nodes, component)
        plan = plan_components(graph, components, min_size)
        leiden = leiden_input(graph, plan, self.method)
        if leiden.src.shape[0] > 0:
            with self._timed("gds_project"):
                project_graph(self.driver, self.database, self._named("leiden"), leiden.src, leiden.dst,
                              leiden.weight)
        self._projected = _Projected(graph, min_size, components, plan, leiden)
        return self._projected

    def _name(self, part: str) -> str:
        return f"{self.prefix}-{part}"

    def _named(self, part: str) -> str:
        name = self._name(part)
        self._names.add(name)
        return name

    @contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.timings[step] = round(self.timings.get(step, 0.0) + time.perf_counter() - started, 3)


def _component_ids(
    n_accounts: int, nodes: npt.NDArray[np.int64], component: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Component ids ``0 .. k-1`` per account from WCC's (node, component) pairs; an account WCC did not
    see (it has no edge) is a component of its own."""
    full = np.full(n_accounts, -1, np.int64)
    full[nodes] = component
    alone = np.flatnonzero(full < 0)
    full[alone] = -1 - np.arange(alone.shape[0])  # distinct, and apart from WCC's ids (never negative)
    return np.unique(full, return_inverse=True)[1].astype(np.int64).reshape(-1)


@contextmanager
def gds_communities(driver: neo4j.Driver, database: str, method: str, run_id: str) -> Iterator[GdsCommunities]:
    """A GDS backend for run `run_id` whose graphs are dropped on the way out, however the run ends;
    GdsUnavailableError first when the server has no GDS."""
    require_gds(driver, database)
    # The run id names the graphs for whoever lists the catalog; the suffix keeps two backends apart.
    backend = GdsCommunities(driver, database, method, f"ringtrace-{run_id}-{uuid.uuid4().hex[:8]}")
    try:
        yield backend
    except BaseException:
        # The run's own error is what matters; a graph that cannot be dropped now (Neo4j gone) is
        # gone with the server's memory anyway.
        with suppress(neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError):
            backend.close()
        raise
    backend.close()
