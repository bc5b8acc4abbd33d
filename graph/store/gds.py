"""The Graph Data Science library's procedures, as ringtrace uses them: is GDS there, project a graph
given as arrays, stream WCC and Leiden, drop the graph.

Graphs are projected with the Cypher aggregation `gds.graph.project` straight from parameter lists of
account indices (GDS accepts integers as node ids), so nothing is written to the stored graph and
there is nothing to clean up in it; the in-memory graph is dropped by :func:`drop_graph`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

import neo4j
from graph.errors import GdsUnavailableError

__all__ = ["drop_graph", "gds_version", "leiden_stream", "project_graph", "require_gds", "wcc_stream"]

_PROCEDURES = """
SHOW PROCEDURES YIELD name WHERE name IN $names RETURN collect(name) AS names
"""
_NEEDED: Final = ("gds.graph.drop", "gds.wcc.stream", "gds.leiden.stream")
_VERSION = "RETURN gds.version() AS version"
_PROJECT = """
UNWIND range(0, size($src) - 1) AS i
WITH gds.graph.project($name, $src[i], $dst[i], {relationshipProperties: {weight: $weight[i]}},
                       {undirectedRelationshipTypes: ['*']}) AS graph
RETURN graph.nodeCount AS nodes, graph.relationshipCount AS relationships
"""
_WCC = """
CALL gds.wcc.stream($name, {concurrency: $concurrency}) YIELD nodeId, componentId
RETURN collect(nodeId) AS nodes, collect(componentId) AS labels
"""
_LEIDEN = """
CALL gds.leiden.stream($name, {relationshipWeightProperty: 'weight', gamma: $gamma, randomSeed: $seed,
                               concurrency: $concurrency, tolerance: $tolerance, maxLevels: $max_levels})
YIELD nodeId, communityId
RETURN collect(nodeId) AS nodes, collect(communityId) AS labels
"""
_DROP = "CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName"
_HOW_TO_GET = ("install the Graph Data Science plugin (Community 2.13 for Neo4j 5.26: "
               "https://neo4j.com/docs/graph-data-science/current/installation/) with "
               "dbms.security.procedures.unrestricted=gds.*; for the local server, "
               "`ringtrace neo4j stop` then `ringtrace neo4j start --with-gds` (or RINGTRACE_NEO4J_GDS=1)")
# One thread and a fixed seed: GDS Leiden is reproducible only so (several threads race).
_CONCURRENCY: Final = 1
# GDS stops Leiden when a level improves modularity by less than its tolerance (default 1e-4). The
# CPM rewriting's self-loops carry most of the graph's weight, which shrinks every improvement, so
# the tolerance is far smaller than the default; maxLevels is GDS's own default.
_TOLERANCE: Final = 1e-9
_MAX_LEVELS: Final = 10


def gds_version(driver: neo4j.Driver, database: str) -> str | None:
    """The GDS version the server runs, or None when it has no GDS procedures (or not all ringtrace uses)."""
    records, _, _ = driver.execute_query(_PROCEDURES, names=list(_NEEDED), database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    if set(records[0]["names"]) != set(_NEEDED):
        return None
    records, _, _ = driver.execute_query(_VERSION, database_=database, routing_=neo4j.RoutingControl.READ)
    return str(records[0]["version"])


def require_gds(driver: neo4j.Driver, database: str) -> str:
    """The GDS version; GdsUnavailableError, saying how to get GDS, when the server has none."""
    version = gds_version(driver, database)
    if version is None:
        raise GdsUnavailableError(f"the Neo4j server has no Graph Data Science procedures ({', '.join(_NEEDED)}); "
                                  f"{_HOW_TO_GET}")
    return version


def project_graph(
    driver: neo4j.Driver,
    database: str,
    name: str,
    src: npt.NDArray[np.int64],
    dst: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
) -> int:
    """Project the undirected graph of relationships ``src[i] - dst[i]`` (property ``weight``) as `name`;
    its nodes are the integers that appear in `src` and `dst`. Returns the node count."""
    records, _, _ = driver.execute_query(_PROJECT, name=name, src=src.tolist(), dst=dst.tolist(),
                                         weight=weight.tolist(), database_=database)
    return int(records[0]["nodes"])


def wcc_stream(driver: neo4j.Driver, database: str, name: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Weakly connected components of graph `name`: node ids and a component id per node."""
    return _labels(driver, database, _WCC, name=name, concurrency=_CONCURRENCY)


def leiden_stream(
    driver: neo4j.Driver, database: str, name: str, *, gamma: float, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Leiden communities of graph `name` (weighted by ``weight``): node ids and a community id per node."""
    return _labels(driver, database, _LEIDEN, name=name, gamma=gamma, seed=seed, concurrency=_CONCURRENCY,
                   tolerance=_TOLERANCE, max_levels=_MAX_LEVELS)


def drop_graph(driver: neo4j.Driver, database: str, name: str) -> None:
    """Drop graph `name` from the GDS catalog; nothing when it is not there."""
    driver.execute_query(_DROP, name=name, database_=database)


def _labels(
    driver: neo4j.Driver, database: str, query: str, **parameters: object
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    records, _, _ = driver.execute_query(query, parameters, database_=database)
    return np.asarray(records[0]["nodes"], np.int64), np.asarray(records[0]["labels"], np.int64)
